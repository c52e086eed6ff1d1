//! Starting and stopping the simulator: [`Simulator::start`] builds the world (a primary sandbox and
//! production account, seeded when asked: the sandbox with the hard cases and any scale credit notes,
//! production with the plain seed), binds, and serves the public API and the control API from one
//! address. [`SimHandle`] gives the URLs and credentials tests and `sphere-local` need.

use crate::seed::{self, SeedSpec};
use crate::state::SimState;
use crate::world::{SimCredentials, World};
use crate::{api, control};
use shared::clock::{SharedClock, SystemClock};
use shared::domain::Environment;
use std::net::SocketAddr;
use std::sync::Arc;

/// How to start the simulator.
#[derive(Clone)]
pub struct SimOptions {
    /// Where to listen; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Seeds ids and data.
    pub seed: u64,
    /// Seed both primary accounts with this much data; `None` leaves them empty.
    pub data: Option<SeedSpec>,
    /// Per-key limit (Sequence documents 1,500/min); `None` disables it (benchmarks).
    pub rate_limit_per_minute: Option<u32>,
    /// Time for timestamps and the rate limiter.
    pub clock: SharedClock,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 1,
            data: None,
            rate_limit_per_minute: Some(1_500),
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for SimOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("addr", &self.addr)
            .field("seed", &self.seed)
            .field("data", &self.data)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .finish_non_exhaustive()
    }
}

/// Starts simulators.
pub struct Simulator;

/// A running simulator. Dropping it leaves the server running until the runtime ends; call
/// [`SimHandle::shutdown`] to stop it.
pub struct SimHandle {
    pub addr: SocketAddr,
    pub state: SimState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Simulator {
    pub async fn start(opts: SimOptions) -> Result<SimHandle, std::io::Error> {
        let mut world = World::new(opts.seed, opts.clock.clone(), opts.rate_limit_per_minute);
        world.add_account(Environment::Sandbox, "Sim Sandbox Ltd", "GB");
        world.add_account(Environment::Production, "Sim Production Ltd", "GB");
        if let Some(spec) = &opts.data {
            for (env, spec) in [(Environment::Sandbox, spec.clone()), (Environment::Production, spec.plain())] {
                seed::seed_account(&mut world, env, &spec).map_err(|e| std::io::Error::other(e.to_string()))?;
            }
        }
        let state = SimState::new(world);
        let delivery = tokio::spawn(crate::webhooks::deliver(state.clone()));
        let app = api::router(state.clone()).merge(control::router(state.clone()));
        let listener = tokio::net::TcpListener::bind(opts.addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "simulator server stopped");
            }
            delivery.abort();
        });
        Ok(SimHandle { addr, state, shutdown: Some(tx), task: Some(task) })
    }
}

impl SimHandle {
    pub fn base_url(&self, env: Environment) -> String {
        format!("http://{}/{}/api", self.addr, env.as_str())
    }

    pub fn sandbox_url(&self) -> String {
        self.base_url(Environment::Sandbox)
    }

    pub fn production_url(&self) -> String {
        self.base_url(Environment::Production)
    }

    /// The control API root (`http://ADDR/_sim`).
    pub fn control_url(&self) -> String {
        format!("http://{}/_sim", self.addr)
    }

    /// The primary account of `env` (always present).
    pub fn credentials(&self, env: Environment) -> SimCredentials {
        self.state.credentials(env).unwrap_or_else(|| SimCredentials {
            client_id: String::new(),
            client_secret: String::new(),
            account_id: String::new(),
        })
    }

    /// `{"sandbox":{"client_id","client_secret","account_id"},"production":{…}}`.
    pub fn credentials_json(&self) -> serde_json::Value {
        serde_json::json!({
            "sandbox": self.credentials(Environment::Sandbox),
            "production": self.credentials(Environment::Production),
        })
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}
