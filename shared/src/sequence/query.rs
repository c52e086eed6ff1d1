//! Typed query builders for the documented list filters, so callers cannot misspell a parameter and
//! dates are always sent as `yyyy-MM-dd`. Each builder turns into `(name, value)` pairs; `limit`
//! defaults to the maximum (100) because every request counts against the per-key rate limit.

use super::models::{CreditNoteStatus, InvoiceStatus, PaymentStatus, SortOrder};
use chrono::NaiveDate;

/// The most Sequence returns per page (documented range 1–100).
pub const MAX_LIMIT: u32 = 100;

/// Anything that can become list query parameters.
pub trait ListQuery {
    /// The parameters, without `after` (the pager adds it).
    fn to_pairs(&self) -> Vec<(&'static str, String)>;
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn common(pairs: &mut Vec<(&'static str, String)>, limit: Option<u32>, sort: &Option<SortOrder>) {
    pairs.push(("limit", limit.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT).to_string()));
    if let Some(s) = sort {
        pairs.push(("sortOrder", s.as_str().to_owned()));
    }
}

/// No filters, just `limit` (sequence accounts, line items, tax registrations).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub sort_order: Option<SortOrder>,
}

impl ListQuery for PageQuery {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        common(&mut p, self.limit, &self.sort_order);
        p
    }
}

/// `GET /invoices` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceQuery {
    pub limit: Option<u32>,
    pub sort_order: Option<SortOrder>,
    pub invoice_status: Option<InvoiceStatus>,
    pub invoice_payment_status: Option<PaymentStatus>,
    pub customer_id: Option<String>,
    pub billing_schedule_id: Option<String>,
    pub invoice_after: Option<NaiveDate>,
    pub invoice_before: Option<NaiveDate>,
    pub sent_after: Option<NaiveDate>,
    pub sent_before: Option<NaiveDate>,
    pub due_after: Option<NaiveDate>,
    pub due_before: Option<NaiveDate>,
    /// Comma-separated on the wire.
    pub invoice_currency: Vec<String>,
    pub invoice_number: Option<String>,
    pub exclude_invoice_status: Option<InvoiceStatus>,
}

impl InvoiceQuery {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn status(mut self, s: InvoiceStatus) -> Self {
        self.invoice_status = Some(s);
        self
    }
    pub fn ascending(mut self) -> Self {
        self.sort_order = Some(SortOrder::Asc);
        self
    }
    pub fn sort_order(mut self, s: SortOrder) -> Self {
        self.sort_order = Some(s);
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }
    pub fn customer(mut self, id: impl Into<String>) -> Self {
        self.customer_id = Some(id.into());
        self
    }
    pub fn invoice_after(mut self, d: NaiveDate) -> Self {
        self.invoice_after = Some(d);
        self
    }
    pub fn invoice_before(mut self, d: NaiveDate) -> Self {
        self.invoice_before = Some(d);
        self
    }
    pub fn sent_after(mut self, d: NaiveDate) -> Self {
        self.sent_after = Some(d);
        self
    }
    pub fn sent_before(mut self, d: NaiveDate) -> Self {
        self.sent_before = Some(d);
        self
    }
}

impl ListQuery for InvoiceQuery {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        common(&mut p, self.limit, &self.sort_order);
        let mut opt = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                p.push((k, v));
            }
        };
        opt("invoiceStatus", self.invoice_status.as_ref().map(|s| s.as_str().to_owned()));
        opt("invoicePaymentStatus", self.invoice_payment_status.as_ref().map(|s| s.as_str().to_owned()));
        opt("customerId", self.customer_id.clone());
        opt("billingScheduleId", self.billing_schedule_id.clone());
        opt("invoiceAfter", self.invoice_after.map(date));
        opt("invoiceBefore", self.invoice_before.map(date));
        opt("sentAfter", self.sent_after.map(date));
        opt("sentBefore", self.sent_before.map(date));
        opt("dueAfter", self.due_after.map(date));
        opt("dueBefore", self.due_before.map(date));
        opt("invoiceCurrency", (!self.invoice_currency.is_empty()).then(|| self.invoice_currency.join(",")));
        opt("invoiceNumber", self.invoice_number.clone());
        opt("excludeInvoiceStatus", self.exclude_invoice_status.as_ref().map(|s| s.as_str().to_owned()));
        p
    }
}

/// `GET /credit-notes` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditNoteQuery {
    pub limit: Option<u32>,
    pub sort_order: Option<SortOrder>,
    pub credit_note_status: Option<CreditNoteStatus>,
    pub customer_id: Option<String>,
    pub sent_after: Option<NaiveDate>,
    pub sent_before: Option<NaiveDate>,
    pub search_credit_note_number: Option<String>,
}

impl CreditNoteQuery {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn status(mut self, s: CreditNoteStatus) -> Self {
        self.credit_note_status = Some(s);
        self
    }
    pub fn ascending(mut self) -> Self {
        self.sort_order = Some(SortOrder::Asc);
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }
    pub fn customer(mut self, id: impl Into<String>) -> Self {
        self.customer_id = Some(id.into());
        self
    }
    pub fn sent_after(mut self, d: NaiveDate) -> Self {
        self.sent_after = Some(d);
        self
    }
    pub fn sent_before(mut self, d: NaiveDate) -> Self {
        self.sent_before = Some(d);
        self
    }
}

impl ListQuery for CreditNoteQuery {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        common(&mut p, self.limit, &self.sort_order);
        if let Some(s) = &self.credit_note_status {
            p.push(("creditNoteStatus", s.as_str().to_owned()));
        }
        if let Some(c) = &self.customer_id {
            p.push(("customerId", c.clone()));
        }
        if let Some(d) = self.sent_after {
            p.push(("sentAfter", date(d)));
        }
        if let Some(d) = self.sent_before {
            p.push(("sentBefore", date(d)));
        }
        if let Some(n) = &self.search_credit_note_number {
            p.push(("searchCreditNoteNumber", n.clone()));
        }
        p
    }
}

/// `GET /customers` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerQuery {
    pub limit: Option<u32>,
    pub sort_order: Option<SortOrder>,
    pub legal_name: Option<String>,
    pub email: Option<String>,
    pub include_archived: Option<bool>,
}

impl ListQuery for CustomerQuery {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        common(&mut p, self.limit, &self.sort_order);
        if let Some(n) = &self.legal_name {
            p.push(("legalName", n.clone()));
        }
        if let Some(e) = &self.email {
            p.push(("email", e.clone()));
        }
        if let Some(a) = self.include_archived {
            p.push(("includeArchived", a.to_string()));
        }
        p
    }
}

/// `GET /products` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductQuery {
    pub limit: Option<u32>,
    pub sort_order: Option<SortOrder>,
    pub name: Option<String>,
}

impl ListQuery for ProductQuery {
    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        common(&mut p, self.limit, &self.sort_order);
        if let Some(n) = &self.name {
            p.push(("name", n.clone()));
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_query_spells_parameters_as_documented() {
        let q = InvoiceQuery::new()
            .status(InvoiceStatus::Sent)
            .ascending()
            .invoice_after(NaiveDate::from_ymd_opt(2026, 1, 2).unwrap())
            .sent_before(NaiveDate::from_ymd_opt(2026, 2, 3).unwrap())
            .customer("c1");
        let p = q.to_pairs();
        assert!(p.contains(&("limit", "100".into())));
        assert!(p.contains(&("sortOrder", "ASC".into())));
        assert!(p.contains(&("invoiceStatus", "SENT".into())));
        assert!(p.contains(&("invoiceAfter", "2026-01-02".into())));
        assert!(p.contains(&("sentBefore", "2026-02-03".into())));
        assert!(p.contains(&("customerId", "c1".into())));
        assert_eq!(InvoiceQuery::new().limit(500).to_pairs()[0], ("limit", "100".into()));
    }

    #[test]
    fn credit_note_query() {
        let p = CreditNoteQuery::new().status(CreditNoteStatus::Voided).limit(5).to_pairs();
        assert!(p.contains(&("creditNoteStatus", "VOIDED".into())));
        assert!(p.contains(&("limit", "5".into())));
    }
}
