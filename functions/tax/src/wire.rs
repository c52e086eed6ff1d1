//! The wire contract of `POST /tax_api/calculate_tax`: Sphere's newest documented request and response
//! shapes, plus our optional extensions (`tax_date`, `invoice_id`; `livemode`, `address_resolution`,
//! `warnings` in the response). The request is read from a JSON value field by field, so every
//! rejection names the field (`line_items[2].amount must be …`); unknown fields are ignored.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use shared::domain::Currency;
use shared::tax::{self, Address, LineInput};

/// Longest accepted text field. The amount and line limits are the engine's ([`tax::check_lines`]).
const MAX_TEXT: usize = 200;

/// One request line: the Sequence product it sells and the engine's line (its `tax_code` is filled in from the
/// product when the tax context is loaded).
#[derive(Debug, Clone, PartialEq)]
pub struct WireLine {
    pub product_id: String,
    pub input: LineInput,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CalcRequest {
    pub currency: Currency,
    pub lines: Vec<WireLine>,
    pub customer_address: Address,
    pub customer_id: Option<String>,
    pub tax_id: Option<String>,
    pub tax_exempt: Option<bool>,
    /// Extension: where `tax_exempt` applies (`["US-TX", "DE"]`); absent = everywhere, as in Sphere's contract.
    pub tax_exempt_jurisdictions: Option<Vec<String>>,
    pub include_taxability_reason: bool,
    pub ship_from: Option<Address>,
    pub tax_date: Option<NaiveDate>,
    pub invoice_id: Option<String>,
}

/// A request we refuse: Sphere's error code and a message naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub code: &'static str,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> WireError {
    WireError { code: "validation_errors", message: message.into() }
}

fn text(obj: &Map<String, Value>, field: &str, path: &str, max: usize) -> Result<Option<String>, WireError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.chars().count() > max {
                Err(invalid(format!("{path}{field} is longer than {max} characters")))
            } else if s.chars().any(char::is_control) {
                Err(invalid(format!("{path}{field} contains control characters")))
            } else if s.is_empty() {
                Ok(None)
            } else {
                Ok(Some(s.to_owned()))
            }
        }
        Some(_) => Err(invalid(format!("{path}{field} must be a string"))),
    }
}

fn flag(obj: &Map<String, Value>, field: &str, path: &str) -> Result<Option<bool>, WireError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(format!("{path}{field} must be true or false"))),
    }
}

fn integer(obj: &Map<String, Value>, field: &str, path: &str) -> Result<Option<i64>, WireError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) => Ok(Some(v)),
            None if n.is_u64() => {
                Err(invalid(format!("{path}{field} must be within ±{} minor units", tax::MAX_AMOUNT)))
            }
            None => {
                Err(invalid(format!("{path}{field} must be an integer number of minor units (e.g. 1000 = 10.00 USD)")))
            }
        },
        Some(_) => Err(invalid(format!("{path}{field} must be an integer number of minor units"))),
    }
}

fn address(v: Option<&Value>, path: &str) -> Result<Option<Address>, WireError> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(invalid(format!("{path} must be an object"))),
    };
    let p = format!("{path}.");
    let country = text(obj, "country", &p, 2)?
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()))
        .ok_or_else(|| invalid(format!("{path}.country must be a two-letter ISO 3166 code")))?;
    Ok(Some(Address {
        line1: text(obj, "address1", &p, MAX_TEXT)?,
        line2: text(obj, "address2", &p, MAX_TEXT)?,
        city: text(obj, "city", &p, MAX_TEXT)?,
        state: text(obj, "state", &p, MAX_TEXT)?,
        postal_code: text(obj, "postal_code", &p, 20)?,
        country: country.to_ascii_uppercase(),
    }))
}

/// `tax_exempt_jurisdictions`: an array of `CC` / `CC-REGION` strings, each checked by the engine's parser so a
/// bad scope is refused here with its index rather than ignored.
fn scopes(obj: &Map<String, Value>) -> Result<Option<Vec<String>>, WireError> {
    const F: &str = "tax_exempt_jurisdictions";
    let items = match obj.get(F) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) if a.len() <= 100 => a,
        Some(Value::Array(_)) => return Err(invalid(format!("{F} has more than 100 entries"))),
        Some(_) => return Err(invalid(format!("{F} must be an array of strings such as \"US-TX\" or \"DE\""))),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, v) in items.iter().enumerate() {
        let Value::String(s) = v else { return Err(invalid(format!("{F}[{i}] must be a string"))) };
        if s.chars().count() > 60 {
            return Err(invalid(format!("{F}[{i}] is longer than 60 characters")));
        }
        tax::ExemptScope::parse(s).map_err(|e| invalid(format!("{F}[{i}]: {e}")))?;
        out.push(s.trim().to_owned());
    }
    Ok(Some(out))
}

/// Reads and validates a request body.
pub fn parse(body: &[u8]) -> Result<CalcRequest, WireError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(
            "the request body is empty; send a JSON object with currency, line_items and customer_address",
        ));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("the request body is not valid JSON: {e}")))?;
    let Value::Object(obj) = value else { return Err(invalid("the request body must be a JSON object")) };

    if flag(&obj, "pull_customer_address", "")? == Some(true) {
        return Err(WireError {
            code: "unsupported_feature",
            message: "pull_customer_address is not supported for Sequence connections; send customer_address".into(),
        });
    }
    let currency = match obj.get("currency") {
        Some(Value::String(c)) => Currency::parse(c).map_err(|e| invalid(format!("currency: {e}")))?,
        None | Some(Value::Null) => return Err(invalid("currency is required (ISO 4217, e.g. \"usd\")")),
        Some(_) => return Err(invalid("currency must be a string")),
    };
    let customer_address = address(obj.get("customer_address"), "customer_address")?
        .ok_or_else(|| invalid("customer_address is required"))?;
    let items = match obj.get("line_items") {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => return Err(invalid("line_items is required")),
        Some(_) => return Err(invalid("line_items must be an array")),
    };
    if items.len() > tax::MAX_LINES {
        // Before reading each line (the body limit bounds the array; this bounds the work).
        return Err(invalid(format!(
            "line_items has {} lines; at most {} are allowed per request",
            items.len(),
            tax::MAX_LINES
        )));
    }
    let mut lines = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("line_items[{i}].");
        let Value::Object(l) = item else { return Err(invalid(format!("line_items[{i}] must be an object"))) };
        let product_id =
            text(l, "product_id", &path, MAX_TEXT)?.ok_or_else(|| invalid(format!("{path}product_id is required")))?;
        let amount = integer(l, "amount", &path)?.ok_or_else(|| invalid(format!("{path}amount is required")))?;
        let discount = integer(l, "discount_amount", &path)?.unwrap_or(0);
        let id = text(l, "id", &path, MAX_TEXT)?.unwrap_or_else(|| product_id.clone());
        if !seen.insert(id.clone()) {
            return Err(invalid(format!("{path}id {id:?} is used by an earlier line; line ids must be unique")));
        }
        lines.push(WireLine {
            product_id,
            input: LineInput {
                id,
                amount,
                discount,
                tax_inclusive: flag(l, "tax_inclusive", &path)?.unwrap_or(false),
                tax_code: String::new(),
                ship_to: address(l.get("ship_to"), &format!("{path}ship_to"))?,
            },
        });
    }
    tax::check_lines(lines.iter().map(|l| &l.input)).map_err(|e| match e {
        tax::TaxError::Invalid(m) => invalid(m),
        other => invalid(other.to_string()),
    })?;
    let tax_date = match text(&obj, "tax_date", "", 10)? {
        None => None,
        Some(d) => Some(
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .ok()
                .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
                .ok_or_else(|| invalid("tax_date must be a date YYYY-MM-DD between 2000 and 2100"))?,
        ),
    };
    Ok(CalcRequest {
        currency,
        lines,
        customer_address,
        customer_id: text(&obj, "customer_id", "", 100)?,
        tax_id: text(&obj, "tax_id", "", 50)?,
        tax_exempt: flag(&obj, "tax_exempt", "")?,
        tax_exempt_jurisdictions: scopes(&obj)?,
        include_taxability_reason: flag(&obj, "include_taxability_reason", "")?.unwrap_or(false),
        ship_from: address(obj.get("ship_from"), "ship_from")?,
        tax_date,
        invoice_id: text(&obj, "invoice_id", "", 100)?,
    })
}

#[derive(Serialize)]
pub struct Response {
    pub message: &'static str,
    pub data: Data,
}

#[derive(Serialize)]
pub struct Data {
    pub lines: Vec<Line>,
    pub sphere_tax_calculation_id: String,
    pub livemode: bool,
    pub address_resolution: &'static str,
    pub warnings: Vec<String>,
    /// Kinds of jurisdiction (`local`, `city`, `special_district`) that may tax the address but are not in our
    /// data: the machine-readable side of `warnings`. Empty when the data is complete for the address.
    pub missing_jurisdiction_types: Vec<&'static str>,
}

#[derive(Serialize)]
pub struct Line {
    pub id: String,
    pub tax_amounts: Vec<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxability_reason: Option<String>,
}

#[derive(Serialize)]
pub struct Amount {
    pub amount: i64,
    pub taxable_amount: i64,
    pub tax_rate: Rate,
}

#[derive(Serialize)]
pub struct Rate {
    /// A JSON number written from the decimal's own digits (`6.875`, `20.0`), never through a float.
    pub percentage: Box<RawValue>,
    pub inclusive: bool,
    pub display_name: String,
    pub jurisdiction: String,
    pub country: String,
    pub state: Option<String>,
    pub tax_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxability_reason: Option<String>,
}

/// `6.875` → `6.875`, `6` → `6.0` (Sphere shows whole percentages with one decimal).
pub fn percentage(p: rust_decimal::Decimal) -> Box<RawValue> {
    let n = p.normalize();
    let s = if n.scale() == 0 { format!("{n}.0") } else { n.to_string() };
    RawValue::from_string(s).unwrap_or_else(|_| RawValue::from_string("0.0".into()).unwrap_or_default())
}

/// Maps one engine result line to the wire.
pub fn line(out: &tax::LineOutput, with_reason: bool) -> Line {
    Line {
        id: out.id.clone(),
        taxability_reason: if with_reason && out.tax_amounts.is_empty() { out.reason.map(str::to_owned) } else { None },
        tax_amounts: out
            .tax_amounts
            .iter()
            .map(|a| Amount {
                amount: a.amount,
                taxable_amount: a.taxable_amount,
                tax_rate: Rate {
                    percentage: percentage(a.rate.percentage),
                    inclusive: a.rate.inclusive,
                    display_name: a.rate.display_name.clone(),
                    jurisdiction: a.rate.jurisdiction.clone(),
                    country: a.rate.country.clone(),
                    state: a.rate.state.clone(),
                    tax_type: a.rate.tax_type.to_owned(),
                    taxability_reason: if with_reason { a.rate.taxability_reason.map(str::to_owned) } else { None },
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> String {
        parse(body.as_bytes()).unwrap_err().message
    }

    const OK: &str = r#"{"currency":"USD","customer_address":{"country":"us","state":"MN","postal_code":"55401"},
        "line_items":[{"product_id":"p1","amount":10000},{"id":"l2","product_id":"p1","amount":-500}],"extra":1}"#;

    #[test]
    fn parses_the_documented_shape_and_ignores_unknown_fields() {
        let r = parse(OK.as_bytes()).unwrap();
        assert_eq!(r.currency.code(), "USD");
        assert_eq!(r.lines[0].input.id, "p1", "id defaults to product_id");
        assert_eq!(r.lines[1].input.amount, -500);
        assert_eq!(r.customer_address.country, "US");
    }

    #[test]
    fn every_rejection_names_its_field() {
        for (body, needle) in [
            ("", "empty"),
            ("[1]", "JSON object"),
            ("{", "not valid JSON"),
            (r#"{"line_items":[],"customer_address":{"country":"US"}}"#, "currency is required"),
            (r#"{"currency":"zzz","line_items":[],"customer_address":{"country":"US"}}"#, "unknown currency"),
            (r#"{"currency":"usd","line_items":[],"customer_address":{"country":"US"}}"#, "at least one line"),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":1.5}],"customer_address":{"country":"US"}}"#,
                "line_items[0].amount must be an integer",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":"100"}],"customer_address":{"country":"US"}}"#,
                "line_items[0].amount",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":100000000001}],"customer_address":{"country":"US"}}"#,
                "within",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":1e30}],"customer_address":{"country":"US"}}"#,
                "amount",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":100,"discount_amount":-1}],"customer_address":{"country":"US"}}"#,
                "negative",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":100,"discount_amount":101}],"customer_address":{"country":"US"}}"#,
                "larger than amount",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":-100,"discount_amount":1}],"customer_address":{"country":"US"}}"#,
                "adjustment",
            ),
            (
                r#"{"currency":"usd","line_items":[{"id":"a","product_id":"p","amount":1},{"id":"a","product_id":"p","amount":1}],"customer_address":{"country":"US"}}"#,
                "unique",
            ),
            (
                r#"{"currency":"usd","line_items":[{"amount":1}],"customer_address":{"country":"US"}}"#,
                "product_id is required",
            ),
            (r#"{"currency":"usd","line_items":[{"product_id":"p","amount":1}]}"#, "customer_address is required"),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":1}],"customer_address":{"country":"USA"}}"#,
                "customer_address.country",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":1}],"customer_address":{"country":"US"},"tax_date":"2026-13-01"}"#,
                "tax_date",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":1}],"customer_address":{"country":"US","city":"a\u0000b"}}"#,
                "control",
            ),
            (
                r#"{"currency":"usd","line_items":[{"product_id":"p","amount":1}],"customer_address":{"country":"US"},"tax_exempt":"yes"}"#,
                "tax_exempt",
            ),
        ] {
            let m = err(body);
            assert!(m.contains(needle), "{body}: {m}");
        }
        let many = format!(
            r#"{{"currency":"usd","customer_address":{{"country":"US"}},"line_items":[{}]}}"#,
            vec![r#"{"product_id":"p","amount":1}"#; 1001].join(",")
        );
        assert!(err(&many).contains("at most 1000"));
    }

    #[test]
    fn pull_customer_address_is_an_unsupported_feature() {
        let e = parse(br#"{"currency":"usd","pull_customer_address":true,"customer_id":"c","line_items":[{"product_id":"p","amount":1}]}"#).unwrap_err();
        assert_eq!(e.code, "unsupported_feature");
    }

    #[test]
    fn percentages_keep_their_digits() {
        use std::str::FromStr;
        for (d, s) in [("6", "6.0"), ("6.875", "6.875"), ("20.000", "20.0"), ("0.5", "0.5"), ("9.975", "9.975")] {
            assert_eq!(percentage(rust_decimal::Decimal::from_str(d).unwrap()).get(), s);
        }
    }
}
