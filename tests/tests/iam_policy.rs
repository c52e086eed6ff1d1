//! Least privilege, enforced: each function's IAM statements in template.yaml name exactly the actions
//! its code calls (the list kept in each function crate), every one of those is an action some adapter
//! declares, and every SDK operation an adapter's source calls is covered by its declared actions. So a
//! new SDK call without a policy change fails here.

use std::collections::BTreeSet;

const TEMPLATE: &str = include_str!("../../template.yaml");

/// The text of one top-level resource of the template: from its name to the next line at the same or
/// a shallower indentation.
fn resource_block(name: &str) -> &'static str {
    let start = TEMPLATE.find(&format!("\n  {name}:\n")).unwrap_or_else(|| panic!("{name} not in template.yaml")) + 1;
    let rest = &TEMPLATE[start..];
    let end = rest
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| {
            let line = &rest[i..];
            !line.is_empty() && !line.starts_with('\n') && !line.starts_with("   ")
        })
        .unwrap_or(rest.len());
    &rest[..end]
}

fn actions_in(text: &str) -> BTreeSet<String> {
    // Actions are the list items of `Action:` ("- dynamodb:PutItem"); condition keys ("dynamodb:LeadingKeys:")
    // are map keys and do not count.
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let Some(item) = line.trim().strip_prefix("- ") else { continue };
        for service in ["dynamodb", "secretsmanager", "sqs"] {
            if let Some(rest) = item.strip_prefix(&format!("{service}:")) {
                let name: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
                if !name.is_empty() {
                    out.insert(format!("{service}:{name}"));
                }
            }
        }
    }
    out
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(std::string::ToString::to_string).collect()
}

#[test]
fn each_function_policy_is_exactly_what_its_code_calls() {
    for (resource, code) in [
        ("ConnectFunction", connect::IAM_ACTIONS),
        ("SyncFunction", sync::IAM_ACTIONS),
        ("TaxFunction", tax::IAM_ACTIONS),
        ("WebhookFunction", webhook::IAM_ACTIONS),
    ] {
        assert_eq!(actions_in(resource_block(resource)), set(code), "{resource} policy vs its IAM_ACTIONS");
    }
    let tax_secrets: Vec<_> = tax::IAM_ACTIONS.iter().filter(|a| a.starts_with("secretsmanager:")).collect();
    assert_eq!(tax_secrets, [&"secretsmanager:GetSecretValue"], "tax only reads (the pepper)");
}

/// The IAM statements of a function's policy: (actions, the text of its Resource and Condition).
fn statements(block: &str) -> Vec<(BTreeSet<String>, String)> {
    let policies = &block[block.find("      Policies:").expect("a Policies section")..];
    policies
        .split("- Effect: Allow")
        .skip(1)
        .map(|st| {
            let rest = st.find("Resource:").map_or("", |i| &st[i..]);
            (actions_in(st), rest.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n"))
        })
        .collect()
}

const SEQUENCE_SECRETS: &str =
    r#"!Sub "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecretPrefix}/sequence/*""#;

/// The webhook signing secrets: `{prefix}/sequence/{org}/{conn}/webhook` (+ the ARN's random suffix).
const WEBHOOK_SECRETS: &str = r#"!Sub "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecretPrefix}/sequence/*/webhook-*""#;

#[test]
fn the_webhook_function_reads_the_signing_secrets_only() {
    let reads: Vec<_> = statements(resource_block("WebhookFunction"))
        .into_iter()
        .filter(|(actions, _)| actions.contains("secretsmanager:GetSecretValue"))
        .collect();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].1.trim(), format!("Resource: {WEBHOOK_SECRETS}"));
    // the names it reads end in /webhook, which only that pattern (not a credentials secret) matches
    assert_eq!(shared::connection::webhook_secret_name("p/sequence/org_a/conn_a"), "p/sequence/org_a/conn_a/webhook");
}

#[test]
fn only_sync_reads_sequence_secrets() {
    // connect writes, rotates and deletes the Sequence credentials but never reads them back; tax never touches
    // them. Both read one secret only: the API key pepper. Only sync, which calls Sequence on the schedule, may
    // read a tenant's secret.
    for function in ["ConnectFunction", "TaxFunction"] {
        let reads: Vec<_> = statements(resource_block(function))
            .into_iter()
            .filter(|(actions, _)| actions.contains("secretsmanager:GetSecretValue"))
            .collect();
        assert_eq!(reads.len(), 1, "{function}: one GetSecretValue statement");
        let (actions, resource) = &reads[0];
        assert_eq!(actions.len(), 1, "{function}: GetSecretValue alone in its statement");
        assert_eq!(resource.trim(), "Resource: !Ref ApiKeyPepperSecret", "{function} reads the pepper only");
    }
    let sync_reads: Vec<_> = statements(resource_block("SyncFunction"))
        .into_iter()
        .filter(|(actions, _)| actions.contains("secretsmanager:GetSecretValue"))
        .collect();
    assert_eq!(sync_reads.len(), 1);
    assert_eq!(sync_reads[0].1.trim(), format!("Resource: {SEQUENCE_SECRETS}"));
    // the pepper lives outside the Sequence secrets' prefix, so sync's grant does not cover it
    let pepper = resource_block("ApiKeyPepperSecret");
    assert!(pepper.contains(r#"Name: !Sub "${SecretPrefix}/api-key-pepper""#), "{pepper}");
}

#[test]
fn the_sequence_secrets_key_decrypts_for_sync_and_encrypts_for_connect_only() {
    let key = resource_block("SequenceSecretsKey");
    let statements: Vec<&str> = key.split("- Sid: ").skip(1).collect();
    assert_eq!(statements.len(), 4, "{key}");
    let crypto = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt", "kms:*"];
    for st in &statements {
        let grants_use = crypto.iter().any(|a| st.contains(&format!("- {a}")));
        if st.contains(":root") {
            assert!(!grants_use, "the account administers the key but may not use it: {st}");
        } else {
            // a function role, through Secrets Manager, for our Sequence secrets only
            assert!(st.contains("kms:ViaService: !Sub \"secretsmanager.${AWS::Region}.amazonaws.com\""), "{st}");
            let arn = if st.contains("WebhookFunctionRole") { WEBHOOK_SECRETS } else { SEQUENCE_SECRETS };
            let arn = arn.trim_start_matches("!Sub ");
            assert!(st.contains(&format!("kms:EncryptionContext:SecretARN: !Sub {arn}")), "{st}");
        }
    }
    let principal = |role: &str| statements.iter().find(|s| s.contains(&format!("!GetAtt {role}.Arn"))).copied();
    let sync = principal("SyncFunctionRole").expect("a statement for sync");
    assert!(sync.contains("- kms:Decrypt") && !sync.contains("GenerateDataKey"), "{sync}");
    let connect = principal("ConnectFunctionRole").expect("a statement for connect");
    assert!(connect.contains("- kms:GenerateDataKey"), "{connect}");
    assert!(principal("TaxFunctionRole").is_none(), "tax may not use the key");
    let webhook = principal("WebhookFunctionRole").expect("a statement for webhook");
    assert!(webhook.contains("- kms:Decrypt") && !webhook.contains("GenerateDataKey"), "{webhook}");
    // new secrets are created under it, and no function policy grants KMS on its own
    assert!(resource_block("ConnectFunction").contains("SECRETS_KMS_KEY_ID: !GetAtt SequenceSecretsKey.Arn"));
    for function in ["ConnectFunction", "SyncFunction", "TaxFunction", "WebhookFunction"] {
        assert!(!resource_block(function).contains("kms:"), "{function}");
    }
    for function in ["ConnectFunction", "TaxFunction"] {
        assert!(resource_block(function).contains("API_KEY_PEPPER_SECRET_ID: !Ref ApiKeyPepperSecret"), "{function}");
    }
}

#[test]
fn tax_writes_only_calculation_records() {
    // The PutItem statement of the public function carries a LeadingKeys condition on the calculation records'
    // partition-key prefix, and that is where the code writes them.
    let block = resource_block("TaxFunction");
    let put = &block[block.find("- dynamodb:PutItem").expect("a PutItem statement")..];
    assert!(put.contains("dynamodb:LeadingKeys:"), "{put}");
    let prefix = shared::layout::CALCULATION_PK_PREFIX;
    assert!(put.contains(&format!("\"{prefix}*\"")), "{put}");
    let key = shared::layout::calculation_key(&shared::domain::OrgId::parse("org_a").unwrap(), "c1");
    assert!(key.pk.starts_with(prefix), "{key:?}");
    // No other statement of the function grants PutItem.
    assert_eq!(block.matches("dynamodb:PutItem").count(), 1, "{block}");
}

#[test]
fn every_function_action_is_declared_by_an_adapter() {
    let mut declared = set(shared::store::dynamo::IAM_ACTIONS);
    declared.extend(set(shared::store::secrets_manager::IAM_ACTIONS));
    declared.extend(set(shared::queue::sqs::IAM_ACTIONS));
    for code in [connect::IAM_ACTIONS, sync::IAM_ACTIONS, tax::IAM_ACTIONS] {
        for a in code {
            assert!(declared.contains(*a), "{a} is not declared by any adapter");
        }
    }
}

/// SDK operation (snake_case method) → IAM actions it needs.
fn needs(service: &str, op: &str) -> Vec<String> {
    let pascal: String = op
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    match (service, op) {
        // authorised per contained operation
        ("dynamodb", "transact_write_items") => {
            vec!["dynamodb:PutItem".into(), "dynamodb:DeleteItem".into(), "dynamodb:ConditionCheckItem".into()]
        }
        _ => vec![format!("{service}:{pascal}")],
    }
}

/// SDK calls of the form `.client…\n….operation()` in an adapter's source.
fn sdk_calls(source: &str, ops: &[&str]) -> BTreeSet<String> {
    ops.iter().filter(|op| source.contains(&format!(".{op}()"))).map(std::string::ToString::to_string).collect()
}

#[test]
fn adapters_declare_every_sdk_operation_they_call() {
    const DYNAMO_OPS: &[&str] = &[
        "get_item",
        "put_item",
        "delete_item",
        "update_item",
        "query",
        "scan",
        "batch_get_item",
        "batch_write_item",
        "transact_write_items",
        "transact_get_items",
        "create_table",
        "update_time_to_live",
        "describe_table",
        "delete_table",
        "list_tables",
    ];
    const SECRETS_OPS: &[&str] = &[
        "create_secret",
        "put_secret_value",
        "get_secret_value",
        "delete_secret",
        "restore_secret",
        "describe_secret",
        "update_secret",
        "tag_resource",
        "list_secrets",
        "rotate_secret",
    ];
    const SQS_OPS: &[&str] = &["send_message", "send_message_batch", "receive_message", "delete_message"];
    // Table provisioning is test/tooling only (the SAM template creates the table); no function calls it.
    const TOOLING_ONLY: &[&str] = &["create_table", "update_time_to_live"];
    for (service, source, ops, declared) in [
        ("dynamodb", include_str!("../../shared/src/store/dynamo.rs"), DYNAMO_OPS, shared::store::dynamo::IAM_ACTIONS),
        (
            "secretsmanager",
            include_str!("../../shared/src/store/secrets_manager.rs"),
            SECRETS_OPS,
            shared::store::secrets_manager::IAM_ACTIONS,
        ),
        ("sqs", include_str!("../../shared/src/queue.rs"), SQS_OPS, shared::queue::sqs::IAM_ACTIONS),
    ] {
        let declared = set(declared);
        let calls = sdk_calls(source, ops);
        assert!(!calls.is_empty(), "{service}: found no SDK calls — is the scan still right?");
        for op in calls.iter().filter(|op| !TOOLING_ONLY.contains(&op.as_str())) {
            for action in needs(service, op) {
                assert!(declared.contains(&action), "{service} adapter calls {op} but does not declare {action}");
            }
        }
    }
    // tags are set by CreateSecret's Tags parameter, which needs TagResource
    assert!(shared::store::secrets_manager::IAM_ACTIONS.contains(&"secretsmanager:TagResource"));
}

#[test]
fn scan_sees_a_missing_action() {
    // the checks above would fail if a policy lost an action
    let mut connect = set(connect::IAM_ACTIONS);
    connect.remove("sqs:SendMessage");
    assert_ne!(actions_in(resource_block("ConnectFunction")), connect);
    assert!(actions_in(resource_block("TaxFunction")).len() == 5);
}
