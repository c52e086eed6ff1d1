//! The tax context of one request: what the engine needs from the org besides the request itself — its
//! settings and registrations, each product's tax code and the customer's exemption — read through this
//! container's caches (a fresh entry skips the store; while the store is unreachable, the last known values still
//! answer for a verified key; nothing never seen is guessed).

use crate::error::ApiError;
use crate::state::State;
use crate::wire::CalcRequest;
use shared::api_key::ApiKeyRecord;
use shared::ledger::catalog::{self, CustomerExemption};
use shared::store::ItemStore;
use shared::tax::{Exemption, OrgTaxSettings};
use std::collections::BTreeMap;

pub struct TaxContext {
    pub settings: OrgTaxSettings,
    /// Product id → its tax code: assigned in the console, else the org's default.
    pub tax_codes: BTreeMap<String, String>,
    pub exemption: Exemption,
}

/// Loads the context of `req` for the org and connection of `key`, as of `now_ms` (the cache's clock).
pub async fn load<I: ItemStore>(
    state: &State<I>,
    key: &ApiKeyRecord,
    req: &CalcRequest,
    now_ms: i64,
) -> Result<TaxContext, ApiError> {
    let ttl = state.cache_ttl_ms();
    let caches = &state.caches;
    let (settings, default_code) = caches
        .tax_settings
        .get_or_load(key.org_id.clone(), now_ms, ttl, shared::settings::load(&state.store, &key.org_id))
        .await?;

    // The products not fresh in the cache are read in one batch (BatchGetItem, 100 keys a call).
    let mut product_ids: Vec<&str> = req.lines.iter().map(|l| l.product_id.as_str()).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let cache_keys: Vec<_> =
        product_ids.iter().map(|p| (key.org_id.clone(), key.connection_id.clone(), (*p).to_owned())).collect();
    let load = |wanted: Vec<_>| async move {
        let ids: Vec<&str> = wanted.iter().map(|(_, _, p): &(_, _, String)| p.as_str()).collect();
        catalog::product_tax_codes(&state.store, &key.org_id, &key.connection_id, &ids).await
    };
    let assigned = caches.product_codes.get_many_or_load(&cache_keys, now_ms, ttl, load).await?;
    let mut tax_codes = BTreeMap::new();
    let mut missing = Vec::new();
    for (product, code) in product_ids.iter().zip(assigned) {
        match code.or_else(|| default_code.clone()) {
            Some(c) => {
                tax_codes.insert((*product).to_owned(), c);
            }
            None => missing.push((*product).to_owned()),
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::NoProductTaxCode(missing));
    }

    let customer = match (&req.customer_id, req.tax_exempt, &req.tax_exempt_jurisdictions) {
        (Some(id), None, _) | (Some(id), Some(true), None) => {
            let load = catalog::customer_exemption(&state.store, &key.org_id, &key.connection_id, id);
            let cache_key = (key.org_id.clone(), key.connection_id.clone(), id.clone());
            caches.customer_exemption.get_or_load(cache_key, now_ms, ttl, load).await?
        }
        _ => None,
    };
    Ok(TaxContext { settings, tax_codes, exemption: exemption(req, customer.as_ref())? })
}

/// Whether the customer is exempt: the request's `tax_exempt` wins, otherwise the synced Sequence customer's
/// status. Where: the request's `tax_exempt_jurisdictions`, else the customer record's (so a Texas-only customer
/// stays Texas-only when Sequence sends `tax_exempt: true`), else everywhere (the migration rule,
/// shared/src/tax/exemption.rs).
fn exemption(req: &CalcRequest, customer: Option<&CustomerExemption>) -> Result<Exemption, ApiError> {
    let customer_exempt = customer.is_some_and(|c| c.exempt);
    let exempt = req.tax_exempt.unwrap_or(customer_exempt || req.tax_exempt_jurisdictions.is_some());
    match (&req.tax_exempt_jurisdictions, customer) {
        _ if !exempt => Ok(Exemption::None),
        (Some(scopes), _) => Exemption::scoped(scopes).map_err(|e| ApiError::Request {
            code: "validation_errors",
            message: format!("tax_exempt_jurisdictions: {e}"),
        }),
        // Only the console writes these, validated: an unreadable one is our invariant broken.
        (None, Some(c)) => Exemption::scoped(&c.jurisdictions).map_err(|e| ApiError::StoredScope {
            customer: req.customer_id.clone().unwrap_or_default(),
            reason: e.to_string(),
        }),
        (None, None) => Ok(Exemption::Everywhere),
    }
}
