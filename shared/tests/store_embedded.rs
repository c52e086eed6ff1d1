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

#[tokio::test]
async fn expired_items_are_purged_and_live_ones_stay() {
    let s = EmbeddedStore::open(&temp_dir()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let item = |sk: &str, ttl: Option<i64>| {
        let mut it = Item::new(Key::new("CALC", sk), 1, "{}".into());
        it.ttl = ttl;
        WriteOp::Put { item: it, expect: Expect::Any }
    };
    s.write(vec![
        item("old1", Some(now - 10)),
        item("old2", Some(now - 1)),
        item("live", Some(now + 3600)),
        item("forever", None),
    ])
    .await
    .unwrap();
    // Expired items already read as absent; purging frees them, at most `limit` at a time.
    assert_eq!(s.purge_expired(1).await.unwrap(), 1);
    assert_eq!(s.purge_expired(100).await.unwrap(), 1);
    assert_eq!(s.purge_expired(100).await.unwrap(), 0);
    assert!(s.get(&Key::new("CALC", "live")).await.unwrap().is_some());
    assert!(s.get(&Key::new("CALC", "forever")).await.unwrap().is_some());
    // An expired key written again is a new, live item: it stays.
    s.write(vec![item("old1", Some(now + 3600))]).await.unwrap();
    assert_eq!(s.purge_expired(100).await.unwrap(), 0);
    assert!(s.get(&Key::new("CALC", "old1")).await.unwrap().is_some());
}

#[tokio::test]
async fn the_api_key_pepper_is_stable_per_data_dir() {
    let dir = temp_dir();
    let (key, _) = {
        let s = EmbeddedStore::open(&dir).unwrap();
        shared::api_key::generate(shared::domain::Mode::Test, &s.key_pepper())
    };
    // a restart of the same data dir still verifies the key; another data dir does not
    let reopened = EmbeddedStore::open(&dir).unwrap();
    assert!(shared::api_key::parse(&key, &reopened.key_pepper()).is_some());
    let other = EmbeddedStore::open(&temp_dir()).unwrap();
    assert!(shared::api_key::parse(&key, &other.key_pepper()).is_none());
}

#[tokio::test]
async fn deferred_writes_are_read_at_once_queried_after_compaction_and_kept_across_a_restart() {
    let dir = temp_dir();
    let n = 3_000;
    {
        let s = EmbeddedStore::open(&dir).unwrap();
        for i in 0..n {
            let item = Item::new(Key::new("CALC#o", format!("c{i:05}")), 1, format!("{{\"n\":{i}}}"));
            s.write_deferred(vec![WriteOp::Put { item, expect: Expect::Absent }]).await.unwrap();
        }
        // `get` sees a record as soon as its group is logged (fsync'd)
        let last = Key::new("CALC#o", format!("c{:05}", n - 1));
        let mut seen = false;
        for _ in 0..500 {
            if s.get(&last).await.unwrap().is_some() {
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(seen, "a deferred record is readable within 2.5 s");
        // queries see every record once compacted (within a second when idle)
        let mut all = 0;
        for _ in 0..100 {
            let mut q = shared::store::Query::prefix("CALC#o", "c");
            q.limit = 10_000;
            all = s.query(&q).await.unwrap().items.len();
            if all == n {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(all, n);
        // more records, then the store closes at once: its drop compacts what the log holds
        for i in n..n + 500 {
            let item = Item::new(Key::new("CALC#o", format!("c{i:05}")), 1, "{}".into());
            s.write_deferred(vec![WriteOp::Put { item, expect: Expect::Absent }]).await.unwrap();
        }
    }
    let s = EmbeddedStore::open(&dir).unwrap();
    let mut q = shared::store::Query::prefix("CALC#o", "c");
    q.limit = 10_000;
    assert_eq!(s.query(&q).await.unwrap().items.len(), n + 500, "nothing lost across the restart");
    assert_eq!(std::fs::metadata(dir.join("deferred.log")).unwrap().len(), 0);
}
