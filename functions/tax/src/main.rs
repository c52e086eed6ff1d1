//! Lambda entry point of `tax`: builds the AWS clients once, then serves API Gateway events.

use lambda_http::{Error, Request, run, service_fn};
use shared::app::App;
use shared::aws::AwsStores;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    lambda_http::tracing::init_default_subscriber();
    let config = shared::config::Config::from_env()?;
    let stores = AwsStores::new(&shared::aws::load().await, &config.table_name);
    let app = App::new(config, stores, Arc::new(shared::clock::SystemClock));
    shared::aws::warm_up(&app.store).await;
    tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1e3, "initialised");
    let app = &app;
    run(service_fn(move |event: Request| async move { Ok::<_, Error>(tax::handle_event(app, event).await) })).await
}
