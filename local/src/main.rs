//! `sphere-local`: the connector on a laptop. `serve` hosts the very handlers the Lambda functions
//! run, over the embedded store.

use sphere_local::{serve, sim};
use std::path::PathBuf;

const USAGE: &str = "usage:\n  sphere-local serve [--addr 127.0.0.1:3000] [--data-dir ./.sphere-local] [--with-sim] [--sequence-sandbox-url URL] [--sequence-production-url URL]\n  sphere-local sim [--addr 127.0.0.1:4010] [--seed N] [--credentials-out PATH]";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
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
        _ => Err(USAGE.to_owned()),
    };
    if let Err(e) = result {
        eprintln!("sphere-local: {e}");
        std::process::exit(2);
    }
}
