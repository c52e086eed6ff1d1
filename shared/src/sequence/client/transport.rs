//! One request to Sequence: a token from the key's limiter, Basic auth and the version header, retries of
//! 429 / 5xx / timeouts with capped, jittered backoff honouring `Retry-After`, and never a wait past the
//! caller's deadline.

use super::{
    API_VERSION, DeserializeOwned, Duration, Ordering, SequenceClient, SequenceError, decode, parse_error_body,
};

/// Outcome of one attempt that may be retried.
enum Retryable {
    Throttled(Option<Duration>),
    Failed { status: Option<u16>, reason: String, retry_after: Option<Duration> },
}

impl SequenceClient {
    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&'static str, String)],
    ) -> Result<T, SequenceError> {
        self.send_json(reqwest::Method::GET, path, query, None).await
    }

    /// One request with a JSON body (`POST`) or none (`GET`, `DELETE`). A `POST` is not idempotent: it is retried
    /// only after a 429 (Sequence did not process it), never after a timeout or a 5xx that may have created it.
    pub(super) async fn send_json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&'static str, String)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, SequenceError> {
        let inner = &self.inner;
        let idempotent = method != reqwest::Method::POST;
        let url = format!("{}{}", inner.opts.base_url, path);
        let max_attempts = inner.opts.max_attempts.max(1);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            inner.limiter.acquire(self.deadline_ms).await.map_err(|w| SequenceError::OutOfTime { needed: w.0 })?;
            let timeout = self.attempt_timeout()?;
            if attempt > 1 {
                inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            }
            inner.counters.requests.fetch_add(1, Ordering::Relaxed);
            let mut request = inner.http.request(method.clone(), &url).query(query);
            if let Some(b) = body {
                request = request.json(b);
            }
            let sent = request
                .header(http::header::AUTHORIZATION, inner.auth.clone())
                .header("Sequence-Version", API_VERSION)
                .header(http::header::ACCEPT, "application/json")
                .timeout(timeout)
                .send()
                .await;
            let failure: Retryable = match sent {
                Err(e) => Retryable::Failed { status: None, reason: describe(&e), retry_after: None },
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = retry_after(resp.headers(), inner.opts.clock.now_ms());
                    if let Some(v) = resp.headers().get("sequence-version")
                        && v.as_bytes() != API_VERSION.as_bytes()
                    {
                        // The key may be pinned to another version: field names could differ.
                        tracing::warn!(path, served = ?v, expected = API_VERSION, "Sequence answered with another API version");
                    }
                    match resp.bytes().await {
                        Err(e) => Retryable::Failed { status: Some(status), reason: describe(&e), retry_after: None },
                        Ok(body) => match status {
                            200..=299 => {
                                let text = std::str::from_utf8(&body).map_err(|_| SequenceError::Decode {
                                    path: path.to_owned(),
                                    message: "the body is not UTF-8".into(),
                                })?;
                                // A 204 (a DELETE) has no body: it reads as JSON `null`.
                                let text = if text.trim().is_empty() { "null" } else { text };
                                return decode::decode::<T>(text)
                                    .map_err(|r| SequenceError::Decode { path: path.to_owned(), message: r.reason });
                            }
                            401 => {
                                return Err(SequenceError::Unauthorized { message: parse_error_body(&body).message });
                            }
                            429 => Retryable::Throttled(retry_after),
                            408 | 500..=599 => Retryable::Failed {
                                status: Some(status),
                                reason: format!("HTTP {status}"),
                                retry_after,
                            },
                            _ => {
                                let b = parse_error_body(&body);
                                return Err(SequenceError::Client {
                                    status,
                                    error_type: b.error_type,
                                    message: b.message,
                                });
                            }
                        },
                    }
                }
            };
            let (err, retry_after) = match failure {
                Retryable::Throttled(ra) => {
                    inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
                    (SequenceError::Throttled { attempts: attempt, retry_after: ra }, ra)
                }
                Retryable::Failed { status, reason, retry_after } => {
                    inner.counters.failures.fetch_add(1, Ordering::Relaxed);
                    (SequenceError::Unavailable { status, reason, attempts: attempt }, retry_after)
                }
            };
            tracing::debug!(path, attempt, error = %err, "Sequence request failed");
            if attempt >= max_attempts || (!idempotent && !matches!(err, SequenceError::Throttled { .. })) {
                return Err(err);
            }
            let wait = match retry_after {
                Some(ra) if ra > inner.opts.max_retry_after => return Err(err),
                Some(ra) => ra,
                None => self.backoff(attempt),
            };
            if let Some(d) = self.deadline_ms {
                let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                if inner.opts.clock.now_ms().saturating_add(wait_ms) > d {
                    // A throttle keeps its Retry-After, so the caller can re-enqueue after it
                    // instead of coming back at once.
                    return Err(match err {
                        SequenceError::Throttled { .. } => err,
                        _ => SequenceError::OutOfTime { needed: wait },
                    });
                }
            }
            inner.opts.clock.sleep(wait).await;
        }
    }

    /// The per-attempt timeout: the configured one, cut to what is left before the deadline.
    pub(super) fn attempt_timeout(&self) -> Result<Duration, SequenceError> {
        let t = self.inner.opts.request_timeout;
        match self.deadline_ms {
            None => Ok(t),
            Some(d) => {
                let left = d - self.inner.opts.clock.now_ms();
                if left <= 0 {
                    Err(SequenceError::OutOfTime { needed: Duration::from_millis(1) })
                } else {
                    Ok(t.min(Duration::from_millis(u64::try_from(left).unwrap_or(0))))
                }
            }
        }
    }

    /// Capped exponential backoff with "equal jitter": half the step fixed, half random.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let o = &self.inner.opts;
        let step = o.backoff_base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(o.backoff_cap);
        let half = step.as_millis() as u64 / 2;
        let r = splitmix64(self.inner.jitter.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed));
        Duration::from_millis(half + if half == 0 { 0 } else { r % (half + 1) })
    }
}

pub(super) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A short, secret-free description of a transport error (the request carries the secret only in a
/// header, which reqwest never prints; the URL is dropped anyway).
pub(super) fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_body() || e.is_decode() {
        "response body interrupted".into()
    } else {
        "network error".into()
    }
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub(super) fn retry_after(h: &http::HeaderMap, now_ms: i64) -> Option<Duration> {
    let v = h.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?.timestamp_millis();
    Some(Duration::from_millis(u64::try_from(at - now_ms).unwrap_or(0)))
}

/// Percent-encodes one path segment (ids come from Sequence, but never trust them into a URL).
pub(super) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
