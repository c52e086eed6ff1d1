//! Lambda entry point of `tax`: builds the AWS clients once, then serves API Gateway events.

use lambda_http::{Error, Request, run, service_fn};
use shared::app::App;
use shared::aws::AwsStores;
use shared::web::sphere_error;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = shared::config::Config::from_env()?;
    let stores = AwsStores::new(&shared::aws::load().await, &config.table_name);
    let app = App::new(config, stores, Arc::new(shared::clock::SystemClock));
    let app = &app;
    run(service_fn(move |event: Request| async move {
        let resp = match shared::lambda::into_http(event) {
            Err(_) => {
                sphere_error(http::StatusCode::PAYLOAD_TOO_LARGE, "validation_errors", "request body is too large")
            }
            Ok(req) => tax::handle(app, req).await,
        };
        Ok::<_, Error>(shared::lambda::into_lambda(resp))
    }))
    .await
}
