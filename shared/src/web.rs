//! HTTP plumbing shared by the handlers: JSON responses, the two error envelopes (console
//! `{"error":{"code","message"}}` and Sphere's tax API `{"type":"api_error","code","message"}`), and
//! request body limits. Handlers take `http::Request<Bytes>` so Lambda and the local server call them
//! the same way.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde::Serialize;

pub type HttpRequest = http::Request<Bytes>;
pub type HttpResponse = Response<Bytes>;

/// Largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => with_json_type(Response::new(Bytes::from(body)), status),
        Err(_) => with_json_type(
            Response::new(Bytes::from_static(br#"{"error":{"code":"internal_error","message":"internal error"}}"#)),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

fn with_json_type(mut r: HttpResponse, status: StatusCode) -> HttpResponse {
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A CSV download (`text/csv`, RFC 4180) named `filename`.
pub fn csv(status: StatusCode, filename: &str, body: String) -> HttpResponse {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8; header=present"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let safe: String = filename.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A console API error: `{"error":{"code","message"}}`.
pub fn console_error(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    json(status, &serde_json::json!({"error": {"code": code, "message": message.into()}}))
}

/// A Sphere tax API error: `{"type":"api_error","code","message"}`.
pub fn sphere_error(status: StatusCode, code: &str, message: impl Into<String>) -> HttpResponse {
    json(status, &serde_json::json!({"type": "api_error", "code": code, "message": message.into()}))
}
