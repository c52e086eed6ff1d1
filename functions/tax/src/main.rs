//! Lambda entry point of `tax`: builds the DynamoDB client, reads the API key pepper and loads the tax content
//! once (the content is parsed on a blocking thread while the network reads are in flight), then serves API
//! Gateway events.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    shared::lambda::init_tracing();
    let content = tokio::task::spawn_blocking(|| {
        let t = std::time::Instant::now();
        shared::tax::Engine::global().map(|_| t.elapsed().as_secs_f64() * 1e3)
    });
    let (config, items, pepper) = shared::aws::items_and_pepper_from_env().await?;
    let aws_ms = started.elapsed().as_secs_f64() * 1e3;
    let content_ms = content.await??;
    let state = &tax::State::new(config, items, std::sync::Arc::new(shared::clock::SystemClock), pepper)?;
    tracing::info!(init_ms = started.elapsed().as_secs_f64() * 1e3, aws_ms, content_ms, "initialised");
    run(service_fn(move |event: Request| async move { Ok::<_, Error>(tax::handle_event(state, event).await) })).await
}
