//! Deployment settings that only template.yaml holds: one interval for the sync schedule and the code,
//! concurrency capped where a throttle cannot dead-letter a job, a dead-letter queue for the schedule, and the tax
//! API throttled at its stage with an access log that holds no secrets.

const TEMPLATE: &str = include_str!("../../template.yaml");

/// The text of the named resource: from its line to the next line indented two spaces or less.
fn block(resource: &str) -> String {
    let start = TEMPLATE.find(&format!("\n  {resource}:\n")).unwrap_or_else(|| panic!("{resource} not in template"));
    TEMPLATE[start + 1..]
        .lines()
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_schedule_and_the_sync_interval_come_from_one_parameter() {
    let sync = block("SyncFunction");
    assert!(sync.contains(r#"ScheduleExpression: !Sub "rate(${SyncIntervalMinutes} minutes)""#), "{sync}");
    let globals =
        &TEMPLATE[TEMPLATE.find("\nGlobals:\n").expect("Globals")..TEMPLATE.find("\nResources:").expect("Resources")];
    assert!(globals.contains("SYNC_INTERVAL_MINUTES: !Ref SyncIntervalMinutes"), "{globals}");
    // "rate(1 minutes)" is not a valid expression: the parameter starts at 2.
    let param = &TEMPLATE[TEMPLATE.find("\n  SyncIntervalMinutes:\n").expect("the parameter")..];
    assert!(param.lines().take(6).any(|l| l.trim() == "MinValue: 2"), "{param}");
}

#[test]
fn sync_concurrency_is_capped_on_the_trigger_and_the_schedule_has_a_dead_letter_queue() {
    let sync = block("SyncFunction");
    assert!(!sync.contains("ReservedConcurrentExecutions"), "throttled receives would dead-letter jobs: {sync}");
    assert!(sync.contains("MaximumConcurrency: !Ref SyncMaxConcurrency"), "{sync}");
    assert!(sync.contains("DeadLetterConfig:"), "{sync}");
}

#[test]
fn the_tax_api_is_throttled_and_its_access_log_holds_no_headers_or_bodies() {
    let api = block("TaxApi");
    assert!(api.contains("ThrottlingBurstLimit: !Ref TaxApiBurstLimit"), "{api}");
    assert!(api.contains("ThrottlingRateLimit: !Ref TaxApiRateLimit"), "{api}");
    let format = api.lines().find(|l| l.trim().starts_with("Format:")).expect("an access-log format");
    assert!(format.contains("$context.requestId") && format.contains("$context.status"), "{format}");
    for leak in ["header", "$request", "body", "authorizer", "api_key", "apiKey"] {
        assert!(!format.contains(leak), "the access log must not carry {leak}: {format}");
    }
}
