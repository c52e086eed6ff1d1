//! The adapter from the Sequence REST client to the sync algorithm's source port: a field mapping plus
//! the error mapping. Listings are always `sortOrder=ASC`, 100 per page, decoded item by item (the
//! client's `Page::rejected` becomes the source page's `rejected`).

use super::source::{
    self as src, CreditNoteQuery, FetchResult, InvoiceQuery, PageToken, Rejected, SequenceSource, SourceCreditNote,
    SourceCustomer, SourceError, SourceInvoice, SourceLine, SourcePage, SourceProduct, SourceResult,
};
use crate::sequence::{self as seq, SequenceClient, SequenceError};
use serde::de::DeserializeOwned;

pub struct SequenceAdapter {
    pub client: SequenceClient,
}

fn error(e: SequenceError) -> SourceError {
    match e {
        SequenceError::Unauthorized { .. } => SourceError::Unauthorized,
        SequenceError::Throttled { retry_after, .. } => SourceError::Throttled { retry_after },
        SequenceError::Unavailable { reason, .. } => SourceError::Unavailable(reason),
        SequenceError::OutOfTime { .. } => SourceError::OutOfTime,
        SequenceError::Client { status: 404, .. } => SourceError::NotFound,
        e @ (SequenceError::Client { .. } | SequenceError::RepeatedPageToken { .. }) => {
            SourceError::Client(e.to_string())
        }
        e => SourceError::Other(e.to_string()),
    }
}

/// A single document: a body that does not decode is a rejection of that document, not a failure.
fn fetched<A, B>(id: &str, r: Result<A, SequenceError>, f: impl FnOnce(A) -> B) -> FetchResult<B> {
    match r {
        Ok(v) => Ok(Ok(f(v))),
        Err(SequenceError::Decode { message, .. }) => {
            Ok(Err(Rejected { id: Some(id.to_owned()), reason: message, hash: String::new() }))
        }
        Err(e) => Err(error(e)),
    }
}

fn page<A, B>(p: seq::Page<A>, f: impl Fn(A) -> B) -> SourcePage<B> {
    SourcePage { items: p.items.into_iter().map(f).collect(), rejected: p.rejected, next: p.after.map(PageToken) }
}

fn address(a: &seq::Address) -> Option<src::PostalAddress> {
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let out = src::PostalAddress {
        line1: opt(&a.line1),
        line2: a.line2.clone().filter(|s| !s.trim().is_empty()),
        town: opt(&a.town),
        state: a.state.clone().filter(|s| !s.trim().is_empty()),
        postcode: opt(&a.postcode),
        country: opt(&a.country),
    };
    (out != src::PostalAddress::default()).then_some(out)
}

fn linked(l: &[seq::LinkedService]) -> Vec<src::LinkedService> {
    l.iter()
        .map(|s| src::LinkedService {
            external_service: s.external_service.clone(),
            external_id: s.external_id.clone(),
        })
        .collect()
}

fn product(p: seq::Product) -> SourceProduct {
    SourceProduct {
        id: p.id,
        name: p.name,
        tax_category_id: p.tax_category_id,
        created_at: Some(p.created_at),
        updated_at: Some(p.updated_at),
    }
}

fn invoice(i: seq::Invoice) -> SourceInvoice {
    SourceInvoice {
        number: i.invoice_number.clone(),
        status: i.status.clone(),
        issue_date: i.issue_date,
        accounting_date: Some(i.accounting_date),
        created_at: Some(i.created_at),
        updated_at: i.updated_at,
        billing_address: address(&i.customer_billing_address),
        shipping_address: address(&i.customer_shipping_address),
        customer_tax_status: i.customer_tax_status.clone(),
        customer_tax_id: i.customer_tax_id.clone(),
        net_total: i.net_total,
        total_tax: i.total_tax,
        gross_total: i.gross_total,
        linked_services: linked(&i.linked_services),
        customer_name: i.customer_legal_company_name,
        currency: i.currency,
        customer_id: i.customer_id,
        id: i.id,
    }
}

fn credit_note(c: seq::CreditNote) -> SourceCreditNote {
    SourceCreditNote {
        number: c.credit_note_number.clone(),
        status: c.status.clone(),
        invoice_id: c.invoice_id.clone(),
        issue_date: c.issue_date,
        accounting_date: c.accounting_date,
        billing_address: address(&c.customer_billing_address),
        shipping_address: address(&c.customer_shipping_address),
        customer_tax_id: c.customer_tax_id.clone(),
        net_total: c.net_total,
        total_tax: c.total_tax,
        gross_total: c.gross_total,
        linked_services: linked(&c.linked_services),
        customer_name: c.customer_legal_company_name,
        currency: c.currency,
        customer_id: c.customer_id,
        id: c.id,
    }
}

fn invoice_line(l: seq::InvoiceLineItem) -> SourceLine {
    SourceLine {
        id: l.id,
        product_id: l.product_id,
        title: l.title,
        quantity: l.quantity,
        net_total: l.net_total,
        total_tax: l.total_tax,
        gross_total: l.gross_total,
        credited_line_id: None,
    }
}

fn credit_note_line(l: seq::CreditNoteLineItem) -> SourceLine {
    SourceLine {
        id: l.id,
        product_id: l.product_id,
        title: l.title,
        quantity: l.quantity,
        net_total: l.net_total,
        total_tax: l.total_tax,
        gross_total: l.gross_total,
        credited_line_id: l.line_item_id,
    }
}

impl SequenceAdapter {
    /// A customer with its tax ids. Tax ids live in the customer's tax registrations; only customers
    /// whose tax status depends on them (exempt / reverse charged) are worth the extra request. A
    /// registration list that cannot be read rejects this customer only.
    async fn customer(&self, c: seq::Customer) -> Result<Result<SourceCustomer, Rejected>, SourceError> {
        let tax_ids = if c.tax_status == seq::TaxStatus::Taxed {
            Vec::new()
        } else {
            match self.client.customer_tax_registrations(&c.id).await {
                Ok(regs) => regs.into_iter().map(|r| r.tax_identifier).collect(),
                Err(SequenceError::Decode { message, .. }) => {
                    let reason = format!("tax registrations: {message}");
                    return Ok(Err(Rejected { id: Some(c.id), reason, hash: String::new() }));
                }
                Err(SequenceError::Client { status: 404, .. }) => {
                    let reason = "tax registrations: not found (404)".to_owned();
                    return Ok(Err(Rejected { id: Some(c.id), reason, hash: String::new() }));
                }
                Err(e) => return Err(error(e)),
            }
        };
        Ok(Ok(SourceCustomer {
            address: address(&c.address),
            tax_status: c.tax_status,
            archived: c.archived_at.is_some(),
            created_at: Some(c.created_at),
            legal_name: c.legal_name,
            id: c.id,
            tax_ids,
        }))
    }

    async fn lines<L: DeserializeOwned>(
        &self,
        path: String,
        after: Option<&PageToken>,
        f: fn(L) -> SourceLine,
    ) -> SourceResult<SourceLine> {
        let q = seq::PageQuery { limit: Some(100), sort_order: Some(seq::SortOrder::Asc) };
        let p = self.client.list_page::<L>(&path, &q, after.map(|t| t.0.as_str())).await.map_err(error)?;
        Ok(page(p, f))
    }
}

impl SequenceSource for SequenceAdapter {
    async fn list_products(&self, after: Option<&PageToken>) -> SourceResult<SourceProduct> {
        let q = seq::ProductQuery { limit: Some(100), sort_order: Some(seq::SortOrder::Asc), ..Default::default() };
        let p = self.client.list_products_page(&q, after.map(|t| t.0.as_str())).await.map_err(error)?;
        Ok(page(p, product))
    }

    async fn list_customers(&self, after: Option<&PageToken>) -> SourceResult<SourceCustomer> {
        let q = seq::CustomerQuery {
            limit: Some(100),
            sort_order: Some(seq::SortOrder::Asc),
            include_archived: Some(true),
            ..Default::default()
        };
        let p = self.client.list_customers_page(&q, after.map(|t| t.0.as_str())).await.map_err(error)?;
        let mut items = Vec::with_capacity(p.items.len());
        let mut rejected = p.rejected;
        for c in p.items {
            match self.customer(c).await? {
                Ok(c) => items.push(c),
                Err(r) => rejected.push(r),
            }
        }
        Ok(SourcePage { items, rejected, next: p.after.map(PageToken) })
    }

    async fn list_invoices(&self, query: &InvoiceQuery, after: Option<&PageToken>) -> SourceResult<SourceInvoice> {
        let q = seq::InvoiceQuery {
            limit: Some(100),
            sort_order: Some(seq::SortOrder::Asc),
            invoice_status: query.status.clone(),
            invoice_after: query.invoice_after,
            invoice_before: query.invoice_before,
            ..Default::default()
        };
        let p = self.client.list_invoices_page(&q, after.map(|t| t.0.as_str())).await.map_err(error)?;
        Ok(page(p, invoice))
    }

    async fn invoice_line_items(&self, invoice_id: &str, after: Option<&PageToken>) -> SourceResult<SourceLine> {
        self.lines(format!("/invoices/{invoice_id}/line-items"), after, invoice_line).await
    }

    async fn list_credit_notes(
        &self,
        query: &CreditNoteQuery,
        after: Option<&PageToken>,
    ) -> SourceResult<SourceCreditNote> {
        let q = seq::CreditNoteQuery {
            limit: Some(100),
            sort_order: Some(seq::SortOrder::Asc),
            credit_note_status: query.status.clone(),
            sent_after: query.sent_after,
            sent_before: query.sent_before,
            ..Default::default()
        };
        let p = self.client.list_credit_notes_page(&q, after.map(|t| t.0.as_str())).await.map_err(error)?;
        Ok(page(p, credit_note))
    }

    async fn credit_note_line_items(
        &self,
        credit_note_id: &str,
        after: Option<&PageToken>,
    ) -> SourceResult<SourceLine> {
        self.lines(format!("/credit-notes/{credit_note_id}/line-items"), after, credit_note_line).await
    }

    async fn get_product(&self, id: &str) -> FetchResult<SourceProduct> {
        fetched(id, self.client.get_product(id).await, product)
    }

    async fn get_customer(&self, id: &str) -> FetchResult<SourceCustomer> {
        match self.client.get_customer(id).await {
            Ok(c) => self.customer(c).await,
            Err(e) => fetched(id, Err(e), |c: SourceCustomer| c),
        }
    }

    async fn get_invoice(&self, id: &str) -> FetchResult<SourceInvoice> {
        fetched(id, self.client.get_invoice(id).await, invoice)
    }

    async fn get_credit_note(&self, id: &str) -> FetchResult<SourceCreditNote> {
        fetched(id, self.client.get_credit_note(id).await, credit_note)
    }
}
