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
    pub fn new(sdk: &aws_config::SdkConfig, config: &crate::config::Config) -> Self {
        AwsStores {
            items: DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name),
            secrets: SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(sdk))
                .with_kms_key(config.secrets_kms_key_id.clone()),
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

impl crate::store::ItemStore for AwsStores {
    async fn get(&self, key: &crate::store::Key) -> Result<Option<crate::store::Item>, crate::store::StoreError> {
        self.items.get(key).await
    }
    async fn get_many(
        &self,
        keys: &[crate::store::Key],
    ) -> Result<Vec<Option<crate::store::Item>>, crate::store::StoreError> {
        self.items.get_many(keys).await
    }
    async fn query(&self, q: &crate::store::Query) -> Result<crate::store::Page, crate::store::StoreError> {
        self.items.query(q).await
    }
    async fn write(&self, ops: Vec<crate::store::WriteOp>) -> Result<(), crate::store::StoreError> {
        self.items.write(ops).await
    }
    // `write_deferred` stays an ordinary, awaited PutItem: a Lambda may be frozen right after it answers.
}

impl crate::store::SecretStore for AwsStores {
    async fn put_secret(
        &self,
        name: &str,
        value: &crate::store::SecretValue,
        org: &crate::domain::OrgId,
    ) -> Result<(), crate::store::SecretError> {
        self.secrets.put_secret(name, value, org).await
    }
    async fn get_secret(&self, name: &str) -> Result<Option<crate::store::SecretValue>, crate::store::SecretError> {
        self.secrets.get_secret(name).await
    }
    async fn delete_secret(&self, name: &str) -> Result<(), crate::store::SecretError> {
        self.secrets.delete_secret(name).await
    }
}

/// The SQS sync queue from `SYNC_QUEUE_URL`.
pub fn sync_queue(
    stores: &AwsStores,
    config: &crate::config::Config,
) -> Result<std::sync::Arc<dyn crate::queue::SyncQueue>, crate::config::ConfigError> {
    let url = config
        .sync_queue_url
        .clone()
        .ok_or(crate::config::ConfigError { name: "SYNC_QUEUE_URL", reason: "must be set for this function".into() })?;
    Ok(std::sync::Arc::new(crate::queue::sqs::SqsQueue { client: stores.sqs.clone(), queue_url: url }))
}

/// What a function needs besides the store, built at cold start.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// The SQS sync queue (`SYNC_QUEUE_URL`): `connect` and `sync` send sync work, `tax` none.
    pub queue: bool,
    /// The API key pepper (`API_KEY_PEPPER_SECRET_ID`): `connect` issues keys (`tax` reads it through
    /// [`items_and_pepper_from_env`]).
    pub key_pepper: bool,
}

/// Everything a Lambda main builds once at cold start: configuration from the environment, the SDK
/// clients, what the function [`Needs`], and one warm-up read (beside the pepper read, not after it).
/// Logs the init time.
pub async fn app_from_env(
    started: std::time::Instant,
    needs: Needs,
) -> Result<crate::app::App<AwsStores>, crate::config::ConfigError> {
    let config = crate::config::Config::from_env()?;
    let stores = AwsStores::new(&load().await, &config);
    let queue = if needs.queue { Some(sync_queue(&stores, &config)?) } else { None };
    let pepper_secret = if needs.key_pepper { Some(pepper_secret_id(&config)?) } else { None };
    let (pepper, ()) = tokio::join!(
        async {
            match &pepper_secret {
                Some(id) => load_pepper(&stores.secrets, id).await.map(Some),
                None => Ok(None),
            }
        },
        warm_up(&stores.items)
    );
    let pepper = pepper?;
    let mut app = crate::app::App::new(config, stores, std::sync::Arc::new(crate::clock::SystemClock));
    if let Some(q) = queue {
        app = app.with_queue(q);
    }
    if let Some(p) = pepper {
        app = app.with_key_pepper(p);
    }
    tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1e3, "initialised");
    Ok(app)
}

/// The tax function's AWS side of cold start: configuration, the DynamoDB adapter alone, and the API key pepper,
/// read once through a Secrets Manager client that is dropped afterwards — the function keeps no secret store.
/// The caller logs the init time once it has also loaded the tax content.
pub async fn items_and_pepper_from_env()
-> Result<(crate::config::Config, DynamoStore, crate::api_key::KeyPepper), crate::config::ConfigError> {
    let config = crate::config::Config::from_env()?;
    let sdk = load().await;
    let items = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config.table_name);
    let secrets = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk));
    let id = pepper_secret_id(&config)?;
    let (pepper, ()) = tokio::join!(load_pepper(&secrets, &id), warm_up(&items));
    let pepper = pepper?;
    Ok((config, items, pepper))
}

fn pepper_secret_id(config: &crate::config::Config) -> Result<String, crate::config::ConfigError> {
    config.api_key_pepper_secret.clone().ok_or(crate::config::ConfigError {
        name: "API_KEY_PEPPER_SECRET_ID",
        reason: "must be set for this function".into(),
    })
}

async fn load_pepper(
    secrets: &SecretsManagerStore,
    id: &str,
) -> Result<crate::api_key::KeyPepper, crate::config::ConfigError> {
    crate::api_key::load_pepper(secrets, id)
        .await
        .map_err(|e| crate::config::ConfigError { name: "API_KEY_PEPPER_SECRET_ID", reason: e.to_string() })
}

/// One cheap read at init so the first real request does not pay DNS + TLS set-up (~750 ms at low
/// memory sizes). Failure is only logged: the function still starts.
pub async fn warm_up(items: &impl crate::store::ItemStore) {
    if let Err(e) = items.get(&crate::store::Key::new("WARMUP", "WARMUP")).await {
        tracing::warn!(error = %e, "warm-up read failed");
    }
}
