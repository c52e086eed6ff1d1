//! Calculation records: every answer of the tax endpoint is kept (90 days by default) for audit and
//! for comparing the tax we calculated with the tax Sequence collected, matched through the invoice's
//! `linkedServices` Sphere entry (the calculation id).

use crate::domain::{ConnectionId, OrgId};
use crate::org::org_pk;
use crate::store::record;
use crate::store::{Expect, ItemStore, Key, StoreError, WriteOp};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalculationLine {
    pub id: String,
    pub product_id: String,
    /// Minor units, as sent.
    pub amount: i64,
    /// Minor units, as answered.
    pub tax: i64,
    /// The per-jurisdiction breakdown that was answered.
    #[serde(default)]
    pub tax_amounts: Vec<CalculationAmount>,
    /// Why the line has no tax (`not_collecting`, `customer_exempt`, `reverse_charge`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalculationAmount {
    pub jurisdiction: String,
    pub tax_type: String,
    /// Percent, e.g. `8.875`.
    pub percentage: crate::domain::Decimal,
    /// Minor units.
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalculationRecord {
    pub id: String,
    pub org_id: OrgId,
    pub connection_id: ConnectionId,
    pub livemode: bool,
    pub created_at: String,
    pub tax_date: String,
    #[serde(default)]
    pub invoice_id: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    /// SHA-256 of the request body.
    pub request_digest: String,
    pub currency: String,
    pub lines: Vec<CalculationLine>,
    pub total_tax: i64,
}

pub fn calculation_key(org: &OrgId, id: &str) -> Key {
    Key::new(org_pk(org), format!("CALC#{id}"))
}

/// The write of a record that expires `ttl_days` after `now_secs`.
pub fn put(rec: &CalculationRecord, now_secs: i64, ttl_days: u32) -> Result<WriteOp, StoreError> {
    let mut op = record::put(calculation_key(&rec.org_id, &rec.id), rec, Expect::Absent)?;
    if let WriteOp::Put { item, .. } = &mut op {
        item.ttl = Some(now_secs + i64::from(ttl_days) * 86_400);
    }
    Ok(op)
}

pub async fn get<S: ItemStore>(store: &S, org: &OrgId, id: &str) -> Result<Option<CalculationRecord>, StoreError> {
    if id.is_empty() || id.len() > 100 || id.contains(['#', '\0']) {
        return Ok(None);
    }
    Ok(record::get(store, &calculation_key(org, id)).await?.map(|v| v.value))
}
