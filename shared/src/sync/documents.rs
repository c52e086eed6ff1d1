//! Per-document work: decide (map), skip what is unchanged before any line-item request, fetch
//! lines only for new or changed documents, then one idempotent fenced upsert — or a quarantine
//! entry for what cannot be mapped.

use super::map::{self, Mapped, ResolvedTaxStatus};
use super::run::{Runner, Stop};
use super::source::{SequenceSource, SourceCreditNote, SourceCustomer, SourceInvoice, SourceProduct};
use crate::ledger::Upsert;
use crate::ledger::model::{CustomerTaxStatus, DocKind, QuarantineRecord, TxnContent};
use crate::store::ItemStore;
use chrono::{DateTime, Utc};
use serde::Serialize;

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

    async fn quarantine<T: Serialize>(&mut self, kind: &str, id: &str, reason: String, doc: &T) -> Result<(), Stop> {
        self.summary.quarantined += 1;
        tracing::warn!(kind, id, reason = %reason, "document quarantined");
        let rec = QuarantineRecord {
            kind: kind.to_owned(),
            source_id: id.to_owned(),
            reason,
            content_hash: map::hash_of(doc),
            document: serde_json::to_value(doc).unwrap_or(serde_json::Value::Null),
            recorded_at_ms: self.clock.now_ms(),
        };
        self.ledger.quarantine(&self.guard, rec).await?;
        Ok(())
    }

    /// Already quarantined with this exact header? Then skip (no line-item request).
    async fn still_quarantined(&mut self, kind: &str, id: &str, header_hash: &str) -> Result<bool, Stop> {
        match self.ledger.quarantined(kind, id).await? {
            Some(q) if q.content_hash == header_hash => {
                self.summary.quarantined += 1;
                Ok(true)
            }
            Some(_) => {
                // The document changed; whatever it maps to now replaces the old quarantine entry.
                self.ledger.clear_quarantine(&self.guard, kind, id).await?;
                Ok(false)
            }
            None => Ok(false),
        }
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
            Some(id) => crate::calculation::get(self.store, &self.job.org, id).await?,
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
        }
        Ok(t)
    }

    pub(super) async fn process(&mut self, doc: Doc) -> Result<(), Stop> {
        self.summary.seen += 1;
        match doc {
            Doc::Product(p) => {
                let r = self.ledger.upsert_product(&self.guard, map::product_record(&p)).await?;
                self.count(r);
            }
            Doc::Customer(c) => match map::customer_record(&c) {
                Mapped::Import(rec) => {
                    let r = self.ledger.upsert_customer(&self.guard, rec).await?;
                    self.count(r);
                }
                Mapped::NotImported => self.summary.not_imported += 1,
                Mapped::Quarantine(reason) => self.quarantine("customer", &c.id, reason, &c).await?,
            },
            Doc::Invoice(inv) => self.process_invoice(inv).await?,
            Doc::CreditNote(cn) => self.process_credit_note(cn).await?,
        }
        Ok(())
    }

    async fn process_invoice(&mut self, inv: SourceInvoice) -> Result<(), Stop> {
        match map::invoice_disposition(&inv.status) {
            Mapped::NotImported => {
                self.summary.not_imported += 1;
                return Ok(());
            }
            Mapped::Quarantine(reason) => return self.quarantine("invoice", &inv.id, reason, &inv).await,
            Mapped::Import(_) => {}
        }
        let header_hash = map::hash_of(&inv);
        if let Some(h) = self.ledger.head(DocKind::Invoice, &inv.id).await? {
            let stored = h.value.txn.source_updated_at;
            // Same `updatedAt` and header: unchanged, and no line-item request.
            if (stored == Some(inv.updated_at) && h.value.txn.header_hash == header_hash)
                || stored.is_some_and(|s| s > inv.updated_at)
            {
                self.summary.unchanged += 1;
                return Ok(());
            }
        }
        if self.still_quarantined("invoice", &inv.id, &header_hash).await? {
            return Ok(());
        }
        let lines = self.fetch_lines(DocKind::Invoice, &inv.id).await?;
        let fallback = match inv.customer_tax_status {
            Some(_) => None,
            None => self.ledger.customer(&inv.customer_id).await?.map(|c| c.tax_status),
        };
        match map::invoice_txn(&inv, &lines, fallback) {
            Mapped::Import(t) => {
                let t = self.enrich(t).await?;
                let r = self.ledger.upsert_transaction(&self.guard, t, self.clock.now_ms()).await?;
                self.count(r);
            }
            Mapped::NotImported => self.summary.not_imported += 1,
            Mapped::Quarantine(reason) => self.quarantine("invoice", &inv.id, reason, &inv).await?,
        }
        Ok(())
    }

    async fn process_credit_note(&mut self, cn: SourceCreditNote) -> Result<(), Stop> {
        match map::credit_note_disposition(&cn.status) {
            Mapped::NotImported => {
                self.summary.not_imported += 1;
                return Ok(());
            }
            Mapped::Quarantine(reason) => return self.quarantine("credit", &cn.id, reason, &cn).await,
            Mapped::Import(_) => {}
        }
        let header_hash = map::hash_of(&cn);
        let head = self.ledger.head(DocKind::Credit, &cn.id).await?;
        // No `updatedAt` on credit notes: an unchanged header skips the line-item request, except in
        // a full reconciliation cycle, which re-reads the lines too.
        if !self.summary.full_reconciliation && head.as_ref().is_some_and(|h| h.value.txn.header_hash == header_hash) {
            self.summary.unchanged += 1;
            return Ok(());
        }
        if self.still_quarantined("credit", &cn.id, &header_hash).await? {
            return Ok(());
        }
        let lines = self.fetch_lines(DocKind::Credit, &cn.id).await?;
        if head.as_ref().is_some_and(|h| h.value.txn.content_hash == map::content_hash(&cn, &lines)) {
            self.summary.unchanged += 1;
            return Ok(());
        }
        let tax = self.credit_note_tax_status(&cn).await?;
        match map::credit_note_txn(&cn, &lines, tax) {
            Mapped::Import(t) => {
                let t = self.enrich(t).await?;
                let r = self.ledger.upsert_transaction(&self.guard, t, self.clock.now_ms()).await?;
                self.count(r);
            }
            Mapped::NotImported => self.summary.not_imported += 1,
            Mapped::Quarantine(reason) => self.quarantine("credit", &cn.id, reason, &cn).await?,
        }
        Ok(())
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
