//! Lambda entry point of `sync`: builds the AWS clients once, then handles scheduled ticks and SQS
//! messages until the runtime stops it.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;
use shared::app::App;
use shared::aws::AwsStores;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    lambda_runtime::tracing::init_default_subscriber();
    let config = shared::config::Config::from_env()?;
    let stores = AwsStores::new(&shared::aws::load().await, &config.table_name);
    let queue = shared::aws::sync_queue(&stores, &config)?;
    let app = App::new(config, stores, Arc::new(shared::clock::SystemClock)).with_queue(queue);
    shared::aws::warm_up(&app.store).await;
    tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1e3, "initialised");
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| sync::handle_lambda(app, event))).await
}
