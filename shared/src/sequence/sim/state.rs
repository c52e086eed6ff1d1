//! The simulator's in-memory world: accounts (sandbox or production) with their customers, products,
//! invoices, credit notes and line items, plus the fault switches and counters. Why one plain struct
//! behind one mutex: the simulator is for tests and demos, so simplicity and determinism beat
//! throughput; every mutation (HTTP control route or direct library call) goes through the same
//! methods, so tests that seed directly see exactly what the HTTP API serves.

use super::prng::Prng;
use super::tax;
use crate::clock::SharedClock;
use crate::domain::{Currency, Decimal, Environment};
use crate::sequence::models::*;
use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A simulator-side failure, rendered as Sequence's `{"error":{"type","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl SimError {
    pub fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        SimError { status, error_type, message: message.into() }
    }
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(404, "NotFound", format!("{what} {id} not found"))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "Conflict", message)
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error_type, self.message)
    }
}

impl std::error::Error for SimError {}

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
    pub fn to_client_credentials(&self) -> crate::sequence::Credentials {
        crate::sequence::Credentials::new(&self.client_id, &self.client_secret)
    }
}

/// Fault switches for the public API (not the control API). Counters count down per request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", default)]
pub struct Faults {
    /// The next N API requests get `429`.
    pub throttle_next: u32,
    /// `Retry-After` seconds sent with injected 429s (none when absent).
    pub retry_after_secs: Option<u64>,
    /// The next N API requests get `fail_status`.
    pub fail_next: u32,
    /// Status for `fail_next` (default 503; any 400–599, e.g. 403 to test non-retried client errors).
    pub fail_status: Option<u16>,
    /// Added (real) latency per API request, in milliseconds.
    pub latency_ms: u64,
    /// List responses echo the request's `after` as the next cursor (a server bug the client must catch).
    pub repeat_page_tokens: bool,
}

/// Counters for assertions and the control API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimStats {
    pub api_requests: u64,
    pub served_429: u64,
    pub served_5xx: u64,
    pub served_401: u64,
    pub tax_calls: u64,
    pub tax_call_failures: u64,
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

#[derive(Debug, Clone)]
pub struct InvoiceRec {
    pub seq: u64,
    pub invoice: Invoice,
    pub lines: Vec<InvoiceLineItem>,
    /// The day it was sent (Sequence has no field for it, but filters on it).
    pub sent_on: Option<NaiveDate>,
    /// Last outcome of a Sphere calculation for this invoice.
    pub last_tax_error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CreditNoteRec {
    pub seq: u64,
    pub created_at: DateTime<Utc>,
    pub credit_note: CreditNote,
    pub lines: Vec<CreditNoteLineItem>,
    pub sent_on: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub struct Keyed<T> {
    pub seq: u64,
    pub created_at: DateTime<Utc>,
    pub item: T,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub environment: Environment,
    pub credentials: SimCredentials,
    pub info: SequenceAccount,
    pub merchant: MerchantDetails,
    pub customers: Vec<Keyed<Customer>>,
    pub tax_registrations: Vec<TaxRegistration>,
    pub products: Vec<Keyed<Product>>,
    pub invoices: Vec<InvoiceRec>,
    pub credit_notes: Vec<CreditNoteRec>,
    pub sphere: Option<SphereIntegration>,
    /// The last `calculate_tax` body sent to Sphere (for tests and the control API).
    pub last_tax_request: Option<serde_json::Value>,
    pub invoice_counter: u64,
    pub credit_note_counter: u64,
}

/// Everything the simulator knows.
pub struct World {
    pub accounts: Vec<Account>,
    pub faults: Faults,
    pub stats: SimStats,
    pub rng: Prng,
    pub token_epoch: u64,
    pub rate_limit_per_minute: Option<u32>,
    pub buckets: HashMap<String, (f64, i64)>,
    pub clock: SharedClock,
    pub next_seq: u64,
}

/// Rounds half away from zero to the currency's minor unit and always shows that many decimals
/// (`"0.00"`, not `"0"`), as Sequence's decimal strings do.
pub(crate) fn round_money(v: Decimal, c: Currency) -> Decimal {
    let dp = u32::from(c.exponent());
    let mut r = v.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r
}

/// Fields shared by all control bodies that address an account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Target {
    pub environment: Option<Environment>,
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewCustomer {
    #[serde(flatten)]
    pub target: Target,
    pub legal_name: String,
    pub address: Address,
    pub tax_status: Option<TaxStatus>,
    /// Creates a customer tax registration with this identifier.
    pub tax_identifier: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// Changes to a customer (Sequence customers carry no `updatedAt`, so syncs must notice by content).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomerPatch {
    pub legal_name: Option<String>,
    pub address: Option<Address>,
    pub tax_status: Option<TaxStatus>,
    /// Replaces the customer's tax registrations with one carrying this identifier ("" removes them).
    pub tax_identifier: Option<String>,
    /// Archives (true) or restores (false) the customer.
    pub archived: Option<bool>,
}

/// Changes to a product (bumps `updatedAt`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub label: Option<String>,
    pub tax_category_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewProduct {
    #[serde(flatten)]
    pub target: Target,
    pub name: String,
    pub label: Option<String>,
    pub tax_category_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewLine {
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub quantity: Option<Decimal>,
    pub rate: Decimal,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewInvoice {
    #[serde(flatten)]
    pub target: Target,
    pub customer_id: String,
    /// Defaults to the customer's country's currency.
    pub currency: Option<Currency>,
    /// Defaults to DRAFT.
    pub status: Option<InvoiceStatus>,
    pub lines: Vec<NewLine>,
    pub issue_date: Option<NaiveDate>,
    pub created_at: Option<DateTime<Utc>>,
    pub memo: Option<String>,
    pub purchase_order_number: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BulkInvoices {
    #[serde(flatten)]
    pub target: Target,
    pub count: u32,
    /// Defaults to FINAL.
    pub status: Option<InvoiceStatus>,
    /// Every invoice gets exactly this `createdAt` (default: now).
    pub created_at: Option<DateTime<Utc>>,
    pub issue_date: Option<NaiveDate>,
    pub customer_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InvoicePatch {
    pub memo: Option<String>,
    pub purchase_order_number: Option<String>,
    pub reference: Option<String>,
    pub customer_tax_id: Option<String>,
    /// Replaces the lines (drafts only).
    pub lines: Option<Vec<NewLine>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewCreditLine {
    /// The invoice line credited (copies its product, title and rate).
    pub line_item_id: Option<String>,
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub quantity: Option<Decimal>,
    pub rate: Option<Decimal>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewCreditNote {
    #[serde(flatten)]
    pub target: Target,
    /// Against an issued invoice; or "from scratch" with `customerId`.
    pub invoice_id: Option<String>,
    pub customer_id: Option<String>,
    pub currency: Option<Currency>,
    /// Defaults to SENT.
    pub status: Option<CreditNoteStatus>,
    /// Omitted with an invoice → credit every invoice line in full.
    pub lines: Option<Vec<NewCreditLine>>,
    pub issue_date: Option<NaiveDate>,
    pub created_at: Option<DateTime<Utc>>,
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
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.clock.now_ms()).single().unwrap_or_else(Utc::now)
    }

    pub fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A new empty account with fresh random credentials (the OS CSPRNG, not the seeded PRNG).
    pub fn add_account(&mut self, environment: Environment, company_name: &str, country: &str) -> SimCredentials {
        let account_id = self.rng.uuid();
        let credentials = SimCredentials {
            client_id: format!("sim_{}_{}", environment.as_str(), crate::crypto::hex(&crate::crypto::random_bytes(8))),
            client_secret: crate::crypto::hex(&crate::crypto::random_bytes(24)),
            account_id: account_id.clone(),
        };
        let now = self.now();
        let merchant_address = match country {
            "US" => Address {
                line1: "500 Howard Street".into(),
                line2: None,
                town: "San Francisco".into(),
                state: Some("CA".into()),
                postcode: "94105".into(),
                country: "US".into(),
            },
            _ => Address {
                line1: "1 Finsbury Avenue".into(),
                line2: None,
                town: "London".into(),
                state: None,
                postcode: "EC2M 2PF".into(),
                country: "GB".into(),
            },
        };
        self.accounts.push(Account {
            environment,
            credentials: credentials.clone(),
            info: SequenceAccount {
                id: account_id.clone(),
                created_at: Some(now - ChronoDuration::days(500)),
                sequence_organisation_id: Some(self.rng.uuid()),
                company_name: Some(company_name.to_owned()),
                company_number: Some(self.rng.digits(8)),
                country: Some(country.to_owned()),
                send_customer_notifications: Some(false),
                alert_email_addresses: Some(vec!["billing@merchant.example".into()]),
            },
            merchant: MerchantDetails {
                address: merchant_address,
                email: Some("billing@merchant.example".into()),
                legal_company_name: Some(company_name.to_owned()),
                tax_id: Some(format!("GB{}", self.rng.digits(9))),
            },
            customers: Vec::new(),
            tax_registrations: Vec::new(),
            products: Vec::new(),
            invoices: Vec::new(),
            credit_notes: Vec::new(),
            sphere: None,
            last_tax_request: None,
            invoice_counter: 0,
            credit_note_counter: 0,
        });
        credentials
    }

    /// The account a control body addresses: `accountId`, else the first account of `environment`
    /// (default sandbox).
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
    pub fn find_invoice(&self, id: &str) -> Result<(usize, usize), SimError> {
        for (a, acc) in self.accounts.iter().enumerate() {
            if let Some(i) = acc.invoices.iter().position(|r| r.invoice.id == id) {
                return Ok((a, i));
            }
        }
        Err(SimError::not_found("invoice", id))
    }

    pub fn find_credit_note(&self, id: &str) -> Result<(usize, usize), SimError> {
        for (a, acc) in self.accounts.iter().enumerate() {
            if let Some(i) = acc.credit_notes.iter().position(|r| r.credit_note.id == id) {
                return Ok((a, i));
            }
        }
        Err(SimError::not_found("credit note", id))
    }

    pub fn create_customer(&mut self, c: NewCustomer) -> Result<Customer, SimError> {
        let a = self.account_index(&c.target)?;
        if c.legal_name.trim().is_empty() {
            return Err(SimError::bad_request("legalName is required"));
        }
        let id = self.rng.uuid();
        let created_at = c.created_at.unwrap_or_else(|| self.now());
        let seq = self.seq();
        let customer = Customer {
            id: id.clone(),
            created_at,
            organizations: Vec::new(),
            legal_name: c.legal_name,
            address: c.address.clone(),
            url: None,
            domain: None,
            label: None,
            integration_ids: Vec::new(),
            archived_at: None,
            tax_status: c.tax_status.unwrap_or(TaxStatus::Taxed),
            custom_properties: Vec::new(),
            contacts: None,
            status: Some(CustomerStatus::Active),
        };
        let account_id = self.accounts[a].info.id.clone();
        if let Some(t) = c.tax_identifier {
            let reg_id = self.rng.uuid();
            self.accounts[a].tax_registrations.push(TaxRegistration {
                id: reg_id,
                sequence_account_id: Some(account_id),
                tax_identifier: t,
                customer_id: Some(id),
                country: Some(c.address.country.clone()),
                state: c.address.state.clone(),
            });
        }
        self.accounts[a].customers.push(Keyed { seq, created_at, item: customer.clone() });
        Ok(customer)
    }

    pub fn create_product(&mut self, p: NewProduct) -> Result<Product, SimError> {
        let a = self.account_index(&p.target)?;
        if p.name.trim().is_empty() {
            return Err(SimError::bad_request("name is required"));
        }
        let now = self.now();
        let seq = self.seq();
        let product = Product {
            id: self.rng.uuid(),
            name: p.name,
            label: p.label,
            tax_category_id: p.tax_category_id.or_else(|| Some("sim-standard".into())),
            created_at: Some(now),
            updated_at: Some(now),
        };
        self.accounts[a].products.push(Keyed { seq, created_at: now, item: product.clone() });
        Ok(product)
    }

    pub fn update_customer(&mut self, id: &str, p: CustomerPatch) -> Result<Customer, SimError> {
        let now = self.now();
        let a = self
            .accounts
            .iter()
            .position(|acc| acc.customers.iter().any(|c| c.item.id == id))
            .ok_or_else(|| SimError::not_found("customer", id))?;
        if let Some(t) = &p.tax_identifier {
            let reg_id = self.rng.uuid();
            let acc = &mut self.accounts[a];
            acc.tax_registrations.retain(|r| r.customer_id.as_deref() != Some(id));
            if !t.is_empty() {
                let addr =
                    acc.customers.iter().find(|c| c.item.id == id).map(|c| c.item.address.clone()).unwrap_or_default();
                acc.tax_registrations.push(TaxRegistration {
                    id: reg_id,
                    sequence_account_id: Some(acc.info.id.clone()),
                    tax_identifier: t.clone(),
                    customer_id: Some(id.to_owned()),
                    country: Some(addr.country),
                    state: addr.state,
                });
            }
        }
        let c = self.accounts[a]
            .customers
            .iter_mut()
            .find(|c| c.item.id == id)
            .ok_or_else(|| SimError::not_found("customer", id))?;
        if let Some(n) = p.legal_name {
            c.item.legal_name = n;
        }
        if let Some(addr) = p.address {
            c.item.address = addr;
        }
        if let Some(t) = p.tax_status {
            c.item.tax_status = t;
        }
        match p.archived {
            Some(true) => c.item.archived_at = Some(now),
            Some(false) => c.item.archived_at = None,
            None => {}
        }
        Ok(c.item.clone())
    }

    pub fn update_product(&mut self, id: &str, p: ProductPatch) -> Result<Product, SimError> {
        let now = self.now();
        let x = self
            .accounts
            .iter_mut()
            .flat_map(|a| a.products.iter_mut())
            .find(|x| x.item.id == id)
            .ok_or_else(|| SimError::not_found("product", id))?;
        if let Some(n) = p.name {
            x.item.name = n;
        }
        if p.label.is_some() {
            x.item.label = p.label;
        }
        if p.tax_category_id.is_some() {
            x.item.tax_category_id = p.tax_category_id;
        }
        x.item.updated_at = Some(now);
        Ok(x.item.clone())
    }

    fn customer(&self, a: usize, id: &str) -> Result<Customer, SimError> {
        self.accounts[a]
            .customers
            .iter()
            .find(|c| c.item.id == id)
            .map(|c| c.item.clone())
            .ok_or_else(|| SimError::not_found("customer", id))
    }

    fn customer_tax_id(&self, a: usize, customer_id: &str) -> Option<String> {
        self.accounts[a]
            .tax_registrations
            .iter()
            .find(|r| r.customer_id.as_deref() == Some(customer_id))
            .map(|r| r.tax_identifier.clone())
    }

    fn build_lines(
        &mut self,
        a: usize,
        invoice_id: &str,
        currency: Currency,
        lines: &[NewLine],
        rate_pct: Decimal,
    ) -> Result<Vec<InvoiceLineItem>, SimError> {
        let mut out = Vec::with_capacity(lines.len());
        for (i, l) in lines.iter().enumerate() {
            let title = match (&l.title, &l.product_id) {
                (Some(t), _) => t.clone(),
                (None, Some(pid)) => self.accounts[a]
                    .products
                    .iter()
                    .find(|p| &p.item.id == pid)
                    .map(|p| p.item.name.clone())
                    .ok_or_else(|| SimError::not_found("product", pid))?,
                (None, None) => format!("Line {}", i + 1),
            };
            let quantity = l.quantity.unwrap_or(Decimal::ONE);
            let net = round_money(quantity * l.rate, currency);
            let tax_amount = round_money(net * rate_pct / Decimal::from(100), currency);
            out.push(InvoiceLineItem {
                id: self.rng.uuid(),
                invoice_id: invoice_id.to_owned(),
                title,
                description: None,
                quantity,
                rate: l.rate,
                tax_rate: (rate_pct / Decimal::from(100)).normalize(),
                service_period_start: None,
                service_period_end: None,
                service_period: None,
                index: i64::try_from(i).unwrap_or(0),
                group_id: None,
                net_total: net,
                total_tax: tax_amount,
                gross_total: net + tax_amount,
                price_id: None,
                rate_display: Some(RateDisplay::Absolute),
                external_ids: Vec::new(),
                revenue_classification: None,
                credit_grant_id: None,
                product_id: l.product_id.clone(),
                revenue_recognition_method: None,
            });
        }
        Ok(out)
    }

    /// Creates an invoice, with the simulator's own tax rates (Sphere is applied separately by the
    /// async layer for drafts). Statuses FINAL/SENT/VOIDED get a number and dates.
    pub fn create_invoice(&mut self, n: NewInvoice) -> Result<String, SimError> {
        let a = self.account_index(&n.target)?;
        let customer = self.customer(a, &n.customer_id)?;
        let currency = n.currency.unwrap_or_else(|| tax::currency_for_country(&customer.address.country));
        let status = n.status.clone().unwrap_or(InvoiceStatus::Draft);
        if matches!(status, InvoiceStatus::Other(_)) {
            return Err(SimError::bad_request(format!("unknown status {status}")));
        }
        if n.lines.is_empty() {
            return Err(SimError::bad_request("at least one line is required"));
        }
        let now = self.now();
        let created_at = n.created_at.unwrap_or(now);
        let issue_date = n.issue_date.unwrap_or_else(|| created_at.date_naive());
        let id = self.rng.uuid();
        let rate_pct = tax::local_rate_pct(&customer);
        let lines = self.build_lines(a, &id, currency, &n.lines, rate_pct)?;
        let tax_id = self.customer_tax_id(a, &customer.id);
        let acc = &self.accounts[a];
        let mut invoice = Invoice {
            id: id.clone(),
            sequence_account_id: acc.info.id.clone(),
            status: InvoiceStatus::Draft,
            currency,
            invoice_number: None,
            purchase_order_number: n.purchase_order_number,
            reference: None,
            memo: n.memo,
            issue_date: Some(issue_date),
            due_date: Some(issue_date + ChronoDuration::days(30)),
            accounting_date: Some(issue_date),
            billing_period: Some(BillingPeriod {
                start: issue_date - ChronoDuration::days(30),
                end_inclusive: issue_date - ChronoDuration::days(1),
            }),
            created_at,
            updated_at: created_at,
            calculated_at: None,
            customer_id: customer.id.clone(),
            customer_legal_company_name: customer.legal_name.clone(),
            customer_emails: vec![format!("ap@{}.example", slug(&customer.legal_name))],
            customer_billing_address: customer.address.clone(),
            customer_shipping_address: customer.address.clone(),
            customer_tax_status: Some(customer.tax_status.clone()),
            customer_tax_id: tax_id,
            net_total: Decimal::ZERO,
            total_tax: Decimal::ZERO,
            gross_total: Decimal::ZERO,
            payment_status: Some(PaymentStatus::Unpaid),
            credit_note_ids: Vec::new(),
            linked_services: Vec::new(),
            merchant_details: Some(acc.merchant.clone()),
            metadata: Vec::new(),
            billing_schedule_id: None,
            is_customer_archived: Some(false),
            dunning_status: None,
            balance: None,
        };
        recompute_totals(&mut invoice, &lines);
        let seq = self.seq();
        self.accounts[a].invoices.push(InvoiceRec { seq, invoice, lines, sent_on: None, last_tax_error: None });
        match status {
            InvoiceStatus::Draft => {}
            InvoiceStatus::InProgress => {
                let (a, i) = self.find_invoice(&id)?;
                self.accounts[a].invoices[i].invoice.status = InvoiceStatus::InProgress;
            }
            InvoiceStatus::Final => self.finalise_invoice_at(&id, false, created_at)?,
            InvoiceStatus::Sent => self.finalise_invoice_at(&id, true, created_at)?,
            InvoiceStatus::Voided => {
                self.finalise_invoice_at(&id, true, created_at)?;
                self.void_invoice_at(&id, created_at)?;
            }
            InvoiceStatus::Other(_) => {}
        }
        Ok(id)
    }

    /// Many invoices with one identical `createdAt` (to exercise cursor stability).
    pub fn bulk_invoices(&mut self, b: BulkInvoices) -> Result<Vec<String>, SimError> {
        if b.count > 10_000 {
            return Err(SimError::bad_request("count must be at most 10000"));
        }
        let a = self.account_index(&b.target)?;
        let customer_id = match b.customer_id.clone() {
            Some(c) => c,
            None => match self.accounts[a].customers.first() {
                Some(c) => c.item.id.clone(),
                None => {
                    let env = self.accounts[a].environment;
                    let account_id = self.accounts[a].info.id.clone();
                    self.create_customer(NewCustomer {
                        target: Target { environment: Some(env), account_id: Some(account_id) },
                        legal_name: "Bulk Buyer Ltd".into(),
                        address: Address {
                            line1: "1 High Street".into(),
                            town: "London".into(),
                            postcode: "EC1A 1BB".into(),
                            country: "GB".into(),
                            ..Address::default()
                        },
                        ..NewCustomer::default()
                    })?
                    .id
                }
            },
        };
        let created_at = b.created_at.unwrap_or_else(|| self.now());
        let target = Target { environment: None, account_id: Some(self.accounts[a].info.id.clone()) };
        let mut ids = Vec::with_capacity(b.count as usize);
        for i in 0..b.count {
            ids.push(self.create_invoice(NewInvoice {
                target: target.clone(),
                customer_id: customer_id.clone(),
                status: Some(b.status.clone().unwrap_or(InvoiceStatus::Final)),
                lines: vec![NewLine { rate: Decimal::new(1000 + i64::from(i), 2), ..NewLine::default() }],
                issue_date: b.issue_date,
                created_at: Some(created_at),
                ..NewInvoice::default()
            })?);
        }
        Ok(ids)
    }

    pub fn update_invoice(&mut self, id: &str, p: InvoicePatch) -> Result<(), SimError> {
        let (a, i) = self.find_invoice(id)?;
        let now = self.now();
        if let Some(lines) = &p.lines {
            let st = &self.accounts[a].invoices[i].invoice.status;
            if !matches!(st, InvoiceStatus::Draft | InvoiceStatus::InProgress) {
                return Err(SimError::conflict("only draft invoices can change lines"));
            }
            let inv = self.accounts[a].invoices[i].invoice.clone();
            let customer = self.customer(a, &inv.customer_id)?;
            let new_lines = self.build_lines(a, id, inv.currency, lines, tax::local_rate_pct(&customer))?;
            let rec = &mut self.accounts[a].invoices[i];
            rec.lines = new_lines;
            recompute_totals(&mut rec.invoice, &rec.lines);
        }
        let inv = &mut self.accounts[a].invoices[i].invoice;
        if p.memo.is_some() {
            inv.memo = p.memo;
        }
        if p.purchase_order_number.is_some() {
            inv.purchase_order_number = p.purchase_order_number;
        }
        if p.reference.is_some() {
            inv.reference = p.reference;
        }
        if p.customer_tax_id.is_some() {
            inv.customer_tax_id = p.customer_tax_id;
        }
        inv.updated_at = now.max(inv.updated_at);
        Ok(())
    }

    pub fn finalise_invoice(&mut self, id: &str, send: bool) -> Result<(), SimError> {
        let now = self.now();
        self.finalise_invoice_at(id, send, now)
    }

    fn finalise_invoice_at(&mut self, id: &str, send: bool, at: DateTime<Utc>) -> Result<(), SimError> {
        let (a, i) = self.find_invoice(id)?;
        let acc = &mut self.accounts[a];
        let rec = &mut acc.invoices[i];
        match rec.invoice.status {
            InvoiceStatus::Draft | InvoiceStatus::InProgress => {
                acc.invoice_counter += 1;
                rec.invoice.invoice_number = Some(format!("INV-{:05}", acc.invoice_counter));
                rec.invoice.status = InvoiceStatus::Final;
                rec.invoice.updated_at = at.max(rec.invoice.updated_at);
            }
            InvoiceStatus::Final if send => {}
            _ => return Err(SimError::conflict(format!("invoice {id} is {}, not a draft", rec.invoice.status))),
        }
        if send {
            rec.invoice.status = InvoiceStatus::Sent;
            rec.sent_on = Some(rec.invoice.issue_date.unwrap_or_else(|| at.date_naive()));
            rec.invoice.updated_at = at.max(rec.invoice.updated_at);
        }
        Ok(())
    }

    pub fn void_invoice(&mut self, id: &str) -> Result<(), SimError> {
        let now = self.now();
        self.void_invoice_at(id, now)
    }

    pub(crate) fn void_invoice_at(&mut self, id: &str, at: DateTime<Utc>) -> Result<(), SimError> {
        let (a, i) = self.find_invoice(id)?;
        let rec = &mut self.accounts[a].invoices[i];
        if !matches!(rec.invoice.status, InvoiceStatus::Final | InvoiceStatus::Sent) {
            return Err(SimError::conflict(format!(
                "invoice {id} is {}; only FINAL or SENT can be voided",
                rec.invoice.status
            )));
        }
        rec.invoice.status = InvoiceStatus::Voided;
        rec.invoice.updated_at = at.max(rec.invoice.updated_at);
        Ok(())
    }

    pub fn issue_credit_note(&mut self, n: NewCreditNote) -> Result<String, SimError> {
        let (a, invoice) = match &n.invoice_id {
            Some(inv_id) => {
                let (a, i) = self.find_invoice(inv_id)?;
                let rec = self.accounts[a].invoices[i].clone();
                if !matches!(rec.invoice.status, InvoiceStatus::Final | InvoiceStatus::Sent) {
                    return Err(SimError::conflict("credit notes can only be issued against FINAL or SENT invoices"));
                }
                (a, Some(rec))
            }
            None => (self.account_index(&n.target)?, None),
        };
        let customer_id = match (&invoice, &n.customer_id) {
            (Some(r), _) => r.invoice.customer_id.clone(),
            (None, Some(c)) => c.clone(),
            (None, None) => return Err(SimError::bad_request("invoiceId or customerId is required")),
        };
        let customer = self.customer(a, &customer_id)?;
        let currency = invoice
            .as_ref()
            .map(|r| r.invoice.currency)
            .or(n.currency)
            .unwrap_or_else(|| tax::currency_for_country(&customer.address.country));
        let status = n.status.clone().unwrap_or(CreditNoteStatus::Sent);
        let created_at = n.created_at.unwrap_or_else(|| self.now());
        let id = self.rng.uuid();
        let rate_pct = tax::local_rate_pct(&customer);
        // Lines: explicit, or every invoice line in full.
        let specs: Vec<NewCreditLine> = match (&n.lines, &invoice) {
            (Some(l), _) => l.clone(),
            (None, Some(r)) => r
                .lines
                .iter()
                .map(|l| NewCreditLine { line_item_id: Some(l.id.clone()), ..NewCreditLine::default() })
                .collect(),
            (None, None) => return Err(SimError::bad_request("lines are required for a credit note from scratch")),
        };
        if specs.is_empty() {
            return Err(SimError::bad_request("at least one line is required"));
        }
        let mut lines = Vec::new();
        for (idx, s) in specs.iter().enumerate() {
            let src = match (&s.line_item_id, &invoice) {
                (Some(lid), Some(r)) => {
                    Some(r.lines.iter().find(|l| &l.id == lid).ok_or_else(|| SimError::not_found("line item", lid))?)
                }
                (Some(lid), None) => return Err(SimError::not_found("line item", lid)),
                _ => None,
            };
            let quantity = s.quantity.or(src.map(|l| l.quantity)).unwrap_or(Decimal::ONE);
            let rate = s.rate.or(src.map(|l| l.rate)).unwrap_or(Decimal::ZERO);
            let net = round_money(quantity * rate, currency);
            let tax_amount = match src {
                Some(l) if !l.net_total.is_zero() => round_money(l.total_tax * net / l.net_total, currency),
                _ => round_money(net * rate_pct / Decimal::from(100), currency),
            };
            lines.push(CreditNoteLineItem {
                id: self.rng.uuid(),
                credit_note_id: id.clone(),
                group_id: None,
                line_item_id: src.map(|l| l.id.clone()),
                title: s.title.clone().or(src.map(|l| l.title.clone())).unwrap_or_else(|| "Credit".into()),
                description: None,
                quantity,
                rate,
                tax_rate: Some(src.map(|l| l.tax_rate).unwrap_or((rate_pct / Decimal::from(100)).normalize())),
                index: Some(i64::try_from(idx).unwrap_or(0)),
                price_id: None,
                net_total: net,
                total_tax: tax_amount,
                gross_total: net + tax_amount,
                rate_display: Some(RateDisplay::Absolute),
                external_ids: Vec::new(),
                service_period: None,
                revenue_recognition_method: None,
                revenue_classification: None,
                product_id: s.product_id.clone().or(src.and_then(|l| l.product_id.clone())),
            });
        }
        let net: Decimal = lines.iter().map(|l| l.net_total).sum();
        let tax_total: Decimal = lines.iter().map(|l| l.total_tax).sum();
        let acc = &mut self.accounts[a];
        let issue_date = n.issue_date.unwrap_or_else(|| created_at.date_naive());
        let numbered = !matches!(status, CreditNoteStatus::Draft | CreditNoteStatus::InProgress);
        if numbered {
            acc.credit_note_counter += 1;
        }
        let credit_note = CreditNote {
            id: id.clone(),
            sequence_account_id: acc.info.id.clone(),
            status: status.clone(),
            invoice_id: invoice.as_ref().map(|r| r.invoice.id.clone()),
            invoice_number: invoice.as_ref().and_then(|r| r.invoice.invoice_number.clone()),
            billing_schedule_id: None,
            currency,
            issue_date: Some(issue_date),
            billing_period_start: invoice.as_ref().and_then(|r| r.invoice.billing_period.as_ref().map(|b| b.start)),
            billing_period_end: invoice
                .as_ref()
                .and_then(|r| r.invoice.billing_period.as_ref().map(|b| b.end_inclusive)),
            credit_note_number: numbered.then(|| format!("CN-{:05}", acc.credit_note_counter)),
            purchase_order_number: None,
            customer_id: customer.id.clone(),
            customer_emails: vec![format!("ap@{}.example", slug(&customer.legal_name))],
            customer_legal_company_name: customer.legal_name.clone(),
            customer_billing_address: customer.address.clone(),
            customer_shipping_address: customer.address.clone(),
            memo: None,
            total_tax: tax_total,
            net_total: net,
            gross_total: net + tax_total,
            metadata: Vec::new(),
            customer_tax_id: invoice.as_ref().and_then(|r| r.invoice.customer_tax_id.clone()),
            linked_services: Vec::new(),
            application_status: None,
            balance: None,
            applications: Vec::new(),
            merchant_details: Some(acc.merchant.clone()),
            accounting_date: Some(issue_date),
        };
        let sent_on = matches!(status, CreditNoteStatus::Sent | CreditNoteStatus::Voided).then_some(issue_date);
        if let Some(r) = &invoice
            && let Some(inv) = acc.invoices.iter_mut().find(|x| x.invoice.id == r.invoice.id)
        {
            inv.invoice.credit_note_ids.push(id.clone());
            inv.invoice.updated_at = created_at.max(inv.invoice.updated_at);
        }
        let seq = self.seq();
        self.accounts[a].credit_notes.push(CreditNoteRec { seq, created_at, credit_note, lines, sent_on });
        Ok(id)
    }

    pub fn finalise_credit_note(&mut self, id: &str, send: bool) -> Result<(), SimError> {
        let (a, i) = self.find_credit_note(id)?;
        let now = self.now();
        let acc = &mut self.accounts[a];
        let rec = &mut acc.credit_notes[i];
        match rec.credit_note.status {
            CreditNoteStatus::Draft | CreditNoteStatus::InProgress => {
                acc.credit_note_counter += 1;
                rec.credit_note.credit_note_number = Some(format!("CN-{:05}", acc.credit_note_counter));
                rec.credit_note.status = CreditNoteStatus::Final;
            }
            CreditNoteStatus::Final if send => {}
            _ => return Err(SimError::conflict(format!("credit note {id} is {}", rec.credit_note.status))),
        }
        if send {
            rec.credit_note.status = CreditNoteStatus::Sent;
            rec.sent_on = Some(now.date_naive());
        }
        Ok(())
    }

    pub fn void_credit_note(&mut self, id: &str) -> Result<(), SimError> {
        let (a, i) = self.find_credit_note(id)?;
        let rec = &mut self.accounts[a].credit_notes[i];
        if !matches!(rec.credit_note.status, CreditNoteStatus::Final | CreditNoteStatus::Sent) {
            return Err(SimError::conflict(format!("credit note {id} is {}", rec.credit_note.status)));
        }
        rec.credit_note.status = CreditNoteStatus::Voided;
        Ok(())
    }

    /// Per-key rate limit; `Err(retry_after_secs)` when exhausted.
    pub fn take_rate_token(&mut self, client_id: &str) -> Result<(), u64> {
        let Some(per_min) = self.rate_limit_per_minute else { return Ok(()) };
        let now = self.clock.now_ms();
        let cap = f64::from(per_min.max(1));
        let per_ms = cap / 60_000.0;
        let b = self.buckets.entry(client_id.to_owned()).or_insert((cap, now));
        b.0 = (b.0 + (now - b.1).max(0) as f64 * per_ms).min(cap);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.0) / per_ms) / 1000.0).ceil().max(1.0) as u64)
        }
    }
}

pub(crate) fn recompute_totals(inv: &mut Invoice, lines: &[InvoiceLineItem]) {
    inv.net_total = lines.iter().map(|l| l.net_total).sum();
    inv.total_tax = lines.iter().map(|l| l.total_tax).sum();
    inv.gross_total = inv.net_total + inv.total_tax;
}

fn slug(name: &str) -> String {
    let s: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    if s.is_empty() { "customer".into() } else { s }
}
