//! Calculation records: every answer of the tax endpoint is kept (90 days by default) for audit and
//! for comparing the tax we calculated with the tax Sequence collected, matched through the invoice's
//! `linkedServices` Sphere entry (the calculation id).

use crate::domain::{ConnectionId, OrgId};
use crate::layout::{calculation_key, calculation_part_key, legacy_calculation_key};
use crate::store::record;
use crate::store::{Expect, ItemStore, StoreError, WriteOp};
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
    /// How many part items hold the lines of a record too large for one item (0: the lines are here).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parts: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The most a record's body may weigh in one item. DynamoDB refuses items over 400 KB (names and values of all
/// attributes); a 1,000-line request's record is about 0.5 MB. A record over this keeps its header in the main
/// item and its lines, in order, in part items of at most this size, written in the same transaction.
pub const MAX_ITEM_BODY_BYTES: usize = 350_000;

/// One part of a split record's lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Part {
    lines: Vec<CalculationLine>,
}

/// The writes of a record that expires `ttl_days` after `now_secs`: one item, or — over
/// [`MAX_ITEM_BODY_BYTES`] — a header and its parts (lines split in order, none lost), to be written together.
pub fn put(rec: &CalculationRecord, now_secs: i64, ttl_days: u32) -> Result<Vec<WriteOp>, StoreError> {
    let ttl = now_secs + i64::from(ttl_days) * 86_400;
    let with_ttl = |mut op: WriteOp| {
        if let WriteOp::Put { item, .. } = &mut op {
            item.ttl = Some(ttl);
        }
        op
    };
    let whole = serde_json::to_vec(rec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if whole.len() <= MAX_ITEM_BODY_BYTES {
        return Ok(vec![with_ttl(record::put(calculation_key(&rec.org_id, &rec.id), rec, Expect::Absent)?)]);
    }
    let mut parts: Vec<Vec<CalculationLine>> = vec![Vec::new()];
    let mut used = 0;
    for line in &rec.lines {
        let bytes = serde_json::to_vec(line).map_err(|e| StoreError::Corrupt(e.to_string()))?.len() + 1;
        if used + bytes > MAX_ITEM_BODY_BYTES - 64 && !parts.last().is_some_and(Vec::is_empty) {
            parts.push(Vec::new());
            used = 0;
        }
        used += bytes;
        if let Some(p) = parts.last_mut() {
            p.push(line.clone());
        }
    }
    let header =
        CalculationRecord { lines: Vec::new(), parts: u32::try_from(parts.len()).unwrap_or(u32::MAX), ..rec.clone() };
    let mut ops = vec![with_ttl(record::put(calculation_key(&rec.org_id, &rec.id), &header, Expect::Absent)?)];
    for (n, lines) in parts.into_iter().enumerate() {
        let key = calculation_part_key(&rec.org_id, &rec.id, u32::try_from(n).unwrap_or(u32::MAX));
        ops.push(with_ttl(record::put(key, &Part { lines }, Expect::Absent)?));
    }
    Ok(ops)
}

pub async fn get<S: ItemStore>(store: &S, org: &OrgId, id: &str) -> Result<Option<CalculationRecord>, StoreError> {
    if id.is_empty() || id.len() > 100 || id.contains(['#', '\0']) {
        return Ok(None);
    }
    if let Some(v) = record::get::<CalculationRecord, _>(store, &calculation_key(org, id)).await? {
        let mut rec = v.value;
        for n in 0..rec.parts {
            let part = record::get::<Part, _>(store, &calculation_part_key(org, id, n)).await?;
            let part = part.ok_or_else(|| StoreError::Corrupt(format!("calculation {id}: part {n} is missing")))?;
            rec.lines.extend(part.value.lines);
        }
        rec.parts = 0;
        return Ok(Some(rec));
    }
    Ok(record::get(store, &legacy_calculation_key(org, id)).await?.map(|v| v.value))
}

/// How a record is stored: its bytes and items (header and parts), `None` when absent (measurements and checks).
pub async fn stored_size<S: ItemStore>(store: &S, org: &OrgId, id: &str) -> Result<Option<(usize, usize)>, StoreError> {
    let Some(header) = store.get(&calculation_key(org, id)).await? else { return Ok(None) };
    let rec: CalculationRecord = record::decode(&header)?;
    let mut bytes = header.body.len();
    for n in 0..rec.parts {
        let part = store.get(&calculation_part_key(org, id, n)).await?;
        let part = part.ok_or_else(|| StoreError::Corrupt(format!("calculation {id}: part {n} is missing")))?;
        bytes += part.body.len();
    }
    Ok(Some((bytes, 1 + usize::try_from(rec.parts).unwrap_or(usize::MAX))))
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
            parts: 0,
        }
    }

    #[tokio::test]
    async fn records_live_in_their_own_partition_and_older_ones_are_still_found() {
        let dir = std::env::temp_dir().join(format!("calc-{}", crate::domain::new_uuid()));
        let store = EmbeddedStore::open(&dir).unwrap();
        let org = OrgId::parse("org_a").unwrap();
        let mut new = put(&record("c_new"), 1_800_000_000, 90).unwrap();
        assert_eq!(new.len(), 1);
        assert!(new[0].key().pk.starts_with(crate::layout::CALCULATION_PK_PREFIX), "{:?}", new[0].key());
        // A record written before the partition moved, under the org's partition.
        let old = record::put(legacy_calculation_key(&org, "c_old"), &record("c_old"), Expect::Absent).unwrap();
        new.push(old);
        store.write(new).await.unwrap();
        assert_eq!(get(&store, &org, "c_new").await.unwrap().map(|r| r.id), Some("c_new".into()));
        assert_eq!(get(&store, &org, "c_old").await.unwrap().map(|r| r.id), Some("c_old".into()));
        assert_eq!(get(&store, &org, "c_none").await.unwrap(), None);
    }

    /// A 1,000-line request with a full breakdown per line.
    fn big(id: &str) -> CalculationRecord {
        let amount = |j: usize| CalculationAmount {
            jurisdiction: format!("Some long jurisdiction name number {j} of a county, a city and a district"),
            tax_type: "sales_tax".into(),
            percentage: rust_decimal::Decimal::new(6875, 3),
            amount: 1234,
        };
        let lines = (0..1000)
            .map(|i| CalculationLine {
                id: format!("line_{i}"),
                product_id: format!("product_with_a_long_identifier_{i}"),
                amount: 100_000,
                tax: 7_000,
                tax_amounts: (0..5).map(amount).collect(),
                reason: None,
            })
            .collect();
        CalculationRecord { lines, total_tax: 7_000_000, ..record(id) }
    }

    #[tokio::test]
    async fn a_record_over_the_item_limit_is_split_in_order_and_read_back_whole() {
        let rec = big("c_big");
        assert!(serde_json::to_vec(&rec).unwrap().len() > 400_000, "the record is over DynamoDB's limit");
        let ops = put(&rec, 1_800_000_000, 90).unwrap();
        assert!(ops.len() >= 3, "header + parts: {}", ops.len());
        for op in &ops {
            let WriteOp::Put { item, .. } = op else { panic!("puts only") };
            assert!(item.body.len() <= MAX_ITEM_BODY_BYTES, "{} bytes in {:?}", item.body.len(), item.key);
            assert!(item.ttl.is_some(), "every part expires with the record");
        }
        let dir = std::env::temp_dir().join(format!("calc-{}", crate::domain::new_uuid()));
        let store = EmbeddedStore::open(&dir).unwrap();
        store.write(ops).await.unwrap();
        let back = get(&store, &rec.org_id, "c_big").await.unwrap().unwrap();
        assert_eq!(back, rec, "the same record, lines in order, none lost");
    }
}
