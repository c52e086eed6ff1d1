//! Lambda entry point of `webhook`: builds the AWS clients once (DynamoDB, Secrets Manager for the signing
//! secrets, the sync queue), then serves API Gateway events.

use lambda_http::{Error, Request, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let started = std::time::Instant::now();
    shared::lambda::init_tracing();
    let app = shared::aws::app_from_env(started, shared::aws::Needs { queue: true, key_pepper: false }).await?;
    let state = &webhook::State::of(&app);
    run(service_fn(move |event: Request| async move { Ok::<_, Error>(webhook::handle_event(state, event).await) }))
        .await
}
