//! One CloudWatch Embedded Metric Format line per calculation refused for missing tax content: on stdout inside
//! Lambda (CloudWatch Logs turns it into the `NoRateData` metric), as a debug log line elsewhere.
//!
//! Why a metric and not only a log: a registered region without rates is a content gap we must fill before the
//! user's next invoice, and it is not an outage (no retry fixes it), so it gets its own count. No per-region
//! dimension (one custom metric per region is not worth its cost); the region is a property of the line.

use serde_json::{Value, json};

/// The metric namespace.
pub const NAMESPACE: &str = "SphereConnector/Tax";

/// The EMF document of one refused calculation (pure).
pub fn no_rate_data_line(timestamp_ms: i64, org: &str, detail: &str) -> Value {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[]],
                "Metrics": [{"Name": "NoRateData", "Unit": "Count"}]
            }]
        },
        "NoRateData": 1,
        "org": org,
        "detail": detail,
    })
}

/// Writes [`no_rate_data_line`] where CloudWatch picks it up.
pub fn emit_no_rate_data(timestamp_ms: i64, org: &str, detail: &str) {
    let line = no_rate_data_line(timestamp_ms, org, detail);
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        println!("{line}");
    } else {
        tracing::debug!(metrics = %line, "tax metrics");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_metric_has_a_value_of_one() {
        let v = no_rate_data_line(1, "org_a", "no tax rates in our data for US-UT on 2018-06-01");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "NoRateData");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(v["NoRateData"], 1);
    }
}
