//! Shared by the US content tests (`us_accuracy`, `us_top100`): a one-line request for a US address, from an org
//! registered in the address's state, and the combined rate it is charged.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use shared::domain::Currency;
use shared::tax::{Address, CalcInput, Exemption, LineInput, OrgTaxSettings, Registration};

/// $1,000,000.00: every published rate (at most 4 decimals of a percent) gives an exact amount.
pub const AMOUNT: i64 = 100_000_000;

/// Settings of an org registered (and collecting) in `state` since forever.
pub fn registered_in(state: &str) -> OrgTaxSettings {
    OrgTaxSettings {
        registrations: vec![Registration {
            country: "US".into(),
            region: Some(state.into()),
            effective_from: NaiveDate::MIN,
            effective_to: None,
            collect: true,
        }],
        ..OrgTaxSettings::default()
    }
}

/// One physical-goods line of [`AMOUNT`] shipped to `city`, `state` `zip` (either may be empty) on `date`.
pub fn request<'a>(settings: &'a OrgTaxSettings, state: &str, city: &str, zip: &str, date: NaiveDate) -> CalcInput<'a> {
    let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    CalcInput {
        currency: Currency::parse("usd").expect("usd"),
        tax_date: date,
        customer_address: Address {
            country: "US".into(),
            state: Some(state.into()),
            city: some(city),
            postal_code: some(zip),
            ..Address::default()
        },
        ship_from: None,
        lines: vec![LineInput {
            id: "1".into(),
            amount: AMOUNT,
            discount: 0,
            tax_inclusive: false,
            tax_code: "physical_goods".into(),
            ship_to: None,
        }],
        exemption: Exemption::None,
        buyer_tax_id: None,
        settings,
    }
}

/// A tax amount on [`AMOUNT`] as a percentage.
pub fn percent(tax: i64) -> Decimal {
    (Decimal::from(tax) * Decimal::ONE_HUNDRED / Decimal::from(AMOUNT)).normalize()
}
