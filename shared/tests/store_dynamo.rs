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
async fn secrets_are_created_under_the_configured_kms_key() {
    let Some(endpoint) = shared::aws::moto_endpoint_for_tests() else { return };
    let sdk = shared::aws::emulator(&endpoint).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let key = "arn:aws:kms:eu-west-1:123456789012:key/4f1c0b8e-0000-4000-8000-000000000001".to_owned();
    let s = SecretsManagerStore::new(client.clone()).with_kms_key(Some(key.clone()));
    let name = format!("test/sequence/o/{}", shared::domain::new_uuid());
    s.put_secret(&name, &SecretValue::new("one"), &OrgId::parse("o").unwrap()).await.unwrap();
    let described = client.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(described.kms_key_id(), Some(key.as_str()));
    // without a configured key: the account's aws/secretsmanager key (no KmsKeyId on the secret)
    let plain = SecretsManagerStore::new(client.clone());
    let other = format!("test/sequence/o/{}", shared::domain::new_uuid());
    plain.put_secret(&other, &SecretValue::new("one"), &OrgId::parse("o").unwrap()).await.unwrap();
    let described = client.describe_secret().secret_id(&other).send().await.unwrap();
    assert_ne!(described.kms_key_id(), Some(key.as_str()));
}

#[tokio::test]
async fn the_api_key_pepper_is_read_from_its_secret() {
    let Some(endpoint) = shared::aws::moto_endpoint_for_tests() else { return };
    let sdk = shared::aws::emulator(&endpoint).await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let s = SecretsManagerStore::new(client.clone());
    let id = format!("test/api-key-pepper/{}", shared::domain::new_uuid());
    assert!(matches!(shared::api_key::load_pepper(&s, &id).await, Err(shared::api_key::PepperError::Missing)));
    client.create_secret().name(&id).secret_string("short").send().await.unwrap();
    assert!(matches!(shared::api_key::load_pepper(&s, &id).await, Err(shared::api_key::PepperError::TooShort(_))));
    let value: String = "k".repeat(64);
    client.put_secret_value().secret_id(&id).secret_string(&value).send().await.unwrap();
    let pepper = shared::api_key::load_pepper(&s, &id).await.unwrap();
    // the same secret gives the same pepper: a key issued with one load verifies with another
    let (key, _) = shared::api_key::generate(shared::domain::Mode::Live, &pepper);
    let again = shared::api_key::load_pepper(&s, &id).await.unwrap();
    assert!(shared::api_key::parse(&key, &again).is_some());
    assert!(!format!("{again:?}").contains(&value));
}

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
    use shared::calculation_record::{CalculationAmount, CalculationLine, CalculationRecord};
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
    let whole = record::put(shared::layout::calculation_key(&org, "c_whole"), &rec, Expect::Absent).unwrap();
    assert!(store.write(vec![whole]).await.is_err(), "a > 400 KB item must be refused");
    let now = chrono::Utc::now().timestamp();
    store.write(shared::calculation_record::put(&rec, now, 90).unwrap()).await.unwrap();
    let back = shared::calculation_record::get(&store, &org, "c_big").await.unwrap().unwrap();
    assert_eq!(back, rec);
}
