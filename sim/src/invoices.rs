//! Invoices: creation (with the simulator's own tax; Sphere's is applied by the async layer for
//! drafts), the status machine IN_PROGRESS/DRAFT → FINAL → SENT → VOIDED, payments, bulk creation with
//! one shared `createdAt` (cursor stability), and deletion (so a credit note can point at an invoice
//! the API no longer returns).

use crate::lines::{NewLine, totals};
use crate::tax;
use crate::wire::{
    DueDateSource, InclusiveDateRange, IntegrationPaymentStatus, IntegrationPaymentStatuses, Invoice, InvoiceDetail,
    InvoiceStatus, KeyValuePair, PaymentAllocation, PaymentLinkDisplay, PaymentOption, PaymentOrigin, PaymentStatus,
    RenderSettings,
};
use crate::world::{InvoiceRec, Target, World};
use crate::{SimError, render};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewInvoice {
    #[serde(flatten)]
    pub target: Target,
    pub customer_id: String,
    /// A three-letter code; defaults to the customer's country's currency. Codes outside the documented
    /// set are accepted on purpose (the unknown-currency hard case).
    pub currency: Option<String>,
    /// Defaults to DRAFT.
    pub status: Option<InvoiceStatus>,
    pub lines: Vec<NewLine>,
    pub issue_date: Option<NaiveDate>,
    pub created_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
    pub purchase_order_number: Option<String>,
    pub reference: Option<String>,
    pub metadata: Vec<KeyValuePair>,
    pub billing_schedule_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BulkInvoices {
    #[serde(flatten)]
    pub target: Target,
    pub count: u32,
    /// Defaults to FINAL.
    pub status: Option<InvoiceStatus>,
    /// Every invoice gets exactly this `createdAt` (default: now).
    pub created_at: Option<DateTime<Utc>>,
    pub issue_date: Option<NaiveDate>,
    pub customer_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InvoicePatch {
    pub memo: Option<String>,
    pub purchase_order_number: Option<String>,
    pub reference: Option<String>,
    pub customer_tax_id: Option<String>,
    /// Replaces the lines (drafts only).
    pub lines: Option<Vec<NewLine>>,
}

/// A payment of an issued invoice's whole balance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Payment {
    /// Default MANUAL.
    pub origin: Option<PaymentOrigin>,
    /// Default now.
    pub paid_at: Option<DateTime<Utc>>,
}

/// A currency code as the simulator accepts it: three ASCII capitals.
fn currency_code(c: &str) -> Result<String, SimError> {
    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c.to_owned())
    } else {
        Err(SimError::bad_request(format!("Invalid currency {c:?}")))
    }
}

impl World {
    /// Creates an invoice with the simulator's own tax rates. FINAL/SENT/VOIDED get a number and
    /// dates as if issued at `createdAt`.
    pub fn create_invoice(&mut self, n: NewInvoice) -> Result<String, SimError> {
        let a = self.account_index(&n.target)?;
        let customer = self.accounts[a].customer(&n.customer_id)?.clone();
        let currency = match &n.currency {
            Some(c) => currency_code(c)?,
            None => tax::currency_for_country(&customer.customer.address.country).to_owned(),
        };
        let status = n.status.unwrap_or(InvoiceStatus::Draft);
        if n.lines.is_empty() {
            return Err(SimError::bad_request("at least one line is required"));
        }
        let created_at = n.created_at.unwrap_or_else(|| self.now());
        let issue_date = n.issue_date.unwrap_or_else(|| created_at.date_naive());
        let id = self.rng.uuid();
        let period = InclusiveDateRange {
            start: issue_date - Duration::days(30),
            end_inclusive: issue_date - Duration::days(1),
        };
        let rate_pct = tax::local_rate_pct(&customer.customer);
        let lines = self.build_invoice_lines(a, &id, &currency, &n.lines, rate_pct, Some(period))?;
        let (net, tax_total, gross) = totals(lines.iter().map(|l| (&l.net_total, &l.total_tax)));
        let acc = &self.accounts[a];
        let invoice = Invoice {
            id: id.clone(),
            sequence_account_id: acc.info.id.clone(),
            status: InvoiceStatus::Draft,
            currency,
            invoice_number: None,
            due_date: Some(issue_date + Duration::days(30)),
            purchase_order_number: n.purchase_order_number,
            reference: n.reference,
            customer_emails: customer.billing_emails(),
            customer_legal_company_name: customer.customer.legal_name.clone(),
            customer_billing_address: customer.customer.address.clone(),
            customer_shipping_address: customer.customer.address.clone(),
            memo: n.memo,
            payment_options: Some(vec![PaymentOption::BankTransfer, PaymentOption::Link]),
            billing_period: Some(period),
            customer_id: customer.customer.id.clone(),
            total_tax: tax_total,
            net_total: net,
            gross_total: gross,
            metadata: n.metadata,
            payment_status: PaymentStatus::Unpaid,
            created_at,
            credit_note_ids: Vec::new(),
            linked_services: Vec::new(),
            merchant_details: Some(acc.merchant.clone()),
            accounting_date: issue_date,
            customer_tax_status: Some(customer.customer.tax_status),
            render_settings: RenderSettings { payment_link_display: PaymentLinkDisplay::Show },
            is_customer_archived: customer.customer.archived_at.is_some(),
            updated_at: created_at,
            billing_schedule_id: n.billing_schedule_id,
            issue_date: Some(issue_date),
            customer_tax_id: acc.customer_tax_id(&customer.customer.id),
            calculated_at: None,
        };
        let detail = InvoiceDetail {
            billing_run_id: None,
            balance: None,
            balance_version: None,
            integration_payment_statuses: IntegrationPaymentStatuses::default(),
            applied_credit_notes: Vec::new(),
            applied_credit_grants: Vec::new(),
            projected_credit_grants: Vec::new(),
            payment_allocations: Vec::new(),
            payment_term_days: Some(30),
            due_date_source: DueDateSource::Calculated,
        };
        let seq = self.seq();
        self.accounts[a].invoices.insert(InvoiceRec {
            seq,
            invoice,
            detail,
            lines,
            sent_on: None,
            last_tax_error: None,
        });
        match status {
            InvoiceStatus::Draft => {}
            InvoiceStatus::InProgress => self.accounts[a].invoice_mut(&id)?.invoice.status = InvoiceStatus::InProgress,
            InvoiceStatus::Final => self.finalise_invoice_at(&id, false, created_at)?,
            InvoiceStatus::Sent => self.finalise_invoice_at(&id, true, created_at)?,
            InvoiceStatus::Voided => {
                self.finalise_invoice_at(&id, true, created_at)?;
                self.void_invoice_at(&id, created_at)?;
            }
        }
        Ok(id)
    }

    /// Many invoices with one identical `createdAt` (to exercise cursor stability).
    pub fn bulk_invoices(&mut self, b: BulkInvoices) -> Result<Vec<String>, SimError> {
        if b.count > 10_000 {
            return Err(SimError::bad_request("count must be at most 10000"));
        }
        let a = self.account_index(&b.target)?;
        let target = Target::account(&self.accounts[a].info.id.clone());
        let customer_id = match b.customer_id.clone() {
            Some(c) => c,
            None => match self.accounts[a].customers.first() {
                Some(c) => c.customer.id.clone(),
                None => {
                    self.create_customer(crate::NewCustomer {
                        target: target.clone(),
                        legal_name: "Bulk Buyer Ltd".into(),
                        address: crate::wire::Address {
                            line1: "1 High Street".into(),
                            line2: None,
                            town: "London".into(),
                            state: None,
                            postcode: "EC1A 1BB".into(),
                            country: "GB".into(),
                        },
                        ..crate::NewCustomer::default()
                    })?
                    .customer
                    .id
                }
            },
        };
        let created_at = b.created_at.unwrap_or_else(|| self.now());
        let mut ids = Vec::with_capacity(b.count as usize);
        for i in 0..b.count {
            ids.push(self.create_invoice(NewInvoice {
                target: target.clone(),
                customer_id: customer_id.clone(),
                status: Some(b.status.unwrap_or(InvoiceStatus::Final)),
                lines: vec![NewLine { rate: Decimal::new(1000 + i64::from(i), 2), ..NewLine::default() }],
                issue_date: b.issue_date,
                created_at: Some(created_at),
                ..NewInvoice::default()
            })?);
        }
        Ok(ids)
    }

    pub fn update_invoice(&mut self, id: &str, p: InvoicePatch) -> Result<(), SimError> {
        let a = self.invoice_account(id)?;
        let now = self.now();
        if let Some(specs) = &p.lines {
            let rec = self.accounts[a].invoice(id)?;
            if !matches!(rec.invoice.status, InvoiceStatus::Draft | InvoiceStatus::InProgress) {
                return Err(SimError::conflict("only draft invoices can change lines"));
            }
            let (currency, period, customer_id) =
                (rec.invoice.currency.clone(), rec.invoice.billing_period, rec.invoice.customer_id.clone());
            let rate_pct = tax::local_rate_pct(&self.accounts[a].customer(&customer_id)?.customer);
            let lines = self.build_invoice_lines(a, id, &currency, specs, rate_pct, period)?;
            let rec = self.accounts[a].invoice_mut(id)?;
            rec.lines = lines;
            recompute_totals(rec);
        }
        let inv = &mut self.accounts[a].invoice_mut(id)?.invoice;
        if p.memo.is_some() {
            inv.memo = p.memo;
        }
        if p.purchase_order_number.is_some() {
            inv.purchase_order_number = p.purchase_order_number;
        }
        if p.reference.is_some() {
            inv.reference = p.reference;
        }
        if p.customer_tax_id.is_some() {
            inv.customer_tax_id = p.customer_tax_id;
        }
        inv.updated_at = now.max(inv.updated_at);
        Ok(())
    }

    pub fn finalise_invoice(&mut self, id: &str, send: bool) -> Result<(), SimError> {
        let now = self.now();
        self.finalise_invoice_at(id, send, now)
    }

    pub(crate) fn finalise_invoice_at(&mut self, id: &str, send: bool, at: DateTime<Utc>) -> Result<(), SimError> {
        let a = self.invoice_account(id)?;
        let acc = &mut self.accounts[a];
        let status = acc.invoice(id)?.invoice.status;
        let number = match status {
            InvoiceStatus::Draft | InvoiceStatus::InProgress => {
                acc.invoice_counter += 1;
                Some(format!("INV-{:05}", acc.invoice_counter))
            }
            InvoiceStatus::Final if send => None,
            _ => return Err(SimError::conflict(format!("invoice {id} is {status}, not a draft"))),
        };
        let rec = acc.invoice_mut(id)?;
        if let Some(n) = number {
            rec.invoice.invoice_number = Some(n);
            rec.invoice.status = InvoiceStatus::Final;
            rec.invoice.updated_at = at.max(rec.invoice.updated_at);
        }
        if send {
            rec.invoice.status = InvoiceStatus::Sent;
            rec.sent_on = Some(rec.invoice.issue_date.unwrap_or_else(|| at.date_naive()));
            rec.invoice.updated_at = at.max(rec.invoice.updated_at);
        }
        Ok(())
    }

    pub fn void_invoice(&mut self, id: &str) -> Result<(), SimError> {
        let now = self.now();
        self.void_invoice_at(id, now)
    }

    pub(crate) fn void_invoice_at(&mut self, id: &str, at: DateTime<Utc>) -> Result<(), SimError> {
        let a = self.invoice_account(id)?;
        let rec = self.accounts[a].invoice_mut(id)?;
        if !matches!(rec.invoice.status, InvoiceStatus::Final | InvoiceStatus::Sent) {
            return Err(SimError::conflict(format!(
                "invoice {id} is {}; only FINAL or SENT can be voided",
                rec.invoice.status
            )));
        }
        rec.invoice.status = InvoiceStatus::Voided;
        rec.invoice.updated_at = at.max(rec.invoice.updated_at);
        Ok(())
    }

    /// Records a payment of the whole balance (FINAL or SENT invoices): `paymentStatus` PAID, a
    /// payment allocation, and the Stripe integration status when paid through Stripe.
    pub fn pay_invoice(&mut self, id: &str, payment: Payment) -> Result<(), SimError> {
        let at = payment.paid_at.unwrap_or_else(|| self.now());
        let origin = payment.origin.unwrap_or(PaymentOrigin::Manual);
        let a = self.invoice_account(id)?;
        let payment_id = self.rng.uuid();
        let acc = &mut self.accounts[a];
        let rec = acc.invoice(id)?;
        if !matches!(rec.invoice.status, InvoiceStatus::Final | InvoiceStatus::Sent) {
            return Err(SimError::conflict(format!(
                "invoice {id} is {}; only FINAL or SENT can be paid",
                rec.invoice.status
            )));
        }
        if rec.invoice.payment_status == PaymentStatus::Paid {
            return Err(SimError::conflict(format!("invoice {id} is already paid")));
        }
        let amount = render::balance(acc, rec);
        let rec = acc.invoice_mut(id)?;
        rec.detail.payment_allocations.push(PaymentAllocation {
            payment_id,
            amount,
            allocated_at: at,
            paid_at: at,
            origin,
        });
        if origin == PaymentOrigin::Stripe {
            rec.detail.integration_payment_statuses.stripe = Some(IntegrationPaymentStatus::Paid);
        }
        rec.invoice.payment_status = PaymentStatus::Paid;
        rec.invoice.updated_at = at.max(rec.invoice.updated_at);
        Ok(())
    }

    /// Removes an invoice from the API (any status): `GET /invoices/{id}` answers 404 afterwards, while
    /// credit notes issued against it keep its id.
    pub fn delete_invoice(&mut self, id: &str) -> Result<(), SimError> {
        let a = self.invoice_account(id)?;
        let acc = &mut self.accounts[a];
        if let Some(rec) = acc.invoices.remove(id) {
            acc.raw_patches.forget_invoice(&rec);
        }
        Ok(())
    }
}

/// Invoice totals from its lines.
pub(crate) fn recompute_totals(rec: &mut InvoiceRec) {
    let (net, tax, gross) = totals(rec.lines.iter().map(|l| (&l.net_total, &l.total_tax)));
    rec.invoice.net_total = net;
    rec.invoice.total_tax = tax;
    rec.invoice.gross_total = gross;
}
