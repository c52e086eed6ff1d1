//! Shared set-up of the moto-backed tests: a fresh DynamoDB table and SQS queue in moto, and an `App`
//! over them with the real SQS queue adapter.

use shared::app::App;
use shared::aws::AwsStores;
use shared::config::Config;
use std::sync::Arc;

/// `None` outside CI when moto is not running (see `moto_endpoint_for_tests`). Returns the queue URL.
pub async fn moto_app(mut config: Config) -> Option<(App<AwsStores>, String)> {
    let endpoint = shared::aws::moto_endpoint_for_tests()?;
    let sdk = shared::aws::emulator(&endpoint).await;
    config.table_name = format!("t-{}", shared::domain::new_uuid());
    let stores = AwsStores::new(&sdk, &config);
    stores.items.create_table().await.expect("create table in moto");
    let created = stores.sqs.create_queue().queue_name(format!("q-{}", shared::domain::new_uuid())).send().await;
    let queue_url = created.expect("create queue in moto").queue_url().unwrap_or_default().to_owned();
    config.sync_queue_url = Some(queue_url.clone());
    let queue = shared::aws::sync_queue(&stores, &config).expect("queue configured");
    Some((App::new(config, stores, Arc::new(shared::clock::SystemClock)).with_queue(queue), queue_url))
}
