//! The control API under `/_sim/` (no auth: the simulator only binds loopback by default). It drives
//! the same [`SimState`] methods tests call directly: seed, create and mutate documents, finalise and
//! void, issue credit notes, inject faults, and set up the Sphere integration (Part 2).
//!
//! Bodies are JSON (camelCase like Sequence, except the snake_case fault and Sphere bodies); an empty
//! body means defaults. Documents are addressed by `environment` ("sandbox" default | "production")
//! and optional `accountId`. Errors use Sequence's `{"error":{"type","message"}}`.
//!
//! | route | body | effect |
//! |---|---|---|
//! | `GET /_sim/credentials` | | primary accounts' `{sandbox,production}:{client_id,client_secret,account_id}` |
//! | `GET /_sim/stats` | | counters + per-account document counts |
//! | `POST /_sim/accounts` | `{environment, companyName}` | another account (fresh credentials) |
//! | `POST /_sim/seed` | `{environment, customers, invoices, creditNotePct, anchor, hardCases, scaleCreditNotes}` | wipe + seed that account (`scaleCreditNotes: 20000` adds 20,000 credit notes) |
//! | `GET /_sim/hard-cases?environment=` | | ids of the seeded hard cases (see `seed::hard_cases`) |
//! | `POST /_sim/customers` | `{legalName, address{line1,line2,town,state,postcode,country}, taxStatus, taxIdentifier, createdAt, contacts[{name,email,billingPreference,archived}], customProperties{…}, label}` | customer |
//! | `PATCH /_sim/customers/{id}` | `{legalName, address, taxStatus, taxIdentifier, archived, customProperties, contacts}` | mutate customer |
//! | `POST /_sim/products` | `{name, label, taxCategoryId}` | product |
//! | `PATCH /_sim/products/{id}` | `{name, label, taxCategoryId}` | mutate product (bumps `updatedAt`) |
//! | `POST /_sim/invoices` | `{customerId, currency, status, lines[{productId,title,quantity,rate}], issueDate, createdAt, memo}` | invoice (draft → Sphere tax when configured) → `{invoice, tax}` |
//! | `POST /_sim/invoices/bulk` | `{count, status, createdAt, issueDate, customerId}` | many invoices with one identical `createdAt` |
//! | `GET/PATCH /_sim/invoices/{id}` | `{memo, purchaseOrderNumber, reference, customerTaxId, lines}` | read / mutate (bumps `updatedAt`) |
//! | `POST /_sim/invoices/{id}/recalculate` | | re-run Sphere tax on a draft |
//! | `POST /_sim/invoices/{id}/finalise` | `{send}` | DRAFT → FINAL (or SENT) |
//! | `POST /_sim/invoices/{id}/send` | | FINAL/DRAFT → SENT |
//! | `POST /_sim/invoices/{id}/void` | | FINAL/SENT → VOIDED |
//! | `POST /_sim/invoices/{id}/pay` | `{origin, paidAt}` | pay the balance (PAID + payment allocation) |
//! | `DELETE /_sim/invoices/{id}` | | the API stops returning it (404); its credit notes keep its id |
//! | `POST /_sim/credit-notes` | `{invoiceId \| customerId, status, lines[{lineItemId,productId,title,quantity,rate}], issueDate}` | credit note (whole invoice when `lines` omitted) |
//! | `GET /_sim/credit-notes/{id}`, `POST …/finalise {send}`, `POST …/void` | | read / issue / void |
//! | `GET/POST/DELETE /_sim/faults` | `{throttle_next, retry_after_secs, fail_next, fail_status, latency_ms, repeat_page_tokens, expire_page_tokens}` | fault injection |
//! | `GET /_sim/webhooks` | | notification policies of every account and delivery counters |
//! | `POST /_sim/webhooks/faults` | `{drop_next, duplicate_next, reorder, delay_ms, refuse_policies}` | webhook delivery faults |
//! | `PUT /_sim/rate-limit` | `{per_minute: n \| null}` | per-key limit (null disables) |
//! | `POST /_sim/integrations/sphere` | `{base_url, api_key, environment}` | Test credentials, save when valid → `{valid, saved, status, error}` |
//! | `GET/DELETE /_sim/integrations/sphere?environment=` | | status + last `calculate_tax` request / remove |
//! | `POST /_sim/raw-patch` | `{resource, id, set{field: any JSON}, unset[field]}` | serve raw JSON for top-level fields of one document (`resource`: customers, products, invoices, credit-notes, invoice-line-items, credit-note-line-items) |
//! | `GET/DELETE /_sim/raw-patch` | | list / remove every raw patch |

use crate::api::error_response;
use crate::faults::Faults;
use crate::raw::RawPatchRequest;
use crate::seed::SeedSpec;
use crate::state::SimState;
use crate::world::Target;
use crate::{
    BulkInvoices, CustomerPatch, InvoicePatch, NewCreditNote, NewCustomer, NewInvoice, NewProduct, Payment,
    ProductPatch, SimError,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use shared::domain::Environment;

pub fn router(state: SimState) -> Router {
    Router::new()
        .route("/_sim/credentials", get(credentials))
        .route("/_sim/stats", get(stats))
        .route("/_sim/accounts", post(add_account))
        .route("/_sim/seed", post(seed))
        .route("/_sim/hard-cases", get(hard_cases))
        .route("/_sim/raw-patch", get(list_raw_patches).post(raw_patch).delete(clear_raw_patches))
        .route("/_sim/customers", post(create_customer))
        .route("/_sim/customers/{id}", axum::routing::patch(patch_customer))
        .route("/_sim/products", post(create_product))
        .route("/_sim/products/{id}", axum::routing::patch(patch_product))
        .route("/_sim/invoices", post(create_invoice))
        .route("/_sim/invoices/bulk", post(bulk_invoices))
        .route("/_sim/invoices/{id}", get(get_invoice).patch(patch_invoice).delete(delete_invoice))
        .route("/_sim/invoices/{id}/pay", post(pay_invoice))
        .route("/_sim/invoices/{id}/recalculate", post(recalculate))
        .route("/_sim/invoices/{id}/finalise", post(finalise_invoice))
        .route("/_sim/invoices/{id}/send", post(send_invoice))
        .route("/_sim/invoices/{id}/void", post(void_invoice))
        .route("/_sim/credit-notes", post(issue_credit_note))
        .route("/_sim/credit-notes/{id}", get(get_credit_note))
        .route("/_sim/credit-notes/{id}/finalise", post(finalise_credit_note))
        .route("/_sim/credit-notes/{id}/void", post(void_credit_note))
        .route("/_sim/faults", get(get_faults).post(set_faults).delete(clear_faults))
        .route("/_sim/webhooks", get(get_webhooks))
        .route("/_sim/webhooks/faults", post(set_webhook_faults))
        .route("/_sim/rate-limit", put(set_rate_limit))
        .route("/_sim/integrations/sphere", get(get_sphere).post(configure_sphere).delete(delete_sphere))
        .with_state(state)
}

fn ok(v: impl serde::Serialize) -> Response {
    axum::Json(serde_json::to_value(v).unwrap_or(serde_json::Value::Null)).into_response()
}

fn reply<T: serde::Serialize>(r: Result<T, SimError>) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => error_response(&e),
    }
}

/// An empty body means "all defaults".
fn body<T: DeserializeOwned + Default>(b: &Bytes) -> Result<T, SimError> {
    if b.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(b).map_err(|e| SimError::bad_request(format!("invalid body: {e}")))
}

async fn credentials(State(s): State<SimState>) -> Response {
    ok(serde_json::json!({
        "sandbox": s.credentials(Environment::Sandbox),
        "production": s.credentials(Environment::Production),
    }))
}

async fn stats(State(s): State<SimState>) -> Response {
    let accounts: Vec<serde_json::Value> = s.with(|w| {
        w.accounts
            .iter()
            .map(|a| {
                serde_json::json!({
                    "environment": a.environment, "accountId": a.info.id, "clientId": a.credentials.client_id,
                    "customers": a.customers.len(), "products": a.products.len(),
                    "invoices": a.invoices.len(), "creditNotes": a.credit_notes.len(),
                    "sphereConfigured": a.sphere.is_some(), "hardCases": a.hard_cases.is_some(),
                })
            })
            .collect()
    });
    ok(serde_json::json!({ "stats": s.stats(), "accounts": accounts }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AddAccount {
    environment: Option<Environment>,
    company_name: Option<String>,
}

async fn add_account(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<AddAccount>(&b).map(|a| {
        s.add_account(
            a.environment.unwrap_or(Environment::Sandbox),
            a.company_name.as_deref().unwrap_or("Sim Extra Ltd"),
        )
    }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SeedBody {
    environment: Option<Environment>,
    #[serde(flatten)]
    spec: Option<SeedSpec>,
}

async fn seed(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<SeedBody>(&b).and_then(|sb| {
        let env = sb.environment.unwrap_or(Environment::Sandbox);
        s.seed(env, &sb.spec.unwrap_or_default())?;
        Ok(serde_json::json!({ "seeded": env }))
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EnvQuery {
    environment: Option<Environment>,
}

async fn hard_cases(State(s): State<SimState>, Query(q): Query<EnvQuery>) -> Response {
    let env = q.environment.unwrap_or(Environment::Sandbox);
    match s.hard_cases(env) {
        Some(h) => ok(h),
        None => error_response(&SimError::not_found("hard cases in", env.as_str())),
    }
}

async fn raw_patch(State(s): State<SimState>, b: Bytes) -> Response {
    match serde_json::from_slice::<RawPatchRequest>(&b) {
        Ok(req) => reply(s.raw_patch(req)),
        Err(e) => error_response(&SimError::bad_request(format!("invalid body: {e}"))),
    }
}

async fn list_raw_patches(State(s): State<SimState>) -> Response {
    ok(serde_json::json!({ "patched": s.raw_patched() }))
}

async fn clear_raw_patches(State(s): State<SimState>) -> Response {
    s.clear_raw_patches();
    ok(serde_json::json!({ "patched": [] }))
}

async fn create_customer(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<NewCustomer>(&b).and_then(|c| s.create_customer(c)))
}

async fn patch_customer(State(s): State<SimState>, Path(id): Path<String>, b: Bytes) -> Response {
    reply(body::<CustomerPatch>(&b).and_then(|p| s.update_customer(&id, p)))
}

async fn patch_product(State(s): State<SimState>, Path(id): Path<String>, b: Bytes) -> Response {
    reply(body::<ProductPatch>(&b).and_then(|p| s.update_product(&id, p)))
}

async fn create_product(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<NewProduct>(&b).and_then(|p| s.create_product(p)))
}

async fn create_invoice(State(s): State<SimState>, b: Bytes) -> Response {
    let n = match body::<NewInvoice>(&b) {
        Ok(n) => n,
        Err(e) => return error_response(&e),
    };
    match s.create_invoice(n).await {
        Ok((id, tax)) => reply(s.invoice(&id).map(|v| serde_json::json!({ "invoice": v, "tax": tax }))),
        Err(e) => error_response(&e),
    }
}

async fn bulk_invoices(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<BulkInvoices>(&b).and_then(|x| s.bulk_invoices(x)).map(|ids| serde_json::json!({ "ids": ids })))
}

async fn get_invoice(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    reply(s.invoice(&id))
}

async fn patch_invoice(State(s): State<SimState>, Path(id): Path<String>, b: Bytes) -> Response {
    reply(body::<InvoicePatch>(&b).and_then(|p| s.update_invoice(&id, p)).and_then(|()| s.invoice(&id)))
}

async fn delete_invoice(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    reply(s.delete_invoice(&id).map(|()| serde_json::json!({ "deleted": id })))
}

async fn pay_invoice(State(s): State<SimState>, Path(id): Path<String>, b: Bytes) -> Response {
    reply(body::<Payment>(&b).and_then(|p| s.pay_invoice(&id, p)).and_then(|()| s.invoice(&id)))
}

async fn recalculate(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    match s.calculate_tax(&id).await {
        Ok(tax) => reply(s.invoice(&id).map(|v| serde_json::json!({ "invoice": v, "tax": tax }))),
        Err(e) => error_response(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Finalise {
    send: bool,
}

async fn finalise_invoice(State(s): State<SimState>, Path(id): Path<String>, b: Bytes) -> Response {
    reply(body::<Finalise>(&b).and_then(|f| s.finalise_invoice(&id, f.send)).and_then(|()| s.invoice(&id)))
}

async fn send_invoice(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    reply(s.finalise_invoice(&id, true).and_then(|()| s.invoice(&id)))
}

async fn void_invoice(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    reply(s.void_invoice(&id).and_then(|()| s.invoice(&id)))
}

async fn issue_credit_note(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<NewCreditNote>(&b).and_then(|n| s.issue_credit_note(n)).and_then(|id| s.credit_note(&id)))
}

async fn get_credit_note(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    reply(s.credit_note(&id))
}

async fn finalise_credit_note(State(s): State<SimState>, Path(id): Path<String>, b: Bytes) -> Response {
    reply(body::<Finalise>(&b).and_then(|f| s.finalise_credit_note(&id, f.send)).and_then(|()| s.credit_note(&id)))
}

async fn void_credit_note(State(s): State<SimState>, Path(id): Path<String>) -> Response {
    reply(s.void_credit_note(&id).and_then(|()| s.credit_note(&id)))
}

async fn get_webhooks(State(s): State<SimState>) -> Response {
    let policies = s.with(|w| {
        w.accounts
            .iter()
            .map(|a| serde_json::json!({"account_id": a.info.id, "policies": a.policies}))
            .collect::<Vec<_>>()
    });
    ok(serde_json::json!({"accounts": policies, "stats": s.webhook_stats()}))
}

async fn set_webhook_faults(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<crate::webhooks::WebhookFaults>(&b).inspect(|f| s.set_webhook_faults(f.clone())))
}

async fn get_faults(State(s): State<SimState>) -> Response {
    ok(s.faults())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FaultsBody {
    #[serde(flatten)]
    faults: Faults,
    expire_page_tokens: bool,
}

async fn set_faults(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<FaultsBody>(&b).map(|f| {
        if f.expire_page_tokens {
            s.expire_page_tokens();
        }
        s.set_faults(f.faults);
        s.faults()
    }))
}

async fn clear_faults(State(s): State<SimState>) -> Response {
    s.set_faults(Faults::default());
    ok(s.faults())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RateLimitBody {
    per_minute: Option<u32>,
}

async fn set_rate_limit(State(s): State<SimState>, b: Bytes) -> Response {
    reply(body::<RateLimitBody>(&b).map(|r| {
        s.set_rate_limit(r.per_minute);
        serde_json::json!({ "per_minute": r.per_minute })
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SphereBody {
    #[serde(flatten)]
    target: Target,
    base_url: String,
    api_key: String,
}

async fn configure_sphere(State(s): State<SimState>, b: Bytes) -> Response {
    let sb = match body::<SphereBody>(&b) {
        Ok(x) if !x.base_url.is_empty() && !x.api_key.is_empty() => x,
        Ok(_) => return error_response(&SimError::bad_request("base_url and api_key are required")),
        Err(e) => return error_response(&e),
    };
    reply(s.configure_sphere(&sb.target, &sb.base_url, &sb.api_key).await)
}

async fn get_sphere(State(s): State<SimState>, Query(t): Query<Target>) -> Response {
    reply(s.with(|w| {
        let a = w.account_index(&t)?;
        let acc = &w.accounts[a];
        Ok(serde_json::json!({
            "configured": acc.sphere.is_some(),
            "base_url": acc.sphere.as_ref().map(|x| x.base_url.clone()),
            "last_request": acc.last_tax_request,
        }))
    }))
}

async fn delete_sphere(State(s): State<SimState>, Query(t): Query<Target>) -> Response {
    reply(s.remove_sphere(&t).map(|()| serde_json::json!({ "configured": false })))
}
