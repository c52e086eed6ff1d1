//! Org tax settings: `GET/PUT /v1/settings` (rounding, default product tax code, origin address;
//! partial updates, `null` clears), `GET /v1/registrations`, `PUT/DELETE /v1/registrations/{country}`
//! and `/{country}/{region}`, and the catalogue `GET /v1/tax-codes`.

use crate::error::{ConnectError, parse_body};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::app::{App, Store};
use shared::org::Principal;
use shared::settings::{self, RegistrationRecord};
use shared::store::Expect;
use shared::store::record;
use shared::tax::{Address, Registration, Rounding};
use shared::web::{HttpResponse, json};

pub fn known_tax_code(code: &str) -> bool {
    shared::tax::catalog().iter().any(|c| c.id == code)
}

pub async fn tax_codes() -> Result<HttpResponse, ConnectError> {
    Ok(json(StatusCode::OK, &json!({"items": shared::tax::catalog()})))
}

/// `GET /v1/tax-coverage`: what the tax content covers per US state (the table of `data/README.md`),
/// so the console can say where local taxes are not charged.
pub async fn tax_coverage() -> Result<HttpResponse, ConnectError> {
    let rows = shared::tax::Engine::global()?.us_coverage()?;
    let gaps = rows.iter().filter(|r| r.is_gap()).count();
    Ok(json(StatusCode::OK, &json!({"us": rows, "states_without_local_data": gaps})))
}

pub async fn get<S: Store>(app: &App<S>, who: &Principal) -> Result<HttpResponse, ConnectError> {
    Ok(json(StatusCode::OK, &settings::get_settings(&app.store, &who.org).await?.value))
}

pub async fn put<S: Store>(app: &App<S>, who: &Principal, body: &[u8]) -> Result<HttpResponse, ConnectError> {
    let patch: Map<String, Value> = parse_body(body)?;
    let current = settings::get_settings(&app.store, &who.org).await?;
    let mut next = current.value.clone();
    for (field, value) in patch {
        match field.as_str() {
            "rounding" => {
                next.rounding = serde_json::from_value::<Rounding>(value)
                    .map_err(|_| ConnectError::BadRequest("rounding must be \"line\" or \"document\"".into()))?;
            }
            "default_product_tax_code" => {
                next.default_product_tax_code = match value {
                    Value::Null => None,
                    Value::String(c) if known_tax_code(&c) => Some(c),
                    other => {
                        return Err(ConnectError::BadRequest(format!(
                            "default_product_tax_code {other} is not one of GET /v1/tax-codes"
                        )));
                    }
                }
            }
            "origin_address" => {
                next.origin_address = match value {
                    Value::Null => None,
                    v => Some(address(v)?),
                }
            }
            other => {
                return Err(ConnectError::BadRequest(format!(
                    "unknown field {other:?}; settings are rounding, default_product_tax_code, origin_address"
                )));
            }
        }
    }
    let now = app.now_rfc3339();
    let expect = if current.version == 0 { Expect::Absent } else { current.if_unchanged() };
    app.store
        .write(vec![
            settings::put_settings(&who.org, &next, expect)?,
            shared::audit::entry(
                who,
                &now,
                "settings.update",
                "settings",
                Some(json!(current.value)),
                Some(json!(next)),
            )?,
        ])
        .await?;
    app.caches.forget_tax_context();
    Ok(json(StatusCode::OK, &next))
}

fn address(v: Value) -> Result<Address, ConnectError> {
    let a: Address = serde_json::from_value(v).map_err(|e| ConnectError::BadRequest(format!("origin_address: {e}")))?;
    if a.country.len() != 2 || !a.country.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ConnectError::BadRequest("origin_address.country must be a two-letter ISO 3166 code".into()));
    }
    Ok(Address { country: a.country.to_ascii_uppercase(), ..a })
}

pub async fn list_registrations<S: Store>(app: &App<S>, who: &Principal) -> Result<HttpResponse, ConnectError> {
    let items: Vec<Value> = settings::registrations(&app.store, &who.org).await?.iter().map(view).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items })))
}

fn view(r: &RegistrationRecord) -> Value {
    json!({
        "country": r.registration.country,
        "region": r.registration.region,
        "effective_from": r.registration.effective_from,
        "effective_to": r.registration.effective_to,
        "collect": r.registration.collect,
        "registration_number": r.registration_number,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationBody {
    effective_from: chrono::NaiveDate,
    #[serde(default)]
    effective_to: Option<chrono::NaiveDate>,
    collect: bool,
    #[serde(default)]
    registration_number: Option<String>,
}

/// Validated `(country, region)` from the path: ISO country or `EU` (One-Stop Shop); a region code.
fn place(country: &str, region: Option<&str>) -> Result<(String, Option<String>), ConnectError> {
    let country = country.to_ascii_uppercase();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ConnectError::BadRequest(
            "country must be a two-letter ISO 3166 code (or EU for One-Stop Shop)".into(),
        ));
    }
    let region = region.map(str::to_ascii_uppercase);
    if let Some(r) = &region
        && (r.is_empty() || r.len() > 3 || !r.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return Err(ConnectError::BadRequest("region must be a state or province code such as MN or ON".into()));
    }
    if country == "US" && region.is_none() {
        return Err(ConnectError::BadRequest(
            "US registrations are per state: use /v1/registrations/US/{state}".into(),
        ));
    }
    Ok((country, region))
}

pub async fn put_registration<S: Store>(
    app: &App<S>,
    who: &Principal,
    country: &str,
    region: Option<&str>,
    body: &[u8],
) -> Result<HttpResponse, ConnectError> {
    let (country, region) = place(country, region)?;
    let b: RegistrationBody = parse_body(body)?;
    if b.effective_to.is_some_and(|to| to < b.effective_from) {
        return Err(ConnectError::BadRequest("effective_to is before effective_from".into()));
    }
    if b.registration_number.as_ref().is_some_and(|n| n.len() > 50 || n.chars().any(char::is_control)) {
        return Err(ConnectError::BadRequest("registration_number must be at most 50 printable characters".into()));
    }
    let rec = RegistrationRecord {
        registration: Registration {
            country: country.clone(),
            region: region.clone(),
            effective_from: b.effective_from,
            effective_to: b.effective_to,
            collect: b.collect,
        },
        registration_number: b.registration_number,
    };
    let current = settings::get_registration(&app.store, &who.org, &country, region.as_deref()).await?;
    let now = app.now_rfc3339();
    app.store
        .write(vec![
            settings::put_registration(&who.org, &rec, record::if_unchanged_or_absent(&current))?,
            shared::audit::entry(
                who,
                &now,
                "registration.put",
                &format!("{country}/{}", region.as_deref().unwrap_or("-")),
                current.as_ref().map(|c| view(&c.value)),
                Some(view(&rec)),
            )?,
        ])
        .await?;
    app.caches.forget_tax_context();
    Ok(json(StatusCode::OK, &view(&rec)))
}

pub async fn delete_registration<S: Store>(
    app: &App<S>,
    who: &Principal,
    country: &str,
    region: Option<&str>,
) -> Result<HttpResponse, ConnectError> {
    let (country, region) = place(country, region)?;
    let current = settings::get_registration(&app.store, &who.org, &country, region.as_deref())
        .await?
        .ok_or(ConnectError::NotFound)?;
    let now = app.now_rfc3339();
    app.store
        .write(vec![
            settings::delete_registration(&who.org, &country, region.as_deref(), current.if_unchanged()),
            shared::audit::entry(
                who,
                &now,
                "registration.delete",
                &format!("{country}/{}", region.as_deref().unwrap_or("-")),
                Some(view(&current.value)),
                None,
            )?,
        ])
        .await?;
    app.caches.forget_tax_context();
    Ok(json(StatusCode::OK, &json!({"deleted": true})))
}
