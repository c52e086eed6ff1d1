//! Line items of invoices and credit notes: titles from products, quantities × rates rounded to the
//! currency, tax at the simulator's own rate (Sphere replaces it in Part 2), and credit lines copied
//! from the invoice line they credit. Why one module: both kinds follow the same money rules, and a
//! credit line's tax must be the credited line's tax pro rata.

use crate::SimError;
use crate::money;
use crate::wire::{
    CreditNoteLineItem, DateRange, InclusiveDateRange, InvoiceLineItem, RateDisplay, RevenueRecognitionMethod,
};
use crate::world::{InvoiceRec, World};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewLine {
    pub product_id: Option<String>,
    /// Default: the product's name.
    pub title: Option<String>,
    pub description: Option<String>,
    /// Default: 1.
    pub quantity: Option<Decimal>,
    pub rate: Decimal,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewCreditLine {
    /// The invoice line credited (copies its product, title, rate and tax rate).
    pub line_item_id: Option<String>,
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub quantity: Option<Decimal>,
    pub rate: Option<Decimal>,
}

/// `(net, tax, gross)` of lines.
pub fn totals<'a>(lines: impl Iterator<Item = (&'a Decimal, &'a Decimal)>) -> (Decimal, Decimal, Decimal) {
    let (net, tax) = lines.fold((Decimal::ZERO, Decimal::ZERO), |(n, t), (ln, lt)| (n + ln, t + lt));
    (net, tax, net + tax)
}

impl World {
    /// Invoice lines at `rate_pct` percent tax, over the invoice's billing period.
    pub(crate) fn build_invoice_lines(
        &mut self,
        a: usize,
        invoice_id: &str,
        currency: &str,
        specs: &[NewLine],
        rate_pct: Decimal,
        period: Option<InclusiveDateRange>,
    ) -> Result<Vec<InvoiceLineItem>, SimError> {
        let mut out = Vec::with_capacity(specs.len());
        for (i, l) in specs.iter().enumerate() {
            let product = match &l.product_id {
                Some(pid) => Some(
                    self.accounts[a]
                        .products
                        .get(pid)
                        .map(|p| p.product.clone())
                        .ok_or_else(|| SimError::not_found("product", pid))?,
                ),
                None => None,
            };
            let title = l
                .title
                .clone()
                .or_else(|| product.as_ref().map(|p| p.name.clone()))
                .unwrap_or_else(|| format!("Line {}", i + 1));
            let quantity = l.quantity.unwrap_or(Decimal::ONE);
            let net = money::round(quantity * l.rate, currency);
            let tax = money::round(net * rate_pct / Decimal::from(100), currency);
            out.push(InvoiceLineItem {
                id: self.rng.uuid(),
                invoice_id: invoice_id.to_owned(),
                title,
                description: l.description.clone().or_else(|| product.as_ref().and_then(|p| p.label.clone())),
                quantity,
                rate: l.rate,
                tax_rate: money::fraction(rate_pct),
                service_period_start: period.map(|p| p.start),
                service_period_end: period.map(|p| p.end_inclusive),
                service_period: period.map(|p| DateRange { start_date: p.start, end_date: p.end_inclusive }),
                index: i64::try_from(i).unwrap_or(i64::MAX),
                group_id: None,
                net_total: net,
                total_tax: tax,
                gross_total: net + tax,
                price_id: product.as_ref().map(|p| format!("price-{}", p.id.chars().take(8).collect::<String>())),
                rate_display: RateDisplay::Absolute,
                external_ids: Vec::new(),
                revenue_classification: None,
                credit_grant_id: None,
                product_id: l.product_id.clone(),
                revenue_recognition_method: period.map(|_| RevenueRecognitionMethod::StraightLine),
            });
        }
        Ok(out)
    }

    /// Credit lines: explicit, or copied from the credited invoice's lines (tax pro rata of the
    /// credited line; otherwise `rate_pct`).
    pub(crate) fn build_credit_lines(
        &mut self,
        credit_note_id: &str,
        currency: &str,
        specs: &[NewCreditLine],
        invoice: Option<&InvoiceRec>,
        rate_pct: Decimal,
    ) -> Result<Vec<CreditNoteLineItem>, SimError> {
        let mut out = Vec::with_capacity(specs.len());
        for (idx, s) in specs.iter().enumerate() {
            let src = match (&s.line_item_id, invoice) {
                (Some(lid), Some(r)) => {
                    Some(r.lines.iter().find(|l| &l.id == lid).ok_or_else(|| SimError::not_found("line item", lid))?)
                }
                (Some(lid), None) => return Err(SimError::not_found("line item", lid)),
                _ => None,
            };
            let quantity = s.quantity.or(src.map(|l| l.quantity)).unwrap_or(Decimal::ONE);
            let rate = s.rate.or(src.map(|l| l.rate)).unwrap_or(Decimal::ZERO);
            let net = money::round(quantity * rate, currency);
            let tax = match src {
                Some(l) if !l.net_total.is_zero() => money::round(l.total_tax * net / l.net_total, currency),
                _ => money::round(net * rate_pct / Decimal::from(100), currency),
            };
            out.push(CreditNoteLineItem {
                id: self.rng.uuid(),
                credit_note_id: credit_note_id.to_owned(),
                group_id: None,
                line_item_id: src.map(|l| l.id.clone()),
                title: s.title.clone().or(src.map(|l| l.title.clone())).unwrap_or_else(|| "Credit".into()),
                description: src.and_then(|l| l.description.clone()),
                quantity,
                rate,
                tax_rate: src.map_or_else(|| money::fraction(rate_pct), |l| l.tax_rate),
                index: i64::try_from(idx).unwrap_or(i64::MAX),
                price_id: src.and_then(|l| l.price_id.clone()),
                net_total: net,
                total_tax: tax,
                gross_total: net + tax,
                rate_display: RateDisplay::Absolute,
                external_ids: Vec::new(),
                service_period: src
                    .and_then(|l| l.service_period)
                    .map(|p| InclusiveDateRange { start: p.start_date, end_inclusive: p.end_date }),
                revenue_recognition_method: src.and_then(|l| l.revenue_recognition_method),
                revenue_classification: None,
                product_id: s.product_id.clone().or(src.and_then(|l| l.product_id.clone())),
            });
        }
        Ok(out)
    }
}
