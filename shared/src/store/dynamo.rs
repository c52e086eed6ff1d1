//! The AWS adapter for items: one DynamoDB table (`pk`/`sk`, GSIs `due` and `by_date`, TTL on `ttl`),
//! through the official SDK. Single-operation writes use PutItem/DeleteItem with a condition; writes
//! of several operations (e.g. a ledger record plus the lease's fence check) use TransactWriteItems.
//!
//! IAM actions this adapter calls (kept in step with template.yaml by a test):
//! `dynamodb:GetItem`, `dynamodb:BatchGetItem`, `dynamodb:Query`, `dynamodb:PutItem`, `dynamodb:DeleteItem`,
//! `dynamodb:ConditionCheckItem` (inside TransactWriteItems).

use super::item::{
    Expect, Index, IndexKey, Item, ItemStore, Key, Page, Query, SkRange, StoreError, WriteOp, cursor_of, validate_write,
};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put, ScalarAttributeType, TimeToLiveSpecification,
    TransactWriteItem,
};
use std::collections::HashMap;

/// Actions the code below calls; `template.yaml` must grant exactly these to functions using it.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
];

/// Most keys in one BatchGetItem call (DynamoDB's limit).
const BATCH_GET_MAX_KEYS: usize = 100;
/// Calls per chunk for keys DynamoDB returns unprocessed (throttling, 16 MB responses), backing off
/// 25, 50, 100, 200 ms; past them the read fails as unavailable rather than answering without them.
const BATCH_GET_ROUNDS: u32 = 5;

type Attrs = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn index_names(index: Index) -> (&'static str, &'static str, &'static str) {
    match index {
        Index::Due => ("due", "due_pk", "due_sk"),
        Index::ByDate => ("by_date", "date_pk", "date_sk"),
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([("pk".to_owned(), s(&key.pk)), ("sk".to_owned(), s(&key.sk))])
}

fn to_attrs(item: &Item) -> Attrs {
    let mut m = key_attrs(&item.key);
    m.insert("v".into(), n(item.version));
    m.insert("body".into(), s(&item.body));
    if let Some(f) = item.fence {
        m.insert("fence".into(), n(f));
    }
    if let Some(t) = item.ttl {
        m.insert("ttl".into(), n(t));
    }
    for index in [Index::Due, Index::ByDate] {
        if let Some(ik) = item.index_key(index) {
            let (_, pk, sk) = index_names(index);
            m.insert(pk.into(), s(&ik.pk));
            m.insert(sk.into(), s(&ik.sk));
        }
    }
    m
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("DynamoDB item without a valid {what}"))
}

fn get_s<'a>(m: &'a Attrs, k: &str) -> Option<&'a str> {
    m.get(k).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn get_n<T: std::str::FromStr>(m: &Attrs, k: &str) -> Result<Option<T>, StoreError> {
    match m.get(k) {
        None => Ok(None),
        Some(v) => v.as_n().ok().and_then(|x| x.parse().ok()).map(Some).ok_or_else(|| corrupt(k)),
    }
}

fn from_attrs(m: &Attrs) -> Result<Item, StoreError> {
    let index_key = |index| {
        let (_, pk, sk) = index_names(index);
        Some(IndexKey { pk: get_s(m, pk)?.to_owned(), sk: get_s(m, sk)?.to_owned() })
    };
    Ok(Item {
        key: Key::new(get_s(m, "pk").ok_or_else(|| corrupt("pk"))?, get_s(m, "sk").ok_or_else(|| corrupt("sk"))?),
        version: get_n(m, "v")?.ok_or_else(|| corrupt("v"))?,
        body: get_s(m, "body").ok_or_else(|| corrupt("body"))?.to_owned(),
        fence: get_n(m, "fence")?,
        ttl: get_n(m, "ttl")?,
        due: index_key(Index::Due),
        by_date: index_key(Index::ByDate),
    })
}

/// The condition expression, names and values for one write operation.
fn condition(op: &WriteOp) -> (Option<String>, Option<HashMap<String, String>>, Option<Attrs>) {
    match op {
        WriteOp::Put { expect, .. } | WriteOp::Delete { expect, .. } => match expect {
            Expect::Any => (None, None, None),
            Expect::Absent => {
                (Some("attribute_not_exists(#pk)".into()), Some(HashMap::from([("#pk".into(), "pk".into())])), None)
            }
            Expect::Version(v) => (
                Some("#v = :v".into()),
                Some(HashMap::from([("#v".into(), "v".into())])),
                Some(HashMap::from([(":v".into(), n(v))])),
            ),
        },
        WriteOp::CheckFence { fence, .. } => (
            Some("#f = :f".into()),
            Some(HashMap::from([("#f".into(), "fence".into())])),
            Some(HashMap::from([(":f".into(), n(fence))])),
        ),
    }
}

fn sdk_err(e: impl std::error::Error) -> StoreError {
    StoreError::Unavailable(super::item::error_chain(&e))
}

/// A single PutItem / DeleteItem's outcome: a failed condition is `ConditionFailed`, anything else unavailable.
fn single_write<O, E>(r: Result<O, aws_sdk_dynamodb::error::SdkError<E>>) -> Result<(), StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    r.map(|_| ()).map_err(|e| match e.as_service_error().and_then(|s| s.code()) {
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed { op: 0 },
        _ => sdk_err(e),
    })
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// The table and the condition of a write (`condition()`'s expression, names and values), on any of the SDK's
/// write builders (PutItem, DeleteItem, and their transaction forms): they share these setters but no trait.
macro_rules! conditional {
    ($builder:expr, $table:expr, $condition:expr) => {{
        let (expression, names, values) = $condition;
        $builder
            .table_name($table)
            .set_condition_expression(expression)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
    }};
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table with its indexes and TTL (tests and first-time local tooling; in AWS the SAM
    /// template creates it). Waits until it is active.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let key = |name: &str, t| KeySchemaElement::builder().attribute_name(name).key_type(t).build();
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash).map_err(build_err)?)
            .key_schema(key("sk", KeyType::Range).map_err(build_err)?);
        for a in ["pk", "sk", "due_pk", "due_sk", "date_pk", "date_sk"] {
            req = req.attribute_definitions(attr(a).map_err(build_err)?);
        }
        for index in [Index::Due, Index::ByDate] {
            let (name, pk, sk) = index_names(index);
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(key(pk, KeyType::Hash).map_err(build_err)?)
                    .key_schema(key(sk, KeyType::Range).map_err(build_err)?)
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()
                    .map_err(build_err)?,
            );
        }
        req.send().await.map_err(sdk_err)?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().enabled(true).attribute_name("ttl").build().map_err(build_err)?,
            )
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(())
    }

    async fn write_one(&self, op: WriteOp) -> Result<(), StoreError> {
        let condition = condition(&op);
        match op {
            WriteOp::Put { item, .. } => single_write(
                conditional!(self.client.put_item().set_item(Some(to_attrs(&item))), &self.table, condition)
                    .send()
                    .await,
            ),
            WriteOp::Delete { key, .. } => single_write(
                conditional!(self.client.delete_item().set_key(Some(key_attrs(&key))), &self.table, condition)
                    .send()
                    .await,
            ),
            WriteOp::CheckFence { .. } => self.write_many(vec![op]).await,
        }
    }

    async fn write_many(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(ops.len());
        for op in &ops {
            let c = condition(op);
            let t = match op {
                WriteOp::Put { item, .. } => TransactWriteItem::builder().put(
                    conditional!(Put::builder().set_item(Some(to_attrs(item))), &self.table, c)
                        .build()
                        .map_err(build_err)?,
                ),
                WriteOp::Delete { key, .. } => TransactWriteItem::builder().delete(
                    conditional!(Delete::builder().set_key(Some(key_attrs(key))), &self.table, c)
                        .build()
                        .map_err(build_err)?,
                ),
                WriteOp::CheckFence { key, .. } => TransactWriteItem::builder().condition_check(
                    conditional!(ConditionCheck::builder().set_key(Some(key_attrs(key))), &self.table, c)
                        .build()
                        .map_err(build_err)?,
                ),
            };
            items.push(t.build());
        }
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map(|_| ()).map_err(|e| {
            match e.into_service_error() {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                    let op = c
                        .cancellation_reasons()
                        .iter()
                        .position(|r| r.code() == Some("ConditionalCheckFailed"));
                    match op {
                        Some(op) => StoreError::ConditionFailed { op },
                        None => StoreError::Unavailable(format!("transaction cancelled: {c}")),
                    }
                }
                e => sdk_err(e),
            }
        })
    }
}

impl ItemStore for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        let now = chrono::Utc::now().timestamp();
        match out.item() {
            None => Ok(None),
            Some(m) => Ok(Some(from_attrs(m)?).filter(|i| !i.is_expired(now))),
        }
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let mut distinct: Vec<&Key> = keys.iter().collect();
        distinct.sort();
        distinct.dedup();
        let now = chrono::Utc::now().timestamp();
        let mut found: HashMap<Key, Item> = HashMap::with_capacity(distinct.len());
        for chunk in distinct.chunks(BATCH_GET_MAX_KEYS) {
            let mut pending: Vec<Attrs> = chunk.iter().map(|k| key_attrs(k)).collect();
            for round in 0..BATCH_GET_ROUNDS {
                if pending.is_empty() {
                    break;
                }
                if round > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(25 << (round - 1))).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(build_err)?;
                let out =
                    self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(sdk_err)?;
                for m in out.responses().and_then(|r| r.get(&self.table)).into_iter().flatten() {
                    let item = from_attrs(m)?;
                    if !item.is_expired(now) {
                        found.insert(item.key.clone(), item);
                    }
                }
                pending = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .map_or_else(Vec::new, |k| k.keys().to_vec());
            }
            if !pending.is_empty() {
                return Err(StoreError::Unavailable(format!(
                    "BatchGetItem left {} keys unprocessed after {BATCH_GET_ROUNDS} calls",
                    pending.len()
                )));
            }
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        let (index_name, pk_attr, sk_attr) = match q.index {
            None => (None, "pk", "sk"),
            Some(i) => {
                let (name, pk, sk) = index_names(i);
                (Some(name), pk, sk)
            }
        };
        let mut names = HashMap::from([("#pk".to_owned(), pk_attr.to_owned()), ("#sk".to_owned(), sk_attr.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), s(&q.pk))]);
        let sk_cond = match &q.sk {
            SkRange::Prefix(p) if p.is_empty() => {
                names.remove("#sk");
                None
            }
            SkRange::Prefix(p) => {
                values.insert(":p".into(), s(p));
                Some("begins_with(#sk, :p)")
            }
            // DynamoDB refuses empty strings in key conditions: an empty lower bound is "no lower bound".
            SkRange::Between(a, b) if a.is_empty() => {
                values.insert(":b".into(), s(b));
                Some("#sk <= :b")
            }
            SkRange::Between(a, b) => {
                values.insert(":a".into(), s(a));
                values.insert(":b".into(), s(b));
                Some("#sk BETWEEN :a AND :b")
            }
        };
        let expr = match sk_cond {
            Some(c) => format!("#pk = :pk AND {c}"),
            None => "#pk = :pk".to_owned(),
        };
        let mut start = match &q.after {
            None => None,
            Some(c) => Some(match q.index {
                None => HashMap::from([("pk".to_owned(), s(&q.pk)), ("sk".to_owned(), s(c))]),
                Some(_) => {
                    let mut parts = c.splitn(3, '\0');
                    let (Some(isk), Some(pk), Some(sk)) = (parts.next(), parts.next(), parts.next()) else {
                        return Err(StoreError::Invalid("malformed query cursor".into()));
                    };
                    HashMap::from([
                        ("pk".to_owned(), s(pk)),
                        ("sk".to_owned(), s(sk)),
                        (pk_attr.to_owned(), s(&q.pk)),
                        (sk_attr.to_owned(), s(isk)),
                    ])
                }
            }),
        };
        let now = chrono::Utc::now().timestamp();
        let want = q.limit + 1;
        let mut items = Vec::new();
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index_name.map(str::to_owned))
                .key_condition_expression(&expr)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(want - items.len()).unwrap_or(i32::MAX))
                .scan_index_forward(!q.descending)
                .set_consistent_read(index_name.is_none().then_some(true))
                .send()
                .await
                .map_err(sdk_err)?;
            for m in out.items() {
                let item = from_attrs(m)?;
                if !item.is_expired(now) {
                    items.push(item);
                }
            }
            start = out.last_evaluated_key().cloned();
            if items.len() >= want || start.is_none() {
                break;
            }
        }
        let more = items.len() > q.limit;
        items.truncate(q.limit);
        let next = if more { items.last().map(|i| cursor_of(i, q.index)) } else { None };
        Ok(Page { items, next })
    }

    async fn write(&self, mut ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_write(&ops)?;
        if ops.len() == 1 && !matches!(ops[0], WriteOp::CheckFence { .. }) {
            let op = ops.remove(0);
            self.write_one(op).await
        } else {
            self.write_many(ops).await
        }
    }
}
