//! The conformance suite against DynamoDB, emulated by moto_server on 127.0.0.1 with the real SDK
//! client (`scripts/test.sh` starts moto and sets `MOTO_ENDPOINT`). Every test gets its own table.

#![cfg(feature = "aws")]

mod conformance;

use shared::domain::OrgId;
use shared::store::{DynamoStore, SecretStore, SecretValue, SecretsManagerStore};

async fn fresh() -> Option<DynamoStore> {
    let endpoint = shared::aws::moto_endpoint_for_tests()?;
    let sdk = shared::aws::emulator(&endpoint).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), format!("t-{}", shared::domain::new_uuid()));
    store.create_table().await.expect("create table in moto");
    Some(store)
}

conformance_tests!(fresh());

#[tokio::test]
async fn secrets_manager_put_get_rotate_delete() {
    let Some(endpoint) = shared::aws::moto_endpoint_for_tests() else { return };
    let sdk = shared::aws::emulator(&endpoint).await;
    let s = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk));
    let name = format!("test/sequence/o/{}", shared::domain::new_uuid());
    let org = OrgId::parse("o").unwrap();
    assert!(s.get_secret(&name).await.unwrap().is_none());
    s.put_secret(&name, &SecretValue::new("one"), &org).await.unwrap();
    assert_eq!(s.get_secret(&name).await.unwrap().unwrap().expose(), "one");
    s.put_secret(&name, &SecretValue::new("two"), &org).await.unwrap();
    assert_eq!(s.get_secret(&name).await.unwrap().unwrap().expose(), "two");
    s.delete_secret(&name).await.unwrap();
    assert!(s.get_secret(&name).await.unwrap().is_none());
    // reconnecting inside the recovery window restores and updates
    s.put_secret(&name, &SecretValue::new("three"), &org).await.unwrap();
    assert_eq!(s.get_secret(&name).await.unwrap().unwrap().expose(), "three");
}

#[tokio::test]
async fn a_calculation_record_over_the_item_limit_is_stored_split_and_read_back_whole() {
    use shared::calculation::{CalculationAmount, CalculationLine, CalculationRecord};
    use shared::store::{Expect, ItemStore, record};
    let Some(store) = fresh().await else { return };
    let org = OrgId::parse("org_a").unwrap();
    let amount = |j: usize| CalculationAmount {
        jurisdiction: format!("Some long jurisdiction name number {j} of a county, a city and a district"),
        tax_type: "sales_tax".into(),
        percentage: rust_decimal::Decimal::new(6875, 3),
        amount: 1234,
    };
    let rec = CalculationRecord {
        id: "c_big".into(),
        org_id: org.clone(),
        connection_id: shared::domain::ConnectionId::parse("conn_a").unwrap(),
        livemode: false,
        created_at: "2026-11-26T00:00:00Z".into(),
        tax_date: "2026-11-26".into(),
        invoice_id: None,
        customer_id: None,
        request_digest: "d".into(),
        currency: "USD".into(),
        lines: (0..1000)
            .map(|i| CalculationLine {
                id: format!("line_{i}"),
                product_id: format!("product_with_a_long_identifier_{i}"),
                amount: 100_000,
                tax: 7_000,
                tax_amounts: (0..5).map(amount).collect(),
                reason: None,
            })
            .collect(),
        total_tax: 7_000_000,
        parts: 0,
    };
    // As one item, DynamoDB refuses it: that is the limit the split exists for.
    let whole = record::put(shared::calculation::calculation_key(&org, "c_whole"), &rec, Expect::Absent).unwrap();
    assert!(store.write(vec![whole]).await.is_err(), "a > 400 KB item must be refused");
    let now = chrono::Utc::now().timestamp();
    store.write(shared::calculation::put(&rec, now, 90).unwrap()).await.unwrap();
    let back = shared::calculation::get(&store, &org, "c_big").await.unwrap().unwrap();
    assert_eq!(back, rec);
}
