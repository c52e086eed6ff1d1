//! Seeds a realistic account: a few hundred customers in US states, Canada, the EU and the UK (some
//! exempt, EU business customers reverse-charged with VAT numbers; several contacts; some with custom
//! properties and integration ids), a handful of products, and a year of invoices in every status
//! (many paid) plus credit notes (some voided, a few from scratch). Then, unless turned off, the hard
//! cases ([`hard_cases`]) and, when asked, thousands of extra credit notes ([`scale`]).
//! Deterministic for a given seed and anchor day, so a failing scenario can be replayed.

mod data;
pub mod hard_cases;
mod scale;

pub use hard_cases::HardCases;

use crate::customers::{NewContact, NewCustomer};
use crate::invoices::{NewInvoice, Payment};
use crate::lines::{NewCreditLine, NewLine};
use crate::prng::Prng;
use crate::products::NewProduct;
use crate::wire::{
    Address, BillingPreference, CreditNoteStatus, ExternalId, IntegrationService, InvoiceStatus, LinkInfo,
    PaymentOrigin, TaxStatus,
};
use crate::world::{Target, World};
use crate::{NewCreditNote, SimError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use data::{CANADA, EU, FIRST_NAMES, KINDS, LAST_NAMES, NAMES, PRODUCTS, SEGMENTS, STREETS, UK, US};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::domain::Environment;
use std::collections::BTreeMap;

/// How much to seed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedSpec {
    pub customers: u32,
    pub invoices: u32,
    /// Percent of sent invoices that get a credit note.
    pub credit_note_pct: u32,
    /// The last day of history (default: today per the simulator clock).
    pub anchor: Option<NaiveDate>,
    /// Adds the hard cases (see [`HardCases`]); on by default.
    pub hard_cases: bool,
    /// This many extra credit notes with lines (spread over the year; 20,000 seed in seconds).
    pub scale_credit_notes: u32,
}

impl Default for SeedSpec {
    fn default() -> Self {
        SeedSpec {
            customers: 300,
            invoices: 900,
            credit_note_pct: 6,
            anchor: None,
            hard_cases: true,
            scale_credit_notes: 0,
        }
    }
}

impl SeedSpec {
    /// The same amounts without the hard cases or the extra credit notes (the production account).
    pub fn plain(&self) -> SeedSpec {
        SeedSpec { hard_cases: false, scale_credit_notes: 0, ..self.clone() }
    }
}

/// Midnight of `anchor` minus days and seconds.
pub(crate) fn at(anchor: NaiveDate, days_ago: i64, secs_before: i64) -> DateTime<Utc> {
    let midnight = anchor.and_hms_opt(0, 0, 0).map_or_else(Utc::now, |d| d.and_utc());
    midnight - Duration::days(days_ago) - Duration::seconds(secs_before)
}

fn address(
    line1: String,
    line2: Option<String>,
    town: &str,
    state: Option<&str>,
    postcode: &str,
    country: &str,
) -> Address {
    Address {
        line1,
        line2,
        town: town.into(),
        state: state.map(Into::into),
        postcode: postcode.into(),
        country: country.into(),
    }
}

fn contacts(rng: &mut Prng) -> Vec<NewContact> {
    let n = rng.range(1, 3);
    (0..n)
        .map(|k| NewContact {
            name: format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
            email: None,
            billing_preference: Some(match k {
                0 => BillingPreference::Primary,
                _ if rng.chance(70) => BillingPreference::Standard,
                _ => BillingPreference::NoInvoices,
            }),
            archived: k > 0 && rng.chance(10),
        })
        .collect()
}

fn customer(rng: &mut Prng) -> NewCustomer {
    let name = format!("{} {}", rng.pick(NAMES), rng.pick(KINDS));
    let street = format!("{} {}", rng.range(1, 400), rng.pick(STREETS));
    let region = rng.below(100);
    let (legal_name, address, tax_status, tax_identifier, region_label) = if region < 40 {
        let (st, city, zip) = *rng.pick(US);
        let status = if rng.chance(6) { TaxStatus::TaxExempt } else { TaxStatus::Taxed };
        (format!("{name} Inc"), address(street, None, city, Some(st), zip, "US"), status, None, "NA")
    } else if region < 50 {
        let (prov, city, zip) = *rng.pick(CANADA);
        (format!("{name} Ltd"), address(street, None, city, Some(prov), zip, "CA"), TaxStatus::Taxed, None, "NA")
    } else if region < 80 {
        let (cc, city, zip, suffix) = *rng.pick(EU);
        let b2b = rng.chance(55);
        (
            format!("{name} {suffix}"),
            address(street, None, city, None, zip, cc),
            if b2b { TaxStatus::ReverseCharged } else { TaxStatus::Taxed },
            b2b.then(|| format!("{cc}{}", rng.digits(9))),
            "EU",
        )
    } else {
        let (city, pc) = *rng.pick(UK);
        let registered = rng.chance(30);
        let line2 = rng.chance(20).then(|| format!("Unit {}", rng.range(1, 30)));
        (
            format!("{name} Ltd"),
            address(street, line2, city, None, pc, "GB"),
            TaxStatus::Taxed,
            registered.then(|| format!("GB{}", rng.digits(9))),
            "UK",
        )
    };
    let mut custom_properties = BTreeMap::new();
    if rng.chance(40) {
        custom_properties.insert("region".to_owned(), region_label.to_owned());
        custom_properties.insert("segment".to_owned(), (*rng.pick(SEGMENTS)).to_owned());
        if rng.chance(50) {
            custom_properties.insert("crmId".to_owned(), format!("CRM-{}", rng.digits(6)));
        }
    }
    NewCustomer {
        legal_name,
        address,
        tax_status: Some(tax_status),
        tax_identifier,
        contacts: Some(contacts(rng)),
        custom_properties,
        label: rng.chance(15).then(|| "Key account".to_owned()),
        ..NewCustomer::default()
    }
}

/// Clears the account of `env` and fills it.
pub fn seed_account(w: &mut World, env: Environment, spec: &SeedSpec) -> Result<(), SimError> {
    let a = w.account_index(&Target { environment: Some(env), account_id: None })?;
    w.accounts[a].clear_documents();
    let target = Target::account(&w.accounts[a].info.id.clone());
    let anchor = spec.anchor.unwrap_or_else(|| w.now().date_naive());
    // Data choices come from their own stream, split off the world's id generator.
    let mut rng = Prng::new(w.rng.next_u64());

    let mut products = Vec::new();
    for (k, (name, lo, hi)) in PRODUCTS.iter().enumerate() {
        let created = at(anchor, 420 - i64::try_from(k).unwrap_or(0), 0);
        let p = w.create_product(NewProduct {
            target: target.clone(),
            name: (*name).into(),
            label: (k % 3 == 0).then(|| format!("{name} (billed monthly)")),
            tax_category_id: Some(format!("taxcat-{}", k % 3)),
            created_at: Some(created),
        })?;
        if let Some(pk) = w.accounts[a].products.get_mut(&p.id) {
            pk.product.updated_at = created + Duration::days(rng.range(0, 300));
        }
        products.push((p.id, *lo, *hi));
    }

    let mut customer_ids = Vec::new();
    for i in 0..spec.customers {
        let mut nc = customer(&mut rng);
        nc.target = target.clone();
        // Customers join over the 400 days before the anchor, oldest first.
        let days_ago = 400 - i64::from(i) * 380 / i64::from(spec.customers.max(1));
        let created = at(anchor, days_ago, rng.range(0, 86_399));
        nc.created_at = Some(created);
        let stripe = rng.chance(20).then(|| format!("cus_{}", rng.digits(14)));
        let id = w.create_customer(nc)?.customer.id;
        if let Some(sid) = stripe
            && let Some(c) = w.accounts[a].customers.get_mut(&id)
        {
            c.customer.integration_ids.push(crate::wire::IntegrationId {
                service: crate::wire::IntegrationService::Stripe,
                id: sid,
                last_synced: Some(created + Duration::hours(1)),
                is_pending: false,
            });
        }
        customer_ids.push(id);
    }
    if !customer_ids.is_empty() {
        let sent = seed_invoices(w, a, &target, anchor, spec, &mut rng, &products, &customer_ids)?;
        seed_credit_notes(w, a, &target, anchor, spec, &mut rng, &customer_ids, sent)?;
    }
    if spec.hard_cases {
        let cases = hard_cases::seed(w, &target, anchor, &mut rng)?;
        w.accounts[a].hard_cases = Some(cases);
    }
    if spec.scale_credit_notes > 0 {
        scale::seed(w, a, &target, anchor, spec.scale_credit_notes, &mut rng, &products)?;
    }
    Ok(())
}

/// Marks an issued invoice as exported to the merchant's accounting system (Xero): a linked service
/// and an external id on each line, as Sequence shows synced documents.
pub(crate) fn link_to_accounting(w: &mut World, a: usize, id: &str, at: DateTime<Utc>) -> Result<(), SimError> {
    let external = w.rng.uuid();
    let line_ids: Vec<String> = (0..w.accounts[a].invoice(id)?.lines.len()).map(|_| w.rng.uuid()).collect();
    let rec = w.accounts[a].invoice_mut(id)?;
    rec.invoice.linked_services.push(LinkInfo {
        external_url: Some(format!("https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={external}")),
        external_id: external,
        external_service: IntegrationService::Xero,
        sync_time: at,
    });
    for (line, value) in rec.lines.iter_mut().zip(line_ids) {
        line.external_ids.push(ExternalId { key: IntegrationService::Xero, value });
    }
    Ok(())
}

/// Invoice dates spread over the year, created in date order. A tenth (at least five) are from the
/// last five days, in rotating draft-to-sent states, so every status exists even in small seeds.
/// Returns the SENT invoices with their age in days.
#[allow(clippy::too_many_arguments)]
fn seed_invoices(
    w: &mut World,
    a: usize,
    target: &Target,
    anchor: NaiveDate,
    spec: &SeedSpec,
    rng: &mut Prng,
    products: &[(String, i64, i64)],
    customer_ids: &[String],
) -> Result<Vec<(String, i64)>, SimError> {
    let recent = if spec.invoices >= 5 { (spec.invoices / 10).max(5) } else { 0 };
    let cycle = [
        InvoiceStatus::Draft,
        InvoiceStatus::InProgress,
        InvoiceStatus::Final,
        InvoiceStatus::Draft,
        InvoiceStatus::Sent,
    ];
    let mut plan: Vec<(i64, i64, Option<InvoiceStatus>)> = (0..spec.invoices)
        .map(|k| {
            if k < recent {
                (rng.range(0, 4), rng.range(0, 86_399), Some(cycle[(k % 5) as usize]))
            } else {
                (rng.range(5, 364), rng.range(0, 86_399), None)
            }
        })
        .collect();
    plan.sort_by_key(|p| std::cmp::Reverse((p.0, p.1)));
    let mut sent = Vec::new();
    for (days_ago, secs, fixed) in plan {
        let created_at = at(anchor, days_ago, secs);
        let status = fixed.unwrap_or_else(|| {
            let r = rng.below(100);
            if days_ago > 35 {
                match r {
                    0..=91 => InvoiceStatus::Sent,
                    92..=95 => InvoiceStatus::Final,
                    _ => InvoiceStatus::Voided,
                }
            } else {
                match r {
                    0..=69 => InvoiceStatus::Sent,
                    70..=84 => InvoiceStatus::Final,
                    85..=89 => InvoiceStatus::Voided,
                    _ => InvoiceStatus::Draft,
                }
            }
        });
        let n_lines = rng.range(1, 4);
        let mut lines = Vec::new();
        for _ in 0..n_lines {
            let (pid, lo, hi) = rng.pick(products).clone();
            let quantity =
                if rng.chance(15) { Decimal::new(rng.range(5, 200), 1) } else { Decimal::from(rng.range(1, 25)) };
            lines.push(NewLine {
                product_id: Some(pid),
                quantity: Some(quantity),
                rate: rng.price(lo, hi),
                ..NewLine::default()
            });
        }
        let customer_id = rng.pick(customer_ids).clone();
        let billing_schedule_id = rng.chance(60).then(|| w.rng.uuid());
        let purchase_order_number = rng.chance(10).then(|| format!("PO-{}", rng.digits(6)));
        let id = w.create_invoice(NewInvoice {
            target: target.clone(),
            customer_id,
            status: Some(status),
            lines,
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            purchase_order_number,
            billing_schedule_id,
            ..NewInvoice::default()
        })?;
        if status != InvoiceStatus::Draft && status != InvoiceStatus::InProgress && rng.chance(30) {
            link_to_accounting(w, a, &id, created_at + Duration::hours(1))?;
        }
        let settled = (created_at + Duration::days(rng.range(1, 30))).min(at(anchor, 0, 0));
        if status == InvoiceStatus::Voided {
            let rec = w.accounts[a].invoice_mut(&id)?;
            rec.invoice.updated_at = (created_at + Duration::days(rng.range(1, 20))).min(at(anchor, 0, 0));
        } else if status == InvoiceStatus::Sent && days_ago > 30 && rng.chance(85) {
            let origin = if rng.chance(40) { PaymentOrigin::Stripe } else { PaymentOrigin::Manual };
            w.pay_invoice(&id, Payment { origin: Some(origin), paid_at: Some(settled) })?;
        }
        if status == InvoiceStatus::Sent {
            sent.push((id, days_ago));
        }
    }
    Ok(sent)
}

#[allow(clippy::too_many_arguments)]
fn seed_credit_notes(
    w: &mut World,
    a: usize,
    target: &Target,
    anchor: NaiveDate,
    spec: &SeedSpec,
    rng: &mut Prng,
    customer_ids: &[String],
    sent: Vec<(String, i64)>,
) -> Result<(), SimError> {
    for (id, days_ago) in sent {
        if !rng.chance(u64::from(spec.credit_note_pct)) {
            continue;
        }
        let after = rng.range(1, days_ago.clamp(1, 20));
        let created_at = at(anchor, (days_ago - after).max(0), rng.range(0, 3_600));
        let status = match rng.below(100) {
            0..=84 => CreditNoteStatus::Sent,
            85..=94 => CreditNoteStatus::Draft,
            _ => CreditNoteStatus::Voided,
        };
        let lines = if rng.chance(40) {
            let first = w.accounts[a].invoice(&id)?.lines.first().map(|l| l.id.clone());
            Some(vec![NewCreditLine { line_item_id: first, quantity: Some(Decimal::ONE), ..NewCreditLine::default() }])
        } else {
            None
        };
        w.issue_credit_note(NewCreditNote {
            target: target.clone(),
            invoice_id: Some(id),
            status: Some(status),
            lines,
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            ..NewCreditNote::default()
        })?;
    }
    // A few goodwill credit notes issued from scratch (no invoice).
    for k in 0..3 {
        let created_at = at(anchor, 100 - k * 30, 0);
        w.issue_credit_note(NewCreditNote {
            target: target.clone(),
            customer_id: Some(rng.pick(customer_ids).clone()),
            status: Some(CreditNoteStatus::Sent),
            lines: Some(vec![NewCreditLine {
                title: Some("Goodwill credit".into()),
                rate: Some(rng.price(20, 200)),
                ..NewCreditLine::default()
            }]),
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            memo: Some("Goodwill credit for the service interruption".into()),
            ..NewCreditNote::default()
        })?;
    }
    Ok(())
}
