//! Lambda entry point of `tax`: builds the DynamoDB client and reads the API key pepper once, then serves API
//! Gateway events.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    shared::lambda::init_tracing();
    let (config, items, pepper) = shared::aws::items_and_pepper_from_env(started).await?;
    let state = &tax::State::new(config, items, std::sync::Arc::new(shared::clock::SystemClock), pepper)?;
    run(service_fn(move |event: Request| async move { Ok::<_, Error>(tax::handle_event(state, event).await) })).await
}
