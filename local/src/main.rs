//! `sphere-local`: the connector on a laptop. `serve` hosts the very handlers the Lambda functions
//! run, over the embedded store. Flags: `sphere-local --help` ([`sphere_local::cli`]).

use sphere_local::cli::{self, Cli};
use sphere_local::{bench, bench_exposure, bench_webhooks, demo, serve, sim};

#[tokio::main]
async fn main() {
    // clap prints the usage (or the error naming the bad flag) and exits 0 for --help, 2 otherwise.
    let cli = cli::parse(std::env::args_os()).unwrap_or_else(|e| e.exit());
    // The demo's own output is the story; only warnings from the machinery.
    let default_level = if matches!(cli, Cli::Demo(_)) { "warn" } else { "info" };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_level.into()))
        .init();
    let result = match cli {
        Cli::Serve(opts) => serve::run(opts).await,
        Cli::Sim(args) => sim::run(args).await,
        Cli::BenchTax(opts) => bench::bench_tax(opts).await,
        Cli::BenchSync(opts) => bench::bench_sync(opts).await,
        Cli::BenchExposure(opts) => bench_exposure::bench_exposure(opts).await,
        Cli::BenchWebhooks(opts) => bench_webhooks::bench_webhooks(opts).await,
        Cli::Demo(opts) => demo::run(opts, &mut std::io::stdout()).await.map(|_| ()),
    };
    if let Err(e) = result {
        eprintln!("sphere-local: {e}");
        std::process::exit(2);
    }
}
