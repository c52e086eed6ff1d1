//! One CloudWatch Embedded Metric Format line per run: on stdout inside Lambda (which ships it to
//! CloudWatch Logs as metrics), as a debug log line elsewhere (tests count them there).
//!
//! `RunFailed` (0/1) counts every failed run — any run the connection records as a failure or that
//! needs a human — and `ConsecutiveFailures` is the connection's count after this run, which is what
//! template.yaml's `SyncConnectionFailingAlarm` watches. No per-connection dimension: it would be a
//! custom metric per connection; the connection is in the log line for whoever follows the alarm.

use serde_json::{Value, json};
use shared::sync::RunReport;

/// The metric namespace (template.yaml's alarms name it too).
pub const NAMESPACE: &str = "SphereConnector/Sync";

/// What the caller concluded about a run, beside its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunVerdict {
    pub failed: bool,
    /// The connection's failed runs in a row after this one.
    pub consecutive_failures: u32,
}

/// The EMF document of one run (pure).
pub fn line(report: &RunReport, verdict: RunVerdict) -> Value {
    let s = &report.summary;
    json!({
        "_aws": {
            "Timestamp": s.started_at_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [
                    {"Name": "RecordsSeen", "Unit": "Count"},
                    {"Name": "RecordsCreated", "Unit": "Count"},
                    {"Name": "RecordsUpdated", "Unit": "Count"},
                    {"Name": "RecordsQuarantined", "Unit": "Count"},
                    {"Name": "SequenceRequests", "Unit": "Count"},
                    {"Name": "SequenceThrottled", "Unit": "Count"},
                    {"Name": "RunDuration", "Unit": "Milliseconds"},
                    {"Name": "RunFailed", "Unit": "Count"},
                    {"Name": "ConsecutiveFailures", "Unit": "Count"}
                ]
            }]
        },
        "RecordsSeen": s.seen,
        "RecordsCreated": s.created,
        "RecordsUpdated": s.updated,
        "RecordsQuarantined": s.quarantined,
        "SequenceRequests": s.requests,
        "SequenceThrottled": s.throttled,
        "RunDuration": s.duration_ms,
        "RunFailed": u8::from(verdict.failed),
        "ConsecutiveFailures": verdict.consecutive_failures,
        "org": s.org,
        "connection": s.connection,
        "outcome": report.outcome,
    })
}

/// Writes [`line`] where CloudWatch picks it up.
pub fn emit(report: &RunReport, verdict: RunVerdict) {
    let line = line(report, verdict);
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        println!("{line}");
    } else {
        tracing::debug!(metrics = %line, "sync metrics");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::sync::{Outcome, RunSummary};

    #[test]
    fn every_declared_metric_has_a_value_and_a_failed_run_counts_one() {
        let report = RunReport {
            outcome: Outcome::SourceUnavailable { message: "HTTP 500".into() },
            summary: RunSummary { requests: 5, ..RunSummary::default() },
        };
        let v = line(&report, RunVerdict { failed: true, consecutive_failures: 3 });
        let declared = v["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap();
        for m in declared {
            let name = m["Name"].as_str().unwrap();
            assert!(v[name].is_number(), "{name} has no value");
        }
        assert_eq!((v["RunFailed"].as_u64(), v["ConsecutiveFailures"].as_u64()), (Some(1), Some(3)));
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        let ok = line(&report, RunVerdict { failed: false, consecutive_failures: 0 });
        assert_eq!(ok["RunFailed"], 0);
    }

    #[test]
    fn the_template_alarm_watches_a_metric_this_line_carries() {
        let template = include_str!("../../../template.yaml");
        let alarm = template.split("\n  SyncConnectionFailingAlarm:\n").nth(1).expect("the alarm is in template.yaml");
        let alarm = alarm.split("\n\n").next().unwrap_or_default();
        assert!(alarm.contains(&format!("Namespace: {NAMESPACE}")), "{alarm}");
        assert!(alarm.contains("MetricName: ConsecutiveFailures"), "{alarm}");
        let report = RunReport { outcome: Outcome::Done, summary: RunSummary::default() };
        assert!(
            line(&report, RunVerdict { failed: false, consecutive_failures: 0 })["ConsecutiveFailures"].is_number()
        );
    }
}
