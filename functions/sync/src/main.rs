//! Lambda entry point of `sync`: builds the AWS clients once, then handles scheduled ticks and SQS
//! messages until the runtime stops it.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    shared::lambda::init_tracing();
    let app = shared::aws::app_from_env(started, shared::aws::Needs { queue: true, key_pepper: false }).await?;
    let state = &sync::State::of(&app);
    run(service_fn(move |event: LambdaEvent<Value>| sync::handle_lambda(state, event))).await
}
