//! Lambda entry point of `connect`: builds the AWS clients once, then serves API Gateway events.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    shared::lambda::init_tracing();
    let app = &shared::aws::app_from_env(started, shared::aws::Needs { queue: true, key_pepper: true }).await?;
    run(service_fn(move |event: Request| async move { Ok::<_, Error>(connect::handle_event(app, event).await) })).await
}
