//! `sphere-local sim`: runs the Sequence simulator (sandbox + production) on one address so the whole
//! connect → sync → tax loop can run on one machine without Sequence accounts.
//!
//! Flags: `--addr 127.0.0.1:4010`, `--seed N`, `--credentials-out PATH`, `--customers N`,
//! `--invoices N`, `--scale-credit-notes N` (N more credit notes with lines in the sandbox),
//! `--no-hard-cases`, `--empty` (no seeded data), `--no-rate-limit`, `--rate-limit N` (per key per minute).

use sequence_sim::{SeedSpec, SimOptions, Simulator};
use shared::domain::Environment;
use std::net::SocketAddr;

struct Args {
    addr: SocketAddr,
    seed: u64,
    credentials_out: Option<String>,
    spec: Option<SeedSpec>,
    rate_limit: Option<u32>,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 4010)),
        seed: 1,
        credentials_out: None,
        spec: Some(SeedSpec::default()),
        rate_limit: Some(1_500),
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--addr" => a.addr = value("--addr")?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--seed" => a.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--credentials-out" => a.credentials_out = Some(value("--credentials-out")?),
            "--customers" => {
                let n = value("--customers")?.parse().map_err(|e| format!("--customers: {e}"))?;
                a.spec.get_or_insert_with(SeedSpec::default).customers = n;
            }
            "--invoices" => {
                let n = value("--invoices")?.parse().map_err(|e| format!("--invoices: {e}"))?;
                a.spec.get_or_insert_with(SeedSpec::default).invoices = n;
            }
            "--scale-credit-notes" => {
                let n = value("--scale-credit-notes")?.parse().map_err(|e| format!("--scale-credit-notes: {e}"))?;
                a.spec.get_or_insert_with(SeedSpec::default).scale_credit_notes = n;
            }
            "--no-hard-cases" => a.spec.get_or_insert_with(SeedSpec::default).hard_cases = false,
            "--empty" => a.spec = None,
            "--no-rate-limit" => a.rate_limit = None,
            "--rate-limit" => {
                a.rate_limit = Some(value("--rate-limit")?.parse().map_err(|e| format!("--rate-limit: {e}"))?);
            }
            "-h" | "--help" => {
                return Err(HELP.into());
            }
            other => return Err(format!("unknown flag {other:?} (try --help)")),
        }
    }
    Ok(a)
}

const HELP: &str = "usage: sphere-local sim [--addr 127.0.0.1:4010] [--seed N] [--credentials-out PATH]
                        [--customers N] [--invoices N] [--scale-credit-notes N] [--no-hard-cases]
                        [--empty] [--no-rate-limit | --rate-limit N]

  --customers N             seeded customers per account (default 300)
  --invoices N              seeded invoices per account (default 900)
  --scale-credit-notes N    N more credit notes with lines in the sandbox (20000 seed in seconds)
  --no-hard-cases           leave out the sandbox's hard cases (custom properties, every status,
                            an XBT invoice, a credit note of a deleted invoice; ids at /_sim/hard-cases)
  --empty                   no seeded data at all
  --rate-limit N            requests per key per minute (default 1500); --no-rate-limit disables it";

/// Runs the simulator until Ctrl-C.
pub async fn run(args: &[String]) -> Result<(), String> {
    let a = parse(args)?;
    let opts = SimOptions {
        addr: a.addr,
        seed: a.seed,
        data: a.spec,
        rate_limit_per_minute: a.rate_limit,
        ..SimOptions::default()
    };
    let sim = Simulator::start(opts).await.map_err(|e| format!("could not start the simulator on {}: {e}", a.addr))?;
    println!("Sequence simulator listening on http://{}", sim.addr);
    for env in [Environment::Sandbox, Environment::Production] {
        let c = sim.credentials(env);
        println!("  {env:<10} base URL      {}", sim.base_url(env));
        println!("  {env:<10} account id    {}", c.account_id);
        println!("  {env:<10} client id     {}", c.client_id);
        println!("  {env:<10} client secret {}", c.client_secret);
    }
    println!("  control API {}  (see /_sim/stats, /_sim/hard-cases)", sim.control_url());
    if let Some(path) = &a.credentials_out {
        let body = serde_json::to_string_pretty(&sim.credentials_json()).map_err(|e| e.to_string())?;
        write_private(path, body.as_bytes()).map_err(|e| format!("could not write {path}: {e}"))?;
        println!("  credentials written to {path}");
    }
    tokio::signal::ctrl_c().await.map_err(|e| format!("waiting for Ctrl-C: {e}"))?;
    sim.shutdown().await;
    Ok(())
}

/// Writes a file readable only by its owner (it holds client secrets).
fn write_private(path: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        let a = parse(&["--addr".into(), "127.0.0.1:0".into(), "--seed".into(), "7".into(), "--empty".into()]).unwrap();
        assert_eq!(a.seed, 7);
        assert!(a.spec.is_none());
        assert!(parse(&["--bogus".into()]).is_err());
        assert!(parse(&["--seed".into()]).is_err());
        let a = parse(&["--scale-credit-notes".into(), "20000".into(), "--no-hard-cases".into()]).unwrap();
        let spec = a.spec.unwrap();
        assert_eq!((spec.scale_credit_notes, spec.hard_cases), (20_000, false));
        assert!(parse(&["--help".into()]).err().is_some_and(|h| h.contains("--scale-credit-notes N")));
    }
}
