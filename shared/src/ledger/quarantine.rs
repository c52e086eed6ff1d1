//! Reading the quarantine for the console: what was held out of the ledger and why, a page at a time.
//! Never the document itself — it is the customer's raw Sequence data, kept for re-evaluation only.

use super::model::QuarantineRecord;
use super::repo::{Ledger, LedgerError};
use crate::layout;
use crate::store::record;
use crate::store::{ItemStore, Query};
use serde::Serialize;

/// What the console lists of one quarantined document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineEntry {
    /// `product`, `customer`, `invoice` or `credit`.
    pub kind: String,
    /// The Sequence id of the document.
    pub source_id: String,
    pub reason: String,
    pub recorded_at_ms: i64,
    /// Re-evaluations that found it still unreadable, and the last one (the sync retries it).
    pub attempts: u32,
    pub last_attempt_ms: i64,
}

impl From<QuarantineRecord> for QuarantineEntry {
    fn from(r: QuarantineRecord) -> Self {
        QuarantineEntry {
            kind: r.kind,
            source_id: r.source_id,
            reason: r.reason,
            recorded_at_ms: r.recorded_at_ms,
            attempts: r.attempts,
            last_attempt_ms: r.last_attempt_ms,
        }
    }
}

/// One page, in key order (by kind, then id); `next` continues it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuarantinePage {
    pub items: Vec<QuarantineEntry>,
    pub next: Option<String>,
}

/// Whether `cursor` can have come from [`Ledger::quarantine_page`] (callers refuse anything else
/// before it reaches the store).
pub fn is_quarantine_cursor(cursor: &str) -> bool {
    cursor.starts_with(layout::QUARANTINE_SK_PREFIX)
}

impl<S: ItemStore> Ledger<'_, S> {
    /// Up to `limit` quarantined documents of this connection after `cursor`.
    pub async fn quarantine_page(&self, cursor: Option<&str>, limit: usize) -> Result<QuarantinePage, LedgerError> {
        let mut q = Query::prefix(layout::conn_pk(self.org(), self.connection()), layout::QUARANTINE_SK_PREFIX);
        q.limit = limit.clamp(1, 1_000);
        q.after = cursor.map(str::to_owned);
        let page = self.store().query(&q).await?;
        let items = page
            .items
            .iter()
            .map(|item| record::decode::<QuarantineRecord>(item).map(QuarantineEntry::from))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QuarantinePage { items, next: page.next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConnectionId, OrgId};
    use crate::store::{EmbeddedStore, lease};

    fn rec(kind: &str, id: &str) -> QuarantineRecord {
        QuarantineRecord {
            kind: kind.into(),
            source_id: id.into(),
            reason: format!("unknown status of {id}"),
            content_hash: "h".into(),
            document: serde_json::json!({"secretish": "raw customer data"}),
            recorded_at_ms: 1_000,
            attempts: 0,
            last_attempt_ms: 1_000,
        }
    }

    #[tokio::test]
    async fn pages_through_one_connections_entries_without_their_documents() {
        let dir = std::env::temp_dir().join(format!("quarantine-test-{}", crate::domain::new_uuid()));
        let store = EmbeddedStore::open(&dir).unwrap();
        let (org, conn) = (OrgId::parse("o1").unwrap(), ConnectionId::parse("c1").unwrap());
        let ledger = Ledger::new(&store, org.clone(), conn.clone());
        let guard = lease::acquire(&store, &layout::lease_key(&org, &conn), "h", 0, 60_000).await.unwrap().unwrap();
        for i in 0..5 {
            ledger.quarantine(&guard, rec("invoice", &format!("inv-{i}"))).await.unwrap();
        }
        // another connection's entry is never listed
        let other = Ledger::new(&store, org.clone(), ConnectionId::parse("c2").unwrap());
        let g2 = lease::acquire(&store, &layout::lease_key(&org, other.connection()), "h", 0, 60_000)
            .await
            .unwrap()
            .unwrap();
        other.quarantine(&g2, rec("customer", "cust-x")).await.unwrap();

        let first = ledger.quarantine_page(None, 3).await.unwrap();
        assert_eq!(first.items.len(), 3);
        let cursor = first.next.clone().unwrap();
        assert!(is_quarantine_cursor(&cursor));
        let second = ledger.quarantine_page(Some(&cursor), 3).await.unwrap();
        assert_eq!((second.items.len(), second.next.as_ref()), (2, None));
        let ids: Vec<String> = first.items.iter().chain(&second.items).map(|e| e.source_id.clone()).collect();
        assert_eq!(ids, (0..5).map(|i| format!("inv-{i}")).collect::<Vec<_>>());
        assert_eq!(second.items[1].reason, "unknown status of inv-4");
        let json = serde_json::to_string(&first.items).unwrap();
        assert!(!json.contains("raw customer data") && !json.contains("document"));
        assert!(!is_quarantine_cursor("TXN#invoice#x"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
