//! The `connect` function: the console API (Sequence connections, Sphere API keys, org tax settings).
//! The caller's org comes from authentication (JWT claims in Lambda, the bearer token locally),
//! resolved before this handler runs and passed in as a [`Principal`]; never from a body.

pub mod api_keys;
pub mod connections;
pub mod credentials;
pub mod customers;
pub mod error;
pub mod exposure;
pub mod ledger;
pub mod paging;
pub mod products;
pub mod quarantine;
pub mod settings;
pub mod synced;
pub mod webhooks;

use error::ConnectError;
use http::{Method, StatusCode};
use shared::app::{App, Store};
use shared::domain::{ConnectionId, KeyId};
use shared::org::{self, OrgError, Principal};
use shared::web::{HttpRequest, HttpResponse, console_error, json};

/// One API Gateway (HTTP API) event: the org from the JWT authorizer's claims, then [`handle`].
pub async fn handle_event<S: Store>(
    app: &App<S>,
    event: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    let principal = shared::lambda::jwt_principal(&event);
    let resp = match (principal, shared::lambda::into_http(event)) {
        (None, _) => console_error(StatusCode::UNAUTHORIZED, "unauthorized", "missing or invalid organization claims"),
        (_, Err(e)) => console_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", e.to_string()),
        (Some(p), Ok(req)) => handle(app, p, req).await,
    };
    shared::lambda::into_lambda(resp)
}

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
        Err(OrgError::Store(e)) => return ConnectError::Store(e).into_response(),
    };
    match route(app, &principal, &org, &req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

/// Sequence product ids are UUIDs; anything percent-encoded in a path segment is decoded here.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query string as decoded pairs (`+` is a space; the last of repeated names wins).
fn query(req: &HttpRequest) -> std::collections::HashMap<String, String> {
    req.uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")))
        })
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// An id from the path; a malformed one can name nothing the caller owns, so it is a 404.
fn id<T: TryFrom<String>>(s: &str) -> Result<T, ConnectError> {
    T::try_from(s.to_owned()).map_err(|_| ConnectError::NotFound)
}

async fn route<S: Store>(
    app: &App<S>,
    who: &Principal,
    org: &org::OrgRecord,
    req: &HttpRequest,
) -> Result<HttpResponse, ConnectError> {
    let segments: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
    let conn = |s: &str| id::<ConnectionId>(s);
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["v1", "organization"]) => Ok(json(StatusCode::OK, org)),
        (&Method::GET, ["v1", "sequence", "connections"]) => connections::list(app, who).await,
        (&Method::POST, ["v1", "sequence", "connections"]) => credentials::connect(app, who, req.body()).await,
        (&Method::PUT, ["v1", "sequence", "connections", c, "credentials"]) => {
            credentials::rotate(app, who, &conn(c)?, req.body()).await
        }
        (&Method::GET, ["v1", "sequence", "connections", c]) => connections::get(app, who, &conn(c)?).await,
        (&Method::DELETE, ["v1", "sequence", "connections", c]) => connections::disconnect(app, who, &conn(c)?).await,
        (&Method::POST, ["v1", "sequence", "connections", c, "sync"]) => {
            connections::sync_now(app, who, &conn(c)?).await
        }
        (&Method::GET, ["v1", "sequence", "connections", c, "quarantine"]) => {
            quarantine::list(app, who, &conn(c)?, &query(req)).await
        }
        (&Method::POST, ["v1", "sequence", "connections", c, "api-keys"]) => {
            api_keys::create(app, who, &conn(c)?).await
        }
        (&Method::GET, ["v1", "sequence", "connections", c, "api-keys"]) => api_keys::list(app, who, &conn(c)?).await,
        (&Method::DELETE, ["v1", "sequence", "connections", c, "api-keys", k]) => {
            api_keys::revoke(app, who, &conn(c)?, &id::<KeyId>(k)?).await
        }
        (&Method::GET, ["v1", "settings"]) => settings::get(app, who).await,
        (&Method::PUT, ["v1", "settings"]) => settings::put(app, who, req.body()).await,
        (&Method::GET, ["v1", "tax-codes"]) => settings::tax_codes().await,
        (&Method::GET, ["v1", "tax-coverage"]) => settings::tax_coverage().await,
        (&Method::GET, ["v1", "registrations"]) => settings::list_registrations(app, who).await,
        (&Method::PUT, ["v1", "registrations", country]) => {
            settings::put_registration(app, who, country, None, req.body()).await
        }
        (&Method::PUT, ["v1", "registrations", country, region]) => {
            settings::put_registration(app, who, country, Some(region), req.body()).await
        }
        (&Method::DELETE, ["v1", "registrations", country]) => {
            settings::delete_registration(app, who, country, None).await
        }
        (&Method::DELETE, ["v1", "registrations", country, region]) => {
            settings::delete_registration(app, who, country, Some(region)).await
        }
        (&Method::GET, ["v1", "products"]) => products::list(app, who, &query(req)).await,
        (&Method::PUT, ["v1", "products", product, "tax-code"]) => {
            products::set_tax_code(app, who, &percent_decode(product), req.body()).await
        }
        (&Method::PUT, ["v1", "customers", customer, "exemption"]) => {
            customers::set_exemption(app, who, &percent_decode(customer), req.body()).await
        }
        (&Method::GET, ["v1", "ledger", "transactions"]) => ledger::transactions(app, who, &query(req)).await,
        (&Method::GET, ["v1", "ledger", "transactions", id]) => {
            ledger::transaction(app, who, &percent_decode(id), &query(req)).await
        }
        (&Method::GET, ["v1", "ledger", "summary"]) => ledger::summary(app, who, &query(req)).await,
        (&Method::GET, ["v1", "exposure"]) => exposure::exposure(app, who, &query(req)).await,
        (&Method::GET, ["v1", "reports", "filing"]) => {
            let csv = req
                .headers()
                .get(http::header::ACCEPT)
                .and_then(|a| a.to_str().ok())
                .is_some_and(|a| a.contains("text/csv"));
            exposure::filing(app, who, &query(req), csv).await
        }
        (&Method::GET, ["v1", "audit"]) => Ok(json(
            StatusCode::OK,
            &serde_json::json!({"items": shared::audit::recent(&app.store, &who.org, 100).await?}),
        )),
        _ => Err(ConnectError::NoRoute),
    }
}

/// AWS actions this function's code calls (DynamoDB + Secrets Manager adapters, the SQS queue);
/// `tests/tests/iam_policy.rs` holds template.yaml to exactly this list.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:DeleteSecret",
    "secretsmanager:RestoreSecret",
    "secretsmanager:TagResource",
    // the API key pepper only, once at cold start (`shared::api_key::load_pepper`)
    "secretsmanager:GetSecretValue",
    "sqs:SendMessage",
];
