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
