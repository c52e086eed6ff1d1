//! Lambda entry point of `connect`: builds the AWS clients once, then serves API Gateway events.

use lambda_http::{Error, Request, run, service_fn};
use shared::app::App;
use shared::aws::AwsStores;
use shared::web::console_error;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = shared::config::Config::from_env()?;
    let stores = AwsStores::new(&shared::aws::load().await, &config.table_name);
    let app = App::new(config, stores, Arc::new(shared::clock::SystemClock));
    let app = &app;
    run(service_fn(move |event: Request| async move {
        let principal = shared::lambda::jwt_principal(&event);
        let resp = match (principal, shared::lambda::into_http(event)) {
            (None, _) => {
                console_error(http::StatusCode::UNAUTHORIZED, "unauthorized", "missing or invalid organization claims")
            }
            (_, Err(_)) => {
                console_error(http::StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "request body is too large")
            }
            (Some(p), Ok(req)) => connect::handle(app, p, req).await,
        };
        Ok::<_, Error>(shared::lambda::into_lambda(resp))
    }))
    .await
}
