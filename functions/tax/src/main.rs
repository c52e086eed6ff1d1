//! Lambda entry point of `tax`: builds the AWS clients once, then serves API Gateway events.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    shared::lambda::init_tracing();
    // Load the tax content now, not on the first invoice (~14 ms, once per container).
    shared::tax::Engine::global()?;
    let app = &shared::aws::app_from_env(started, shared::aws::Needs { queue: false, key_pepper: true }).await?;
    run(service_fn(move |event: Request| async move { Ok::<_, Error>(tax::handle_event(app, event).await) })).await
}
