//! Part 2 of the setup, played by the simulator: Sequence's "Sphere" integration. "Test credentials"
//! probes our tax API, and once saved, every draft invoice created or recalculated through the control
//! API is sent to `POST {base_url}/tax_api/calculate_tax`; the returned tax is written onto the lines
//! and totals and the `sphere_tax_calculation_id` is recorded as a `linkedServices` entry. This lets a
//! whole Part 1 + Part 2 loop run on one machine.

use crate::invoices::recompute_totals;
use crate::state::SimState;
use crate::wire::{IntegrationService, InvoiceStatus, LinkInfo, TaxStatus};
use crate::world::{Account, InvoiceRec, SphereIntegration, Target};
use crate::{SimError, money};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::domain::Currency;
use std::str::FromStr;
use std::time::Duration;

/// Result of "Test credentials".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SphereTestResult {
    pub valid: bool,
    pub saved: bool,
    /// HTTP status of the probe, when one came back.
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// What happened to an invoice's tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TaxOutcome {
    /// No Sphere integration saved: the simulator's own rates apply.
    NotConfigured,
    /// Only drafts are (re)calculated.
    NotDraft,
    Applied {
        sphere_tax_calculation_id: Option<String>,
    },
    Failed {
        error: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaxAddress {
    pub address1: String,
    pub address2: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaxLine {
    /// The Sequence line item id (echoed back by the tax API).
    pub id: String,
    /// The Sequence product id; Sphere maps it to a Product Tax Code. Absent when the line has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Line net total in integer minor units.
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaxRequest {
    pub currency: String,
    pub customer_id: String,
    pub customer_address: TaxAddress,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_exempt: Option<bool>,
    pub invoice_id: String,
    pub line_items: Vec<TaxLine>,
}

/// THE request the simulator sends for one invoice.
///
/// The exact request Sequence sends to Sphere is undocumented (research §1.8, §5): this is our best
/// model of it — the documented generic Sphere `calculate_tax` body (lowercase currency, integer
/// minor-unit line net totals, Sequence product ids as `product_id`, the customer's billing address,
/// `tax_id` from the customer's tax registration or the invoice snapshot, `tax_exempt` for exempt
/// customers) plus our optional `invoice_id` extension. Keep every assumption here, in one place, so a
/// captured real request can replace it.
pub fn build_tax_request(acc: &Account, rec: &InvoiceRec) -> Result<TaxRequest, String> {
    let inv = &rec.invoice;
    let addr = &inv.customer_billing_address;
    let tax_id = acc.customer_tax_id(&inv.customer_id).or_else(|| inv.customer_tax_id.clone());
    let currency = Currency::parse(&inv.currency).map_err(|e| e.to_string())?;
    let mut line_items = Vec::with_capacity(rec.lines.len());
    for l in &rec.lines {
        let amount = currency.to_minor(l.net_total).map_err(|e| format!("line {}: {e}", l.id))?;
        line_items.push(TaxLine { id: l.id.clone(), product_id: l.product_id.clone(), amount });
    }
    Ok(TaxRequest {
        currency: currency.as_lower(),
        customer_id: inv.customer_id.clone(),
        customer_address: TaxAddress {
            address1: addr.line1.clone(),
            address2: addr.line2.clone(),
            city: addr.town.clone(),
            state: addr.state.clone(),
            postal_code: addr.postcode.clone(),
            country: addr.country.clone(),
        },
        tax_id,
        tax_exempt: (inv.customer_tax_status == Some(TaxStatus::TaxExempt)).then_some(true),
        invoice_id: inv.id.clone(),
        line_items,
    })
}

#[derive(Debug, Deserialize)]
struct TaxResponse {
    data: TaxData,
}

#[derive(Debug, Deserialize)]
struct TaxData {
    #[serde(default)]
    lines: Vec<RespLine>,
    sphere_tax_calculation_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RespLine {
    id: Option<String>,
    #[serde(default)]
    tax_amounts: Vec<TaxAmount>,
}

#[derive(Debug, Deserialize)]
struct TaxAmount {
    amount: i64,
    #[serde(default)]
    tax_rate: Option<TaxRate>,
}

#[derive(Debug, Deserialize)]
struct TaxRate {
    percentage: Option<serde_json::Number>,
}

/// Writes a tax response onto the invoice: line `totalTax`/`grossTotal`/`taxRate`, invoice totals,
/// `calculatedAt`, and the Sphere `linkedServices` entry.
fn apply(rec: &mut InvoiceRec, resp: TaxResponse, now: DateTime<Utc>) -> Result<Option<String>, String> {
    let currency = Currency::parse(&rec.invoice.currency).map_err(|e| e.to_string())?;
    let n = rec.lines.len();
    for (pos, line) in rec.lines.iter_mut().enumerate() {
        let found = resp
            .data
            .lines
            .iter()
            .find(|r| r.id.as_deref() == Some(line.id.as_str()))
            .or_else(|| if resp.data.lines.len() == n { resp.data.lines.get(pos) } else { None })
            .ok_or_else(|| format!("response has no line {}", line.id))?;
        let minor: i64 = found.tax_amounts.iter().map(|t| t.amount).sum();
        let pct: Decimal = found
            .tax_amounts
            .iter()
            .filter_map(|t| t.tax_rate.as_ref()?.percentage.as_ref())
            .filter_map(|p| Decimal::from_str(&p.to_string()).ok())
            .sum();
        line.total_tax = money::round(currency.from_minor(minor), currency.code());
        line.gross_total = line.net_total + line.total_tax;
        line.tax_rate = money::fraction(pct);
    }
    recompute_totals(rec);
    rec.invoice.calculated_at = Some(now);
    rec.invoice.updated_at = now.max(rec.invoice.updated_at);
    rec.invoice.linked_services.retain(|l| l.external_service != IntegrationService::Sphere);
    if let Some(calc) = &resp.data.sphere_tax_calculation_id {
        rec.invoice.linked_services.push(LinkInfo {
            external_id: calc.clone(),
            external_service: IntegrationService::Sphere,
            sync_time: now,
            external_url: None,
        });
    }
    rec.last_tax_error = None;
    Ok(resp.data.sphere_tax_calculation_id)
}

impl SimState {
    /// "Test credentials" (`GET {base_url}/tax_api/verify` with `X-API-KEY`), then Save when valid.
    pub async fn configure_sphere(
        &self,
        target: &Target,
        base_url: &str,
        api_key: &str,
    ) -> Result<SphereTestResult, SimError> {
        let a = self.with(|w| w.account_index(target))?;
        let base = base_url.trim_end_matches('/').to_owned();
        let probe = self
            .http
            .get(format!("{base}/tax_api/verify"))
            .header("X-API-KEY", api_key)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let (valid, status, error) = match probe {
            Ok(r) if r.status().is_success() => (true, Some(r.status().as_u16()), None),
            Ok(r) => (false, Some(r.status().as_u16()), Some(format!("tax API answered {}", r.status().as_u16()))),
            Err(e) => (false, None, Some(if e.is_timeout() { "timeout".into() } else { "tax API unreachable".into() })),
        };
        if valid {
            self.with(|w| {
                let now = w.now();
                w.accounts[a].sphere =
                    Some(SphereIntegration { base_url: base, api_key: api_key.to_owned(), saved_at: now });
            });
        }
        Ok(SphereTestResult { valid, saved: valid, status, error })
    }

    pub fn remove_sphere(&self, target: &Target) -> Result<(), SimError> {
        self.with(|w| {
            let a = w.account_index(target)?;
            w.accounts[a].sphere = None;
            Ok(())
        })
    }

    /// Sends a draft invoice to the saved Sphere integration and writes the tax back.
    pub async fn calculate_tax(&self, invoice_id: &str) -> Result<TaxOutcome, SimError> {
        let prepared = self.with(|w| {
            let a = w.invoice_account(invoice_id)?;
            let acc = &w.accounts[a];
            let rec = acc.invoice(invoice_id)?;
            if !matches!(rec.invoice.status, InvoiceStatus::Draft | InvoiceStatus::InProgress) {
                return Ok(Err(TaxOutcome::NotDraft));
            }
            let Some(integ) = acc.sphere.clone() else { return Ok(Err(TaxOutcome::NotConfigured)) };
            let req = build_tax_request(acc, rec);
            if let Ok(r) = &req {
                w.accounts[a].last_tax_request = serde_json::to_value(r).ok();
            }
            w.stats.tax_calls += 1;
            Ok::<_, SimError>(Ok((integ, req)))
        })?;
        let (integ, req) = match prepared {
            Err(outcome) => return Ok(outcome),
            Ok(x) => x,
        };
        let result: Result<TaxResponse, String> = match req {
            Err(e) => Err(e),
            Ok(req) => {
                let sent = self
                    .http
                    .post(format!("{}/tax_api/calculate_tax", integ.base_url))
                    .header("X-API-KEY", &integ.api_key)
                    .json(&req)
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                match sent {
                    Err(e) => Err(if e.is_timeout() { "timeout".into() } else { "tax API unreachable".into() }),
                    Ok(r) if !r.status().is_success() => {
                        let status = r.status().as_u16();
                        let body = r.text().await.unwrap_or_default();
                        Err(format!("tax API answered {status}: {}", body.chars().take(300).collect::<String>()))
                    }
                    Ok(r) => r.json::<TaxResponse>().await.map_err(|e| format!("unreadable tax response: {e}")),
                }
            }
        };
        self.with(|w| {
            let now = w.now();
            let a = w.invoice_account(invoice_id)?;
            let rec = w.accounts[a].invoice_mut(invoice_id)?;
            let applied = result.and_then(|resp| apply(rec, resp, now));
            match applied {
                Ok(calc) => Ok(TaxOutcome::Applied { sphere_tax_calculation_id: calc }),
                Err(e) => {
                    rec.last_tax_error = Some(e.clone());
                    w.stats.tax_call_failures += 1;
                    Ok(TaxOutcome::Failed { error: e })
                }
            }
        })
    }
}
