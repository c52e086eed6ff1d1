//! The rule cases of `../shared/research/economic-nexus.md` §4, over the thresholds we ship (`data/nexus/`) and
//! the ECB rates (`data/fx/`): and/or tests, the 200-transaction test and its removal dates, rolling against
//! calendar periods, credit notes, voids, exempt sales and currency conversion.

use super::counters::{self, MonthCounter};
use super::engine::{self, Exposure, Org, Status};
use super::fx::Rates;
use super::rules::Rules;
use crate::domain::{Currency, Decimal};
use crate::ledger::{
    AddressSource, CustomerSnapshot, CustomerTaxStatus, DocKind, TxnContent, TxnHead, TxnStatus, TxnType,
};
use crate::tax::Registration;
use chrono::NaiveDate;
use proptest::prelude::*;
use std::sync::OnceLock;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn content() -> (&'static Rules, &'static Rates) {
    static C: OnceLock<(Rules, Rates)> = OnceLock::new();
    let c = C.get_or_init(|| (Rules::embedded().unwrap(), Rates::embedded().unwrap()));
    (&c.0, &c.1)
}

/// A ledger transaction: an invoice (or credit note) in `region` on `date` of `net` in `currency`.
#[derive(Clone)]
struct Doc {
    kind: DocKind,
    id: String,
    region: String,
    date: NaiveDate,
    net: Decimal,
    currency: &'static str,
    exempt: bool,
    void: bool,
}

fn invoice(id: usize, region: &str, date: &str, net: &str) -> Doc {
    Doc {
        kind: DocKind::Invoice,
        id: format!("inv-{id}"),
        region: region.to_owned(),
        date: d(date),
        net: dec(net),
        currency: "USD",
        exempt: false,
        void: false,
    }
}

fn credit(id: usize, region: &str, date: &str, net: &str) -> Doc {
    Doc { kind: DocKind::Credit, id: format!("cn-{id}"), ..invoice(id, region, date, net) }
}

impl Doc {
    fn head(&self) -> TxnHead {
        let taxable = if self.exempt { Decimal::ZERO } else { self.net };
        TxnHead {
            txn: TxnContent {
                kind: self.kind,
                source_id: self.id.clone(),
                number: None,
                txn_type: if self.kind == DocKind::Credit { TxnType::Refund } else { TxnType::Sale },
                status: if self.void { TxnStatus::Cancelled } else { TxnStatus::Active },
                source_status: "FINAL".into(),
                currency: Currency::parse(self.currency).unwrap(),
                event_date: self.date,
                issue_date: Some(self.date),
                accounting_date: None,
                customer: CustomerSnapshot {
                    id: "c".into(),
                    name: "C".into(),
                    address: None,
                    address_source: AddressSource::None,
                    tax_status: if self.exempt { CustomerTaxStatus::TaxExempt } else { CustomerTaxStatus::Taxed },
                    tax_status_inferred: false,
                    tax_id: None,
                },
                region: Some(self.region.clone()),
                refunded_invoice_id: None,
                calculation_id: None,
                net_total: self.net,
                tax_total: Decimal::ZERO,
                gross_total: self.net,
                taxable_total: taxable,
                tax_calculated_total: None,
                jurisdictions: Vec::new(),
                lines: Vec::new(),
                source_version: "1".into(),
                source_updated_at: None,
                header_hash: String::new(),
                content_hash: format!("{}{}", self.id, self.net),
            },
            version: 1,
            versions: Vec::new(),
            line_chunks: 0,
            line_count: 0,
        }
    }
}

fn counters_of(docs: &[Doc]) -> Vec<MonthCounter> {
    let heads: Vec<TxnHead> = docs.iter().map(Doc::head).collect();
    counters::recompute(&heads).into_values().collect()
}

fn exposure_with(docs: &[Doc], org: &Org<'_>, jurisdiction: &str, as_of: &str) -> Exposure {
    let (rules, rates) = content();
    engine::evaluate(rules, rates, &counters_of(docs), org, d(as_of), Decimal::from(engine::APPROACHING_PERCENT))
        .into_iter()
        .find(|e| e.jurisdiction == jurisdiction)
        .unwrap_or_else(|| panic!("no row for {jurisdiction}"))
}

fn exposure(docs: &[Doc], jurisdiction: &str, as_of: &str) -> Exposure {
    exposure_with(docs, &Org::default(), jurisdiction, as_of)
}

/// `n` invoices of `each` in `region`, one a day from `from`.
fn daily(region: &str, from: &str, n: usize, each: &str) -> Vec<Doc> {
    (0..n)
        .map(|i| {
            let date = d(from) + chrono::Days::new(i as u64);
            invoice(i, region, &date.to_string(), each)
        })
        .collect()
}

#[test]
fn the_shipped_rules_cover_every_state_with_a_sales_tax_and_the_non_us_regimes() {
    let (rules, _) = content();
    let all: Vec<&str> = rules.jurisdictions().collect();
    let states = "AL AK AZ AR CA CO CT DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO NE NV NJ NM NY NC ND OH \
                  OK PA RI SC SD TN TX UT VT VA WA WV WI WY";
    for s in states.split_whitespace() {
        assert!(all.contains(&format!("US-{s}").as_str()), "US-{s} missing");
    }
    for none in ["US-DE", "US-MT", "US-NH", "US-OR"] {
        assert!(!all.contains(&none), "{none} has no sales tax");
    }
    for j in ["EU", "EU-NONEU", "GB", "CA", "CA-QC", "CA-BC", "CA-SK", "CA-MB", "AU", "NZ", "NO", "CH", "SG"] {
        assert!(all.contains(&j), "{j} missing");
    }
}

#[test]
fn or_count_test_crosses_on_the_200th_invoice() {
    // Georgia: $100,000 or 200 transactions, calendar year. 200 invoices of $10 on consecutive days.
    let docs = daily("US-GA", "2026-01-01", 200, "10");
    let e = exposure(&docs, "US-GA", "2026-11-26");
    assert_eq!(e.status, Status::Exposed);
    assert_eq!(e.crossed_on, Some(d("2026-07-19")), "the 200th day of 2026");
    assert_eq!(e.registration_required_from, e.crossed_on, "Georgia: from the next transaction");
    let e = exposure(&docs[..199], "US-GA", "2026-11-26");
    assert_eq!((e.status, e.crossed_on), (Status::Approaching, None), "199 of 200: 99.5 %");
}

#[test]
fn the_crossing_document_is_the_one_that_met_the_test() {
    let (rules, rates) = content();
    let mut docs = daily("US-WA", "2026-03-01", 3, "40000");
    docs.push(invoice(7, "US-WA", "2026-03-03", "5000"));
    docs.push(invoice(8, "US-OR", "2026-03-03", "90000"));
    let e = exposure(&docs, "US-WA", "2026-11-26");
    assert_eq!(e.crossed_on, Some(d("2026-03-03")));
    let day: Vec<TxnHead> = [&docs[4], &docs[3], &docs[2]].iter().map(|x| x.head()).collect();
    // $80,000 before the day; Oregon's sale is not Washington's, the $5,000 leaves it short, the $40,000 crosses.
    let doc = engine::crossing_document(rules, rates, &e, &day).unwrap();
    assert_eq!(doc.txn.source_id, "inv-2");
}

#[test]
fn and_test_needs_both_amount_and_count() {
    // Connecticut: $100,000 and 200 transactions, 12 months to September 30.
    let big = daily("US-CT", "2025-10-01", 100, "1500");
    let e = exposure(&big, "US-CT", "2026-09-30");
    assert_eq!((e.status, e.crossed_on), (Status::Below, None), "$150,000 but 100 of 200 transactions: 50 %");
    let many = daily("US-CT", "2025-10-01", 250, "600");
    let e = exposure(&many, "US-CT", "2026-10-15");
    assert_eq!(e.crossed_on, Some(d("2026-09-30")), "measured on September 30");
    assert_eq!(e.registration_required_from, Some(d("2026-10-01")));
    // New York: more than $500,000 and more than 100, the four quarters ending February.
    let ny = daily("US-NY", "2025-06-01", 120, "5000");
    let e = exposure(&ny, "US-NY", "2026-03-15");
    assert_eq!(e.crossed_on, Some(d("2025-11-30")), "the quarter ending November: $600,000 in 120 sales");
}

#[test]
fn the_200_transaction_test_ends_on_its_removal_date() {
    // South Dakota dropped it on 2023-07-01: 250 small sales in 2022 crossed on the 200th (July 19, 2022) and
    // count in 2023 (previous calendar year); the same sales from July 2023 do not cross.
    let before = daily("US-SD", "2022-01-01", 250, "10");
    assert_eq!(exposure(&before, "US-SD", "2023-03-01").crossed_on, Some(d("2022-07-19")));
    let after = daily("US-SD", "2023-07-01", 250, "10");
    let e = exposure(&after, "US-SD", "2024-02-01");
    assert_eq!((e.crossed_on, e.status), (None, Status::Below));
    // Utah on 2025-07-01, Illinois on 2026-01-01 (tested at quarter ends).
    assert!(exposure(&daily("US-UT", "2025-01-01", 200, "10"), "US-UT", "2025-12-31").crossed_on.is_none());
    assert_eq!(
        exposure(&daily("US-UT", "2024-01-01", 200, "10"), "US-UT", "2025-12-31").crossed_on,
        Some(d("2024-07-18")),
        "the 200th sale of 2024 (a leap year), under the old rule"
    );
    let il = daily("US-IL", "2025-01-01", 250, "10");
    assert_eq!(exposure(&il, "US-IL", "2025-12-31").crossed_on, Some(d("2025-09-30")), "old rule, quarter end");
    let il_2026 = daily("US-IL", "2026-01-01", 250, "10");
    assert_eq!(exposure(&il_2026, "US-IL", "2026-11-26").crossed_on, None);
}

#[test]
fn rolling_twelve_months_cross_where_a_calendar_year_does_not() {
    // $150,000 a month from November 2025 to February 2026: $300,000 in each calendar year.
    let mut docs = Vec::new();
    for (i, date) in ["2025-11-10", "2025-12-10", "2026-01-10", "2026-02-10"].iter().enumerate() {
        docs.push(invoice(i, "US-TX", date, "150000"));
        docs.push(invoice(i + 10, "US-CA", date, "150000"));
    }
    let tx = exposure(&docs, "US-TX", "2026-03-01");
    assert_eq!(tx.crossed_on, Some(d("2026-02-10")), "Texas: $600,000 in a rolling 12 months");
    assert_eq!(tx.registration_required_from, Some(d("2026-06-01")), "first day of the fourth month");
    let ca = exposure(&docs, "US-CA", "2026-03-01");
    assert_eq!(ca.crossed_on, None, "California: $300,000 in each calendar year");
}

#[test]
fn credit_notes_reduce_sales_but_not_counts_and_voids_count_nothing() {
    // Washington ($100,000, gross). $120,000 invoiced, $30,000 credited: $90,000.
    let mut docs = vec![invoice(1, "US-WA", "2026-02-01", "120000"), credit(2, "US-WA", "2026-03-01", "30000")];
    let e = exposure(&docs, "US-WA", "2026-11-26");
    assert_eq!((e.sales, e.transactions), (dec("90000"), 1));
    // It had crossed on Feb 1, before the credit note: crossing is not undone by a later credit.
    assert_eq!(e.crossed_on, Some(d("2026-02-01")));
    // A voided invoice counts nothing.
    docs[0].void = true;
    let e = exposure(&docs, "US-WA", "2026-11-26");
    assert_eq!((e.transactions, e.crossed_on), (0, None));
    assert_eq!(e.sales, dec("-30000"));
}

#[test]
fn exempt_sales_count_in_gross_states_and_not_in_taxable_ones() {
    let mut a = invoice(1, "US-WA", "2026-02-01", "150000");
    a.exempt = true;
    assert_eq!(exposure(&[a.clone()], "US-WA", "2026-11-26").status, Status::Exposed, "Washington: gross");
    a.region = "US-OK".into();
    let e = exposure(&[a], "US-OK", "2026-11-26");
    assert_eq!((e.status, e.sales), (Status::Below, Decimal::ZERO), "Oklahoma: taxable sales only");
}

#[test]
fn sales_in_other_currencies_convert_at_the_days_ecb_rate() {
    // €90,000 on 2026-03-02 into US dollars: the ECB's USD rate of that day (data/fx).
    let (_, rates) = content();
    let rate = rates.rate("EUR", "USD", d("2026-03-02")).unwrap();
    let mut a = invoice(1, "US-WA", "2026-03-02", "90000");
    a.currency = "EUR";
    let e = exposure(&[a], "US-WA", "2026-11-26");
    assert_eq!(e.sales, (dec("90000") * rate.rate).round_dp(2));
    assert!(e.sales > dec("100000"), "the euro bought more than $1.11 in March 2026: crossed");
    // The EU One-Stop-Shop total: an EU-established seller's B2C sales to every member state, in euros.
    let org = Org { origin_country: Some("DE".into()), ..Org::default() };
    let mut fr = invoice(2, "FR", "2026-05-04", "6000");
    let mut it = invoice(3, "IT", "2026-06-01", "6000");
    fr.currency = "USD";
    it.currency = "EUR";
    let eu = exposure_with(&[fr, it], &org, "EU", "2026-11-26");
    let usd_eur = rates.rate("USD", "EUR", d("2026-05-04")).unwrap().rate;
    assert_eq!(eu.sales, (dec("6000") * usd_eur + dec("6000")).round_dp(2));
    assert_eq!(eu.status, Status::Exposed);
    assert!(eu.physical_presence, "established in Germany");
}

#[test]
fn registered_jurisdictions_and_registration_dates() {
    let docs = daily("US-CO", "2026-01-01", 2, "60000");
    let e = exposure(&docs, "US-CO", "2026-11-26");
    assert_eq!(e.crossed_on, Some(d("2026-01-02")));
    assert_eq!(e.registration_required_from, Some(d("2026-05-01")), "Colorado: first of the month after day 90");
    let reg = [Registration {
        country: "US".into(),
        region: Some("CO".into()),
        effective_from: d("2026-04-01"),
        effective_to: None,
        collect: true,
    }];
    let org = Org { registrations: &reg, ..Org::default() };
    assert_eq!(exposure_with(&docs, &org, "US-CO", "2026-11-26").status, Status::Registered);
    assert_eq!(exposure_with(&docs, &org, "US-CO", "2026-03-01").status, Status::Exposed, "not yet registered");
    // Pennsylvania measures the previous calendar year and starts on April 1.
    let pa = daily("US-PA", "2025-06-01", 2, "60000");
    assert_eq!(exposure(&pa, "US-PA", "2026-01-15").registration_required_from, Some(d("2026-04-01")));
}

proptest! {
    /// Counters kept by applying each change equal a recomputation, whatever the order of changes.
    #[test]
    fn counters_kept_by_changes_equal_a_recomputation(
        changes in proptest::collection::vec((0usize..6, 0usize..4, 1u32..5000, any::<bool>(), any::<bool>()), 1..40)
    ) {
        let regions = ["US-WA", "US-TX", "DE", "CA-QC"];
        let mut current: std::collections::BTreeMap<usize, TxnHead> = std::collections::BTreeMap::new();
        let mut kept: std::collections::BTreeMap<(String, String), MonthCounter> = std::collections::BTreeMap::new();
        for (doc, region, cents, void, credit_note) in changes {
            let mut x = invoice(doc, regions[region], if cents % 2 == 0 { "2026-01-31" } else { "2026-02-01" }, "0");
            x.net = Decimal::new(i64::from(cents), 2);
            x.void = void;
            if credit_note { x.kind = DocKind::Credit; }
            let head = x.head();
            let old = current.get(&doc).and_then(counters::contribution);
            let new = counters::contribution(&head);
            for (k, v) in counters::apply_change(&kept, old.as_ref(), new.as_ref()) {
                if v.is_empty() { kept.remove(&k); } else { kept.insert(k, v); }
            }
            current.insert(doc, head);
        }
        prop_assert_eq!(kept, counters::recompute(current.values()));
    }
}

/// The first day a threshold is met, straight from the documents (no counters, no prefix sums): the oracle the
/// engine is held to.
fn oracle(
    docs: &[Doc],
    as_of: NaiveDate,
    threshold: Decimal,
    window_from: impl Fn(NaiveDate) -> NaiveDate,
) -> Option<NaiveDate> {
    let mut day = d(&format!("{}-01-01", chrono::Datelike::year(&as_of) - 1));
    while day <= as_of {
        let from = window_from(day);
        let total: Decimal = docs
            .iter()
            .filter(|x| !x.void && x.date >= from && x.date <= day)
            .map(|x| if x.kind == DocKind::Credit { -x.net } else { x.net })
            .sum();
        if total >= threshold {
            return Some(day);
        }
        day = day.succ_opt()?;
    }
    None
}

proptest! {
    // Each case scans ~700 days of documents by brute force: 64 cases keep the debug test under a few seconds.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Washington (calendar year, $100,000) and Texas (rolling 12 months, $500,000): the engine's crossing day
    /// equals a brute-force scan of the documents, with credit notes and voids.
    #[test]
    fn crossing_days_equal_a_brute_force_scan(
        docs in proptest::collection::vec((0u64..900, 1_000i64..260_000, 0u8..10), 1..30)
    ) {
        let as_of = d("2026-11-26");
        let mut wa = Vec::new();
        for (i, (days_ago, dollars, kind)) in docs.into_iter().enumerate() {
            let date = (as_of - chrono::Days::new(days_ago)).to_string();
            let mut x = if kind == 0 { credit(i, "US-WA", &date, "0") } else { invoice(i, "US-WA", &date, "0") };
            x.net = Decimal::from(dollars);
            x.void = kind == 1;
            wa.push(x);
        }
        let year_start = |day: NaiveDate| d(&format!("{}-01-01", chrono::Datelike::year(&day)));
        prop_assert_eq!(exposure(&wa, "US-WA", "2026-11-26").crossed_on, oracle(&wa, as_of, dec("100000"), year_start));
        let tx: Vec<Doc> = wa.iter().cloned().map(|mut x| { x.region = "US-TX".into(); x }).collect();
        let rolling = |day: NaiveDate| day.succ_opt().unwrap() - chrono::Months::new(12);
        prop_assert_eq!(exposure(&tx, "US-TX", "2026-11-26").crossed_on, oracle(&tx, as_of, dec("500000"), rolling));
    }
}
