//! Where a synced customer's exemption applies (`PUT /v1/customers/{customer_id}/exemption`).
//!
//! Sequence only says that a customer is `TAX_EXEMPT`; certificates are issued per state or country, so the user
//! names the jurisdictions here (`{"jurisdictions": ["US-TX", "DE"]}`; `[]` = everywhere, the meaning of every
//! exemption stored before scopes existed). The sync keeps these when it updates the customer
//! (`LedgerRepo::upsert_customer`); the write here is version-checked, so neither overwrites the other.

use crate::error::{ConnectError, parse_body};
use crate::synced;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use shared::app::{App, Store};
use shared::ledger::catalog::Catalog;
use shared::ledger::{CustomerRecord, CustomerTaxStatus};
use shared::org::Principal;
use shared::tax::ExemptScope;
use shared::web::{HttpResponse, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemptionBody {
    jurisdictions: Vec<String>,
}

/// `US-TX` / `DE`: the canonical form of a parsed scope (what the tax endpoint reads back).
fn canonical(s: &ExemptScope) -> String {
    match &s.region {
        Some(r) => format!("{}-{r}", s.country),
        None => s.country.clone(),
    }
}

fn view(conn: &str, c: &CustomerRecord) -> Value {
    json!({
        "connection_id": conn,
        "customer_id": c.id,
        "tax_exempt": c.tax_status == CustomerTaxStatus::TaxExempt,
        "exempt_jurisdictions": c.exempt_jurisdictions,
    })
}

pub async fn set_exemption<S: Store>(
    app: &App<S>,
    who: &Principal,
    customer_id: &str,
    body: &[u8],
) -> Result<HttpResponse, ConnectError> {
    let b: ExemptionBody = parse_body(body)?;
    if b.jurisdictions.len() > 100 {
        return Err(ConnectError::BadRequest("at most 100 jurisdictions".into()));
    }
    let mut scopes = Vec::with_capacity(b.jurisdictions.len());
    for (i, j) in b.jurisdictions.iter().enumerate() {
        let s = ExemptScope::parse(j).map_err(|e| ConnectError::BadRequest(format!("jurisdictions[{i}]: {e}")))?;
        let c = canonical(&s);
        if !scopes.contains(&c) {
            scopes.push(c);
        }
    }
    let updated = synced::update_each(
        app,
        who,
        Catalog::Customers,
        customer_id,
        "customer.exempt_jurisdictions",
        |c: &CustomerRecord| CustomerRecord { exempt_jurisdictions: scopes.clone(), ..c.clone() },
        |c| json!({"exempt_jurisdictions": c.exempt_jurisdictions}),
        view,
    )
    .await?;
    Ok(json(StatusCode::OK, &json!({ "items": updated })))
}
