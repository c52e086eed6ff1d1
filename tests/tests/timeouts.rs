//! Timeouts that must nest: a Lambda function has to outlive the budgets its code gives the calls it makes, or
//! the runtime kills it mid-call and the caller sees a gateway error instead of our answer.

const TEMPLATE: &str = include_str!("../../template.yaml");

/// `Timeout: N` inside the named resource's block, else the Globals' (seconds).
fn timeout_of(resource: &str) -> u64 {
    let number = |text: &str| {
        text.lines().find_map(|l| l.trim().strip_prefix("Timeout:").map(|v| v.trim().parse::<u64>().expect("a number")))
    };
    let start = TEMPLATE.find(&format!("\n  {resource}:\n")).unwrap_or_else(|| panic!("{resource} not in template"));
    let block: String = TEMPLATE[start + 1..]
        .lines()
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .collect::<Vec<_>>()
        .join("\n");
    number(&block)
        .or_else(|| {
            let g = TEMPLATE.find("\nGlobals:\n").expect("Globals");
            number(&TEMPLATE[g..TEMPLATE[g + 1..].find("\nResources:").map_or(TEMPLATE.len(), |e| g + 1 + e)])
        })
        .expect("a Timeout")
}

#[test]
fn connect_outlives_its_sequence_budget() {
    let budget = connect::credentials::CHECK_BUDGET.as_secs();
    let timeout = timeout_of("ConnectFunction");
    // Room after the budget to answer 503 and store the outcome; API Gateway's own limit is 30 s.
    assert!(timeout >= budget + 5, "ConnectFunction Timeout {timeout} s vs its Sequence budget {budget} s");
    assert!(timeout <= 29, "API Gateway gives up at 30 s: {timeout} s");
}
