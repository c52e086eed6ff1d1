//! [`SimState`]: the shared handle on the world that the HTTP routes, the control API and tests use.
//! Why a handle with plain methods: tests seed and mutate directly (no HTTP round trip), and every
//! method locks the world once and never across an `await`, so the async Sphere calls (Part 2) can run
//! while the API keeps serving.

use crate::faults::{Faults, SimStats};
use crate::raw::{RawPatchRequest, RawPatched};
use crate::render;
use crate::seed::{self, HardCases, SeedSpec};
use crate::sphere::TaxOutcome;
use crate::wire::{CreditNote, CreditNoteLineItem, CustomerResponse, Invoice, InvoiceLineItem, InvoiceStatus, Product};
use crate::world::{SimCredentials, Target, World};
use crate::{
    BulkInvoices, CustomerPatch, InvoicePatch, NewCreditNote, NewCustomer, NewInvoice, NewProduct, Payment,
    ProductPatch, SimError,
};
use serde::Serialize;
use shared::domain::Environment;
use std::sync::{Arc, Mutex};

/// Shared handle on the simulator's world, for direct seeding, mutation and fault injection.
#[derive(Clone)]
pub struct SimState {
    world: Arc<Mutex<World>>,
    pub(crate) http: reqwest::Client,
}

/// An invoice as served (the list item) with its lines, as the control API returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceView {
    pub invoice: Invoice,
    pub lines: Vec<InvoiceLineItem>,
    pub sent_on: Option<chrono::NaiveDate>,
    pub last_tax_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
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

    /// Wipes and seeds the primary account of `env`.
    pub fn seed(&self, env: Environment, spec: &SeedSpec) -> Result<(), SimError> {
        self.with(|w| seed::seed_account(w, env, spec))
    }

    /// The ids of the hard cases seeded into the primary account of `env`, if any.
    pub fn hard_cases(&self, env: Environment) -> Option<HardCases> {
        self.with(|w| w.primary(env).and_then(|a| a.hard_cases.clone()))
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

    pub fn create_customer(&self, c: NewCustomer) -> Result<CustomerResponse, SimError> {
        self.with(|w| {
            let r = w.create_customer(c)?;
            w.notify("CUSTOMER_CREATED", &r.customer.id);
            Ok(r)
        })
    }

    pub fn update_customer(&self, id: &str, p: CustomerPatch) -> Result<CustomerResponse, SimError> {
        self.with(|w| {
            let r = w.update_customer(id, p)?;
            w.notify(if r.customer.archived_at.is_some() { "CUSTOMER_ARCHIVED" } else { "CUSTOMER_UPDATED" }, id);
            Ok(r)
        })
    }

    pub fn create_product(&self, p: NewProduct) -> Result<Product, SimError> {
        self.with(|w| w.create_product(p))
    }

    pub fn update_product(&self, id: &str, p: ProductPatch) -> Result<Product, SimError> {
        self.with(|w| w.update_product(id, p))
    }

    /// Creates an invoice. With a saved Sphere integration it is drafted, sent to the tax API, and
    /// then moved to the requested status (as Sequence calculates tax on drafts).
    pub async fn create_invoice(&self, n: NewInvoice) -> Result<(String, TaxOutcome), SimError> {
        let requested = n.status.unwrap_or(InvoiceStatus::Draft);
        let has_sphere = self.with(|w| w.account_index(&n.target).map(|a| w.accounts[a].sphere.is_some()))?;
        if !has_sphere {
            let id = self.with(|w| w.create_invoice(n))?;
            self.with(|w| w.notify("INVOICE_CREATED", &id));
            return Ok((id, TaxOutcome::NotConfigured));
        }
        let mut draft = n;
        draft.status = Some(InvoiceStatus::Draft);
        let id = self.with(|w| w.create_invoice(draft))?;
        let outcome = self.calculate_tax(&id).await?;
        self.with(|w| match requested {
            InvoiceStatus::InProgress => {
                let a = w.invoice_account(&id)?;
                w.accounts[a].invoice_mut(&id)?.invoice.status = InvoiceStatus::InProgress;
                Ok(())
            }
            InvoiceStatus::Final => w.finalise_invoice(&id, false),
            InvoiceStatus::Sent => w.finalise_invoice(&id, true),
            InvoiceStatus::Voided => w.finalise_invoice(&id, true).and_then(|()| w.void_invoice(&id)),
            InvoiceStatus::Draft => Ok(()),
        })?;
        self.with(|w| w.notify("INVOICE_CREATED", &id));
        Ok((id, outcome))
    }

    pub fn bulk_invoices(&self, b: BulkInvoices) -> Result<Vec<String>, SimError> {
        self.with(|w| w.bulk_invoices(b))
    }

    pub fn update_invoice(&self, id: &str, p: InvoicePatch) -> Result<(), SimError> {
        self.with(|w| w.update_invoice(id, p).map(|()| w.notify("INVOICE_UPDATED", id)))
    }

    pub fn finalise_invoice(&self, id: &str, send: bool) -> Result<(), SimError> {
        self.with(|w| w.finalise_invoice(id, send).map(|()| w.notify("INVOICE_ISSUED", id)))
    }

    pub fn void_invoice(&self, id: &str) -> Result<(), SimError> {
        self.with(|w| w.void_invoice(id).map(|()| w.notify("INVOICE_UPDATED", id)))
    }

    pub fn pay_invoice(&self, id: &str, p: Payment) -> Result<(), SimError> {
        self.with(|w| w.pay_invoice(id, p).map(|()| w.notify("INVOICE_UPDATED", id)))
    }

    /// The API stops returning the invoice (404); its credit notes keep pointing at it.
    pub fn delete_invoice(&self, id: &str) -> Result<(), SimError> {
        self.with(|w| w.delete_invoice(id))
    }

    pub fn issue_credit_note(&self, n: NewCreditNote) -> Result<String, SimError> {
        self.with(|w| {
            let id = w.issue_credit_note(n)?;
            w.notify("CREDIT_NOTE_CREATED", &id);
            Ok(id)
        })
    }

    pub fn finalise_credit_note(&self, id: &str, send: bool) -> Result<(), SimError> {
        self.with(|w| w.finalise_credit_note(id, send).map(|()| w.notify("CREDIT_NOTE_ISSUED", id)))
    }

    pub fn void_credit_note(&self, id: &str) -> Result<(), SimError> {
        self.with(|w| w.void_credit_note(id).map(|()| w.notify("CREDIT_NOTE_UPDATED", id)))
    }

    /// Webhook delivery faults (drop, duplicate, reorder, delay, refuse policies).
    pub fn set_webhook_faults(&self, f: crate::webhooks::WebhookFaults) {
        self.with(|w| w.webhook_faults = f);
    }

    pub fn webhook_stats(&self) -> crate::webhooks::WebhookStats {
        self.with(|w| w.webhook_stats)
    }

    /// The notification policies of the first account of `env`.
    pub fn policies(&self, env: Environment) -> Vec<crate::webhooks::Policy> {
        self.with(|w| w.accounts.iter().find(|a| a.environment == env).map(|a| a.policies.clone()).unwrap_or_default())
    }

    /// Serves `set` / removes `unset` top-level fields of one document from now on (see `raw`).
    pub fn raw_patch(&self, req: RawPatchRequest) -> Result<RawPatched, SimError> {
        self.with(|w| w.raw_patch(req))
    }

    /// Every raw-patched document (the departure checker skips these).
    pub fn raw_patched(&self) -> Vec<RawPatched> {
        self.with(|w| w.raw_patched())
    }

    pub fn clear_raw_patches(&self) {
        self.with(super::world::World::clear_raw_patches);
    }

    /// The invoice as `GET /invoices` serves it, with its lines.
    pub fn invoice(&self, id: &str) -> Result<InvoiceView, SimError> {
        self.with(|w| {
            let acc = &w.accounts[w.invoice_account(id)?];
            let r = acc.invoice(id)?;
            Ok(InvoiceView {
                invoice: render::invoice(acc, r),
                lines: r.lines.clone(),
                sent_on: r.sent_on,
                last_tax_error: r.last_tax_error.clone(),
            })
        })
    }

    pub fn credit_note(&self, id: &str) -> Result<CreditNoteView, SimError> {
        self.with(|w| {
            let acc = &w.accounts[w.credit_note_account(id)?];
            let r = acc.credit_note(id)?;
            Ok(CreditNoteView { credit_note: r.credit_note.clone(), lines: r.lines.clone(), sent_on: r.sent_on })
        })
    }

    /// The last `calculate_tax` body sent for this account.
    pub fn last_tax_request(&self, target: &Target) -> Result<Option<serde_json::Value>, SimError> {
        self.with(|w| w.account_index(target).map(|a| w.accounts[a].last_tax_request.clone()))
    }
}
