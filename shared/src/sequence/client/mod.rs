//! The Sequence REST client used by connect (validate credentials) and sync (read documents). Why it
//! looks like this: every request is Basic-authenticated and pinned to `Sequence-Version: 2024-07-30`
//! so field names cannot shift under us; every request first takes a token from the key's shared
//! limiter; 429/5xx/timeouts are retried with capped exponential backoff and jitter (honouring
//! `Retry-After`), other 4xx never; and no wait ever runs past the caller's deadline, so a Lambda can
//! checkpoint instead of being killed mid-sleep. The `Authorization` value is marked sensitive and never
//! appears in errors or logs.

use super::credentials::Credentials;
use super::decode::{self, Rejected};
use super::error::{SequenceError, parse_error_body};
use super::limiter::{RateLimiter, limiter_for_key};
use super::models::{
    CreditNote, CreditNoteLineItem, Customer, Invoice, InvoiceLineItem, NewNotificationPolicy, NotificationPolicy,
    Product, RawList, SequenceAccount, TaxRegistration,
};
use super::query::{CreditNoteQuery, CustomerQuery, InvoiceQuery, ListQuery, PageQuery, ProductQuery};
use crate::clock::{SharedClock, SystemClock};
use crate::config::{SEQUENCE_PRODUCTION_URL, SEQUENCE_SANDBOX_URL};
use crate::domain::Environment;
use http::HeaderValue;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod pager;
mod transport;

pub use pager::Pager;
use transport::seg;

/// The API version this client speaks (the only value in the current schema).
pub const API_VERSION: &str = "2024-07-30";

/// Tunables; defaults follow DESIGN §5 (1,000 requests/min per key, 5 attempts, 0.5 s → 20 s backoff).
#[derive(Clone)]
pub struct ClientOptions {
    /// Base URL up to and including `/api`, no trailing slash.
    pub base_url: String,
    pub requests_per_minute: u32,
    /// Attempts per request, including the first.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// A `Retry-After` longer than this is not waited for: the request fails as `Throttled`.
    pub max_retry_after: Duration,
    /// Per-attempt timeout (further capped by the deadline).
    pub request_timeout: Duration,
    pub clock: SharedClock,
    /// A specific limiter (tests, benchmarks); `None` → the process-wide one for this key.
    pub limiter: Option<Arc<RateLimiter>>,
    /// A shared HTTP client (connection pool) for many connections; `None` → a new one.
    pub http: Option<reqwest::Client>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("max_attempts", &self.max_attempts)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientOptions {
    /// Defaults for the real Sequence environment.
    pub fn for_environment(env: Environment) -> Self {
        Self::with_base_url(match env {
            Environment::Sandbox => SEQUENCE_SANDBOX_URL,
            Environment::Production => SEQUENCE_PRODUCTION_URL,
        })
    }

    /// Defaults against any base URL (the simulator, or `Config::sequence_url`).
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        ClientOptions {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            requests_per_minute: 1_000,
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
            limiter: None,
            http: None,
        }
    }

    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn requests_per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = n.max(1);
        self
    }

    pub fn limiter(mut self, l: Arc<RateLimiter>) -> Self {
        self.limiter = Some(l);
        self
    }
}

/// What the client did, for the sync's run report. Cumulative over the client's lifetime; take two
/// snapshots and [`RequestStats::since`] for one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// HTTP requests actually sent (every attempt).
    pub requests: u64,
    /// `429` responses seen.
    pub throttled: u64,
    /// `5xx` responses, timeouts and network failures seen.
    pub failures: u64,
    /// Attempts that were retries.
    pub retries: u64,
}

impl RequestStats {
    pub fn since(&self, earlier: &RequestStats) -> RequestStats {
        RequestStats {
            requests: self.requests.saturating_sub(earlier.requests),
            throttled: self.throttled.saturating_sub(earlier.throttled),
            failures: self.failures.saturating_sub(earlier.failures),
            retries: self.retries.saturating_sub(earlier.retries),
        }
    }
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    throttled: AtomicU64,
    failures: AtomicU64,
    retries: AtomicU64,
}

struct Inner {
    http: reqwest::Client,
    opts: ClientOptions,
    auth: HeaderValue,
    client_id: String,
    limiter: Arc<RateLimiter>,
    counters: Counters,
    jitter: AtomicU64,
}

/// One page of a list: the items that decoded, those that did not (see [`super::decode`]), and the
/// cursor to the next page (`None` = last page).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub rejected: Vec<Rejected>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub total_result_size: Option<u64>,
}

/// The Sequence client. Cheap to clone; clones share the limiter and the counters.
#[derive(Clone)]
pub struct SequenceClient {
    inner: Arc<Inner>,
    deadline_ms: Option<i64>,
}

impl std::fmt::Debug for SequenceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceClient")
            .field("base_url", &self.inner.opts.base_url)
            .field("client_id", &self.inner.client_id)
            .field("deadline_ms", &self.deadline_ms)
            .finish_non_exhaustive()
    }
}

impl SequenceClient {
    /// A client for the real Sequence environment with default options.
    pub fn new(env: Environment, credentials: &Credentials) -> Result<Self, SequenceError> {
        Self::with_options(credentials, ClientOptions::for_environment(env))
    }

    pub fn with_options(credentials: &Credentials, opts: ClientOptions) -> Result<Self, SequenceError> {
        if !(opts.base_url.starts_with("http://") || opts.base_url.starts_with("https://")) {
            return Err(SequenceError::Config(format!("base URL {:?} is not http(s)", opts.base_url)));
        }
        let mut auth = HeaderValue::from_str(&credentials.authorization_header())
            .map_err(|_| SequenceError::Config("credentials contain characters not allowed in a header".into()))?;
        auth.set_sensitive(true);
        let http = match &opts.http {
            Some(h) => h.clone(),
            None => reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()
                .map_err(|_| SequenceError::Config("could not build the HTTP client".into()))?,
        };
        let limiter = match &opts.limiter {
            Some(l) => l.clone(),
            None => {
                limiter_for_key(&opts.base_url, credentials.client_id(), opts.requests_per_minute, opts.clock.clone())
            }
        };
        let seed = crate::crypto::random_bytes(8);
        let mut s = [0u8; 8];
        s.copy_from_slice(&seed);
        Ok(SequenceClient {
            inner: Arc::new(Inner {
                http,
                auth,
                client_id: credentials.client_id().to_owned(),
                limiter,
                counters: Counters::default(),
                jitter: AtomicU64::new(u64::from_le_bytes(s)),
                opts,
            }),
            deadline_ms: None,
        })
    }

    /// The same client (shared limiter and counters) that never waits past `deadline_ms` (clock ms).
    pub fn with_deadline(&self, deadline_ms: Option<i64>) -> Self {
        SequenceClient { inner: self.inner.clone(), deadline_ms }
    }

    pub fn deadline_ms(&self) -> Option<i64> {
        self.deadline_ms
    }

    pub fn base_url(&self) -> &str {
        &self.inner.opts.base_url
    }

    pub fn stats(&self) -> RequestStats {
        let c = &self.inner.counters;
        RequestStats {
            requests: c.requests.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
        }
    }

    // ---- endpoints -------------------------------------------------------------------------------

    /// `GET /sequence-accounts?limit=1`: the cheapest call that proves the credentials (connect). An
    /// account we cannot decode is a [`SequenceError::Decode`], not "no account".
    pub async fn verify_credentials(&self) -> Result<Option<SequenceAccount>, SequenceError> {
        let page: Page<SequenceAccount> =
            self.list_page("/sequence-accounts", &PageQuery { limit: Some(1), sort_order: None }, None).await?;
        match (page.items.into_iter().next(), page.rejected.into_iter().next()) {
            (Some(a), _) => Ok(Some(a)),
            (None, Some(r)) => Err(SequenceError::Decode { path: "/sequence-accounts".into(), message: r.reason }),
            (None, None) => Ok(None),
        }
    }

    pub async fn list_sequence_accounts_page(
        &self,
        q: &PageQuery,
        after: Option<&str>,
    ) -> Result<Page<SequenceAccount>, SequenceError> {
        self.list_page("/sequence-accounts", q, after).await
    }

    pub async fn sequence_accounts(&self) -> Result<Vec<SequenceAccount>, SequenceError> {
        self.collect("/sequence-accounts".into(), &PageQuery::default()).await
    }

    pub async fn get_sequence_account(&self, id: &str) -> Result<SequenceAccount, SequenceError> {
        self.get_json(&format!("/sequence-accounts/{}", seg(id)), &[]).await
    }

    pub async fn list_customers_page(
        &self,
        q: &CustomerQuery,
        after: Option<&str>,
    ) -> Result<Page<Customer>, SequenceError> {
        self.list_page("/customers", q, after).await
    }

    pub fn customers(&self, q: &CustomerQuery) -> Pager<Customer> {
        Pager::new(self.clone(), "/customers".into(), q)
    }

    pub async fn all_customers(&self, q: &CustomerQuery) -> Result<Vec<Customer>, SequenceError> {
        self.collect("/customers".into(), q).await
    }

    pub async fn get_customer(&self, id: &str) -> Result<Customer, SequenceError> {
        self.get_json(&format!("/customers/{}", seg(id)), &[]).await
    }

    /// `GET /tax-registrations/for-customer/{id}` (all pages).
    pub async fn customer_tax_registrations(&self, customer_id: &str) -> Result<Vec<TaxRegistration>, SequenceError> {
        // The endpoint documents no query parameters; follow `after` anyway in case it paginates.
        let mut pager: Pager<TaxRegistration> = Pager::with_pairs(
            self.clone(),
            format!("/tax-registrations/for-customer/{}", seg(customer_id)),
            Vec::new(),
        );
        pager.collect().await
    }

    pub async fn list_products_page(
        &self,
        q: &ProductQuery,
        after: Option<&str>,
    ) -> Result<Page<Product>, SequenceError> {
        self.list_page("/products", q, after).await
    }

    pub async fn all_products(&self, q: &ProductQuery) -> Result<Vec<Product>, SequenceError> {
        self.collect("/products".into(), q).await
    }

    pub async fn get_product(&self, id: &str) -> Result<Product, SequenceError> {
        self.get_json(&format!("/products/{}", seg(id)), &[]).await
    }

    pub async fn list_invoices_page(
        &self,
        q: &InvoiceQuery,
        after: Option<&str>,
    ) -> Result<Page<Invoice>, SequenceError> {
        self.list_page("/invoices", q, after).await
    }

    pub fn invoices(&self, q: &InvoiceQuery) -> Pager<Invoice> {
        Pager::new(self.clone(), "/invoices".into(), q)
    }

    pub async fn all_invoices(&self, q: &InvoiceQuery) -> Result<Vec<Invoice>, SequenceError> {
        self.collect("/invoices".into(), q).await
    }

    pub async fn get_invoice(&self, id: &str) -> Result<Invoice, SequenceError> {
        self.get_json(&format!("/invoices/{}", seg(id)), &[]).await
    }

    /// `GET /invoices/{id}/line-items`, all pages.
    pub async fn invoice_line_items(&self, invoice_id: &str) -> Result<Vec<InvoiceLineItem>, SequenceError> {
        self.collect(format!("/invoices/{}/line-items", seg(invoice_id)), &PageQuery::default()).await
    }

    pub async fn list_credit_notes_page(
        &self,
        q: &CreditNoteQuery,
        after: Option<&str>,
    ) -> Result<Page<CreditNote>, SequenceError> {
        self.list_page("/credit-notes", q, after).await
    }

    pub fn credit_notes(&self, q: &CreditNoteQuery) -> Pager<CreditNote> {
        Pager::new(self.clone(), "/credit-notes".into(), q)
    }

    pub async fn all_credit_notes(&self, q: &CreditNoteQuery) -> Result<Vec<CreditNote>, SequenceError> {
        self.collect("/credit-notes".into(), q).await
    }

    pub async fn get_credit_note(&self, id: &str) -> Result<CreditNote, SequenceError> {
        self.get_json(&format!("/credit-notes/{}", seg(id)), &[]).await
    }

    /// `GET /credit-notes/{id}/line-items`, all pages.
    pub async fn credit_note_line_items(&self, credit_note_id: &str) -> Result<Vec<CreditNoteLineItem>, SequenceError> {
        self.collect(format!("/credit-notes/{}/line-items", seg(credit_note_id)), &PageQuery::default()).await
    }

    /// `POST /notifications/policies`: subscribes `policy.recipients` to `policy.notification_types` (webhooks
    /// signed with `policy.webhook_secret`; if Sequence answers with a secret of its own, that one signs).
    pub async fn create_notification_policy(
        &self,
        policy: &NewNotificationPolicy,
    ) -> Result<NotificationPolicy, SequenceError> {
        let body = serde_json::to_value(policy)
            .map_err(|e| SequenceError::Decode { path: "/notifications/policies".into(), message: e.to_string() })?;
        self.send_json(reqwest::Method::POST, "/notifications/policies", &[], Some(&body)).await
    }

    /// `DELETE /notifications/policies/{id}`.
    pub async fn delete_notification_policy(&self, id: &str) -> Result<(), SequenceError> {
        let path = format!("/notifications/policies/{}", seg(id));
        let _: serde::de::IgnoredAny = self.send_json(reqwest::Method::DELETE, &path, &[], None).await?;
        Ok(())
    }

    // ---- generic list machinery ------------------------------------------------------------------

    /// One page of any list endpoint. `after` is the previous page's cursor. A response whose cursor
    /// equals `after` is refused as [`SequenceError::RepeatedPageToken`].
    pub async fn list_page<T: DeserializeOwned>(
        &self,
        path: &str,
        q: &impl ListQuery,
        after: Option<&str>,
    ) -> Result<Page<T>, SequenceError> {
        self.page_with_pairs(path, q.to_pairs(), after).await
    }

    async fn page_with_pairs<T: DeserializeOwned>(
        &self,
        path: &str,
        mut pairs: Vec<(&'static str, String)>,
        after: Option<&str>,
    ) -> Result<Page<T>, SequenceError> {
        let after = after.filter(|a| !a.is_empty());
        if let Some(a) = after {
            pairs.push(("after", a.to_owned()));
        }
        let resp: RawList = self.get_json(path, &pairs).await?;
        let p = resp.pagination;
        let next = p.after.filter(|a| !a.is_empty());
        if next.is_some() && next.as_deref() == after {
            return Err(SequenceError::RepeatedPageToken { path: path.to_owned() });
        }
        let mut items = Vec::with_capacity(resp.items.len());
        let mut rejected = Vec::new();
        for raw in &resp.items {
            match decode::decode_item::<T>(raw) {
                Ok(v) => items.push(v),
                Err(r) => rejected.push(r),
            }
        }
        Ok(Page { items, rejected, after: next, before: p.before, total_result_size: p.total_result_size })
    }

    async fn collect<T: DeserializeOwned>(&self, path: String, q: &impl ListQuery) -> Result<Vec<T>, SequenceError> {
        Pager::new(self.clone(), path, q).collect().await
    }

    // ---- one request, with limiter, retries and deadline ------------------------------------------
}

#[cfg(test)]
mod tests {
    use super::transport::retry_after;
    use super::*;

    #[test]
    fn retry_after_parses_seconds_and_dates() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, 0), Some(Duration::from_secs(7)));
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("Thu, 01 Jan 1970 00:00:10 GMT"));
        assert_eq!(retry_after(&h, 4_000), Some(Duration::from_secs(6)));
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, 0), None);
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(seg("abc-123_x"), "abc-123_x");
        assert_eq!(seg("../a b"), "..%2Fa%20b");
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let c = SequenceClient::with_options(
            &Credentials::new("a", "b"),
            ClientOptions::with_base_url("http://127.0.0.1:1"),
        )
        .unwrap();
        for attempt in 1..12 {
            let b = c.backoff(attempt);
            assert!(b <= Duration::from_secs(20), "{b:?}");
            let step = Duration::from_millis(500).saturating_mul(1 << (attempt - 1)).min(Duration::from_secs(20));
            assert!(b >= step / 2);
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = SequenceClient::with_options(
            &Credentials::new("id-1", "very-secret"),
            ClientOptions::with_base_url("http://127.0.0.1:1"),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("very-secret"));
    }
}
