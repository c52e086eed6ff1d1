//! Every way a tax API request fails, as one type, and its one mapping to Sphere's error codes
//! ([`ApiError::into_response`], called only by [`crate::handle`]).
//!
//! Why one place: Sequence acts on the code. `validation_errors`, `invalid_product_tax_code` and
//! `customer_tax_location_invalid` are the caller's to fix; `tax_rates_unavailable` (422) is a content gap that
//! no retry fixes; only `internal_server_error` invites a retry, so it is kept for what a retry can cure.

use crate::metrics;
use http::StatusCode;
use shared::domain::OrgId;
use shared::store::StoreError;
use shared::tax::TaxError;
use shared::web::{HttpResponse, sphere_error};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no route for {0}")]
    NoRoute(String),
    /// No key, a malformed, forged, revoked or wrong-mode key.
    #[error("Invalid API key.")]
    Unauthorized,
    #[error("more than {per_minute} requests a minute with this API key; retry after {retry_after_secs} s")]
    TooManyRequests { per_minute: u32, retry_after_secs: u64 },
    /// The request as sent cannot be read (`validation_errors`, `unsupported_feature`); the message names the field.
    #[error("{message}")]
    Request { code: &'static str, message: String },
    #[error("request body too large: {0}")]
    PayloadTooLarge(String),
    #[error(
        "no product tax code for product(s) {}: assign one under Products in the Sphere console, or set a default product tax code",
        .0.join(", ")
    )]
    NoProductTaxCode(Vec<String>),
    /// The engine refused the calculation.
    #[error("{source}")]
    Engine { org: OrgId, source: TaxError },
    /// A stored exemption scope the console should never have written (our invariant, not the caller's input).
    #[error("stored exemption scope of customer {customer} is not readable: {reason}")]
    StoredScope { customer: String, reason: String },
    #[error("store unavailable: {0}")]
    Store(#[from] StoreError),
}

impl ApiError {
    /// The response Sphere's API gives for this failure, logged and counted as it deserves. `now_ms` dates the
    /// metric.
    pub fn into_response(self, now_ms: i64) -> HttpResponse {
        let retry_later = || {
            sphere_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "The request could not be completed. Please retry.",
            )
        };
        match self {
            ApiError::NoRoute(_) => sphere_error(StatusCode::NOT_FOUND, "not_found", self.to_string()),
            ApiError::Unauthorized => sphere_error(StatusCode::UNAUTHORIZED, "unauthorized_access", self.to_string()),
            ApiError::TooManyRequests { retry_after_secs, .. } => {
                let mut resp = sphere_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", self.to_string());
                resp.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(retry_after_secs.max(1)));
                resp
            }
            ApiError::Request { code, message } => sphere_error(StatusCode::BAD_REQUEST, code, message),
            ApiError::PayloadTooLarge(m) => sphere_error(StatusCode::PAYLOAD_TOO_LARGE, "validation_errors", m),
            ApiError::NoProductTaxCode(_) => {
                sphere_error(StatusCode::BAD_REQUEST, "invalid_product_tax_code", self.to_string())
            }
            ApiError::Engine { org, source } => match source {
                TaxError::LocationInvalid(m) => {
                    sphere_error(StatusCode::BAD_REQUEST, "customer_tax_location_invalid", m)
                }
                TaxError::UnknownTaxCode(ids) => sphere_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_product_tax_code",
                    format!("unknown product tax code(s) {}; see GET /v1/tax-codes", ids.join(", ")),
                ),
                TaxError::Invalid(m) => sphere_error(StatusCode::BAD_REQUEST, "validation_errors", m),
                // A registered region without rates for the date is a content gap, not an outage: a documented 422
                // that names the region (so Sequence and the user can act, and nobody retries forever), counted.
                TaxError::NoRateData(m) => {
                    tracing::warn!(org = %org, detail = %m, "tax calculation refused: no rate data");
                    metrics::emit_no_rate_data(now_ms, org.as_str(), &m);
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
                    retry_later()
                }
            },
            // Refuse (500) rather than guess everywhere or nowhere, and say which customer in the log.
            e @ ApiError::StoredScope { .. } => {
                tracing::error!(error = %e, "tax calculation refused");
                retry_later()
            }
            ApiError::Store(e) => {
                tracing::error!(error = %e, "tax API: store unavailable");
                retry_later()
            }
        }
    }
}
