//! Per-document work: decide (map), skip what is unchanged before any line-item request, fetch
//! lines only for new or changed documents, then one idempotent fenced upsert — or a quarantine
//! entry for what cannot be decoded or mapped.
//!
//! The quarantine, in one place: the run loads the connection's entries once (`Runner::quarantined`);
//! a document that did not decode ([`Rejected`]) or did not map is recorded with a reason that names
//! the problem, not the document's values; a listed document whose entry has the same content is
//! skipped without a line-item request; any document that imports (or is legitimately not imported)
//! leaves the quarantine; and [`Runner::retry_quarantined`] re-fetches by id, at the end of each
//! cycle, the entries the listings did not show (older than the lookback window, or gone), oldest
//! attempt first, so every entry is retried on later runs.

use super::cursor::Stream;
use super::map::{self, Mapped, ResolvedTaxStatus};
use super::run::{Runner, Stop};
use super::source::{
    Rejected, SequenceSource, SourceCreditNote, SourceCustomer, SourceError, SourceInvoice, SourceProduct,
};
use crate::ledger::Upsert;
use crate::ledger::model::{CustomerTaxStatus, DocKind, QuarantineRecord, TxnContent};
use crate::store::ItemStore;
use chrono::{DateTime, Utc};
use serde::Serialize;

const CUSTOMER: &str = Stream::Customers.quarantine_kind();
const INVOICE: &str = Stream::Invoices.quarantine_kind();
const CREDIT: &str = Stream::CreditNotes.quarantine_kind();

/// Prefix of the quarantine id of a listed item that had no readable `id`.
pub(super) const UNIDENTIFIED: &str = "unidentified-";

/// A listed document of any stream.
pub(super) enum Doc {
    Product(SourceProduct),
    Customer(SourceCustomer),
    Invoice(SourceInvoice),
    CreditNote(SourceCreditNote),
}

impl Doc {
    pub(super) fn id(&self) -> &str {
        match self {
            Doc::Product(p) => &p.id,
            Doc::Customer(c) => &c.id,
            Doc::Invoice(i) => &i.id,
            Doc::CreditNote(c) => &c.id,
        }
    }
    /// The stream it comes from.
    pub(super) fn stream(&self) -> Stream {
        match self {
            Doc::Product(_) => Stream::Products,
            Doc::Customer(_) => Stream::Customers,
            Doc::Invoice(_) => Stream::Invoices,
            Doc::CreditNote(_) => Stream::CreditNotes,
        }
    }
    /// The listing's sort key (creation time); credit notes have none.
    pub(super) fn created_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Doc::Product(p) => p.created_at,
            Doc::Customer(c) => c.created_at,
            Doc::Invoice(i) => i.created_at,
            Doc::CreditNote(_) => None,
        }
    }
}

impl<S: ItemStore, Q: SequenceSource> Runner<'_, S, Q> {
    fn count(&mut self, r: Upsert) {
        match r {
            Upsert::Created => self.summary.created += 1,
            Upsert::Updated { .. } => self.summary.updated += 1,
            Upsert::Unchanged | Upsert::Stale => self.summary.unchanged += 1,
            Upsert::Touched => self.summary.touched += 1,
        }
        if self.repairing && matches!(r, Upsert::Created | Upsert::Updated { .. }) {
            self.summary.repaired += 1;
        }
    }

    /// Records (or refreshes) a quarantine entry. Returns `true` (the document is quarantined).
    async fn quarantine(
        &mut self,
        kind: &str,
        id: &str,
        reason: String,
        content_hash: String,
        document: serde_json::Value,
    ) -> Result<bool, Stop> {
        self.summary.quarantined += 1;
        let now = self.clock.now_ms();
        let previous = self.quarantined.get(&(kind.to_owned(), id.to_owned()));
        let (attempts, last_attempt_ms) = match (previous, self.rechecking) {
            (Some(p), true) => (p.attempts.saturating_add(1), now),
            (Some(p), false) => (p.attempts, p.last_attempt_ms),
            (None, _) => (0, now),
        };
        tracing::warn!(kind, id, reason = %reason, "document quarantined");
        let rec = QuarantineRecord {
            kind: kind.to_owned(),
            source_id: id.to_owned(),
            reason,
            content_hash,
            document,
            recorded_at_ms: previous.map_or(now, |p| p.recorded_at_ms),
            attempts,
            last_attempt_ms,
        };
        self.ledger.quarantine(&self.guard, rec.clone()).await?;
        self.quarantined.insert((kind.to_owned(), id.to_owned()), rec);
        Ok(true)
    }

    async fn quarantine_doc<T: Serialize>(
        &mut self,
        kind: &str,
        id: &str,
        reason: String,
        hash: String,
        doc: &T,
    ) -> Result<bool, Stop> {
        let document = serde_json::to_value(doc).unwrap_or(serde_json::Value::Null);
        self.quarantine(kind, id, reason, hash, document).await
    }

    /// A listed item that did not decode. Without an id it cannot be retried by id; it is kept under
    /// a name derived from its content, so the same bad item is one entry.
    pub(super) async fn quarantine_rejected(&mut self, kind: &str, r: Rejected) -> Result<(), Stop> {
        self.summary.seen += 1;
        let id = r.id.clone().unwrap_or_else(|| format!("{UNIDENTIFIED}{}", r.hash.get(..16).unwrap_or("")));
        self.evaluated.insert((kind.to_owned(), id.clone()));
        if !self.rechecking
            && self
                .quarantined
                .get(&(kind.to_owned(), id.clone()))
                .is_some_and(|q| q.content_hash == r.hash && q.reason == r.reason)
        {
            self.summary.quarantined += 1;
            return Ok(());
        }
        self.quarantine(kind, &id, r.reason, r.hash, serde_json::Value::Null).await?;
        Ok(())
    }

    /// Already quarantined with this exact header, and attempted within `quarantine_retry_every`?
    /// Then skip (no line-item request). Otherwise it is re-evaluated as a retry (its attempt counted).
    fn still_quarantined(&mut self, kind: &str, id: &str, header_hash: &str) -> bool {
        let Some(q) = self.quarantined.get(&(kind.to_owned(), id.to_owned())) else {
            return false;
        };
        if q.content_hash != header_hash || self.rechecking {
            return false;
        }
        if !self.retry_due(q) {
            self.summary.quarantined += 1;
            return true;
        }
        self.rechecking = true;
        false
    }

    fn retry_due(&self, q: &QuarantineRecord) -> bool {
        let every = super::run::ms(self.job.settings.quarantine_retry_every);
        self.clock.now_ms().saturating_sub(q.last_attempt_ms) >= every
    }

    /// The document imported (or is legitimately not imported): it leaves the quarantine.
    async fn release(&mut self, kind: &str, id: &str) -> Result<(), Stop> {
        if self.quarantined.remove(&(kind.to_owned(), id.to_owned())).is_some() {
            self.ledger.clear_quarantine(&self.guard, kind, id).await?;
            self.summary.released += 1;
            tracing::info!(kind, id, "document left the quarantine");
        }
        Ok(())
    }

    /// Re-fetches quarantined documents by id that this invocation has not evaluated (oldest attempt
    /// first, at most `quarantine_retries_per_cycle`) and re-evaluates them from scratch: a document
    /// that now decodes and maps is imported and released; one Sequence no longer has (404) is
    /// released.
    pub(super) async fn retry_quarantined(&mut self) -> Result<(), Stop> {
        let mut due: Vec<(Stream, String, i64)> = self
            .quarantined
            .values()
            .filter(|q| !q.source_id.starts_with(UNIDENTIFIED))
            .filter(|q| !self.evaluated.contains(&(q.kind.clone(), q.source_id.clone())) && self.retry_due(q))
            .filter_map(|q| Some((Stream::from_quarantine_kind(&q.kind)?, q.source_id.clone(), q.last_attempt_ms)))
            .collect();
        due.sort_by_key(|d| d.2);
        due.truncate(self.job.settings.quarantine_retries_per_cycle);
        for (stream, id, _) in due {
            let kind = stream.quarantine_kind();
            let fetched = match self.fetch_one(stream, &id).await {
                Ok(f) => f,
                Err(Stop::Source(SourceError::NotFound)) => {
                    tracing::info!(kind = %kind, id = %id, "quarantined document no longer in Sequence");
                    self.release(kind, &id).await?;
                    continue;
                }
                Err(s) => return Err(s),
            };
            self.summary.quarantine_retries += 1;
            self.rechecking = true;
            let result = match fetched {
                Ok(doc) => self.process(doc).await,
                Err(r) => self.quarantine_rejected(kind, Rejected { id: Some(id.clone()), ..r }).await,
            };
            self.rechecking = false;
            result?;
        }
        Ok(())
    }

    /// Adds what only Sphere knows to a mapped transaction: each line's product tax code (as assigned
    /// in the console) and, through the invoice's Sphere calculation id, the tax our endpoint
    /// calculated per line — so the ledger can set collected against calculated tax.
    async fn enrich(&mut self, mut t: TxnContent) -> Result<TxnContent, Stop> {
        for line in &mut t.lines {
            if let Some(pid) = &line.product_id {
                line.tax_code = self.ledger.product(pid).await?.and_then(|p| p.tax_code);
            }
        }
        let calc = match &t.calculation_id {
            Some(id) => crate::calculation_record::get(self.store, &self.job.org, id).await?,
            None => None,
        };
        if let Some(calc) = calc.filter(|c| c.connection_id == self.job.connection) {
            let by_line: std::collections::HashMap<&str, i64> =
                calc.lines.iter().map(|l| (l.id.as_str(), l.tax)).collect();
            for line in &mut t.lines {
                line.tax_calculated = by_line.get(line.line_id.as_str()).map(|tax| t.currency.from_minor(*tax));
            }
            t.tax_calculated_total = t
                .lines
                .iter()
                .map(|l| l.tax_calculated)
                .try_fold(crate::domain::Decimal::ZERO, |acc, x| x.map(|x| acc + x));
            t.jurisdictions = jurisdiction_totals(&calc, t.currency);
        }
        Ok(t)
    }

    /// One listed (or re-fetched) document; it leaves the quarantine unless it is quarantined again.
    pub(super) async fn process(&mut self, doc: Doc) -> Result<(), Stop> {
        let rechecking = self.rechecking;
        let r = self.process_inner(doc).await;
        self.rechecking = rechecking;
        r
    }

    async fn process_inner(&mut self, doc: Doc) -> Result<(), Stop> {
        self.summary.seen += 1;
        let (kind, id) = (doc.stream().quarantine_kind(), doc.id().to_owned());
        self.evaluated.insert((kind.to_owned(), id.clone()));
        let quarantined = match doc {
            Doc::Product(p) => {
                let r = self.ledger.upsert_product(&self.guard, map::product_record(&p)).await?;
                self.count(r);
                false
            }
            Doc::Customer(c) => match map::customer_record(&c) {
                Mapped::Import(rec) => {
                    let r = self.ledger.upsert_customer(&self.guard, rec).await?;
                    self.count(r);
                    false
                }
                Mapped::NotImported => {
                    self.summary.not_imported += 1;
                    false
                }
                Mapped::Quarantine(reason) => {
                    let hash = map::hash_of(&c);
                    self.quarantine_doc(CUSTOMER, &c.id, reason, hash, &c).await?
                }
            },
            Doc::Invoice(inv) => self.process_invoice(inv).await?,
            Doc::CreditNote(cn) => self.process_credit_note(cn).await?,
        };
        if !quarantined {
            self.release(kind, &id).await?;
        }
        Ok(())
    }

    async fn process_invoice(&mut self, inv: SourceInvoice) -> Result<bool, Stop> {
        let header_hash = map::hash_of(&inv);
        match map::invoice_disposition(&inv.status) {
            Mapped::NotImported => {
                self.summary.not_imported += 1;
                return Ok(false);
            }
            Mapped::Quarantine(reason) => {
                return self.quarantine_doc(INVOICE, &inv.id, reason, header_hash, &inv).await;
            }
            Mapped::Import(_) => {}
        }
        if let Some(h) = self.ledger.head(DocKind::Invoice, &inv.id).await? {
            let stored = h.value.txn.source_updated_at;
            // Same `updatedAt` and header: unchanged, and no line-item request.
            if (stored == Some(inv.updated_at) && h.value.txn.header_hash == header_hash)
                || stored.is_some_and(|s| s > inv.updated_at)
            {
                self.summary.unchanged += 1;
                return Ok(false);
            }
        }
        if self.still_quarantined(INVOICE, &inv.id, &header_hash) {
            return Ok(true);
        }
        let lines = match self.fetch_lines(DocKind::Invoice, &inv.id).await? {
            Ok(lines) => lines,
            Err(reason) => return self.quarantine_doc(INVOICE, &inv.id, reason, header_hash, &inv).await,
        };
        let fallback = match inv.customer_tax_status {
            Some(_) => None,
            None => self.ledger.customer(&inv.customer_id).await?.map(|c| c.tax_status),
        };
        let mapped = map::invoice_txn(&inv, &lines, fallback);
        self.apply(INVOICE, &inv.id, mapped, header_hash, &inv).await
    }

    async fn process_credit_note(&mut self, cn: SourceCreditNote) -> Result<bool, Stop> {
        let header_hash = map::hash_of(&cn);
        match map::credit_note_disposition(&cn.status) {
            Mapped::NotImported => {
                self.summary.not_imported += 1;
                return Ok(false);
            }
            Mapped::Quarantine(reason) => return self.quarantine_doc(CREDIT, &cn.id, reason, header_hash, &cn).await,
            Mapped::Import(_) => {}
        }
        let head = self.ledger.head(DocKind::Credit, &cn.id).await?;
        // No `updatedAt` on credit notes: an unchanged header skips the line-item request, except in
        // a full reconciliation cycle, which re-reads the lines too.
        if !self.summary.full_reconciliation && head.as_ref().is_some_and(|h| h.value.txn.header_hash == header_hash) {
            self.summary.unchanged += 1;
            return Ok(false);
        }
        if self.still_quarantined(CREDIT, &cn.id, &header_hash) {
            return Ok(true);
        }
        let lines = match self.fetch_lines(DocKind::Credit, &cn.id).await? {
            Ok(lines) => lines,
            Err(reason) => return self.quarantine_doc(CREDIT, &cn.id, reason, header_hash, &cn).await,
        };
        if head.as_ref().is_some_and(|h| h.value.txn.content_hash == map::content_hash(&cn, &lines)) {
            self.summary.unchanged += 1;
            return Ok(false);
        }
        let tax = self.credit_note_tax_status(&cn).await?;
        let mapped = map::credit_note_txn(&cn, &lines, tax);
        self.apply(CREDIT, &cn.id, mapped, header_hash, &cn).await
    }

    /// A mapped document's fate: imported (a fenced, idempotent upsert), counted as not imported, or
    /// quarantined with its reason. `Ok(true)`: quarantined.
    async fn apply<T: Serialize>(
        &mut self,
        kind: &str,
        id: &str,
        mapped: Mapped<TxnContent>,
        header_hash: String,
        doc: &T,
    ) -> Result<bool, Stop> {
        match mapped {
            Mapped::Import(t) => {
                let t = self.enrich(t).await?;
                let r = self.ledger.upsert_transaction(&self.guard, t, self.clock.now_ms()).await?;
                self.count(r);
                Ok(false)
            }
            Mapped::NotImported => {
                self.summary.not_imported += 1;
                Ok(false)
            }
            Mapped::Quarantine(reason) => self.quarantine_doc(kind, id, reason, header_hash, doc).await,
        }
    }

    /// The linked invoice's tax status, else the customer's, else Sequence's default (TAXED).
    async fn credit_note_tax_status(&mut self, cn: &SourceCreditNote) -> Result<ResolvedTaxStatus, Stop> {
        if let Some(inv) = &cn.invoice_id
            && let Some(h) = self.ledger.head(DocKind::Invoice, inv).await?
        {
            return Ok(ResolvedTaxStatus { status: h.value.txn.customer.tax_status, inferred: true });
        }
        let status = self.ledger.customer(&cn.customer_id).await?.map_or(CustomerTaxStatus::Taxed, |c| c.tax_status);
        Ok(ResolvedTaxStatus { status, inferred: true })
    }
}

/// A calculation's tax per (jurisdiction, tax type), with the amounts of the lines each one taxed.
fn jurisdiction_totals(
    calc: &crate::calculation_record::CalculationRecord,
    currency: crate::domain::Currency,
) -> Vec<crate::ledger::JurisdictionTax> {
    let mut by: std::collections::BTreeMap<(&str, &str), (i64, i64)> = std::collections::BTreeMap::new();
    for line in &calc.lines {
        for a in &line.tax_amounts {
            let e = by.entry((a.jurisdiction.as_str(), a.tax_type.as_str())).or_default();
            e.0 = e.0.saturating_add(line.amount);
            e.1 = e.1.saturating_add(a.amount);
        }
    }
    by.into_iter()
        .map(|((jurisdiction, tax_type), (taxable, tax))| crate::ledger::JurisdictionTax {
            jurisdiction: jurisdiction.to_owned(),
            tax_type: tax_type.to_owned(),
            taxable: currency.from_minor(taxable),
            tax: currency.from_minor(tax),
        })
        .collect()
}
