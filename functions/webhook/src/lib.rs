//! `POST /webhooks/sequence/{token}`: Sequence's webhooks for one connection. Checks and then only *names* work:
//! the body is read raw (at most 256 KiB), the signature verified in constant time within 5 minutes, a replay
//! refused (each delivery is remembered for 24 h), and a notification about an invoice, a credit note or a
//! customer becomes a targeted sync job (connection, stream, id) on the sync queue — coalesced, so 50
//! notifications for one invoice within a few seconds queue one job. No Sequence call is made here and the
//! answer is immediate; the job re-fetches the document (see `shared::sync::run_targets`).
//!
//! Why a function of its own (not a route of `sync`): it is the one internet-facing endpoint without a caller
//! identity, so it gets the narrowest rights — read its route records and write replay/pending markers in the
//! table, read the webhook signing secrets only (never the Sequence credentials), send to the sync queue —
//! and its own throttling, while `sync` keeps its SQS/EventBridge events and Sequence access.

use http::{Method, StatusCode};
use serde_json::json;
use shared::app::{App, Store};
use shared::clock::SharedClock;
use shared::config::Config;
use shared::connection::WebhookRoute;
use shared::queue::{SyncMessage, SyncQueue};
use shared::store::record;
use shared::store::{Expect, Item, StoreError, WriteOp};
use shared::web::{HttpRequest, HttpResponse, json};
use shared::webhook::{Action, Notification, SIGNATURE_HEADER, Target};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a targeted job waits before it runs: notifications arriving meanwhile ride on it.
pub const COALESCE: Duration = Duration::from_secs(2);

/// How long a document stays "already queued" at most (the job normally clears it when it starts).
const PENDING_TTL_SECS: i64 = 120;

/// How long a signing secret is cached in a warm container.
const SECRET_TTL_MS: i64 = 300_000;

/// AWS actions this function's code calls; `tests/tests/iam_policy.rs` holds template.yaml to exactly this list.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "secretsmanager:GetSecretValue",
    "sqs:SendMessage",
];

pub struct State<S: Store> {
    pub config: Config,
    pub store: S,
    pub clock: SharedClock,
    pub queue: Arc<dyn SyncQueue>,
    /// Signing secrets by secret name, with when they were read (ms).
    secrets: Mutex<HashMap<String, (i64, shared::store::SecretValue)>>,
}

impl<S: Store> State<S> {
    pub fn of(app: &App<S>) -> Self {
        State {
            config: app.config.clone(),
            store: app.store.clone(),
            clock: app.clock.clone(),
            queue: app.queue.clone(),
            secrets: Mutex::new(HashMap::new()),
        }
    }

    /// The signing secret `name`, from this container's cache unless `fresh` (a rotation replaces the value).
    async fn secret(&self, name: &str, fresh: bool) -> Result<Option<shared::store::SecretValue>, Refusal> {
        let now = self.clock.now_ms();
        if !fresh
            && let Some((at, v)) = self.secrets.lock().ok().and_then(|m| m.get(name).cloned())
            && now - at < SECRET_TTL_MS
        {
            return Ok(Some(v));
        }
        let v = self.store.get_secret(name).await.map_err(|e| Refusal::Unavailable(e.to_string()))?;
        if let (Some(v), Ok(mut m)) = (&v, self.secrets.lock()) {
            m.insert(name.to_owned(), (now, v.clone()));
        }
        Ok(v)
    }
}

/// Why a delivery changed nothing. Each is counted (the `outcome` of the log line and metric), and none is ever
/// logged with the body.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("no such webhook endpoint")]
    UnknownEndpoint,
    #[error("the body is over {} bytes", shared::webhook::MAX_BODY_BYTES)]
    TooLarge,
    #[error("{0}")]
    Signature(#[from] shared::webhook::SignatureError),
    #[error("this delivery was already received")]
    Replay,
    #[error("the body is not a Sequence notification")]
    BadBody,
    #[error("the notification is for another Sequence account")]
    WrongAccount,
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

impl Refusal {
    fn outcome(&self) -> &'static str {
        match self {
            Refusal::UnknownEndpoint => "unknown_endpoint",
            Refusal::TooLarge => "too_large",
            Refusal::Signature(shared::webhook::SignatureError::Stale) => "stale",
            Refusal::Signature(_) => "bad_signature",
            Refusal::Replay => "replay",
            Refusal::BadBody => "bad_body",
            Refusal::WrongAccount => "wrong_account",
            Refusal::Unavailable(_) => "unavailable",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Refusal::UnknownEndpoint => StatusCode::NOT_FOUND,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Signature(_) => StatusCode::UNAUTHORIZED,
            Refusal::Replay => StatusCode::CONFLICT,
            Refusal::BadBody | Refusal::WrongAccount => StatusCode::BAD_REQUEST,
            // Sequence retries a failed delivery: this one may succeed later.
            Refusal::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Unavailable(e.to_string())
    }
}

/// What an accepted delivery led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// A targeted job was queued for the document.
    Queued(Target),
    /// A job for the document is already queued: this notification rides on it.
    Coalesced(Target),
    /// Acknowledged and ignored (a type we do not hold).
    Ignored(&'static str),
}

pub async fn handle_event<S: Store>(
    state: &State<S>,
    event: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    let resp = match shared::lambda::into_http(event) {
        Err(_) => respond(Err(Refusal::TooLarge)),
        Ok(req) => handle(state, req).await,
    };
    shared::lambda::into_lambda(resp)
}

/// One delivery, answered at once; the outcome is logged as one line (and an EMF metric), never the body.
pub async fn handle<S: Store>(state: &State<S>, req: HttpRequest) -> HttpResponse {
    let segments: Vec<&str> = req.uri().path().trim_matches('/').split('/').collect();
    let result = match (req.method(), segments.as_slice()) {
        (&Method::POST, ["webhooks", "sequence", token]) => receive(state, token, &req).await,
        _ => Err(Refusal::UnknownEndpoint),
    };
    respond(result)
}

fn respond(result: Result<Accepted, Refusal>) -> HttpResponse {
    let (status, outcome, body) = match &result {
        Ok(Accepted::Queued(t)) => (StatusCode::ACCEPTED, "queued", json!({"received": true, "queued": t.id})),
        Ok(Accepted::Coalesced(t)) => (StatusCode::ACCEPTED, "coalesced", json!({"received": true, "queued": t.id})),
        Ok(Accepted::Ignored(why)) => (StatusCode::OK, "ignored", json!({"received": true, "ignored": why})),
        Err(e) => (e.status(), e.outcome(), json!({"error": {"code": e.outcome(), "message": e.to_string()}})),
    };
    tracing::info!(target: "webhook", outcome, status = status.as_u16(), "webhook delivery");
    // CloudWatch EMF: one count per outcome (in Lambda; a debug line elsewhere, like the sync's metrics).
    let metric = json!({"_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "SphereConnector/Webhooks",
        "Dimensions": [["Outcome"]], "Metrics": [{"Name": "Deliveries", "Unit": "Count"}]}]},
        "Outcome": outcome, "Deliveries": 1});
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        println!("{metric}");
    } else {
        tracing::debug!(metrics = %metric, "webhook metrics");
    }
    json(status, &body)
}

async fn receive<S: Store>(state: &State<S>, token: &str, req: &HttpRequest) -> Result<Accepted, Refusal> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refusal::UnknownEndpoint);
    }
    let body = req.body();
    if body.len() > shared::webhook::MAX_BODY_BYTES {
        return Err(Refusal::TooLarge);
    }
    let route: WebhookRoute = record::get(&state.store, &shared::layout::webhook_route_key(token))
        .await?
        .ok_or(Refusal::UnknownEndpoint)?
        .value;
    let header = req.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let now = state.clock.now_ms();
    let secret = state.secret(&route.secret_name, false).await?.ok_or(Refusal::UnknownEndpoint)?;
    let t = match shared::webhook::verify(header, secret.expose().as_bytes(), body, now) {
        // The cached secret may predate a credential rotation (a new secret under the same name): read it once more.
        Err(shared::webhook::SignatureError::Mismatch) => {
            let fresh = state.secret(&route.secret_name, true).await?.ok_or(Refusal::UnknownEndpoint)?;
            shared::webhook::verify(header, fresh.expose().as_bytes(), body, now)?
        }
        other => other?,
    };
    // Remembered before anything else happens: a replay of this exact delivery is refused from now on.
    let digest = shared::webhook::replay_digest(t, body);
    let mut seen =
        Item::new(shared::layout::webhook_seen_key(&route.org_id, &route.connection_id, &digest), 1, "{}".to_owned());
    seen.ttl = Some(now / 1000 + shared::webhook::REPLAY_WINDOW_SECS);
    match state.store.write(vec![WriteOp::Put { item: seen, expect: Expect::Absent }]).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failed() => return Err(Refusal::Replay),
        Err(e) => return Err(e.into()),
    }
    let notification: Notification = serde_json::from_slice(body).map_err(|_| Refusal::BadBody)?;
    if notification.sequence_account_id.as_deref().is_some_and(|a| a != route.sequence_account_id.as_str()) {
        return Err(Refusal::WrongAccount);
    }
    let target = match notification.action() {
        Action::Ignore(why) => return Ok(Accepted::Ignored(why)),
        Action::Fetch(t) => t,
    };
    // Coalescing: the first notification of a document queues the job (after COALESCE); the next ones find it
    // pending. The job clears the marker when it starts, so a change after that queues a new job.
    let mut pending = Item::new(
        shared::layout::pending_target_key(&route.org_id, &route.connection_id, target.stream.as_str(), &target.id),
        1,
        "{}".to_owned(),
    );
    pending.ttl = Some(now / 1000 + PENDING_TTL_SECS);
    match state.store.write(vec![WriteOp::Put { item: pending, expect: Expect::Absent }]).await {
        Ok(()) => {}
        Err(e) if e.is_condition_failed() => return Ok(Accepted::Coalesced(target)),
        Err(e) => return Err(e.into()),
    }
    let job = SyncMessage {
        org_id: route.org_id.clone(),
        connection_id: route.connection_id.clone(),
        reason: "webhook".into(),
        dedup_id: format!("{}#{}#webhook#{}", route.org_id, route.connection_id, digest.get(..16).unwrap_or("")),
        targets: vec![target.clone()],
    };
    if let Err(e) = state.queue.enqueue_after(job, COALESCE).await {
        // Not queued: the marker must not hold back the next notification (Sequence retries this one).
        let key =
            shared::layout::pending_target_key(&route.org_id, &route.connection_id, target.stream.as_str(), &target.id);
        let _ = state.store.write(vec![WriteOp::Delete { key, expect: Expect::Any }]).await;
        return Err(Refusal::Unavailable(e.to_string()));
    }
    Ok(Accepted::Queued(target))
}
