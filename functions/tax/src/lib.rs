//! The `tax` function: Sphere's tax calculation API (`POST /tax_api/calculate_tax`,
//! `GET /tax_api/verify`), authenticated by a Sphere API key in `X-API-KEY`.

pub mod auth;
pub mod calculate;
pub mod context;
pub mod error;
pub mod metrics;
pub mod state;
pub mod wire;

use error::ApiError;
use http::{Method, StatusCode};
use shared::store::ItemStore;
use shared::web::{HttpRequest, HttpResponse, json};
pub use state::State;

/// One API Gateway (HTTP API) event.
pub async fn handle_event<I: ItemStore>(
    state: &State<I>,
    event: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    let resp = match shared::lambda::into_http(event) {
        Err(e) => ApiError::PayloadTooLarge(e.to_string()).into_response(state.clock.now_ms()),
        Ok(req) => handle(state, req).await,
    };
    shared::lambda::into_lambda(resp)
}

/// One tax API request: routed, authenticated, limited, answered; every failure is mapped to Sphere's codes
/// here, once ([`ApiError::into_response`]).
pub async fn handle<I: ItemStore>(state: &State<I>, req: HttpRequest) -> HttpResponse {
    match route(state, &req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(state.clock.now_ms()),
    }
}

async fn route<I: ItemStore>(state: &State<I>, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let route = match (req.method(), req.uri().path().trim_end_matches('/')) {
        (&Method::GET, "/tax_api/verify") => Route::Verify,
        (&Method::POST, "/tax_api/calculate_tax") => Route::Calculate,
        _ => return Err(ApiError::NoRoute(format!("{} {}", req.method(), req.uri().path()))),
    };
    let key = auth::authenticate(state, req.headers()).await?;
    // Per-key limit in this container, behind the API stage's own throttling: one caller cannot take the
    // endpoint from the others. Sphere's answer: 429 too_many_requests with Retry-After.
    let per_minute = state.config.tax_key_requests_per_minute;
    if let Err(wait) = state.caches.key_limiter(key.key_id.as_str(), per_minute, &state.clock).try_take() {
        let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::TooManyRequests { per_minute, retry_after_secs });
    }
    match route {
        Route::Calculate => calculate::handle(state, &key, req.body()).await,
        Route::Verify => Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "organization_id": key.org_id,
                "livemode": key.mode.is_live(),
                "connection_id": key.connection_id,
            }),
        )),
    }
}

enum Route {
    Calculate,
    Verify,
}

/// AWS actions this function's code calls: key lookups, product/settings reads, calculation records, and the
/// API key pepper read once at cold start (no other secret). `tests/tests/iam_policy.rs` holds template.yaml to
/// exactly this list and to the resources each may touch.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "secretsmanager:GetSecretValue",
];
