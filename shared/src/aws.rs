//! Building AWS SDK clients: once per cold start in the Lambda mains, or against a local emulator
//! (moto) in tests. Production code needs no test hooks: `load` honours `AWS_ENDPOINT_URL`.

use crate::store::{DynamoStore, SecretsManagerStore};

/// The AWS-backed stores a function uses.
#[derive(Clone, Debug)]
pub struct AwsStores {
    pub items: DynamoStore,
    pub secrets: SecretsManagerStore,
    pub sqs: aws_sdk_sqs::Client,
}

/// SDK configuration from the environment (Lambda role credentials, region, optional endpoint).
pub async fn load() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// SDK configuration for an emulator at `endpoint` with dummy credentials (tests, local tooling).
pub async fn emulator(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "static"))
        .load()
        .await
}

impl AwsStores {
    pub fn new(sdk: &aws_config::SdkConfig, table: &str) -> Self {
        AwsStores {
            items: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), table),
            secrets: SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(sdk)),
            sqs: aws_sdk_sqs::Client::new(sdk),
        }
    }
}

/// The emulator endpoint for tests: `MOTO_ENDPOINT`. When it is absent a test skips — unless `CI` is
/// set, where a test that needs moto and cannot have it fails instead of silently passing.
pub fn moto_endpoint_for_tests() -> Option<String> {
    match std::env::var("MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ if std::env::var_os("CI").is_some() => {
            panic!("MOTO_ENDPOINT is not set but CI is: run the tests through scripts/test.sh")
        }
        _ => {
            eprintln!("skipping: MOTO_ENDPOINT not set (scripts/test.sh starts moto and sets it)");
            None
        }
    }
}
