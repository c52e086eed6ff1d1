//! `sphere-local`: the connector on a laptop. `serve` hosts the very handlers the Lambda functions
//! run, over the embedded store.

use sphere_local::{bench, demo, serve, sim};
use std::path::PathBuf;

const USAGE: &str = "usage:\n  sphere-local demo [--keep] [--data-dir DIR]\n  sphere-local bench-tax [--seconds 10] [--soak-seconds 60] [--concurrency 1,16,64]\n  sphere-local bench-sync [--invoices 10000] [--limited-invoices 150]\n  sphere-local serve [--addr 127.0.0.1:3000] [--data-dir ./.sphere-local] [--with-sim] [--sequence-sandbox-url URL] [--sequence-production-url URL]\n  sphere-local sim [--addr 127.0.0.1:4010] [--seed N] [--credentials-out PATH]";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The demo's own output is the story; only warnings from the machinery.
    let default_level = if args.first().map(String::as_str) == Some("demo") { "warn" } else { "info" };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default_level.into()))
        .init();
    let result = match args.first().map(String::as_str) {
        Some("serve") => {
            let opts = serve::Options {
                addr: flag(&args, "--addr").unwrap_or_else(|| "127.0.0.1:3000".into()),
                data_dir: PathBuf::from(flag(&args, "--data-dir").unwrap_or_else(|| "./.sphere-local".into())),
                with_sim: args.iter().any(|a| a == "--with-sim"),
                sequence_sandbox_url: flag(&args, "--sequence-sandbox-url"),
                sequence_production_url: flag(&args, "--sequence-production-url"),
            };
            serve::run(opts).await
        }
        Some("sim") => sim::run(&args[1..]).await,
        Some("bench-tax") => bench::bench_tax(&args[1..]).await,
        Some("bench-sync") => bench::bench_sync(&args[1..]).await,
        Some("demo") => {
            let opts = demo::Options {
                data_dir: flag(&args, "--data-dir").map(PathBuf::from),
                keep: args.iter().any(|a| a == "--keep"),
                ..demo::Options::default()
            };
            demo::run(opts, &mut std::io::stdout()).await.map(|_| ())
        }
        _ => Err(USAGE.to_owned()),
    };
    if let Err(e) = result {
        eprintln!("sphere-local: {e}");
        std::process::exit(2);
    }
}
