//! Credit notes: issued against a FINAL or SENT invoice (whole or in part) or from scratch for a
//! customer, in any status; finalised, sent, voided. Why the application fields are set here, at each
//! status change: `applications`, `applicationStatus` and `balance` describe what the credit did, so a
//! served credit note always agrees with its own status.

use crate::lines::{NewCreditLine, totals};
use crate::tax;
use crate::wire::{ApplicationStatus, CashCreditGrant, CreditNote, CreditNoteApplication, CreditNoteSettings};
use crate::wire::{CreditNoteStatus, InvoiceStatus, KeyValuePair};
use crate::world::{CreditNoteRec, Target, World};
use crate::{SimError, money};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewCreditNote {
    #[serde(flatten)]
    pub target: Target,
    /// Against an issued invoice; or "from scratch" with `customerId`.
    pub invoice_id: Option<String>,
    pub customer_id: Option<String>,
    /// From scratch only (default: the customer's country's currency).
    pub currency: Option<String>,
    /// Defaults to SENT.
    pub status: Option<CreditNoteStatus>,
    /// Omitted with an invoice → credit every invoice line in full.
    pub lines: Option<Vec<NewCreditLine>>,
    pub issue_date: Option<NaiveDate>,
    pub created_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
    pub metadata: Vec<KeyValuePair>,
}

/// Sets what applying the credit did, from the status: FINAL/SENT against an invoice → applied in
/// full to it; FINAL/SENT from scratch → unapplied, the whole amount left; VOIDED → nothing left;
/// DRAFT/IN_PROGRESS → not yet issued.
fn settle(rec: &mut CreditNoteRec, at: DateTime<Utc>) {
    let cn = &mut rec.credit_note;
    let issued = matches!(cn.status, CreditNoteStatus::Final | CreditNoteStatus::Sent);
    match (&cn.invoice_id, issued) {
        (Some(inv), true) => {
            let applied_at = *rec.applied_at.get_or_insert(at);
            cn.applications = vec![CreditNoteApplication {
                invoice_id: inv.clone(),
                invoice_number: cn.invoice_number.clone(),
                amount: cn.gross_total,
                applied_at,
            }];
            cn.application_status = Some(ApplicationStatus::FullyApplied);
            cn.balance = Some(money::round(Decimal::ZERO, &cn.currency));
            cn.balance_version = Some(2);
        }
        (None, true) => {
            cn.applications = Vec::new();
            cn.application_status = Some(ApplicationStatus::Unapplied);
            cn.balance = Some(cn.gross_total);
            cn.balance_version = Some(1);
        }
        (_, false) if cn.status == CreditNoteStatus::Voided => {
            cn.applications = Vec::new();
            cn.application_status = Some(ApplicationStatus::Unapplied);
            cn.balance = Some(money::round(Decimal::ZERO, &cn.currency));
            cn.balance_version = Some(3);
        }
        (_, false) => {
            cn.applications = Vec::new();
            cn.application_status = None;
            cn.balance = None;
            cn.balance_version = None;
        }
    }
}

impl World {
    pub fn issue_credit_note(&mut self, n: NewCreditNote) -> Result<String, SimError> {
        let (a, invoice) = match &n.invoice_id {
            Some(inv_id) => {
                let a = self.invoice_account(inv_id)?;
                let rec = self.accounts[a].invoice(inv_id)?.clone();
                if !matches!(rec.invoice.status, InvoiceStatus::Final | InvoiceStatus::Sent) {
                    return Err(SimError::conflict("credit notes can only be issued against FINAL or SENT invoices"));
                }
                (a, Some(rec))
            }
            None => (self.account_index(&n.target)?, None),
        };
        let customer_id = match (&invoice, &n.customer_id) {
            (Some(r), _) => r.invoice.customer_id.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => return Err(SimError::bad_request("invoiceId or customerId is required")),
        };
        let customer = self.accounts[a].customer(&customer_id)?.clone();
        let currency = match (&invoice, &n.currency) {
            (Some(r), _) => r.invoice.currency.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => tax::currency_for_country(&customer.customer.address.country).to_owned(),
        };
        let status = n.status.unwrap_or(CreditNoteStatus::Sent);
        let created_at = n.created_at.unwrap_or_else(|| self.now());
        let id = self.rng.uuid();
        let specs: Vec<NewCreditLine> = match (&n.lines, &invoice) {
            (Some(l), _) => l.clone(),
            (None, Some(r)) => r
                .lines
                .iter()
                .map(|l| NewCreditLine { line_item_id: Some(l.id.clone()), ..NewCreditLine::default() })
                .collect(),
            (None, None) => return Err(SimError::bad_request("lines are required for a credit note from scratch")),
        };
        if specs.is_empty() {
            return Err(SimError::bad_request("at least one line is required"));
        }
        let rate_pct = tax::local_rate_pct(&customer.customer);
        let lines = self.build_credit_lines(&id, &currency, &specs, invoice.as_ref(), rate_pct)?;
        let (net, tax_total, gross) = totals(lines.iter().map(|l| (&l.net_total, &l.total_tax)));
        let acc = &mut self.accounts[a];
        let issue_date = n.issue_date.unwrap_or_else(|| created_at.date_naive());
        let numbered = !matches!(status, CreditNoteStatus::Draft | CreditNoteStatus::InProgress);
        if numbered {
            acc.credit_note_counter += 1;
        }
        let period = invoice.as_ref().and_then(|r| r.invoice.billing_period);
        let credit_note = CreditNote {
            id: id.clone(),
            sequence_account_id: acc.info.id.clone(),
            status,
            invoice_id: invoice.as_ref().map(|r| r.invoice.id.clone()),
            invoice_number: invoice.as_ref().and_then(|r| r.invoice.invoice_number.clone()),
            billing_schedule_id: invoice.as_ref().and_then(|r| r.invoice.billing_schedule_id.clone()),
            currency,
            issue_date: Some(issue_date),
            billing_period_start: period.map(|p| p.start),
            billing_period_end: period.map(|p| p.end_inclusive),
            credit_note_number: numbered.then(|| format!("CN-{:05}", acc.credit_note_counter)),
            purchase_order_number: invoice.as_ref().and_then(|r| r.invoice.purchase_order_number.clone()),
            customer_id: customer.customer.id.clone(),
            customer_emails: customer.billing_emails(),
            customer_legal_company_name: customer.customer.legal_name.clone(),
            customer_billing_address: customer.customer.address.clone(),
            customer_shipping_address: customer.customer.address.clone(),
            memo: n.memo,
            total_tax: tax_total,
            net_total: net,
            gross_total: gross,
            metadata: n.metadata,
            customer_tax_id: invoice.as_ref().and_then(|r| r.invoice.customer_tax_id.clone()),
            linked_services: Vec::new(),
            application_status: None,
            balance: None,
            balance_version: None,
            applications: Vec::new(),
            merchant_details: Some(acc.merchant.clone()),
            settings: CreditNoteSettings { generate_cash_credit_grant: CashCreditGrant::Disabled },
            accounting_date: Some(issue_date),
        };
        let sent_on = matches!(status, CreditNoteStatus::Sent | CreditNoteStatus::Voided).then_some(issue_date);
        if let Some(r) = &invoice
            && let Some(inv) = acc.invoices.get_mut(&r.invoice.id)
        {
            inv.invoice.credit_note_ids.push(id.clone());
            inv.invoice.updated_at = created_at.max(inv.invoice.updated_at);
        }
        let mut rec = CreditNoteRec { seq: 0, created_at, credit_note, lines, sent_on, applied_at: None };
        settle(&mut rec, created_at);
        rec.seq = self.seq();
        self.accounts[a].credit_notes.insert(rec);
        Ok(id)
    }

    pub fn finalise_credit_note(&mut self, id: &str, send: bool) -> Result<(), SimError> {
        let a = self.credit_note_account(id)?;
        let now = self.now();
        let acc = &mut self.accounts[a];
        let status = acc.credit_note(id)?.credit_note.status;
        let number = match status {
            CreditNoteStatus::Draft | CreditNoteStatus::InProgress => {
                acc.credit_note_counter += 1;
                Some(format!("CN-{:05}", acc.credit_note_counter))
            }
            CreditNoteStatus::Final if send => None,
            _ => return Err(SimError::conflict(format!("credit note {id} is {status}"))),
        };
        let rec = acc.credit_note_mut(id)?;
        if let Some(n) = number {
            rec.credit_note.credit_note_number = Some(n);
            rec.credit_note.status = CreditNoteStatus::Final;
        }
        if send {
            rec.credit_note.status = CreditNoteStatus::Sent;
            rec.sent_on = Some(now.date_naive());
        }
        settle(rec, now);
        Ok(())
    }

    pub fn void_credit_note(&mut self, id: &str) -> Result<(), SimError> {
        let a = self.credit_note_account(id)?;
        let now = self.now();
        let rec = self.accounts[a].credit_note_mut(id)?;
        if !matches!(rec.credit_note.status, CreditNoteStatus::Final | CreditNoteStatus::Sent) {
            return Err(SimError::conflict(format!("credit note {id} is {}", rec.credit_note.status)));
        }
        rec.credit_note.status = CreditNoteStatus::Voided;
        settle(rec, now);
        Ok(())
    }
}
