//! One conformance suite for every `ItemStore` adapter: the embedded store and DynamoDB (via moto)
//! must give the same answers. `conformance_tests!(make)` expands to one `#[tokio::test]` per check;
//! `make` is an async expression producing `Some(fresh, empty store)`.

#![allow(dead_code)]

use shared::store::lease;
use shared::store::{Expect, Index, IndexKey, Item, ItemStore, Key, Query, SkRange, StoreError, WriteOp};

fn item(pk: &str, sk: &str, version: u64, body: &str) -> Item {
    Item::new(Key::new(pk, sk), version, body.to_owned())
}

fn put(i: Item, expect: Expect) -> Vec<WriteOp> {
    vec![WriteOp::Put { item: i, expect }]
}

fn cond_failed(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::ConditionFailed { .. }))
}

pub async fn create_if_absent<S: ItemStore>(s: &S) {
    assert!(s.write(put(item("P", "a", 1, "\"one\""), Expect::Absent)).await.is_ok());
    assert!(cond_failed(s.write(put(item("P", "a", 1, "\"two\""), Expect::Absent)).await));
    let got = s.get(&Key::new("P", "a")).await.unwrap().unwrap();
    assert_eq!(got.body, "\"one\"");
    assert_eq!(got.version, 1);
    assert!(s.get(&Key::new("P", "b")).await.unwrap().is_none());
}

pub async fn stale_version_is_rejected<S: ItemStore>(s: &S) {
    s.write(put(item("P", "a", 1, "1"), Expect::Absent)).await.unwrap();
    s.write(put(item("P", "a", 2, "2"), Expect::Version(1))).await.unwrap();
    // a second writer that read version 1 loses
    assert!(cond_failed(s.write(put(item("P", "a", 2, "stale"), Expect::Version(1))).await));
    // version of a missing item never matches
    assert!(cond_failed(s.write(put(item("P", "zz", 2, "x"), Expect::Version(1))).await));
    let got = s.get(&Key::new("P", "a")).await.unwrap().unwrap();
    assert_eq!((got.version, got.body.as_str()), (2, "2"));
    // conditional delete
    assert!(cond_failed(s.write(vec![WriteOp::Delete { key: Key::new("P", "a"), expect: Expect::Version(1) }]).await));
    s.write(vec![WriteOp::Delete { key: Key::new("P", "a"), expect: Expect::Version(2) }]).await.unwrap();
    assert!(s.get(&Key::new("P", "a")).await.unwrap().is_none());
}

pub async fn stale_fence_is_rejected_atomically<S: ItemStore>(s: &S) {
    let mut lease = item("L", "LEASE", 1, "{}");
    lease.fence = Some(3);
    s.write(put(lease, Expect::Absent)).await.unwrap();
    let fenced = |fence, sk: &str| {
        vec![
            WriteOp::CheckFence { key: Key::new("L", "LEASE"), fence },
            WriteOp::Put { item: item("L", sk, 1, "\"rec\""), expect: Expect::Any },
        ]
    };
    s.write(fenced(3, "TXN#1")).await.unwrap();
    let r = s.write(fenced(2, "TXN#2")).await;
    assert!(matches!(r, Err(StoreError::ConditionFailed { op: 0 })), "{r:?}");
    assert!(s.get(&Key::new("L", "TXN#2")).await.unwrap().is_none(), "nothing written under a stale fence");
    // a fence check on a missing lease fails too
    assert!(cond_failed(
        s.write(vec![
            WriteOp::CheckFence { key: Key::new("NOPE", "LEASE"), fence: 1 },
            WriteOp::Put { item: item("L", "TXN#3", 1, "1"), expect: Expect::Any },
        ])
        .await
    ));
    // the fence check leaves the lease untouched
    let l = s.get(&Key::new("L", "LEASE")).await.unwrap().unwrap();
    assert_eq!((l.version, l.fence), (1, Some(3)));
}

pub async fn multi_op_writes_are_all_or_nothing<S: ItemStore>(s: &S) {
    s.write(put(item("M", "b", 1, "1"), Expect::Absent)).await.unwrap();
    let r = s
        .write(vec![
            WriteOp::Put { item: item("M", "a", 1, "1"), expect: Expect::Absent },
            WriteOp::Put { item: item("M", "b", 1, "1"), expect: Expect::Absent },
        ])
        .await;
    assert!(matches!(r, Err(StoreError::ConditionFailed { op: 1 })), "{r:?}");
    assert!(s.get(&Key::new("M", "a")).await.unwrap().is_none());
    // invalid writes are refused before reaching the backend
    let dup = vec![
        WriteOp::Put { item: item("M", "c", 1, "1"), expect: Expect::Any },
        WriteOp::Put { item: item("M", "c", 1, "1"), expect: Expect::Any },
    ];
    assert!(matches!(s.write(dup).await, Err(StoreError::Invalid(_))));
    assert!(matches!(s.write(vec![]).await, Err(StoreError::Invalid(_))));
}

pub async fn query_by_prefix_orders_and_paginates<S: ItemStore>(s: &S) {
    for i in 0..23 {
        s.write(put(item("Q", &format!("TXN#{i:03}"), 1, &i.to_string()), Expect::Absent)).await.unwrap();
    }
    s.write(put(item("Q", "TXM#x", 1, "0"), Expect::Absent)).await.unwrap();
    s.write(put(item("Q", "TXO#x", 1, "0"), Expect::Absent)).await.unwrap();
    s.write(put(item("Q2", "TXN#999", 1, "0"), Expect::Absent)).await.unwrap();
    for descending in [false, true] {
        let mut q = Query::prefix("Q", "TXN#");
        q.limit = 10;
        q.descending = descending;
        let mut seen = Vec::new();
        let mut pages = 0;
        loop {
            let page = s.query(&q).await.unwrap();
            pages += 1;
            seen.extend(page.items.iter().map(|i| i.key.sk.clone()));
            match page.next {
                Some(c) => q.after = Some(c),
                None => break,
            }
        }
        let mut expected: Vec<String> = (0..23).map(|i| format!("TXN#{i:03}")).collect();
        if descending {
            expected.reverse();
        }
        assert_eq!(seen, expected, "descending={descending}");
        assert_eq!(pages, 3);
    }
    // an exact page leaves no cursor
    let mut q = Query::prefix("Q", "TXN#");
    q.limit = 23;
    assert!(s.query(&q).await.unwrap().next.is_none());
    // between is inclusive
    let q = Query { sk: SkRange::Between("TXN#005".into(), "TXN#007".into()), ..Query::prefix("Q", "") };
    let got: Vec<_> = s.query(&q).await.unwrap().items.into_iter().map(|i| i.key.sk).collect();
    assert_eq!(got, ["TXN#005", "TXN#006", "TXN#007"]);
    // an empty lower bound means "from the start" (DynamoDB refuses empty key values)
    let q = Query { sk: SkRange::Between(String::new(), "TXN#001".into()), ..Query::prefix("Q", "") };
    let got: Vec<_> = s.query(&q).await.unwrap().items.into_iter().map(|i| i.key.sk).collect();
    assert_eq!(got, ["TXM#x", "TXN#000", "TXN#001"]);
}

pub async fn index_queries_follow_updates<S: ItemStore>(s: &S) {
    let with_due = |sk: &str, due: &str, v| {
        let mut i = item("ORG#1", sk, v, "{}");
        i.due = Some(IndexKey { pk: "DUE".into(), sk: due.into() });
        i
    };
    s.write(put(with_due("CONN#a", "0000000002#a", 1), Expect::Absent)).await.unwrap();
    s.write(put(with_due("CONN#b", "0000000001#b", 1), Expect::Absent)).await.unwrap();
    let mut other = item("ORG#2", "CONN#c", 1, "{}");
    other.by_date = Some(IndexKey { pk: "DATES".into(), sk: "2026-01-01".into() });
    s.write(put(other, Expect::Absent)).await.unwrap();
    let q = Query { index: Some(Index::Due), ..Query::prefix("DUE", "") };
    let keys = |p: shared::store::Page| p.items.into_iter().map(|i| i.key.sk).collect::<Vec<_>>();
    assert_eq!(keys(s.query(&q).await.unwrap()), ["CONN#b", "CONN#a"]);
    // moving an item in the index removes its old entry; removing the index key drops it (sparse)
    s.write(put(with_due("CONN#b", "0000000003#b", 2), Expect::Version(1))).await.unwrap();
    assert_eq!(keys(s.query(&q).await.unwrap()), ["CONN#a", "CONN#b"]);
    s.write(put(item("ORG#1", "CONN#a", 2, "{}"), Expect::Version(1))).await.unwrap();
    assert_eq!(keys(s.query(&q).await.unwrap()), ["CONN#b"]);
    // pagination through an index
    for i in 0..5 {
        s.write(put(with_due(&format!("CONN#p{i}"), &format!("0000000010#{i}"), 1), Expect::Absent)).await.unwrap();
    }
    let mut q = Query { index: Some(Index::Due), limit: 2, ..Query::prefix("DUE", "0000000010") };
    let mut seen = Vec::new();
    loop {
        let page = s.query(&q).await.unwrap();
        seen.extend(page.items.into_iter().map(|i| i.key.sk));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["CONN#p0", "CONN#p1", "CONN#p2", "CONN#p3", "CONN#p4"]);
    let dq = Query { index: Some(Index::ByDate), ..Query::prefix("DATES", "2026-") };
    let got = s.query(&dq).await.unwrap();
    assert_eq!(got.items.len(), 1);
    assert_eq!(got.items[0].key.pk, "ORG#2");
}

pub async fn expired_items_read_as_absent<S: ItemStore>(s: &S) {
    let mut old = item("T", "a", 1, "{}");
    old.ttl = Some(chrono::Utc::now().timestamp() - 10);
    let mut fresh = item("T", "b", 1, "{}");
    fresh.ttl = Some(chrono::Utc::now().timestamp() + 3600);
    s.write(put(old, Expect::Any)).await.unwrap();
    s.write(put(fresh, Expect::Any)).await.unwrap();
    assert!(s.get(&Key::new("T", "a")).await.unwrap().is_none());
    assert!(s.get(&Key::new("T", "b")).await.unwrap().is_some());
    let got = s.query(&Query::prefix("T", "")).await.unwrap();
    assert_eq!(got.items.len(), 1);
}

pub async fn lease_gives_one_holder_and_a_monotonic_fence<S: ItemStore>(s: &S) {
    let key = Key::new("ORG#o#CONN#c", "LEASE");
    let a = lease::acquire(s, &key, "run-a", 1_000, 60_000).await.unwrap().expect("free lease");
    assert_eq!(a.fence, 1);
    assert!(lease::acquire(s, &key, "run-b", 2_000, 60_000).await.unwrap().is_none(), "held");
    // b takes over only after the absolute expiry
    let b = lease::acquire(s, &key, "run-b", 61_001, 60_000).await.unwrap().expect("expired lease");
    assert_eq!(b.fence, 2);
    // a was paused past expiry: its fenced writes and its renewal are rejected
    let write = |g: &lease::LeaseGuard, sk: &str| {
        vec![g.check(), WriteOp::Put { item: item("ORG#o#CONN#c", sk, 1, "1"), expect: Expect::Any }]
    };
    assert!(cond_failed(s.write(write(&a, "CURSOR#invoices")).await));
    let mut a2 = a.clone();
    assert!(lease::renew(s, &mut a2, 62_000, 60_000).await.is_err());
    s.write(write(&b, "CURSOR#invoices")).await.unwrap();
    // release keeps the fence growing
    lease::release(s, b).await.unwrap();
    let c = lease::acquire(s, &key, "run-c", 62_000, 60_000).await.unwrap().expect("released lease");
    assert_eq!(c.fence, 3);
}

pub async fn concurrent_creates_have_one_winner<S: ItemStore + Clone>(s: &S) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.write(put(item("C", "only", 1, &i.to_string()), Expect::Absent)).await.is_ok()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

pub async fn get_many_keeps_order_across_batches<S: ItemStore>(s: &S) {
    // 250 keys: more than two of DynamoDB's 100-key BatchGetItem calls; every third absent, one expired,
    // one asked twice.
    let now = chrono::Utc::now().timestamp();
    let mut ops = Vec::new();
    for i in 0..250 {
        if i % 3 == 0 {
            continue;
        }
        let mut it = item("B", &format!("k{i:03}"), 1, &i.to_string());
        if i == 4 {
            it.ttl = Some(now - 10);
        }
        ops.push(WriteOp::Put { item: it, expect: Expect::Any });
    }
    for chunk in ops.chunks(25) {
        s.write(chunk.to_vec()).await.unwrap();
    }
    let mut keys: Vec<Key> = (0..250).rev().map(|i| Key::new("B", format!("k{i:03}"))).collect();
    keys.push(Key::new("B", "k001"));
    let got = s.get_many(&keys).await.unwrap();
    assert_eq!(got.len(), keys.len());
    for (k, v) in keys.iter().zip(&got) {
        let i: usize = k.sk[1..].parse().unwrap();
        match v {
            Some(it) => {
                assert!(!i.is_multiple_of(3) && i != 4, "{k:?}");
                assert_eq!((&it.key, it.body.as_str()), (k, i.to_string().as_str()));
            }
            None => assert!(i.is_multiple_of(3) || i == 4, "{k:?} missing"),
        }
    }
    assert!(s.get_many(&[]).await.unwrap().is_empty());
}

#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            create_if_absent, stale_version_is_rejected, stale_fence_is_rejected_atomically,
            multi_op_writes_are_all_or_nothing, query_by_prefix_orders_and_paginates,
            index_queries_follow_updates, expired_items_read_as_absent,
            lease_gives_one_holder_and_a_monotonic_fence, concurrent_creates_have_one_winner,
            get_many_keeps_order_across_batches);
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                // `make` yields `None` when its backend is not available outside CI (a visible skip).
                let Some(store) = $make.await else { return };
                conformance::$name(&store).await;
            }
        )*
    };
}
