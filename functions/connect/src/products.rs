//! Products synced from Sequence, with the tax code the user assigns (`GET /v1/products`,
//! `PUT /v1/products/{product_id}/tax-code`). The sync keeps an assigned code when it updates a
//! product; the assignment here is a version-checked write, so neither overwrites the other.

use crate::error::{ConnectError, parse_body};
use crate::settings::known_tax_code;
use crate::synced;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::app::{App, Store};
use shared::ledger::ProductRecord;
use shared::ledger::catalog::{self, Catalog};
use shared::org::Principal;
use shared::web::{HttpResponse, json};

fn view(conn: &str, p: &ProductRecord) -> Value {
    json!({
        "connection_id": conn,
        "product_id": p.id,
        "name": p.name,
        "sequence_tax_category": p.tax_category_id,
        "tax_code": p.tax_code,
    })
}

/// `GET /v1/products`: a page at a time (`limit` 1–100, default 50; `after`, the previous page's `next`).
pub async fn list<S: Store>(
    app: &App<S>,
    who: &Principal,
    q: &std::collections::HashMap<String, String>,
) -> Result<HttpResponse, ConnectError> {
    let (limit, after) = crate::paging::params(q, |c| Catalog::Products.is_cursor(c))?;
    let (page, next) = catalog::page::<ProductRecord, _>(&app.store, &who.org, Catalog::Products, after, limit).await?;
    let items: Vec<Value> = page.iter().map(|p| view(&p.connection, &p.record.value)).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items, "next": crate::paging::next(next) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxCodeBody {
    tax_code: Option<String>,
}

pub async fn set_tax_code<S: Store>(
    app: &App<S>,
    who: &Principal,
    product_id: &str,
    body: &[u8],
) -> Result<HttpResponse, ConnectError> {
    let b: TaxCodeBody = parse_body(body)?;
    if let Some(c) = &b.tax_code
        && !known_tax_code(c)
    {
        return Err(ConnectError::BadRequest(format!("tax_code {c:?} is not one of GET /v1/tax-codes")));
    }
    let updated = synced::update_each(
        app,
        who,
        Catalog::Products,
        product_id,
        "product.tax_code",
        |p: &ProductRecord| ProductRecord { tax_code: b.tax_code.clone(), ..p.clone() },
        |p| json!({"tax_code": p.tax_code}),
        view,
    )
    .await?;
    Ok(json(StatusCode::OK, &json!({ "items": updated })))
}
