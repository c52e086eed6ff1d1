//! The simulator's in-memory world: accounts (sandbox or production), each with its documents, plus
//! the fault switches, counters and the id generator. Why one plain struct behind one mutex: the
//! simulator is for tests and demos, so simplicity and determinism beat throughput; every mutation
//! (HTTP control route or direct library call) goes through the same methods, so tests that seed
//! directly see exactly what the HTTP API serves. The documents' behaviour lives in one module per
//! resource (`customers`, `products`, `invoices`, `credit_notes`, `lines`); this module holds only the
//! shapes and the lookups they share.

use crate::SimError;
use crate::faults::{Faults, SimStats};
use crate::prng::Prng;
use crate::raw::RawPatches;
use crate::seed::HardCases;
use crate::table::{Row, Table};
use crate::wire::{
    Contact, CreditNote, CreditNoteLineItem, Customer, CustomerStatus, Invoice, InvoiceDetail, InvoiceLineItem,
    MerchantDetails, Product, SequenceAccount, TaxRegistration,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use shared::clock::SharedClock;
use shared::domain::Environment;
use std::collections::HashMap;
use std::fmt;

/// The credentials of one simulated account. `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub account_id: String,
}

impl fmt::Debug for SimCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("account_id", &self.account_id)
            .finish()
    }
}

impl SimCredentials {
    /// The same credentials for the connector's Sequence client.
    pub fn to_client_credentials(&self) -> shared::sequence::Credentials {
        shared::sequence::Credentials::new(&self.client_id, &self.client_secret)
    }
}

/// A saved "Sphere" integration (Part 2 of the setup).
#[derive(Clone, Serialize)]
pub struct SphereIntegration {
    pub base_url: String,
    #[serde(skip)]
    pub api_key: String,
    pub saved_at: DateTime<Utc>,
}

impl fmt::Debug for SphereIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SphereIntegration").field("base_url", &self.base_url).field("api_key", &"[REDACTED]").finish()
    }
}

/// A customer: the list item plus what only `GET /customers/{id}` shows.
#[derive(Debug, Clone)]
pub struct CustomerRec {
    pub seq: u64,
    pub customer: Customer,
    pub contacts: Vec<Contact>,
    pub status: CustomerStatus,
}

#[derive(Debug, Clone)]
pub struct ProductRec {
    pub seq: u64,
    pub product: Product,
}

/// An invoice. `detail`'s applied credit notes, balance and balance version are derived when the
/// invoice is served (see `render`), so they always agree with the credit notes and payments.
#[derive(Debug, Clone)]
pub struct InvoiceRec {
    pub seq: u64,
    pub invoice: Invoice,
    pub detail: InvoiceDetail,
    pub lines: Vec<InvoiceLineItem>,
    /// The day it was sent (Sequence has no field for it, but filters on it).
    pub sent_on: Option<NaiveDate>,
    /// Last outcome of a Sphere calculation for this invoice.
    pub last_tax_error: Option<String>,
}

/// A credit note. Sequence sends no `createdAt` for credit notes; `created_at` orders the listing.
#[derive(Debug, Clone)]
pub struct CreditNoteRec {
    pub seq: u64,
    pub created_at: DateTime<Utc>,
    pub credit_note: CreditNote,
    pub lines: Vec<CreditNoteLineItem>,
    pub sent_on: Option<NaiveDate>,
    /// When it was applied to its invoice (issued FINAL or SENT against one).
    pub applied_at: Option<DateTime<Utc>>,
}

impl Row for CustomerRec {
    fn id(&self) -> &str {
        &self.customer.id
    }
}
impl Row for ProductRec {
    fn id(&self) -> &str {
        &self.product.id
    }
}
impl Row for InvoiceRec {
    fn id(&self) -> &str {
        &self.invoice.id
    }
}
impl Row for CreditNoteRec {
    fn id(&self) -> &str {
        &self.credit_note.id
    }
}

/// One Sequence account and everything in it.
#[derive(Debug, Clone)]
pub struct Account {
    pub environment: Environment,
    pub credentials: SimCredentials,
    pub info: SequenceAccount,
    pub merchant: MerchantDetails,
    pub customers: Table<CustomerRec>,
    pub tax_registrations: Vec<TaxRegistration>,
    pub products: Table<ProductRec>,
    pub invoices: Table<InvoiceRec>,
    pub credit_notes: Table<CreditNoteRec>,
    pub sphere: Option<SphereIntegration>,
    /// The last `calculate_tax` body sent to Sphere (for tests and the control API).
    pub last_tax_request: Option<serde_json::Value>,
    pub invoice_counter: u64,
    pub credit_note_counter: u64,
    /// Raw JSON replacements served instead of the modelled fields (see `raw`).
    pub raw_patches: RawPatches,
    /// The ids of the seeded hard cases, when seeded with them.
    pub hard_cases: Option<HardCases>,
    /// Webhook subscriptions (`/notifications/policies`).
    pub policies: Vec<crate::webhooks::Policy>,
}

impl Account {
    pub fn customer(&self, id: &str) -> Result<&CustomerRec, SimError> {
        self.customers.get(id).ok_or_else(|| SimError::not_found("customer", id))
    }
    pub fn invoice(&self, id: &str) -> Result<&InvoiceRec, SimError> {
        self.invoices.get(id).ok_or_else(|| SimError::not_found("invoice", id))
    }
    pub fn invoice_mut(&mut self, id: &str) -> Result<&mut InvoiceRec, SimError> {
        self.invoices.get_mut(id).ok_or_else(|| SimError::not_found("invoice", id))
    }
    pub fn credit_note(&self, id: &str) -> Result<&CreditNoteRec, SimError> {
        self.credit_notes.get(id).ok_or_else(|| SimError::not_found("credit note", id))
    }
    pub fn credit_note_mut(&mut self, id: &str) -> Result<&mut CreditNoteRec, SimError> {
        self.credit_notes.get_mut(id).ok_or_else(|| SimError::not_found("credit note", id))
    }
    /// The customer's first tax registration identifier.
    pub fn customer_tax_id(&self, customer_id: &str) -> Option<String> {
        self.tax_registrations.iter().find(|r| r.customer_id == customer_id).map(|r| r.tax_identifier.clone())
    }
    /// Removes every document (the account and its credentials stay).
    pub fn clear_documents(&mut self) {
        self.customers.clear();
        self.products.clear();
        self.invoices.clear();
        self.credit_notes.clear();
        self.tax_registrations.clear();
        self.raw_patches.clear();
        self.hard_cases = None;
        self.invoice_counter = 0;
        self.credit_note_counter = 0;
    }
}

/// Fields shared by all control bodies that address an account: `accountId`, else the first account
/// of `environment` (default sandbox).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Target {
    pub environment: Option<Environment>,
    pub account_id: Option<String>,
}

impl Target {
    pub fn account(account_id: &str) -> Self {
        Target { environment: None, account_id: Some(account_id.to_owned()) }
    }
}

/// Everything the simulator knows.
pub struct World {
    pub accounts: Vec<Account>,
    pub faults: Faults,
    pub stats: SimStats,
    /// Ids and credentials-independent randomness; seeded, so runs replay.
    pub rng: Prng,
    /// Bumped to expire every outstanding page token at once.
    pub token_epoch: u64,
    pub rate_limit_per_minute: Option<u32>,
    /// Per client id: (tokens, last refill ms). A rate, not money, so `f64`.
    pub buckets: HashMap<String, (f64, i64)>,
    pub clock: SharedClock,
    pub next_seq: u64,
    /// Webhooks waiting to be sent, and their faults and counters.
    pub outbox: Vec<crate::webhooks::Outgoing>,
    pub webhook_faults: crate::webhooks::WebhookFaults,
    pub webhook_stats: crate::webhooks::WebhookStats,
}

impl World {
    pub fn new(seed: u64, clock: SharedClock, rate_limit_per_minute: Option<u32>) -> Self {
        World {
            accounts: Vec::new(),
            faults: Faults::default(),
            stats: SimStats::default(),
            rng: Prng::new(seed),
            token_epoch: 1,
            rate_limit_per_minute,
            buckets: HashMap::new(),
            clock,
            next_seq: 1,
            outbox: Vec::new(),
            webhook_faults: crate::webhooks::WebhookFaults::default(),
            webhook_stats: crate::webhooks::WebhookStats::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.clock.now_ms()).single().unwrap_or_else(Utc::now)
    }

    /// The next insertion sequence number (breaks ties between equal timestamps).
    pub fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub fn account_index(&self, target: &Target) -> Result<usize, SimError> {
        if let Some(id) = &target.account_id {
            return self
                .accounts
                .iter()
                .position(|a| &a.info.id == id)
                .ok_or_else(|| SimError::not_found("account", id));
        }
        let env = target.environment.unwrap_or(Environment::Sandbox);
        self.accounts
            .iter()
            .position(|a| a.environment == env)
            .ok_or_else(|| SimError::not_found("account in environment", env.as_str()))
    }

    pub fn primary(&self, env: Environment) -> Option<&Account> {
        self.accounts.iter().find(|a| a.environment == env)
    }

    /// Which account holds this invoice.
    pub fn invoice_account(&self, id: &str) -> Result<usize, SimError> {
        self.accounts.iter().position(|a| a.invoices.contains(id)).ok_or_else(|| SimError::not_found("invoice", id))
    }

    pub fn credit_note_account(&self, id: &str) -> Result<usize, SimError> {
        self.accounts
            .iter()
            .position(|a| a.credit_notes.contains(id))
            .ok_or_else(|| SimError::not_found("credit note", id))
    }

    pub fn customer_account(&self, id: &str) -> Result<usize, SimError> {
        self.accounts.iter().position(|a| a.customers.contains(id)).ok_or_else(|| SimError::not_found("customer", id))
    }

    pub fn product_account(&self, id: &str) -> Result<usize, SimError> {
        self.accounts.iter().position(|a| a.products.contains(id)).ok_or_else(|| SimError::not_found("product", id))
    }
}
