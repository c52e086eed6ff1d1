//! Typed configuration, read once at start-up. `from_lookup` is the pure constructor tests use;
//! `from_env` reads the process environment.

use std::time::Duration;

pub const SEQUENCE_SANDBOX_URL: &str = "https://sandbox.sequencehq.com/api";
pub const SEQUENCE_PRODUCTION_URL: &str = "https://eu.sequencehq.com/api";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// DynamoDB single table (`TABLE_NAME`).
    pub table_name: String,
    /// Secrets Manager name prefix for Sequence credentials (`SECRET_PREFIX`): `{prefix}/sequence/{org}/{conn}`.
    pub secret_prefix: String,
    /// SQS queue the dispatcher and "sync now" send to (`SYNC_QUEUE_URL`); absent in `sphere-local`.
    pub sync_queue_url: Option<String>,
    /// Sequence base URLs (`SEQUENCE_SANDBOX_URL`, `SEQUENCE_PRODUCTION_URL`), overridable for the simulator.
    pub sequence_sandbox_url: String,
    pub sequence_production_url: String,
    /// Client-side limit per Sequence key (`SEQUENCE_REQUESTS_PER_MINUTE`, default 1,000; Sequence allows 1,500).
    pub sequence_requests_per_minute: u32,
    /// How long a verified API key stays cached in a warm container (`KEY_CACHE_SECONDS`, ≤ 60).
    pub key_cache_ttl: Duration,
    /// Tax API: requests a minute per Sphere API key in one warm container (`TAX_KEY_REQUESTS_PER_MINUTE`,
    /// default 1,500, bursts of a tenth); beyond it `429 too_many_requests` with `Retry-After`.
    pub tax_key_requests_per_minute: u32,
    /// Sync: window re-read every run (`SYNC_LOOKBACK_DAYS`, default 45).
    pub sync_lookback_days: u32,
    /// Sync: full reconciliation cadence (`SYNC_RECONCILE_DAYS`, default 7).
    pub sync_reconcile_days: u32,
    /// Sync: schedule interval (`SYNC_INTERVAL_MINUTES`, default 15).
    pub sync_interval_minutes: u32,
    /// Sync: stop and checkpoint when less than this remains before the deadline (`SYNC_SAFETY_MARGIN_MS`,
    /// default 20 s): the algorithm starts no Sequence call after `deadline − safety margin`.
    pub sync_safety_margin: Duration,
    /// Sync: the Sequence client's deadline is `deadline − checkpoint margin` (`SYNC_CHECKPOINT_MARGIN_MS`,
    /// default 5 s), so a slow request (or the client's own retry waits) can never eat the time the
    /// checkpoint write after it needs. Must be less than the safety margin: the safety margin is the
    /// whole reserve at the end of a run (the last call, the writes of its page, the checkpoint), the
    /// checkpoint margin the part of it kept free of HTTP. A checkpoint margin at or above the safety
    /// margin would make the client refuse calls the algorithm still has time for.
    pub sync_checkpoint_margin: Duration,
    /// Lease duration for one sync run (`SYNC_LEASE_SECONDS`, default 120).
    pub sync_lease: Duration,
    /// Calculation records are kept this many days (`CALCULATION_TTL_DAYS`, default 90).
    pub calculation_ttl_days: u32,
    /// Secrets Manager id of the API key pepper (`API_KEY_PEPPER_SECRET_ID`): read once at cold start by the
    /// functions that issue or verify keys (`connect`, `tax`).
    pub api_key_pepper_secret: Option<String>,
    /// Customer-managed KMS key that encrypts the Sequence credential secrets (`SECRETS_KMS_KEY_ID`); unset, the
    /// account's `aws/secretsmanager` key (tests, moto).
    pub secrets_kms_key_id: Option<String>,
    /// Keys issued before the pepper (unkeyed check) are accepted up to and including this day
    /// (`LEGACY_API_KEYS_UNTIL`, default 2027-02-24; `none` refuses them now).
    pub legacy_api_keys_until: Option<chrono::NaiveDate>,
    /// Public base URL of the webhook endpoint (`WEBHOOK_BASE_URL`, e.g. the API's stage URL): connect subscribes
    /// `{base}/webhooks/sequence/{token}` in Sequence. Unset, connections sync on their schedule only.
    pub webhook_base_url: Option<String>,
}

/// The default last day of keys issued before the pepper: 90 days after it shipped (2026-11-26).
pub const LEGACY_API_KEYS_UNTIL: &str = "2027-02-24";

#[derive(Debug, thiserror::Error)]
#[error("configuration {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Builds the configuration from any key → value lookup (pure; tests pass a closure over a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let string = |name: &'static str, default: &str| get(name).unwrap_or_else(|| default.to_owned());
        let number = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n <= max => Ok(n),
                    Ok(_) => Err(ConfigError { name, reason: format!("must be at most {max}") }),
                    Err(_) => Err(ConfigError { name, reason: format!("{v:?} is not a whole number") }),
                },
            }
        };
        let url = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            let v = string(name, default);
            if v.starts_with("http://") || v.starts_with("https://") {
                Ok(v.trim_end_matches('/').to_owned())
            } else {
                Err(ConfigError { name, reason: format!("{v:?} is not an http(s) URL") })
            }
        };
        let small = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let sync_safety_margin = Duration::from_millis(number("SYNC_SAFETY_MARGIN_MS", 20_000, 600_000)?);
        let sync_checkpoint_margin = Duration::from_millis(number("SYNC_CHECKPOINT_MARGIN_MS", 5_000, 600_000)?);
        if sync_checkpoint_margin >= sync_safety_margin && !sync_safety_margin.is_zero() {
            return Err(ConfigError {
                name: "SYNC_CHECKPOINT_MARGIN_MS",
                reason: format!(
                    "must be less than SYNC_SAFETY_MARGIN_MS ({} ms): the checkpoint's reserve is part of the run's safety margin",
                    sync_safety_margin.as_millis()
                ),
            });
        }
        Ok(Config {
            table_name: string("TABLE_NAME", "sphere-connector"),
            secret_prefix: string("SECRET_PREFIX", "sphere-connector").trim_end_matches('/').to_owned(),
            sync_queue_url: get("SYNC_QUEUE_URL").filter(|s| !s.is_empty()),
            sequence_sandbox_url: url("SEQUENCE_SANDBOX_URL", SEQUENCE_SANDBOX_URL)?,
            sequence_production_url: url("SEQUENCE_PRODUCTION_URL", SEQUENCE_PRODUCTION_URL)?,
            sequence_requests_per_minute: small(number("SEQUENCE_REQUESTS_PER_MINUTE", 1_000, 100_000)?.max(1)),
            key_cache_ttl: Duration::from_secs(number("KEY_CACHE_SECONDS", 60, 60)?),
            tax_key_requests_per_minute: small(number("TAX_KEY_REQUESTS_PER_MINUTE", 1_500, 60_000_000)?.max(1)),
            sync_lookback_days: small(number("SYNC_LOOKBACK_DAYS", 45, 3_650)?),
            sync_reconcile_days: small(number("SYNC_RECONCILE_DAYS", 7, 365)?.max(1)),
            sync_interval_minutes: small(number("SYNC_INTERVAL_MINUTES", 15, 1_440)?.max(1)),
            sync_safety_margin,
            sync_checkpoint_margin: sync_checkpoint_margin.min(sync_safety_margin),
            sync_lease: Duration::from_secs(number("SYNC_LEASE_SECONDS", 120, 3_600)?.max(1)),
            calculation_ttl_days: small(number("CALCULATION_TTL_DAYS", 90, 3_650)?),
            secrets_kms_key_id: get("SECRETS_KMS_KEY_ID").filter(|s| !s.is_empty()),
            api_key_pepper_secret: get("API_KEY_PEPPER_SECRET_ID").filter(|s| !s.is_empty()),
            webhook_base_url: match get("WEBHOOK_BASE_URL").filter(|s| !s.is_empty()) {
                Some(_) => Some(url("WEBHOOK_BASE_URL", "")?.trim_end_matches('/').to_owned()),
                None => None,
            },
            legacy_api_keys_until: match string("LEGACY_API_KEYS_UNTIL", LEGACY_API_KEYS_UNTIL).trim() {
                "none" => None,
                v => Some(chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| ConfigError {
                    name: "LEGACY_API_KEYS_UNTIL",
                    reason: format!("{v:?} is neither a date (YYYY-MM-DD) nor \"none\""),
                })?),
            },
        })
    }

    /// Defaults only (what `from_lookup` gives for an empty environment).
    pub fn defaults() -> Self {
        match Self::from_lookup(|_| None) {
            Ok(c) => c,
            Err(e) => unreachable!("defaults are valid: {e}"),
        }
    }

    /// The sync schedule's interval as a duration.
    pub fn sync_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.sync_interval_minutes) * 60)
    }

    /// Whether a key issued before the pepper is still accepted at `now_ms`.
    pub fn accepts_legacy_api_keys(&self, now_ms: i64) -> bool {
        let today = chrono::DateTime::from_timestamp_millis(now_ms).map(|t| t.date_naive());
        matches!((self.legacy_api_keys_until, today), (Some(until), Some(day)) if day <= until)
    }

    pub fn sequence_url(&self, env: crate::domain::Environment) -> &str {
        match env {
            crate::domain::Environment::Sandbox => &self.sequence_sandbox_url,
            crate::domain::Environment::Production => &self.sequence_production_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = Config::defaults();
        assert_eq!(c.sequence_sandbox_url, SEQUENCE_SANDBOX_URL);
        assert_eq!(c.sequence_production_url, SEQUENCE_PRODUCTION_URL);
        assert_eq!(c.sequence_requests_per_minute, 1_000);
        assert_eq!(c.key_cache_ttl, Duration::from_secs(60));
        assert_eq!(c.sync_lookback_days, 45);
        assert_eq!((c.sync_safety_margin, c.sync_checkpoint_margin), (Duration::from_secs(20), Duration::from_secs(5)));
    }

    #[test]
    fn the_checkpoint_margin_must_be_inside_the_safety_margin() {
        let c = cfg(&[("SYNC_CHECKPOINT_MARGIN_MS", "2000"), ("SYNC_SAFETY_MARGIN_MS", "10000")]).unwrap();
        assert_eq!(c.sync_checkpoint_margin, Duration::from_secs(2));
        for (checkpoint, safety) in [("20000", "20000"), ("30000", "20000")] {
            let e = cfg(&[("SYNC_CHECKPOINT_MARGIN_MS", checkpoint), ("SYNC_SAFETY_MARGIN_MS", safety)]).unwrap_err();
            assert_eq!(e.name, "SYNC_CHECKPOINT_MARGIN_MS");
        }
        // no safety margin at all (tests): no checkpoint margin either
        let c = cfg(&[("SYNC_SAFETY_MARGIN_MS", "0")]).unwrap();
        assert_eq!(c.sync_checkpoint_margin, Duration::ZERO);
    }

    #[test]
    fn overrides_and_errors() {
        let c = cfg(&[("SEQUENCE_SANDBOX_URL", "http://127.0.0.1:4010/sandbox/api/"), ("TABLE_NAME", "t1")]).unwrap();
        assert_eq!(c.sequence_sandbox_url, "http://127.0.0.1:4010/sandbox/api");
        assert_eq!(c.table_name, "t1");
        assert_eq!(cfg(&[("KEY_CACHE_SECONDS", "61")]).unwrap_err().name, "KEY_CACHE_SECONDS");
        assert!(cfg(&[("SYNC_LOOKBACK_DAYS", "x")]).is_err());
        assert!(cfg(&[("SEQUENCE_PRODUCTION_URL", "ftp://x")]).is_err());
    }

    #[test]
    fn legacy_api_keys_have_a_sunset() {
        let day = |d: &str| {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap()
                .and_utc()
                .timestamp_millis()
        };
        let c = Config::defaults();
        assert!(c.accepts_legacy_api_keys(day("2027-02-24")));
        assert!(!c.accepts_legacy_api_keys(day("2027-02-25")));
        assert!(!cfg(&[("LEGACY_API_KEYS_UNTIL", "none")]).unwrap().accepts_legacy_api_keys(day("2026-01-01")));
        assert_eq!(cfg(&[("LEGACY_API_KEYS_UNTIL", "soon")]).unwrap_err().name, "LEGACY_API_KEYS_UNTIL");
        assert_eq!(
            cfg(&[("API_KEY_PEPPER_SECRET_ID", "arn:x")]).unwrap().api_key_pepper_secret.as_deref(),
            Some("arn:x")
        );
    }
}
