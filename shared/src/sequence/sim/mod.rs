//! An in-memory Sequence API for tests and `sphere-local sim` (feature `simulator`). Why: the real
//! sandbox needs accounts and network, cannot inject faults, and is not deterministic. This serves the
//! documented 2024-07-30 contract (Basic auth, `Sequence-Version`, filters, cursor pagination, error
//! shape, per-key 429) for a sandbox at `/sandbox/api` and a production at `/production/api`, each
//! accepting only its own accounts' keys, and a control API under `/_sim/` to seed, mutate and break it.
//!
//! Library use:
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use shared::sequence::sim::{Simulator, SimOptions};
//! let sim = Simulator::start(SimOptions::default()).await?;
//! let creds = sim.credentials(shared::domain::Environment::Sandbox);
//! let url = sim.sandbox_url();
//! # let _ = (creds, url); Ok(()) }
//! ```

mod api;
mod control;
mod list;
pub mod prng;
pub mod seed;
pub mod sphere;
pub mod state;
pub mod tax;

pub use seed::SeedSpec;
pub use sphere::{SphereTestResult, TaxOutcome, TaxRequest, build_tax_request};
pub use state::{
    BulkInvoices, CustomerPatch, Faults, InvoicePatch, NewCreditLine, NewCreditNote, NewCustomer, NewInvoice, NewLine,
    NewProduct, ProductPatch, SimCredentials, SimError, SimStats, Target, World,
};

use crate::clock::{SharedClock, SystemClock};
use crate::domain::Environment;
use crate::sequence::models::{CreditNote, CreditNoteLineItem, Invoice, InvoiceLineItem, InvoiceStatus};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

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

/// Shared handle on the simulator's world, for direct seeding, mutation and fault injection.
#[derive(Clone)]
pub struct SimState {
    world: Arc<Mutex<World>>,
    pub(crate) http: reqwest::Client,
}

/// An invoice with its lines, as the control API returns it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView {
    pub invoice: Invoice,
    pub lines: Vec<InvoiceLineItem>,
    pub sent_on: Option<chrono::NaiveDate>,
    pub last_tax_error: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditNoteView {
    pub credit_note: CreditNote,
    pub lines: Vec<CreditNoteLineItem>,
    pub sent_on: Option<chrono::NaiveDate>,
}

impl SimState {
    pub fn new(world: World) -> Self {
        SimState { world: Arc::new(Mutex::new(world)), http: reqwest::Client::new() }
    }

    /// Runs `f` with the world locked (never across an await).
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut guard = match self.world.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    pub fn credentials(&self, env: Environment) -> Option<SimCredentials> {
        self.with(|w| w.primary(env).map(|a| a.credentials.clone()))
    }

    pub fn add_account(&self, env: Environment, company_name: &str) -> SimCredentials {
        self.with(|w| w.add_account(env, company_name, "GB"))
    }

    pub fn seed(&self, env: Environment, spec: &SeedSpec) -> Result<(), SimError> {
        self.with(|w| seed::seed_account(w, env, spec))
    }

    pub fn faults(&self) -> Faults {
        self.with(|w| w.faults.clone())
    }

    pub fn set_faults(&self, f: Faults) {
        self.with(|w| w.faults = f);
    }

    pub fn update_faults(&self, f: impl FnOnce(&mut Faults)) {
        self.with(|w| f(&mut w.faults));
    }

    /// Every cursor handed out so far becomes invalid (400 "Pagination token has expired").
    pub fn expire_page_tokens(&self) {
        self.with(|w| w.token_epoch += 1);
    }

    pub fn set_rate_limit(&self, per_minute: Option<u32>) {
        self.with(|w| {
            w.rate_limit_per_minute = per_minute;
            w.buckets.clear();
        });
    }

    pub fn stats(&self) -> SimStats {
        self.with(|w| w.stats)
    }

    pub fn create_customer(&self, c: NewCustomer) -> Result<crate::sequence::Customer, SimError> {
        self.with(|w| w.create_customer(c))
    }

    pub fn update_customer(&self, id: &str, p: CustomerPatch) -> Result<crate::sequence::Customer, SimError> {
        self.with(|w| w.update_customer(id, p))
    }

    pub fn update_product(&self, id: &str, p: ProductPatch) -> Result<crate::sequence::Product, SimError> {
        self.with(|w| w.update_product(id, p))
    }

    pub fn create_product(&self, p: NewProduct) -> Result<crate::sequence::Product, SimError> {
        self.with(|w| w.create_product(p))
    }

    /// Creates an invoice. With a saved Sphere integration it is drafted, sent to the tax API, and
    /// then moved to the requested status (as Sequence calculates tax on drafts).
    pub async fn create_invoice(&self, n: NewInvoice) -> Result<(String, TaxOutcome), SimError> {
        let requested = n.status.clone().unwrap_or(InvoiceStatus::Draft);
        let has_sphere = self.with(|w| w.account_index(&n.target).map(|a| w.accounts[a].sphere.is_some()))?;
        if !has_sphere {
            let id = self.with(|w| w.create_invoice(n))?;
            return Ok((id, TaxOutcome::NotConfigured));
        }
        let mut draft = n;
        draft.status = Some(InvoiceStatus::Draft);
        let id = self.with(|w| w.create_invoice(draft))?;
        let outcome = self.calculate_tax(&id).await?;
        self.with(|w| match requested {
            InvoiceStatus::InProgress => {
                let (a, i) = w.find_invoice(&id)?;
                w.accounts[a].invoices[i].invoice.status = InvoiceStatus::InProgress;
                Ok(())
            }
            InvoiceStatus::Final => w.finalise_invoice(&id, false),
            InvoiceStatus::Sent => w.finalise_invoice(&id, true),
            InvoiceStatus::Voided => w.finalise_invoice(&id, true).and_then(|_| w.void_invoice(&id)),
            _ => Ok(()),
        })?;
        Ok((id, outcome))
    }

    pub fn bulk_invoices(&self, b: BulkInvoices) -> Result<Vec<String>, SimError> {
        self.with(|w| w.bulk_invoices(b))
    }

    pub fn update_invoice(&self, id: &str, p: InvoicePatch) -> Result<(), SimError> {
        self.with(|w| w.update_invoice(id, p))
    }

    pub fn finalise_invoice(&self, id: &str, send: bool) -> Result<(), SimError> {
        self.with(|w| w.finalise_invoice(id, send))
    }

    pub fn void_invoice(&self, id: &str) -> Result<(), SimError> {
        self.with(|w| w.void_invoice(id))
    }

    pub fn issue_credit_note(&self, n: NewCreditNote) -> Result<String, SimError> {
        self.with(|w| w.issue_credit_note(n))
    }

    pub fn finalise_credit_note(&self, id: &str, send: bool) -> Result<(), SimError> {
        self.with(|w| w.finalise_credit_note(id, send))
    }

    pub fn void_credit_note(&self, id: &str) -> Result<(), SimError> {
        self.with(|w| w.void_credit_note(id))
    }

    pub fn invoice(&self, id: &str) -> Result<InvoiceView, SimError> {
        self.with(|w| {
            let (a, i) = w.find_invoice(id)?;
            let r = &w.accounts[a].invoices[i];
            Ok(InvoiceView {
                invoice: r.invoice.clone(),
                lines: r.lines.clone(),
                sent_on: r.sent_on,
                last_tax_error: r.last_tax_error.clone(),
            })
        })
    }

    pub fn credit_note(&self, id: &str) -> Result<CreditNoteView, SimError> {
        self.with(|w| {
            let (a, i) = w.find_credit_note(id)?;
            let r = &w.accounts[a].credit_notes[i];
            Ok(CreditNoteView { credit_note: r.credit_note.clone(), lines: r.lines.clone(), sent_on: r.sent_on })
        })
    }

    /// The last `calculate_tax` body sent for this account.
    pub fn last_tax_request(&self, target: &Target) -> Result<Option<serde_json::Value>, SimError> {
        self.with(|w| w.account_index(target).map(|a| w.accounts[a].last_tax_request.clone()))
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
    /// Builds the world (a primary sandbox and production account, seeded when asked) and serves it.
    pub async fn start(opts: SimOptions) -> Result<SimHandle, std::io::Error> {
        let mut world = World::new(opts.seed, opts.clock.clone(), opts.rate_limit_per_minute);
        world.add_account(Environment::Sandbox, "Sim Sandbox Ltd", "GB");
        world.add_account(Environment::Production, "Sim Production Ltd", "GB");
        if let Some(spec) = &opts.data {
            for env in [Environment::Sandbox, Environment::Production] {
                seed::seed_account(&mut world, env, spec).map_err(|e| std::io::Error::other(e.to_string()))?;
            }
        }
        let state = SimState::new(world);
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
