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

/// AWS actions this function's code calls: key lookups, product/settings reads, calculation records.
/// No secrets. `tests/tests/iam_policy.rs` holds template.yaml to exactly this list.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"];
