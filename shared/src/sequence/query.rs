//! Typed query builders for the documented list filters, so callers cannot misspell a parameter and
//! dates are always sent as `yyyy-MM-dd`. Each builder turns into `(name, value)` pairs; `limit`
//! defaults to the maximum (100) because every request counts against the per-key rate limit.
//!
//! One declaration per list ([`list_query!`]): its filters, each with the parameter name Sequence documents and,
//! where callers use one, a builder method.

use super::models::{CreditNoteStatus, InvoiceStatus, PaymentStatus, SortOrder};
use chrono::NaiveDate;

/// The most Sequence returns per page (documented range 1–100).
pub const MAX_LIMIT: u32 = 100;

/// Anything that can become list query parameters.
pub trait ListQuery {
    /// The parameters, without `after` (the pager adds it).
    fn to_pairs(&self) -> Vec<(&'static str, String)>;
}

/// A filter value as Sequence expects it on the query string.
trait Param {
    fn param(&self) -> String;
}

impl Param for String {
    fn param(&self) -> String {
        self.clone()
    }
}

impl Param for bool {
    fn param(&self) -> String {
        self.to_string()
    }
}

impl Param for NaiveDate {
    fn param(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
}

/// A list of values, comma-separated on the wire.
impl Param for Vec<String> {
    fn param(&self) -> String {
        self.join(",")
    }
}

impl Param for InvoiceStatus {
    fn param(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Param for CreditNoteStatus {
    fn param(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Param for PaymentStatus {
    fn param(&self) -> String {
        self.as_str().to_owned()
    }
}

/// Declares a list's query: `limit` and `sortOrder` (every list has them) and its filters as
/// `field: Type = "wireName"`, with `=> setter` where a builder method sets it.
macro_rules! list_query {
    ($(#[$meta:meta])* $name:ident { $($field:ident: $ty:ty = $wire:literal $(=> $setter:ident)?),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            pub limit: Option<u32>,
            pub sort_order: Option<SortOrder>,
            $(pub $field: Option<$ty>,)*
        }

        impl $name {
            pub fn new() -> Self {
                Self::default()
            }
            pub fn limit(mut self, n: u32) -> Self {
                self.limit = Some(n);
                self
            }
            pub fn sort_order(mut self, s: SortOrder) -> Self {
                self.sort_order = Some(s);
                self
            }
            pub fn ascending(self) -> Self {
                self.sort_order(SortOrder::Asc)
            }
            $($(
                pub fn $setter(mut self, v: impl Into<$ty>) -> Self {
                    self.$field = Some(v.into());
                    self
                }
            )?)*
        }

        impl ListQuery for $name {
            fn to_pairs(&self) -> Vec<(&'static str, String)> {
                let mut p = vec![("limit", self.limit.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT).to_string())];
                if let Some(s) = &self.sort_order {
                    p.push(("sortOrder", s.as_str().to_owned()));
                }
                $(if let Some(v) = &self.$field {
                    p.push(($wire, v.param()));
                })*
                p
            }
        }
    };
}

list_query! {
    /// No filters, just `limit` (sequence accounts, line items, tax registrations).
    PageQuery {}
}

list_query! {
    /// `GET /invoices` filters.
    InvoiceQuery {
        invoice_status: InvoiceStatus = "invoiceStatus" => status,
        invoice_payment_status: PaymentStatus = "invoicePaymentStatus",
        customer_id: String = "customerId" => customer,
        billing_schedule_id: String = "billingScheduleId",
        invoice_after: NaiveDate = "invoiceAfter" => invoice_after,
        invoice_before: NaiveDate = "invoiceBefore" => invoice_before,
        sent_after: NaiveDate = "sentAfter" => sent_after,
        sent_before: NaiveDate = "sentBefore" => sent_before,
        due_after: NaiveDate = "dueAfter",
        due_before: NaiveDate = "dueBefore",
        invoice_currency: Vec<String> = "invoiceCurrency",
        invoice_number: String = "invoiceNumber",
        exclude_invoice_status: InvoiceStatus = "excludeInvoiceStatus",
    }
}

list_query! {
    /// `GET /credit-notes` filters.
    CreditNoteQuery {
        credit_note_status: CreditNoteStatus = "creditNoteStatus" => status,
        customer_id: String = "customerId" => customer,
        sent_after: NaiveDate = "sentAfter" => sent_after,
        sent_before: NaiveDate = "sentBefore" => sent_before,
        search_credit_note_number: String = "searchCreditNoteNumber",
    }
}

list_query! {
    /// `GET /customers` filters.
    CustomerQuery {
        legal_name: String = "legalName",
        email: String = "email",
        include_archived: bool = "includeArchived",
    }
}

list_query! {
    /// `GET /products` filters.
    ProductQuery {
        name: String = "name",
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
    fn every_filter_has_its_documented_name() {
        let q = InvoiceQuery {
            invoice_currency: Some(vec!["EUR".into(), "USD".into()]),
            exclude_invoice_status: Some(InvoiceStatus::Draft),
            ..InvoiceQuery::new()
        };
        let p = q.to_pairs();
        assert!(p.contains(&("invoiceCurrency", "EUR,USD".into())), "{p:?}");
        assert!(p.contains(&("excludeInvoiceStatus", "DRAFT".into())), "{p:?}");
        let p = CustomerQuery { include_archived: Some(true), ..CustomerQuery::new() }.to_pairs();
        assert_eq!(p, vec![("limit", "100".into()), ("includeArchived", "true".into())]);
    }

    #[test]
    fn credit_note_query() {
        let p = CreditNoteQuery::new().status(CreditNoteStatus::Voided).limit(5).to_pairs();
        assert!(p.contains(&("creditNoteStatus", "VOIDED".into())));
        assert!(p.contains(&("limit", "5".into())));
    }
}
