//! The `sync` function: the scheduled dispatcher (EventBridge → one SQS message per due connection)
//! and the per-connection incremental import of Sequence data into the ledger (SQS → one run).

/// AWS actions this function's code calls (ledger and cursor writes are fenced transactions; the
/// Sequence secret is read, never written; runs out of time re-enqueue themselves).
/// `tests/tests/iam_policy.rs` holds template.yaml to exactly this list.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "secretsmanager:GetSecretValue",
    "sqs:SendMessage",
];
