//! Many credit notes for load and pagination tests (`scaleCreditNotes`, `sphere-local sim
//! --scale-credit-notes N`): every fourth credits one line of a not-yet-credited issued invoice, the
//! rest are issued from scratch with one to three product lines; statuses mostly SENT, some FINAL,
//! DRAFT, IN_PROGRESS and VOIDED; created over the year before the anchor. Why cheap per document: all
//! lookups are by id, so 20,000 seed in a couple of seconds.

use super::at;
use crate::lines::NewCreditLine;
use crate::prng::Prng;
use crate::wire::{CreditNoteStatus, InvoiceStatus};
use crate::world::{Target, World};
use crate::{NewCreditNote, NewCustomer, SimError};
use rust_decimal::Decimal;

pub fn seed(
    w: &mut World,
    a: usize,
    target: &Target,
    anchor: chrono::NaiveDate,
    n: u32,
    rng: &mut Prng,
    products: &[(String, i64, i64)],
) -> Result<(), SimError> {
    let mut customers: Vec<String> = w.accounts[a].customers.iter().map(|c| c.customer.id.clone()).collect();
    if customers.is_empty() {
        let c = w.create_customer(NewCustomer {
            target: target.clone(),
            legal_name: "Scale Buyer Ltd".into(),
            address: crate::wire::Address {
                line1: "1 High Street".into(),
                line2: None,
                town: "London".into(),
                state: None,
                postcode: "EC1A 1BB".into(),
                country: "GB".into(),
            },
            ..NewCustomer::default()
        })?;
        customers.push(c.customer.id);
    }
    let mut uncredited: Vec<String> = w.accounts[a]
        .invoices
        .iter()
        .filter(|r| matches!(r.invoice.status, InvoiceStatus::Final | InvoiceStatus::Sent))
        .filter(|r| r.invoice.credit_note_ids.is_empty())
        // Credit notes inherit the invoice's currency; keep the one undocumented currency alone.
        .filter(|r| r.invoice.currency != super::hard_cases::UNKNOWN_CURRENCY)
        .map(|r| r.invoice.id.clone())
        .collect();
    uncredited.reverse();
    let n64 = i64::from(n);
    for k in 0..n64 {
        let created_at = at(anchor, 365 - k * 365 / n64.max(1), rng.range(0, 3_599));
        let status = match rng.below(100) {
            0..=79 => CreditNoteStatus::Sent,
            80..=87 => CreditNoteStatus::Final,
            88..=92 => CreditNoteStatus::Draft,
            93..=95 => CreditNoteStatus::InProgress,
            _ => CreditNoteStatus::Voided,
        };
        let against = if k % 4 == 0 { uncredited.pop() } else { None };
        let (invoice_id, customer_id, lines) = match against {
            Some(inv) => {
                let first = w.accounts[a].invoice(&inv)?.lines.first().map(|l| l.id.clone());
                let line =
                    NewCreditLine { line_item_id: first, quantity: Some(Decimal::ONE), ..NewCreditLine::default() };
                (Some(inv), None, vec![line])
            }
            None => {
                let lines = (0..rng.range(1, 3))
                    .map(|_| {
                        let (pid, lo, hi) = if products.is_empty() {
                            (None, 5, 50)
                        } else {
                            let (p, lo, hi) = rng.pick(products);
                            (Some(p.clone()), *lo, *hi)
                        };
                        NewCreditLine {
                            product_id: pid,
                            title: Some("Service credit".into()),
                            quantity: Some(Decimal::from(rng.range(1, 3))),
                            rate: Some(rng.price(lo, hi)),
                            ..NewCreditLine::default()
                        }
                    })
                    .collect();
                (None, Some(rng.pick(&customers).clone()), lines)
            }
        };
        w.issue_credit_note(NewCreditNote {
            target: target.clone(),
            invoice_id,
            customer_id,
            status: Some(status),
            lines: Some(lines),
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            ..NewCreditNote::default()
        })?;
    }
    Ok(())
}
