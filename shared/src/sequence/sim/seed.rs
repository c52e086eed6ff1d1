//! Seeds a realistic account: a few hundred customers in US states, Canada, the EU and the UK (some
//! exempt, EU business customers reverse-charged with VAT numbers), a handful of products, and a year of
//! invoices in every status plus credit notes (some voided). Deterministic for a given seed and anchor
//! day, so a failing scenario can be replayed.

use super::prng::Prng;
use super::state::{NewCreditLine, NewCreditNote, NewCustomer, NewInvoice, NewLine, NewProduct, Target, World};
use crate::domain::{Decimal, Environment};
use crate::sequence::models::{Address, CreditNoteStatus, InvoiceStatus, PaymentStatus, TaxStatus};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How much to seed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedSpec {
    pub customers: u32,
    pub invoices: u32,
    /// Percent of sent invoices that get a credit note.
    pub credit_note_pct: u32,
    /// The last day of history (default: today per the simulator clock).
    pub anchor: Option<NaiveDate>,
}

impl Default for SeedSpec {
    fn default() -> Self {
        SeedSpec { customers: 300, invoices: 900, credit_note_pct: 6, anchor: None }
    }
}

const US: &[(&str, &str, &str)] = &[
    ("CA", "San Francisco", "94103"),
    ("CA", "Los Angeles", "90012"),
    ("TX", "Austin", "78701"),
    ("TX", "Houston", "77002"),
    ("NY", "New York", "10001"),
    ("WA", "Seattle", "98101"),
    ("FL", "Miami", "33130"),
    ("IL", "Chicago", "60601"),
    ("PA", "Philadelphia", "19103"),
    ("MA", "Boston", "02110"),
    ("CO", "Denver", "80202"),
    ("GA", "Atlanta", "30303"),
    ("NJ", "Newark", "07102"),
    ("OR", "Portland", "97204"),
    ("DE", "Wilmington", "19801"),
    ("NC", "Charlotte", "28202"),
    ("OH", "Columbus", "43215"),
    ("AZ", "Phoenix", "85004"),
    ("MN", "Minneapolis", "55401"),
    ("UT", "Salt Lake City", "84101"),
];
const CANADA: &[(&str, &str, &str)] = &[
    ("ON", "Toronto", "M5H 2N2"),
    ("QC", "Montréal", "H2Y 1C6"),
    ("BC", "Vancouver", "V6B 1A1"),
    ("AB", "Calgary", "T2P 1J9"),
];
const EU: &[(&str, &str, &str, &str)] = &[
    ("DE", "Berlin", "10115", "GmbH"),
    ("DE", "München", "80331", "GmbH"),
    ("FR", "Paris", "75002", "SAS"),
    ("FR", "Lyon", "69002", "SAS"),
    ("NL", "Amsterdam", "1012 JS", "B.V."),
    ("IE", "Dublin", "D02 X285", "Ltd"),
    ("ES", "Madrid", "28013", "S.L."),
    ("IT", "Milano", "20121", "S.r.l."),
    ("SE", "Stockholm", "111 51", "AB"),
    ("BE", "Bruxelles", "1000", "SA"),
    ("AT", "Wien", "1010", "GmbH"),
    ("PL", "Warszawa", "00-001", "Sp. z o.o."),
];
const UK: &[(&str, &str)] =
    &[("London", "EC1A 1BB"), ("Manchester", "M1 1AE"), ("Edinburgh", "EH1 1YZ"), ("Bristol", "BS1 4DJ")];
const NAMES: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Aperture",
    "Massive",
    "Pied Piper",
    "Dunder",
    "Sterling",
    "Prestige",
    "Oscorp",
    "Gringotts",
];
const KINDS: &[&str] = &[
    "Analytics",
    "Labs",
    "Systems",
    "Logistics",
    "Foods",
    "Media",
    "Robotics",
    "Health",
    "Energy",
    "Capital",
    "Studios",
    "Networks",
];
const STREETS: &[&str] =
    &["Main Street", "High Street", "Market Street", "King Street", "Park Avenue", "Church Road", "Station Road"];
const PRODUCTS: &[(&str, i64, i64)] = &[
    ("Platform subscription", 199, 4_999),
    ("Seats", 10, 60),
    ("API calls (per 1,000)", 1, 5),
    ("Onboarding services", 500, 5_000),
    ("Premium support", 99, 999),
    ("Data storage (per GB)", 1, 3),
    ("Training workshop", 750, 3_000),
    ("Hardware security key", 25, 80),
];

fn customer(rng: &mut Prng, i: u32) -> NewCustomer {
    let name = format!("{} {}", rng.pick(NAMES), rng.pick(KINDS));
    let street = format!("{} {}", rng.range(1, 400), rng.pick(STREETS));
    let region = rng.below(100);
    let (legal_name, address, tax_status, tax_identifier) = if region < 40 {
        let (st, city, zip) = *rng.pick(US);
        let status = if rng.chance(6) { TaxStatus::TaxExempt } else { TaxStatus::Taxed };
        (
            format!("{name} Inc"),
            Address {
                line1: street,
                line2: None,
                town: city.into(),
                state: Some(st.into()),
                postcode: zip.into(),
                country: "US".into(),
            },
            status,
            None,
        )
    } else if region < 50 {
        let (prov, city, zip) = *rng.pick(CANADA);
        (
            format!("{name} Ltd"),
            Address {
                line1: street,
                line2: None,
                town: city.into(),
                state: Some(prov.into()),
                postcode: zip.into(),
                country: "CA".into(),
            },
            TaxStatus::Taxed,
            None,
        )
    } else if region < 80 {
        let (cc, city, zip, suffix) = *rng.pick(EU);
        let b2b = rng.chance(55);
        (
            format!("{name} {suffix}"),
            Address {
                line1: street,
                line2: None,
                town: city.into(),
                state: None,
                postcode: zip.into(),
                country: cc.into(),
            },
            if b2b { TaxStatus::ReverseCharged } else { TaxStatus::Taxed },
            b2b.then(|| format!("{cc}{}", rng.digits(9))),
        )
    } else {
        let (city, pc) = *rng.pick(UK);
        let registered = rng.chance(30);
        (
            format!("{name} Ltd"),
            Address {
                line1: street,
                line2: rng.chance(20).then(|| format!("Unit {}", rng.range(1, 30))),
                town: city.into(),
                state: None,
                postcode: pc.into(),
                country: "GB".into(),
            },
            TaxStatus::Taxed,
            registered.then(|| format!("GB{}", rng.digits(9))),
        )
    };
    let _ = i;
    NewCustomer { legal_name, address, tax_status: Some(tax_status), tax_identifier, ..NewCustomer::default() }
}

fn at(anchor: NaiveDate, days_ago: i64, secs_before: i64) -> DateTime<Utc> {
    let midnight = anchor.and_hms_opt(0, 0, 0).map(|d| d.and_utc()).unwrap_or_else(Utc::now);
    midnight - Duration::days(days_ago) - Duration::seconds(secs_before)
}

/// Clears the account `target` addresses and fills it.
pub fn seed_account(w: &mut World, env: Environment, spec: &SeedSpec) -> Result<(), super::state::SimError> {
    let target = Target { environment: Some(env), account_id: None };
    let a = w.account_index(&target)?;
    {
        let acc = &mut w.accounts[a];
        acc.customers.clear();
        acc.products.clear();
        acc.invoices.clear();
        acc.credit_notes.clear();
        acc.tax_registrations.clear();
        acc.invoice_counter = 0;
        acc.credit_note_counter = 0;
    }
    let target = Target { environment: None, account_id: Some(w.accounts[a].info.id.clone()) };
    let anchor = spec.anchor.unwrap_or_else(|| w.now().date_naive());
    // Data choices come from their own stream, split off the world's id generator.
    let mut rng = Prng::new(w.rng.next_u64());

    let mut products = Vec::new();
    for (k, (name, lo, hi)) in PRODUCTS.iter().enumerate() {
        let p = w.create_product(NewProduct {
            target: target.clone(),
            name: (*name).into(),
            label: None,
            tax_category_id: Some(format!("taxcat-{}", k % 3)),
        })?;
        let created = at(anchor, 420 - i64::try_from(k).unwrap_or(0), 0);
        if let Some(pk) = w.accounts[a].products.last_mut() {
            pk.created_at = created;
            pk.item.created_at = Some(created);
            pk.item.updated_at = Some(created + Duration::days(rng.range(0, 300)));
        }
        products.push((p.id, *lo, *hi));
    }

    let mut customer_ids = Vec::new();
    for i in 0..spec.customers {
        let mut nc = customer(&mut rng, i);
        nc.target = target.clone();
        // Customers join over the 400 days before the anchor, oldest first.
        let days_ago = 400 - i64::from(i) * 380 / i64::from(spec.customers.max(1));
        nc.created_at = Some(at(anchor, days_ago, rng.range(0, 86_399)));
        customer_ids.push(w.create_customer(nc)?.id);
    }
    if customer_ids.is_empty() {
        return Ok(());
    }

    // Invoice dates spread over the year, created in date order.
    // A tenth (at least five) are from the last five days, in rotating draft-to-sent states, so every
    // status exists even in small seeds; the rest spread over the year.
    let recent = if spec.invoices >= 5 { (spec.invoices / 10).max(5) } else { 0 };
    let mut plan: Vec<(i64, i64, Option<InvoiceStatus>)> = (0..spec.invoices)
        .map(|k| {
            if k < recent {
                let cycle = [
                    InvoiceStatus::Draft,
                    InvoiceStatus::InProgress,
                    InvoiceStatus::Final,
                    InvoiceStatus::Draft,
                    InvoiceStatus::Sent,
                ];
                (rng.range(0, 4), rng.range(0, 86_399), Some(cycle[(k % 5) as usize].clone()))
            } else {
                (rng.range(5, 364), rng.range(0, 86_399), None)
            }
        })
        .collect();
    plan.sort_by_key(|p| std::cmp::Reverse((p.0, p.1)));
    let mut sent = Vec::new();
    for (days_ago, secs, fixed) in plan {
        let created_at = at(anchor, days_ago, secs);
        let status = if let Some(s) = fixed {
            s
        } else {
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
        };
        let n_lines = rng.range(1, 4);
        let mut lines = Vec::new();
        for _ in 0..n_lines {
            let (pid, lo, hi) = rng.pick(&products).clone();
            let quantity =
                if rng.chance(15) { Decimal::new(rng.range(5, 200), 1) } else { Decimal::from(rng.range(1, 25)) };
            lines.push(NewLine {
                product_id: Some(pid),
                title: None,
                quantity: Some(quantity),
                rate: rng.price(lo, hi),
            });
        }
        let customer_id = rng.pick(&customer_ids).clone();
        let id = w.create_invoice(NewInvoice {
            target: target.clone(),
            customer_id,
            status: Some(status.clone()),
            lines,
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            ..NewInvoice::default()
        })?;
        let (ai, ii) = w.find_invoice(&id)?;
        let rec = &mut w.accounts[ai].invoices[ii];
        if status == InvoiceStatus::Voided {
            rec.invoice.updated_at = (created_at + Duration::days(rng.range(1, 20))).min(at(anchor, 0, 0));
        } else if status == InvoiceStatus::Sent && days_ago > 30 && rng.chance(85) {
            rec.invoice.payment_status = Some(PaymentStatus::Paid);
            rec.invoice.updated_at = (created_at + Duration::days(rng.range(1, 30))).min(at(anchor, 0, 0));
        }
        if status == InvoiceStatus::Sent {
            sent.push((id, days_ago));
        }
    }

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
        let partial = rng.chance(40);
        let lines = if partial {
            let (ai, ii) = w.find_invoice(&id)?;
            let first = w.accounts[ai].invoices[ii].lines.first().map(|l| l.id.clone());
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
            customer_id: Some(rng.pick(&customer_ids).clone()),
            status: Some(CreditNoteStatus::Sent),
            lines: Some(vec![NewCreditLine {
                title: Some("Goodwill credit".into()),
                rate: Some(rng.price(20, 200)),
                ..NewCreditLine::default()
            }]),
            issue_date: Some(created_at.date_naive()),
            created_at: Some(created_at),
            ..NewCreditNote::default()
        })?;
    }
    Ok(())
}
