//! The conformance suite against the embedded (redb) store, plus what only it has: data surviving a
//! reopen and secrets sealed at rest.

mod conformance;

use shared::domain::OrgId;
use shared::store::{EmbeddedStore, Expect, Item, ItemStore, Key, SecretStore, SecretValue, WriteOp};
use std::path::PathBuf;

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("sphere-store-test-{}", shared::domain::new_uuid()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn fresh() -> Option<EmbeddedStore> {
    Some(EmbeddedStore::open(&temp_dir()).unwrap())
}

conformance_tests!(fresh());

#[tokio::test]
async fn data_survives_reopen() {
    let dir = temp_dir();
    {
        let s = EmbeddedStore::open(&dir).unwrap();
        s.write(vec![WriteOp::Put { item: Item::new(Key::new("P", "a"), 1, "7".into()), expect: Expect::Absent }])
            .await
            .unwrap();
        s.put_secret("x/sequence/o/c", &SecretValue::new("top-secret-value"), &OrgId::parse("o").unwrap())
            .await
            .unwrap();
    }
    let s = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(s.get(&Key::new("P", "a")).await.unwrap().unwrap().body, "7");
    assert_eq!(s.get_secret("x/sequence/o/c").await.unwrap().unwrap().expose(), "top-secret-value");
}

#[tokio::test]
async fn secrets_are_sealed_at_rest_and_deletable() {
    let dir = temp_dir();
    let s = EmbeddedStore::open(&dir).unwrap();
    let org = OrgId::parse("o").unwrap();
    s.put_secret("n", &SecretValue::new("plain-text-secret-123"), &org).await.unwrap();
    s.put_secret("n", &SecretValue::new("rotated-secret-456"), &org).await.unwrap();
    drop(s);
    let raw = std::fs::read(dir.join("store.redb")).unwrap();
    for needle in [&b"plain-text-secret-123"[..], b"rotated-secret-456"] {
        assert!(!raw.windows(needle.len()).any(|w| w == needle), "secret in clear in the store file");
    }
    let s = EmbeddedStore::open(&dir).unwrap();
    assert_eq!(s.get_secret("n").await.unwrap().unwrap().expose(), "rotated-secret-456");
    assert_eq!(format!("{:?}", s.get_secret("n").await.unwrap()), "Some(SecretValue(<redacted>))");
    s.delete_secret("n").await.unwrap();
    assert!(s.get_secret("n").await.unwrap().is_none());
}
