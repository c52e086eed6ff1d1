//! Review errors of issue 15 outside the US: domestic vs cross-border B2B, buyer ids of VAT/GST countries, Japan's
//! per-invoice rounding. Each expected figure states its rule; the rules are cited in `b2b.rs` / `rounding.rs`.

use chrono::NaiveDate;

use super::*;
use crate::domain::Currency;

use super::tests::{country, engine, reg};

fn org(origin: &str, regs: Vec<Registration>) -> OrgTaxSettings {
    OrgTaxSettings { rounding: Rounding::Line, registrations: regs, origin_address: Some(country(origin, None)) }
}

fn line(id: &str, amount: i64) -> LineInput {
    LineInput { id: id.into(), amount, discount: 0, tax_inclusive: false, tax_code: "saas".into(), ship_to: None }
}

fn b2b(s: &OrgTaxSettings, cur: &str, to: Address, id: &str) -> CalcOutput {
    engine()
        .calculate(&CalcInput {
            currency: Currency::parse(cur).unwrap(),
            tax_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            customer_address: to,
            ship_from: None,
            lines: vec![line("1", 10000)],
            exemption: Exemption::None,
            buyer_tax_id: Some(id.into()),
            settings: s,
        })
        .unwrap()
}

/// A Japanese invoice of `lines` to `to` on `date` (a US seller registered in Japan).
fn jpy_invoice(s: &OrgTaxSettings, date: (i32, u32, u32), to: Address, lines: Vec<LineInput>) -> CalcOutput {
    engine()
        .calculate(&CalcInput {
            currency: Currency::parse("jpy").unwrap(),
            tax_date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap(),
            customer_address: to,
            ship_from: None,
            lines,
            exemption: Exemption::None,
            buyer_tax_id: None,
            settings: s,
        })
        .unwrap()
}

#[test]
fn swiss_registered_seller_charges_swiss_vat_to_swiss_business() {
    // MWSTG Art. 45: no acquisition tax on services of a supplier in the Swiss register → 8.1 % of CHF 100.00.
    let foreign_registered = org("US", vec![reg("CH", None)]);
    let o = b2b(&foreign_registered, "chf", country("CH", None), "CHE-123.456.789 MWST");
    assert_eq!((o.lines[0].tax, o.lines[0].reason), (810, None));
    let swiss = org("CH", vec![reg("CH", None)]);
    assert_eq!(b2b(&swiss, "chf", country("CH", None), "CHE123456789").lines[0].tax, 810);
}

#[test]
fn domestic_b2b_is_taxed_in_every_vat_country() {
    // Reverse charge is for cross-border B2B only: an established seller charges its own VAT to a domestic
    // business (EU: Art. 196 needs a supplier not established in the member state; UK s. 8; NO § 3-30).
    for (c, cur, id, want) in [
        ("DE", "eur", "DE123456789", 1900),
        ("FR", "eur", "FR12345678901", 2000),
        ("GB", "gbp", "GB123456789", 2000),
        ("NO", "nok", "NO 123 456 789 MVA", 2500),
        ("CH", "chf", "CHE-123.456.789 MWST", 810),
    ] {
        let s = org(c, vec![reg(c, None)]);
        let o = b2b(&s, cur, country(c, None), id);
        assert_eq!(o.lines[0].tax, want, "{c}: {:?}", o.warnings);
    }
}

#[test]
fn cross_border_b2b_in_eu_uk_no_stays_reverse_charged_even_when_registered() {
    // Establishment, not registration, decides in the EU, the UK and Norway.
    for (c, cur, id) in [("DE", "eur", "DE123456789"), ("GB", "gbp", "GB123456789"), ("NO", "nok", "NO123456789MVA")] {
        let s = org("US", vec![reg(c, None), reg("EU", None)]);
        let o = b2b(&s, cur, country(c, None), id);
        assert_eq!(o.lines[0].reason, Some("reverse_charge"), "{c}: {:?}", o.warnings);
    }
}

#[test]
fn norwegian_vat_numbers_with_prefix_and_mva_suffix() {
    // Organisation number (9 digits, Brønnøysund) + "MVA" (bokføringsforskriften § 5-1-1), written with or without
    // the ISO prefix and spaces.
    let s = org("DE", vec![reg("NO", None)]);
    for id in ["NO 123 456 789 MVA", "NO123456789MVA", "123456789MVA", "no 123456789 mva"] {
        let o = b2b(&s, "nok", country("NO", None), id);
        assert_eq!(o.lines[0].reason, Some("reverse_charge"), "{id}: {:?}", o.warnings);
    }
    for id in ["NO 12345678 MVA", "NO123456789", "SE123456789MVA"] {
        let o = b2b(&s, "nok", country("NO", None), id);
        assert_eq!(o.lines[0].tax, 2500, "{id}");
    }
}

#[test]
fn gst_business_customers_of_a_foreign_supplier_are_not_charged() {
    // AU (ATO), NZ (IRD), SG (IRAS), CA (CRA simplified regime): a non-resident supplier does not charge GST to a
    // registered business customer that gives its number.
    let s = org("US", vec![reg("AU", None), reg("NZ", None), reg("SG", None), reg("CA", None)]);
    for (c, region, cur, id) in [
        ("AU", None, "aud", "51 824 753 556"),
        ("NZ", None, "nzd", "49-091-850"),
        ("SG", None, "sgd", "201234567A"),
        ("CA", Some("ON"), "cad", "123456782RT0001"),
    ] {
        let o = b2b(&s, cur, country(c, region), id);
        assert!(o.lines[0].tax_amounts.is_empty(), "{c}: {:?}", o.lines[0]);
        assert_eq!(o.lines[0].reason, Some("reverse_charge"), "{c}");
    }
    // A malformed or check-digit-failing number is ignored (taxed) with a warning.
    for (c, cur, id, want) in
        [("AU", "aud", "99 999 999 999", 1000), ("NZ", "nzd", "136410133", 1500), ("SG", "sgd", "2012345678", 900)]
    {
        let o = b2b(&s, cur, country(c, None), id);
        assert_eq!(o.lines[0].tax, want, "{c}");
        assert!(o.warnings.iter().any(|w| w.contains("not a valid")), "{c}: {:?}", o.warnings);
    }
    let o = b2b(&s, "cad", country("CA", Some("ON")), "123456782");
    assert_eq!(o.lines[0].tax, 1300, "a bare BN is not a GST/HST registration");
}

#[test]
fn gst_business_rule_needs_a_foreign_supplier() {
    // A supplier established in the country charges its GST to local businesses.
    for (c, region, cur, id, want) in [
        ("AU", None, "aud", "51 824 753 556", 1000),
        ("NZ", None, "nzd", "49-091-850", 1500),
        ("SG", None, "sgd", "201234567A", 900),
        ("CA", Some("ON"), "cad", "123456782RT0001", 1300),
    ] {
        let s = org(c, vec![reg(c, None)]);
        assert_eq!(b2b(&s, cur, country(c, region), id).lines[0].tax, want, "{c}");
    }
}

#[test]
fn canada_business_number_relieves_gst_not_provincial_tax() {
    // Quebec: GST 5 % not charged to a GST/HST registrant; QST 9.975 % keeps Quebec's own rule → 9.98.
    let s = org("US", vec![reg("CA", None), reg("CA", Some("QC"))]);
    let o = b2b(&s, "cad", country("CA", Some("QC")), "123456782 RT 0001");
    let types: Vec<&str> = o.lines[0].tax_amounts.iter().map(|a| a.rate.tax_type).collect();
    assert_eq!(types, vec!["qst"]);
    assert_eq!(o.lines[0].tax, 998);
}

#[test]
fn japan_rounds_once_per_rate_per_invoice() {
    // NTA qualified invoice system: consumption tax is computed once per invoice and rate, fractions rounded once.
    // 3 × ¥105 at 10 %: per line 10.5 → 11 each = ¥33; per invoice 31.5 → ¥32, handed back 11 + 11 + 10.
    let s = org("US", vec![reg("JP", None)]);
    let o = jpy_invoice(&s, (2026, 11, 1), country("JP", None), vec![line("a", 105), line("b", 105), line("c", 105)]);
    let taxes: Vec<i64> = o.lines.iter().map(|l| l.tax).collect();
    assert_eq!(taxes, vec![11, 11, 10]);
    assert_eq!(taxes.iter().sum::<i64>(), 32);
    let mut lines = vec![line("a", 105), line("b", 105), line("c", 105)];
    // Lines shipped to different prefectures are still one invoice and one rate: one rounding.
    lines[1].ship_to = Some(country("JP", Some("Osaka")));
    lines[2].ship_to = Some(country("JP", Some("Kyoto")));
    let run = |d: (i32, u32, u32), lines: Vec<LineInput>| {
        jpy_invoice(&s, d, country("JP", Some("Tokyo")), lines).lines.iter().map(|l| l.tax).sum::<i64>()
    };
    assert_eq!(run((2026, 11, 1), lines.clone()), 32);
    // Before the qualified invoice system (2023-10-01) the org's per-line rule applies: 11 × 3.
    assert_eq!(run((2023, 9, 30), lines), 33);
}

#[test]
fn japan_inclusive_lines_round_per_invoice_and_round_trip() {
    // 3 × ¥116 tax-inclusive at 10 %: exact tax 116 × 10 / 110 = 10.5454… per line → per line 11 × 3 = ¥33; per
    // invoice 31.636… → ¥32 (11 + 11 + 10); each net is the rest of its gross.
    let s = org("US", vec![reg("JP", None)]);
    let mut lines = vec![line("a", 116), line("b", 116), line("c", 116)];
    for l in &mut lines {
        l.tax_inclusive = true;
    }
    let o = jpy_invoice(&s, (2026, 11, 1), country("JP", None), lines);
    let taxes: Vec<i64> = o.lines.iter().map(|l| l.tax).collect();
    assert_eq!(taxes, vec![11, 11, 10]);
    for l in &o.lines {
        assert_eq!(l.tax_amounts[0].taxable_amount + l.tax, 116);
    }
}

#[test]
fn an_exemption_scoped_to_a_state_exempts_only_lines_taxed_there() {
    // A Texas exemption: the line shipped to Houston is exempt; the line shipped to Atlanta pays GA 8.9 %.
    let s = org("US", vec![reg("US", Some("TX")), reg("US", Some("GA"))]);
    let ship = |st: &str, zip: &str, city: &str| Address {
        country: "US".into(),
        state: Some(st.into()),
        postal_code: Some(zip.into()),
        city: Some(city.into()),
        ..Address::default()
    };
    let mut tx = line("tx", 10000);
    tx.tax_code = "physical_goods".into();
    tx.ship_to = Some(ship("TX", "77002", "Houston"));
    let mut ga = line("ga", 10000);
    ga.tax_code = "physical_goods".into();
    ga.ship_to = Some(ship("GA", "30303", "Atlanta"));
    let o = engine()
        .calculate(&CalcInput {
            currency: Currency::parse("usd").unwrap(),
            tax_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            customer_address: ship("TX", "77002", "Houston"),
            ship_from: None,
            lines: vec![tx, ga],
            exemption: Exemption::scoped(&["US-TX"]).unwrap(),
            buyer_tax_id: None,
            settings: &s,
        })
        .unwrap();
    assert_eq!((o.lines[0].tax, o.lines[0].reason), (0, Some("customer_exempt")));
    assert_eq!(o.lines[1].tax, 890);
}
