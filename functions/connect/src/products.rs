//! Products synced from Sequence, with the tax code the user assigns (`GET /v1/products`,
//! `PUT /v1/products/{product_id}/tax-code`). The sync keeps an assigned code when it updates a
//! product; the assignment here is a version-checked write, so neither overwrites the other.

use crate::error::{ConnectError, parse_body};
use crate::settings::known_tax_code;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::app::{App, Store};
use shared::ledger::ProductRecord;
use shared::ledger::keys::id_segment;
use shared::org::{Principal, org_pk};
use shared::store::record::{self, Versioned};
use shared::store::{Key, Query};
use shared::web::{HttpResponse, json};

/// Every product of the org with its connection id, from `PRODUCT#{conn}#{id}` items.
async fn all<S: Store>(
    app: &App<S>,
    who: &Principal,
) -> Result<Vec<(Key, String, Versioned<ProductRecord>)>, ConnectError> {
    let mut q = Query::prefix(org_pk(&who.org), "PRODUCT#");
    let mut out = Vec::new();
    loop {
        let page = app.store.query(&q).await?;
        for item in &page.items {
            let conn = item.key.sk.split('#').nth(1).unwrap_or_default().to_owned();
            out.push((item.key.clone(), conn, Versioned { value: record::decode(item)?, version: item.version }));
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => return Ok(out),
        }
    }
}

fn view(conn: &str, p: &ProductRecord) -> Value {
    json!({
        "connection_id": conn,
        "product_id": p.id,
        "name": p.name,
        "sequence_tax_category": p.tax_category_id,
        "tax_code": p.tax_code,
    })
}

pub async fn list<S: Store>(app: &App<S>, who: &Principal) -> Result<HttpResponse, ConnectError> {
    let items: Vec<Value> = all(app, who).await?.iter().map(|(_, c, p)| view(c, &p.value)).collect();
    Ok(json(StatusCode::OK, &json!({ "items": items })))
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
    let segment = id_segment(product_id);
    let matching: Vec<_> =
        all(app, who).await?.into_iter().filter(|(k, _, _)| k.sk.ends_with(&format!("#{segment}"))).collect();
    if matching.is_empty() {
        return Err(ConnectError::NotFound);
    }
    let now = app.now_rfc3339();
    let mut updated = Vec::new();
    for (key, conn, current) in matching {
        let next = ProductRecord { tax_code: b.tax_code.clone(), ..current.value.clone() };
        app.store
            .write(vec![
                record::put(key, &next, current.expect())?,
                shared::audit::entry(
                    who,
                    &now,
                    "product.tax_code",
                    product_id,
                    Some(json!({"tax_code": current.value.tax_code})),
                    Some(json!({"tax_code": next.tax_code})),
                )?,
            ])
            .await?;
        updated.push(view(&conn, &next));
    }
    app.caches.forget_tax_context();
    Ok(json(StatusCode::OK, &json!({ "items": updated })))
}
