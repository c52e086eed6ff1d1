//! The key layout of DESIGN §4 for the ledger, cursors and lease, in one place. Every key starts
//! with the org (and connection) so two tenants whose Sequence ids collide never share an item.

use super::model::DocKind;
use crate::crypto::sha256_hex;
use crate::domain::{ConnectionId, OrgId};
use crate::store::Key;

/// `ORG#{org}#CONN#{conn}`: transactions, quarantine, cursors and the lease.
pub fn conn_pk(org: &OrgId, conn: &ConnectionId) -> String {
    format!("ORG#{org}#CONN#{conn}")
}

/// `ORG#{org}`: products and customers (the org's own partition).
pub use crate::org::org_pk;

/// A Sequence id made safe for a key segment. Ids of letters, digits, `-`, `_` (Sequence's UUIDs)
/// pass unchanged; anything else (a `#`, a NUL, over 100 characters) becomes `~` + its SHA-256, a
/// form no unchanged id can take.
pub fn id_segment(raw: &str) -> String {
    let plain =
        !raw.is_empty() && raw.len() <= 100 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain { raw.to_owned() } else { format!("~{}", sha256_hex(raw.as_bytes())) }
}

pub fn txn_sk_prefix(kind: DocKind) -> String {
    format!("TXN#{}#", kind.as_str())
}

pub fn txn_key(org: &OrgId, conn: &ConnectionId, kind: DocKind, id: &str) -> Key {
    Key::new(conn_pk(org, conn), format!("{}{}", txn_sk_prefix(kind), id_segment(id)))
}

/// Chunk `chunk` of the lines of ledger version `version`.
pub fn lines_key(org: &OrgId, conn: &ConnectionId, kind: DocKind, id: &str, version: u32, chunk: u32) -> Key {
    Key::new(conn_pk(org, conn), format!("TXNLINES#{}#{}#{version:06}#{chunk:04}", kind.as_str(), id_segment(id)))
}

/// Index key of a transaction in the by-date index: partition per connection, sorted by event date.
pub fn by_date_sk(date: chrono::NaiveDate, kind: DocKind, id: &str) -> String {
    format!("{}#{}#{}", date.format("%Y-%m-%d"), kind.as_str(), id_segment(id))
}

/// Sort-key prefix of every quarantine entry of a connection.
pub const QUARANTINE_SK_PREFIX: &str = "QUARANTINE#";

pub fn quarantine_key(org: &OrgId, conn: &ConnectionId, kind: &str, id: &str) -> Key {
    Key::new(conn_pk(org, conn), format!("{QUARANTINE_SK_PREFIX}{kind}#{}", id_segment(id)))
}

pub fn product_key(org: &OrgId, conn: &ConnectionId, id: &str) -> Key {
    Key::new(org_pk(org), format!("PRODUCT#{conn}#{}", id_segment(id)))
}

pub fn customer_key(org: &OrgId, conn: &ConnectionId, id: &str) -> Key {
    Key::new(org_pk(org), format!("CUSTOMER#{conn}#{}", id_segment(id)))
}

pub fn cursor_key(org: &OrgId, conn: &ConnectionId, stream: &str) -> Key {
    Key::new(conn_pk(org, conn), format!("CURSOR#{stream}"))
}

pub fn lease_key(org: &OrgId, conn: &ConnectionId) -> Key {
    Key::new(conn_pk(org, conn), "LEASE")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_their_segment() {
        assert_eq!(id_segment("9b4d1a2e-1c2f"), "9b4d1a2e-1c2f");
        let evil = id_segment("x#CONN#other");
        assert!(evil.starts_with('~') && !evil.contains('#'));
        assert_ne!(id_segment("a b"), id_segment("a_b"));
        let org = OrgId::parse("o1").unwrap();
        let conn = ConnectionId::parse("c1").unwrap();
        assert_eq!(txn_key(&org, &conn, DocKind::Invoice, "i1").sk, "TXN#invoice#i1");
        assert_eq!(txn_key(&org, &conn, DocKind::Invoice, "i1").pk, "ORG#o1#CONN#c1");
    }
}
