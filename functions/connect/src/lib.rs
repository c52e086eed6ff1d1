//! The `connect` function: the console API (Sequence connections, Sphere API keys, org tax settings).
//! The caller's org comes from authentication (JWT claims in Lambda, the bearer token locally),
//! resolved before this handler runs and passed in as a [`Principal`].

use http::{Method, StatusCode};
use shared::app::{App, Store};
use shared::org::{self, OrgError, Principal};
use shared::web::{HttpRequest, HttpResponse, console_error, json};

/// Routes one console request.
pub async fn handle<S: Store>(app: &App<S>, principal: Principal, req: HttpRequest) -> HttpResponse {
    let org = match org::ensure(&app.store, &principal.org, principal.mode, &app.now_rfc3339()).await {
        Ok(o) => o,
        Err(OrgError::ModeMismatch { .. }) => {
            return console_error(
                StatusCode::FORBIDDEN,
                "mode_mismatch",
                "this organization's mode does not match the credentials used",
            );
        }
        Err(OrgError::Store(e)) => {
            tracing::error!(error = %e, "store unavailable");
            return console_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "temporarily unavailable, retry shortly",
            );
        }
    };
    let segments: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["v1", "organization"]) => json(StatusCode::OK, &org),
        _ => console_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route for {} {}", req.method(), req.uri().path()),
        ),
    }
}
