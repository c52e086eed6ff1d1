//! `POST /tax_api/calculate_tax` after authentication: the request (parsed and checked against the engine's limits
//! in [`crate::wire`]), its tax context ([`crate::context`]), the engine, the calculation record, the answer in
//! Sphere's shape.

use crate::error::ApiError;
use crate::state::State;
use crate::wire;
use http::StatusCode;
use shared::api_key::ApiKeyRecord;
use shared::calculation_record::{CalculationAmount, CalculationLine, CalculationRecord};
use shared::store::ItemStore;
use shared::tax::{CalcInput, LineInput};
use shared::web::{HttpResponse, json};

pub async fn handle<I: ItemStore>(state: &State<I>, key: &ApiKeyRecord, body: &[u8]) -> Result<HttpResponse, ApiError> {
    let req = wire::parse(body).map_err(|e| ApiError::Request { code: e.code, message: e.message })?;
    let now_ms = state.clock.now_ms();
    let ctx = crate::context::load(state, key, &req, now_ms).await?;
    let tax_date = req
        .tax_date
        .unwrap_or_else(|| chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default().date_naive());
    let lines: Vec<LineInput> = req
        .lines
        .iter()
        .map(|l| LineInput {
            tax_code: ctx.tax_codes.get(&l.product_id).cloned().unwrap_or_default(),
            ..l.input.clone()
        })
        .collect();
    let input = CalcInput {
        currency: req.currency,
        tax_date,
        customer_address: req.customer_address.clone(),
        ship_from: req.ship_from.clone(),
        lines,
        exemption: ctx.exemption,
        buyer_tax_id: req.tax_id.clone(),
        settings: &ctx.settings,
    };
    let out = state.engine.calculate(&input).map_err(|source| ApiError::Engine { org: key.org_id.clone(), source })?;

    let id = shared::domain::new_uuid_v7(now_ms);
    let rec = CalculationRecord {
        id: id.clone(),
        org_id: key.org_id.clone(),
        connection_id: key.connection_id.clone(),
        livemode: key.mode.is_live(),
        created_at: shared::clock::rfc3339_millis(now_ms),
        tax_date: tax_date.to_string(),
        invoice_id: req.invoice_id.clone(),
        customer_id: req.customer_id.clone(),
        request_digest: shared::crypto::sha256_hex(body),
        currency: req.currency.as_lower(),
        lines: req
            .lines
            .iter()
            .zip(&out.lines)
            .map(|(l, o)| CalculationLine {
                id: l.input.id.clone(),
                product_id: l.product_id.clone(),
                amount: l.input.amount,
                tax: o.tax,
                tax_amounts: o
                    .tax_amounts
                    .iter()
                    .map(|a| CalculationAmount {
                        jurisdiction: a.rate.jurisdiction.clone(),
                        tax_type: a.rate.tax_type.to_owned(),
                        percentage: a.rate.percentage,
                        amount: a.amount,
                    })
                    .collect(),
                reason: o.reason.map(str::to_owned),
            })
            .collect(),
        total_tax: out.lines.iter().map(|l| l.tax).sum(),
        parts: 0,
    };
    // The key is verified and the answer computed: a failed record write must not fail the invoice.
    // It is logged whole (no secrets in it) so reconciliation can replay it. Deferred: the embedded
    // store commits it with the next group instead of holding this answer behind a disk sync.
    let write = match shared::calculation_record::put(&rec, now_ms / 1000, state.config.calculation_ttl_days) {
        Ok(ops) => state.store.write_deferred(ops).await,
        Err(e) => Err(e),
    };
    if let Err(e) = write {
        tracing::warn!(error = %e, record = %serde_json::to_string(&rec).unwrap_or_default(), "calculation record not stored; kept in this log line for reconciliation");
    }

    let response = wire::Response {
        message: "Tax calculated successfully",
        data: wire::Data {
            lines: out.lines.iter().map(|l| wire::line(l, req.include_taxability_reason)).collect(),
            sphere_tax_calculation_id: id,
            livemode: key.mode.is_live(),
            address_resolution: out.address_resolution.as_str(),
            warnings: out.warnings,
            missing_jurisdiction_types: out.missing_jurisdiction_types,
        },
    };
    Ok(json(StatusCode::OK, &response))
}
