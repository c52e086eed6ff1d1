//! `sphere-local`: the connector on a laptop — the same handlers as the Lambda functions, over the
//! embedded store. `serve` is the HTTP server; `tokens` the local console authentication.

pub mod bench;
pub mod bench_exposure;
pub mod bench_webhooks;
pub mod cli;
pub mod console;
pub mod demo;
pub mod serve;
pub mod sim;
pub mod tokens;
pub mod worker;
