//! The `tax` function: Sphere's tax calculation API (`POST /tax_api/calculate_tax`,
//! `GET /tax_api/verify`), authenticated by a Sphere API key in `X-API-KEY`.

use http::StatusCode;
use shared::app::{App, Store};
use shared::web::{HttpRequest, HttpResponse, sphere_error};

/// Routes one tax API request.
pub async fn handle<S: Store>(_app: &App<S>, req: HttpRequest) -> HttpResponse {
    sphere_error(StatusCode::NOT_FOUND, "not_found", format!("no route for {} {}", req.method(), req.uri().path()))
}
