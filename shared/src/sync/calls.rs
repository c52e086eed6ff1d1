//! Every Sequence call goes through here: the deadline check and lease upkeep before it, and the
//! failure policy after it — a 429 waits `retry_after` (or a jittered backoff) only when the wait
//! ends before `deadline − safety margin`, else the run stops with `MoreWork`; `OutOfTime` stops
//! the same way; a refused continuation token restarts that listing once; anything else stops the
//! run with its typed error.

use super::cursor::{PassSpec, Stream};
use super::documents::Doc;
use super::run::{Runner, Stop, ms};
use super::source::{
    CreditNoteQuery, CreditNoteStatus, InvoiceQuery, InvoiceStatus, PageToken, Rejected, SequenceSource, SourceError,
    SourceLine, SourcePage,
};
use crate::ledger::model::DocKind;
use crate::store::ItemStore;
use crate::store::lease;
use std::time::Duration;

/// Capped exponential backoff with equal jitter, for a 429 without `Retry-After`.
fn backoff(attempt: u32) -> Duration {
    let base_ms = 1_000u64.saturating_mul(1 << attempt.min(5)).min(30_000);
    let r = crate::crypto::random_bytes(8);
    let mut b = [0u8; 8];
    b.copy_from_slice(&r);
    Duration::from_millis(base_ms / 2 + u64::from_le_bytes(b) % (base_ms / 2 + 1))
}

fn docs<T>(p: SourcePage<T>, f: fn(T) -> Doc) -> SourcePage<Doc> {
    SourcePage { items: p.items.into_iter().map(f).collect(), rejected: p.rejected, next: p.next }
}

impl<'a, S: ItemStore, Q: SequenceSource> Runner<'a, S, Q> {
    /// Deadline and lease upkeep before every source call.
    pub(super) async fn before_call(&mut self) -> Result<(), Stop> {
        if self.out_of_time() {
            return Err(Stop::Deadline);
        }
        let now = self.clock.now_ms();
        let lease_ms = ms(self.job.settings.lease);
        if self.guard.expires_at_ms.saturating_sub(now) < lease_ms / 2 {
            match lease::renew(self.store, &mut self.guard, now, lease_ms).await {
                Ok(()) => {}
                Err(e) if e.is_condition_failed() => return Err(Stop::LeaseLost),
                Err(e) => return Err(Stop::Store(e)),
            }
        }
        self.summary.requests += 1;
        Ok(())
    }

    /// Throttling: wait `retry_after` (or a jittered backoff) only if the wait ends before the
    /// deadline minus the margin; otherwise stop with `MoreWork`. Anything else stops the run.
    async fn on_error(&mut self, e: SourceError, attempts: &mut u32) -> Result<(), Stop> {
        match e {
            SourceError::Throttled { retry_after } => {
                self.summary.throttled += 1;
                let wait = retry_after.unwrap_or_else(|| backoff(*attempts));
                *attempts += 1;
                let wake = self.clock.now_ms().saturating_add(ms(wait));
                if *attempts > self.job.settings.max_throttle_waits
                    || wake > self.job.deadline_ms.saturating_sub(self.margin_ms())
                {
                    return Err(Stop::Throttled(Some(wait)));
                }
                self.clock.sleep(wait).await;
                self.summary.slept_ms += u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                Ok(())
            }
            SourceError::OutOfTime => Err(Stop::Deadline),
            other => Err(Stop::Source(other)),
        }
    }

    /// One source call under the policy above: deadline and lease upkeep before each attempt, the
    /// throttling rule after a failed one.
    async fn call<T, Fut>(&mut self, mut attempt: impl FnMut(&'a Q) -> Fut) -> Result<T, Stop>
    where
        Fut: std::future::Future<Output = Result<T, SourceError>>,
    {
        let mut attempts = 0;
        loop {
            self.before_call().await?;
            match attempt(self.source).await {
                Ok(v) => return Ok(v),
                Err(e) => self.on_error(e, &mut attempts).await?,
            }
        }
    }

    pub(super) async fn fetch_page(
        &mut self,
        stream: Stream,
        pass: &PassSpec,
        token: Option<&PageToken>,
    ) -> Result<SourcePage<Doc>, Stop> {
        self.call(|src| async move {
            match stream {
                Stream::Products => src.list_products(token).await.map(|p| docs(p, Doc::Product)),
                Stream::Customers => src.list_customers(token).await.map(|p| docs(p, Doc::Customer)),
                Stream::Invoices => {
                    let q = InvoiceQuery {
                        status: pass.status.as_deref().map(InvoiceStatus::parse),
                        invoice_after: pass.after,
                        invoice_before: pass.before,
                    };
                    src.list_invoices(&q, token).await.map(|p| docs(p, Doc::Invoice))
                }
                Stream::CreditNotes => {
                    let q = CreditNoteQuery {
                        status: pass.status.as_deref().map(CreditNoteStatus::parse),
                        sent_after: pass.after,
                        sent_before: pass.before,
                    };
                    src.list_credit_notes(&q, token).await.map(|p| docs(p, Doc::CreditNote))
                }
            }
        })
        .await
    }

    /// One document by id (a quarantine retry): the document, or why it still does not decode.
    pub(super) async fn fetch_one(&mut self, stream: Stream, id: &str) -> Result<Result<Doc, Rejected>, Stop> {
        self.call(|src| async move {
            match stream {
                Stream::Products => src.get_product(id).await.map(|r| r.map(Doc::Product)),
                Stream::Customers => src.get_customer(id).await.map(|r| r.map(Doc::Customer)),
                Stream::Invoices => src.get_invoice(id).await.map(|r| r.map(Doc::Invoice)),
                Stream::CreditNotes => src.get_credit_note(id).await.map(|r| r.map(Doc::CreditNote)),
            }
        })
        .await
    }

    /// Every line of a document, or why the document cannot be imported with its lines (a line
    /// that does not decode, or a 404 on the line items): the caller quarantines that document only.
    pub(super) async fn fetch_lines(
        &mut self,
        kind: DocKind,
        id: &str,
    ) -> Result<Result<Vec<SourceLine>, String>, Stop> {
        let mut out = Vec::new();
        let mut token: Option<PageToken> = None;
        let mut restarted = false;
        loop {
            let mut attempts = 0;
            let page = loop {
                self.before_call().await?;
                self.summary.line_item_requests += 1;
                let res = match kind {
                    DocKind::Invoice => self.source.invoice_line_items(id, token.as_ref()).await,
                    DocKind::Credit => self.source.credit_note_line_items(id, token.as_ref()).await,
                };
                match res {
                    Ok(p) => break p,
                    Err(SourceError::NotFound) => return Ok(Err("line items: not found (404)".to_owned())),
                    // an expired continuation token: read the lines again from the start, once
                    Err(SourceError::Client(_)) if token.is_some() && !restarted => {
                        restarted = true;
                        token = None;
                        out.clear();
                    }
                    Err(e) => self.on_error(e, &mut attempts).await?,
                }
            };
            if let Some(r) = page.rejected.into_iter().next() {
                let line = r.id.unwrap_or_else(|| "?".to_owned());
                return Ok(Err(format!("line item {line}: {}", r.reason)));
            }
            out.extend(page.items);
            match page.next {
                Some(t) => token = Some(t),
                None => return Ok(Ok(out)),
            }
        }
    }
}
