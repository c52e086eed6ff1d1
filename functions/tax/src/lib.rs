//! The `tax` function: Sphere's tax calculation API (`POST /tax_api/calculate_tax`,
//! `GET /tax_api/verify`), authenticated by a Sphere API key in `X-API-KEY`.

pub mod auth;
pub mod calculate;
pub mod metrics;
pub mod wire;

use http::{Method, StatusCode};
use shared::app::{App, Store};
use shared::web::{HttpRequest, HttpResponse, json, sphere_error};

/// One API Gateway (HTTP API) event.
pub async fn handle_event<S: Store>(
    app: &App<S>,
    event: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    let resp = match shared::lambda::into_http(event) {
        Err(e) => sphere_error(StatusCode::PAYLOAD_TOO_LARGE, "validation_errors", e.to_string()),
        Ok(req) => handle(app, req).await,
    };
    shared::lambda::into_lambda(resp)
}

/// Routes one tax API request. Every route authenticates first.
pub async fn handle<S: Store>(app: &App<S>, req: HttpRequest) -> HttpResponse {
    let route = match (req.method(), req.uri().path().trim_end_matches('/')) {
        (&Method::GET, "/tax_api/verify") => Route::Verify,
        (&Method::POST, "/tax_api/calculate_tax") => Route::Calculate,
        _ => {
            return sphere_error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no route for {} {}", req.method(), req.uri().path()),
            );
        }
    };
    let key = match auth::authenticate(app, req.headers()).await {
        Ok(k) => k,
        Err(resp) => return resp,
    };
    // Per-key limit in this container, behind the API stage's own throttling: one caller cannot take the
    // endpoint from the others. Sphere's answer: 429 too_many_requests with Retry-After.
    let per_minute = app.config.tax_key_requests_per_minute;
    if let Err(wait) = app.caches.key_limiter(key.key_id.as_str(), per_minute, &app.clock).try_take() {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut resp = sphere_error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("more than {per_minute} requests a minute with this API key; retry after {secs} s"),
        );
        resp.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs.max(1)));
        return resp;
    }
    match route {
        Route::Calculate => calculate::handle(app, &key, req.body()).await,
        Route::Verify => json(
            StatusCode::OK,
            &serde_json::json!({
                "organization_id": key.org_id,
                "livemode": key.mode.is_live(),
                "connection_id": key.connection_id,
            }),
        ),
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
