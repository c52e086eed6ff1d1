//! `POST /tax_api/calculate_tax` after authentication: read the request, find each product's tax code
//! and the customer's synced tax status, load the org's settings, run the engine, record the
//! calculation, answer in Sphere's shape.

use crate::wire::{self, CalcRequest};
use http::StatusCode;
use shared::api_key::ApiKeyRecord;
use shared::app::{App, Store};
use shared::cache::CustomerExemption;
use shared::calculation::{CalculationAmount, CalculationLine, CalculationRecord};
use shared::domain::{ConnectionId, OrgId};
use shared::ledger::keys::{customer_key, product_key};
use shared::ledger::{CustomerRecord, CustomerTaxStatus, ProductRecord};
use shared::store::record;
use shared::tax::{CalcInput, Engine, Exemption, LineInput, TaxError};
use shared::web::{HttpResponse, json, sphere_error};
use std::collections::BTreeMap;

fn internal() -> HttpResponse {
    sphere_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_server_error",
        "The request could not be completed. Please retry.",
    )
}

fn bad(code: &str, message: impl Into<String>) -> HttpResponse {
    sphere_error(StatusCode::BAD_REQUEST, code, message)
}

pub async fn handle<S: Store>(app: &App<S>, key: &ApiKeyRecord, body: &[u8]) -> HttpResponse {
    let req = match wire::parse(body) {
        Ok(r) => r,
        Err(e) => return bad(e.code, e.message),
    };
    match calculate(app, key, &req, body).await {
        Ok(resp) => resp,
        Err(resp) => resp,
    }
}

async fn calculate<S: Store>(
    app: &App<S>,
    key: &ApiKeyRecord,
    req: &CalcRequest,
    body: &[u8],
) -> Result<HttpResponse, HttpResponse> {
    let store_err = |e: shared::store::StoreError| {
        tracing::error!(error = %e, "tax calculation: store unavailable");
        internal()
    };
    // The org's tax context comes through the container's caches: fresh entries skip the store, and
    // while the store is unreachable the last known values still answer this verified key.
    let now_ms = app.clock.now_ms();
    let ttl = i64::try_from(app.config.key_cache_ttl.as_millis()).unwrap_or(60_000);
    let caches = &app.caches;
    let (settings, default_code) = caches
        .tax_settings
        .get_or_load(key.org_id.clone(), now_ms, ttl, shared::settings::load(&app.store, &key.org_id))
        .await
        .map_err(store_err)?;

    // Each distinct product's tax code: assigned in the console, else the org's default. The products not fresh in
    // the cache are read in one batch (BatchGetItem, 100 keys a call), not one read per product.
    let mut product_ids: Vec<&str> = req.lines.iter().map(|l| l.product_id.as_str()).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let cache_keys: Vec<_> =
        product_ids.iter().map(|p| (key.org_id.clone(), key.connection_id.clone(), (*p).to_owned())).collect();
    let load = |wanted: Vec<(OrgId, ConnectionId, String)>| async move {
        let keys: Vec<_> = wanted.iter().map(|(o, c, p)| product_key(o, c, p)).collect();
        let mut codes = Vec::with_capacity(keys.len());
        for item in app.store.get_many(&keys).await? {
            let product = item.map(|i| record::decode::<ProductRecord>(&i)).transpose()?;
            codes.push(product.and_then(|p| p.tax_code));
        }
        Ok(codes)
    };
    let assigned = caches.product_codes.get_many_or_load(&cache_keys, now_ms, ttl, load).await.map_err(store_err)?;
    let codes: BTreeMap<&str, Option<String>> =
        product_ids.iter().zip(assigned).map(|(p, code)| (*p, code.or_else(|| default_code.clone()))).collect();
    let missing: Vec<&str> = codes.iter().filter(|(_, c)| c.is_none()).map(|(p, _)| *p).collect();
    if !missing.is_empty() {
        return Err(bad(
            "invalid_product_tax_code",
            format!(
                "no product tax code for product(s) {}: assign one under Products in the Sphere console, or set a default product tax code",
                missing.join(", ")
            ),
        ));
    }

    // Whether the customer is exempt: the request's tax_exempt wins, otherwise the synced Sequence customer's
    // status. Where: the request's tax_exempt_jurisdictions, else the customer record's exempt_jurisdictions (so
    // a Texas-only customer stays Texas-only when Sequence sends `tax_exempt: true`), else everywhere (the
    // migration rule, shared/src/tax/exemption.rs).
    let customer: Option<CustomerExemption> = match (&req.customer_id, req.tax_exempt, &req.tax_exempt_jurisdictions) {
        (Some(id), None, _) | (Some(id), Some(true), None) => {
            let k = customer_key(&key.org_id, &key.connection_id, id);
            let load = async {
                Ok(record::get::<CustomerRecord, _>(&app.store, &k).await?.map(|v| CustomerExemption {
                    exempt: v.value.tax_status == CustomerTaxStatus::TaxExempt,
                    jurisdictions: v.value.exempt_jurisdictions,
                }))
            };
            let cache_key = (key.org_id.clone(), key.connection_id.clone(), id.clone());
            caches.customer_exemption.get_or_load(cache_key, now_ms, ttl, load).await.map_err(store_err)?
        }
        _ => None,
    };
    let customer_exempt = customer.as_ref().is_some_and(|c| c.exempt);
    let exempt = req.tax_exempt.unwrap_or(customer_exempt || req.tax_exempt_jurisdictions.is_some());
    let exemption = match (&req.tax_exempt_jurisdictions, &customer) {
        _ if !exempt => Exemption::None,
        (Some(scopes), _) => {
            Exemption::scoped(scopes).map_err(|e| bad("validation_errors", format!("tax_exempt_jurisdictions: {e}")))?
        }
        (None, Some(c)) => Exemption::scoped(&c.jurisdictions).map_err(|e| {
            // Only the console writes these, validated: an unreadable stored scope is our invariant broken, not
            // the caller's mistake. Refuse (500) rather than guess everywhere or nowhere, and say which customer.
            tracing::error!(
                customer_id = req.customer_id.as_deref().unwrap_or_default(),
                error = %e,
                "stored customer exemption scope is not readable"
            );
            internal()
        })?,
        (None, None) => Exemption::Everywhere,
    };

    let engine = Engine::global().map_err(|e| {
        tracing::error!(error = %e, "tax content failed to load");
        internal()
    })?;
    let tax_date = req
        .tax_date
        .unwrap_or_else(|| chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default().date_naive());
    let lines: Vec<LineInput> = req
        .lines
        .iter()
        .map(|l| LineInput {
            id: l.id.clone(),
            amount: l.amount,
            discount: l.discount,
            tax_inclusive: l.tax_inclusive,
            tax_code: codes.get(l.product_id.as_str()).cloned().flatten().unwrap_or_default(),
            ship_to: l.ship_to.clone(),
        })
        .collect();
    let input = CalcInput {
        currency: req.currency,
        tax_date,
        customer_address: req.customer_address.clone(),
        ship_from: req.ship_from.clone(),
        lines,
        exemption,
        buyer_tax_id: req.tax_id.clone(),
        settings: &settings,
    };
    let out = engine.calculate(&input).map_err(|e| match e {
        TaxError::LocationInvalid(m) => bad("customer_tax_location_invalid", m),
        TaxError::UnknownTaxCode(ids) => bad(
            "invalid_product_tax_code",
            format!("unknown product tax code(s) {}; see GET /v1/tax-codes", ids.join(", ")),
        ),
        TaxError::Invalid(m) => bad("validation_errors", m),
        // A registered region without rates for the date is a content gap, not an outage: a documented 422 that
        // names the region (so Sequence and the user can act, and nobody retries forever), counted in a metric.
        TaxError::NoRateData(m) => {
            tracing::warn!(org = %key.org_id, detail = %m, "tax calculation refused: no rate data");
            crate::metrics::emit_no_rate_data(now_ms, key.org_id.as_str(), &m);
            sphere_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "tax_rates_unavailable",
                format!(
                    "{m}. The organisation is registered to collect tax there, so no zero is returned; retrying will not help until the tax content covers it."
                ),
            )
        }
        e @ TaxError::Data(_) => {
            tracing::error!(error = %e, "tax calculation refused rather than answer zero");
            internal()
        }
    })?;

    let id = shared::domain::new_uuid_v7(now_ms);
    let rec = CalculationRecord {
        id: id.clone(),
        org_id: key.org_id.clone(),
        connection_id: key.connection_id.clone(),
        livemode: key.mode.is_live(),
        created_at: app.now_rfc3339(),
        tax_date: tax_date.to_string(),
        invoice_id: req.invoice_id.clone(),
        customer_id: req.customer_id.clone(),
        request_digest: shared::crypto::sha256_hex(body),
        currency: req.currency.as_lower(),
        lines: req
            .lines
            .iter()
            .zip(&out.lines)
            .map(|(l, o)| CalculationLine {
                id: l.id.clone(),
                product_id: l.product_id.clone(),
                amount: l.amount,
                tax: o.tax,
                tax_amounts: o
                    .tax_amounts
                    .iter()
                    .map(|a| CalculationAmount {
                        jurisdiction: a.rate.jurisdiction.clone(),
                        tax_type: a.rate.tax_type.to_owned(),
                        percentage: a.rate.percentage,
                        amount: a.amount,
                    })
                    .collect(),
                reason: o.reason.map(str::to_owned),
            })
            .collect(),
        total_tax: out.lines.iter().map(|l| l.tax).sum(),
        parts: 0,
    };
    // The key is verified and the answer computed: a failed record write must not fail the invoice.
    // It is logged whole (no secrets in it) so reconciliation can replay it. Deferred: the embedded
    // store commits it with the next group instead of holding this answer behind a disk sync.
    let write = match shared::calculation::put(&rec, now_ms / 1000, app.config.calculation_ttl_days) {
        Ok(ops) => app.store.write_deferred(ops).await,
        Err(e) => Err(e),
    };
    if let Err(e) = write {
        tracing::warn!(error = %e, record = %serde_json::to_string(&rec).unwrap_or_default(), "calculation record not stored; kept in this log line for reconciliation");
    }

    let response = wire::Response {
        message: "Tax calculated successfully",
        data: wire::Data {
            lines: out.lines.iter().map(|l| wire::line(l, req.include_taxability_reason)).collect(),
            sphere_tax_calculation_id: id,
            livemode: key.mode.is_live(),
            address_resolution: out.address_resolution.as_str(),
            warnings: out.warnings,
            missing_jurisdiction_types: out.missing_jurisdiction_types,
        },
    };
    Ok(json(StatusCode::OK, &response))
}
