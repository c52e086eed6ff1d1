//! The adapter from the Sequence REST client to the sync algorithm's source port: a field mapping plus
//! the error mapping. Listings are always `sortOrder=ASC`, 100 per page.

use super::source::{
    self as src, CreditNoteQuery, InvoiceQuery, PageToken, SequenceSource, SourceCreditNote, SourceCustomer,
    SourceError, SourceInvoice, SourceLine, SourcePage, SourceProduct, SourceResult,
};
use crate::sequence::{self as seq, SequenceClient, SequenceError};

pub struct SequenceAdapter {
    pub client: SequenceClient,
}

fn error(e: SequenceError) -> SourceError {
    match e {
        SequenceError::Unauthorized { .. } => SourceError::Unauthorized,
        SequenceError::Throttled { retry_after, .. } => SourceError::Throttled { retry_after },
        SequenceError::Unavailable { reason, .. } => SourceError::Unavailable(reason),
        SequenceError::OutOfTime { .. } => SourceError::OutOfTime,
        e @ (SequenceError::Client { .. } | SequenceError::RepeatedPageToken { .. }) => {
            SourceError::Client(e.to_string())
        }
        e => SourceError::Other(e.to_string()),
    }
}

fn page<A, B>(p: seq::Page<A>, f: impl Fn(A) -> B) -> SourcePage<B> {
    SourcePage { items: p.items.into_iter().map(f).collect(), next: p.after.map(PageToken) }
}

fn address(a: &seq::Address) -> Option<src::Address> {
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let out = src::Address {
        line1: opt(&a.line1),
        line2: a.line2.clone().filter(|s| !s.trim().is_empty()),
        town: opt(&a.town),
        state: a.state.clone().filter(|s| !s.trim().is_empty()),
        postcode: opt(&a.postcode),
        country: opt(&a.country),
    };
    (out != src::Address::default()).then_some(out)
}

fn linked(l: &[seq::LinkedService]) -> Vec<src::LinkedService> {
    l.iter()
        .map(|s| src::LinkedService {
            external_service: s.external_service.as_str().to_owned(),
            external_id: s.external_id.clone(),
        })
        .collect()
}

fn invoice(i: seq::Invoice) -> SourceInvoice {
    SourceInvoice {
        number: i.invoice_number.clone(),
        status: src::InvoiceStatus::parse(i.status.as_str()),
        currency: i.currency.clone(),
        issue_date: i.issue_date,
        accounting_date: i.accounting_date,
        created_at: Some(i.created_at),
        updated_at: i.updated_at,
        customer_name: i.customer_legal_company_name.clone(),
        billing_address: address(&i.customer_billing_address),
        shipping_address: address(&i.customer_shipping_address),
        customer_tax_status: i.customer_tax_status.as_ref().map(|s| src::TaxStatus::parse(s.as_str())),
        customer_tax_id: i.customer_tax_id.clone(),
        net_total: i.net_total,
        total_tax: i.total_tax,
        gross_total: i.gross_total,
        linked_services: linked(&i.linked_services),
        customer_id: i.customer_id,
        id: i.id,
    }
}

fn credit_note(c: seq::CreditNote) -> SourceCreditNote {
    SourceCreditNote {
        number: c.credit_note_number.clone(),
        status: src::CreditNoteStatus::parse(c.status.as_str()),
        invoice_id: c.invoice_id.clone(),
        currency: c.currency.clone(),
        issue_date: c.issue_date,
        accounting_date: c.accounting_date,
        customer_name: c.customer_legal_company_name.clone(),
        billing_address: address(&c.customer_billing_address),
        shipping_address: address(&c.customer_shipping_address),
        customer_tax_id: c.customer_tax_id.clone(),
        net_total: c.net_total,
        total_tax: c.total_tax,
        gross_total: c.gross_total,
        linked_services: linked(&c.linked_services),
        customer_id: c.customer_id,
        id: c.id,
    }
}

impl SequenceSource for SequenceAdapter {
    async fn list_products(&self, after: Option<&PageToken>) -> SourceResult<SourceProduct> {
        let q = seq::ProductQuery { limit: Some(100), sort_order: Some(seq::SortOrder::Asc), ..Default::default() };
        let p = self.client.list_products_page(&q, after.map(|t| t.0.as_str())).await.map_err(error)?;
        Ok(page(p, |p| SourceProduct {
            id: p.id,
            name: p.name,
            tax_category_id: p.tax_category_id,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }))
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
        for c in p.items {
            // Tax ids live in the customer's tax registrations; only customers whose tax status
            // depends on them (exempt / reverse charged) are worth the extra request each.
            let tax_ids = if c.tax_status == seq::TaxStatus::Taxed {
                Vec::new()
            } else {
                self.client
                    .customer_tax_registrations(&c.id)
                    .await
                    .map_err(error)?
                    .into_iter()
                    .map(|r| r.tax_identifier)
                    .collect()
            };
            items.push(SourceCustomer {
                address: address(&c.address),
                tax_status: src::TaxStatus::parse(c.tax_status.as_str()),
                archived: c.archived_at.is_some(),
                created_at: Some(c.created_at),
                legal_name: c.legal_name,
                id: c.id,
                tax_ids,
            });
        }
        Ok(SourcePage { items, next: p.after.map(PageToken) })
    }

    async fn list_invoices(&self, query: &InvoiceQuery, after: Option<&PageToken>) -> SourceResult<SourceInvoice> {
        let q = seq::InvoiceQuery {
            limit: Some(100),
            sort_order: Some(seq::SortOrder::Asc),
            invoice_status: query.status.as_ref().map(|s| seq::InvoiceStatus::from(s.as_str())),
            invoice_after: query.invoice_after,
            invoice_before: query.invoice_before,
            ..Default::default()
        };
        let p = self.client.list_invoices_page(&q, after.map(|t| t.0.as_str())).await.map_err(error)?;
        Ok(page(p, invoice))
    }

    async fn invoice_line_items(&self, invoice_id: &str, after: Option<&PageToken>) -> SourceResult<SourceLine> {
        let q = seq::PageQuery { limit: Some(100), sort_order: Some(seq::SortOrder::Asc) };
        let path = format!("/invoices/{invoice_id}/line-items");
        let p = self
            .client
            .list_page::<seq::InvoiceLineItem>(&path, &q, after.map(|t| t.0.as_str()))
            .await
            .map_err(error)?;
        Ok(page(p, |l| SourceLine {
            id: l.id,
            product_id: l.product_id,
            title: l.title,
            quantity: l.quantity,
            net_total: l.net_total,
            total_tax: l.total_tax,
            gross_total: l.gross_total,
            credited_line_id: None,
        }))
    }

    async fn list_credit_notes(
        &self,
        query: &CreditNoteQuery,
        after: Option<&PageToken>,
    ) -> SourceResult<SourceCreditNote> {
        let q = seq::CreditNoteQuery {
            limit: Some(100),
            sort_order: Some(seq::SortOrder::Asc),
            credit_note_status: query.status.as_ref().map(|s| seq::CreditNoteStatus::from(s.as_str())),
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
        let q = seq::PageQuery { limit: Some(100), sort_order: Some(seq::SortOrder::Asc) };
        let path = format!("/credit-notes/{credit_note_id}/line-items");
        let p = self
            .client
            .list_page::<seq::CreditNoteLineItem>(&path, &q, after.map(|t| t.0.as_str()))
            .await
            .map_err(error)?;
        Ok(page(p, |l| SourceLine {
            id: l.id,
            product_id: l.product_id,
            title: l.title,
            quantity: l.quantity,
            net_total: l.net_total,
            total_tax: l.total_tax,
            gross_total: l.gross_total,
            credited_line_id: l.line_item_id,
        }))
    }
}
