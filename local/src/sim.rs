//! `sphere-local sim`: runs the Sequence simulator (sandbox + production) on one address so the whole
//! connect → sync → tax loop can run on one machine without Sequence accounts.
//!
//! Flags: `sphere-local sim --help` ([`crate::cli`]).

use sequence_sim::{SeedSpec, SimOptions, Simulator};
use shared::domain::Environment;
use std::net::SocketAddr;

/// `sphere-local sim`'s options (parsed in [`crate::cli`]).
pub struct SimArgs {
    pub addr: SocketAddr,
    pub seed: u64,
    pub credentials_out: Option<String>,
    /// `None`: no seeded data (`--empty`).
    pub spec: Option<SeedSpec>,
    /// Requests per key per minute; `None`: no limit.
    pub rate_limit: Option<u32>,
}

/// Runs the simulator until Ctrl-C.
pub async fn run(a: SimArgs) -> Result<(), String> {
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
