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

/// Prefix of every calculation record's partition key. The tax function may write only items whose partition key
/// starts with it (template.yaml: a `dynamodb:LeadingKeys` condition on its PutItem), so the public endpoint cannot
/// write settings, keys or ledger items even if its code tried.
pub const CALCULATION_PK_PREFIX: &str = "CALC#";

/// Where a calculation record lives: its own partition per org (`CALC#{org}`), apart from the org's other items.
pub fn calculation_key(org: &OrgId, id: &str) -> Key {
    Key::new(format!("{CALCULATION_PK_PREFIX}{org}"), format!("CALC#{id}"))
}

/// Where records written before 2026-11-26 live (under the org's partition); read as a fallback until they have
/// expired (90 days: after 2027-02-24 this and its use can go).
fn legacy_calculation_key(org: &OrgId, id: &str) -> Key {
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
    if let Some(v) = record::get(store, &calculation_key(org, id)).await? {
        return Ok(Some(v.value));
    }
    Ok(record::get(store, &legacy_calculation_key(org, id)).await?.map(|v| v.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EmbeddedStore;

    fn record(id: &str) -> CalculationRecord {
        CalculationRecord {
            id: id.into(),
            org_id: OrgId::parse("org_a").unwrap(),
            connection_id: ConnectionId::parse("conn_a").unwrap(),
            livemode: false,
            created_at: "2026-11-26T00:00:00Z".into(),
            tax_date: "2026-11-26".into(),
            invoice_id: None,
            customer_id: None,
            request_digest: "d".into(),
            currency: "USD".into(),
            lines: vec![],
            total_tax: 0,
        }
    }

    #[tokio::test]
    async fn records_live_in_their_own_partition_and_older_ones_are_still_found() {
        let dir = std::env::temp_dir().join(format!("calc-{}", crate::domain::new_uuid()));
        let store = EmbeddedStore::open(&dir).unwrap();
        let org = OrgId::parse("org_a").unwrap();
        let new = put(&record("c_new"), 1_800_000_000, 90).unwrap();
        assert!(new.key().pk.starts_with(CALCULATION_PK_PREFIX), "{:?}", new.key());
        // A record written before the partition moved, under the org's partition.
        let old = record::put(legacy_calculation_key(&org, "c_old"), &record("c_old"), Expect::Absent).unwrap();
        store.write(vec![new, old]).await.unwrap();
        assert_eq!(get(&store, &org, "c_new").await.unwrap().map(|r| r.id), Some("c_new".into()));
        assert_eq!(get(&store, &org, "c_old").await.unwrap().map(|r| r.id), Some("c_old".into()));
        assert_eq!(get(&store, &org, "c_none").await.unwrap(), None);
    }
}
