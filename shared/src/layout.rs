//! The key layout of every item we keep (DESIGN §4), in one module: which partition and sort key each record
//! lives under. Nothing else builds a key: repositories call these functions, handlers call repositories.
//!
//! Every key starts with the org (and connection) so two tenants whose Sequence ids collide never share an
//! item; the exceptions are global by design and say why (API key lookups by hash, the `due` index).

use crate::crypto::sha256_hex;
use crate::domain::{ConnectionId, KeyId, OrgId};
use crate::ledger::DocKind;
use crate::store::Key;

// ---- the org's partition: its record, settings, registrations, connections, API keys, audit, catalog

/// `ORG#{org}`: the org's own partition.
pub fn org_pk(org: &OrgId) -> String {
    format!("ORG#{org}")
}

/// The org's record (its test/live mode).
pub fn org_key(org: &OrgId) -> Key {
    Key::new(org_pk(org), "ORG")
}

pub fn settings_key(org: &OrgId) -> Key {
    Key::new(org_pk(org), "SETTINGS")
}

/// Sort-key prefix of the org's registrations.
pub const REGISTRATION_SK_PREFIX: &str = "REG#";

/// `REG#{country}#{region or -}`, both uppercase.
pub fn registration_key(org: &OrgId, country: &str, region: Option<&str>) -> Key {
    Key::new(
        org_pk(org),
        format!(
            "{REGISTRATION_SK_PREFIX}{}#{}",
            country.to_ascii_uppercase(),
            region.unwrap_or("-").to_ascii_uppercase()
        ),
    )
}

/// Sort-key prefix of the org's connections.
pub const CONNECTION_SK_PREFIX: &str = "CONN#";

pub fn connection_key(org: &OrgId, conn: &ConnectionId) -> Key {
    Key::new(org_pk(org), format!("{CONNECTION_SK_PREFIX}{conn}"))
}

/// Marks the org's one active connection, so two concurrent connects of different accounts cannot
/// both succeed (the second's create-if-absent fails).
pub fn active_marker_key(org: &OrgId) -> Key {
    Key::new(org_pk(org), "ACTIVE_CONNECTION")
}

/// Partition of the `due` index: every connection due for a sync (one partition, read by the dispatcher).
pub const DUE_PK: &str = "DUE";

/// Sort key of a connection in the `due` index: its next sync time (ms, zero-padded so it sorts), then the ids.
pub fn due_sk(at_ms: i64, org: &OrgId, conn: &ConnectionId) -> String {
    format!("{at_ms:015}#{org}#{conn}")
}

/// The last `due` sort key at or before `now_ms` (the dispatcher's upper bound).
pub fn due_sk_until(now_ms: i64) -> String {
    format!("{now_ms:015}#~")
}

/// Sort-key prefix of the org's API key listing.
pub const API_KEY_SK_PREFIX: &str = "APIKEY#";

/// An API key's record as listed under its org.
pub fn api_key_listing_key(org: &OrgId, key_id: &KeyId) -> Key {
    Key::new(org_pk(org), format!("{API_KEY_SK_PREFIX}{key_id}"))
}

/// An API key's record by the hash of the key (global: a caller presents a key, not an org).
pub fn api_key_lookup_key(hash: &str) -> Key {
    Key::new(format!("KEY#{hash}"), "KEY")
}

/// Sort-key prefix of the org's audit entries (ordered by time).
pub const AUDIT_SK_PREFIX: &str = "AUDIT#";

/// An audit entry at `now` (RFC 3339), `seq`-th of this process, with a unique suffix.
pub fn audit_key(org: &OrgId, now: &str, seq: u64, unique: &str) -> Key {
    Key::new(org_pk(org), format!("{AUDIT_SK_PREFIX}{now}#{seq:012}#{unique}"))
}

// ---- calculation records: a partition of their own per org

/// Prefix of every calculation record's partition key. The tax function may write only items whose partition key
/// starts with it (template.yaml: a `dynamodb:LeadingKeys` condition on its PutItem), so the public endpoint cannot
/// write settings, keys or ledger items even if its code tried.
pub const CALCULATION_PK_PREFIX: &str = "CALC#";

/// Where a calculation record lives: its own partition per org (`CALC#{org}`), apart from the org's other items.
pub fn calculation_key(org: &OrgId, id: &str) -> Key {
    Key::new(format!("{CALCULATION_PK_PREFIX}{org}"), format!("CALC#{id}"))
}

/// Part `n` of a calculation record too large for one item.
pub fn calculation_part_key(org: &OrgId, id: &str, n: u32) -> Key {
    let main = calculation_key(org, id);
    Key::new(main.pk, format!("{}#PART#{n:04}", main.sk))
}

/// Where records written before 2026-11-26 live (under the org's partition); read as a fallback until they have
/// expired (90 days: after 2027-02-24 this and its use can go).
pub fn legacy_calculation_key(org: &OrgId, id: &str) -> Key {
    Key::new(org_pk(org), format!("CALC#{id}"))
}

// ---- one connection's partition: ledger, quarantine, cursors, lease; and its catalog under the org

/// `ORG#{org}#CONN#{conn}`: transactions, quarantine, cursors and the lease.
pub fn conn_pk(org: &OrgId, conn: &ConnectionId) -> String {
    format!("ORG#{org}#CONN#{conn}")
}

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

/// Sort-key prefix of the org's synced products (`PRODUCT#{connection}#{id}`).
pub const PRODUCT_SK_PREFIX: &str = "PRODUCT#";

/// Sort-key prefix of the org's synced customers (`CUSTOMER#{connection}#{id}`).
pub const CUSTOMER_SK_PREFIX: &str = "CUSTOMER#";

/// The connection id in a product's or customer's sort key.
pub fn catalog_connection(sk: &str) -> &str {
    sk.split('#').nth(1).unwrap_or_default()
}

/// How the sort key of every product or customer copy of Sequence id `id` ends (under any connection).
pub fn catalog_id_suffix(id: &str) -> String {
    format!("#{}", id_segment(id))
}

pub fn product_key(org: &OrgId, conn: &ConnectionId, id: &str) -> Key {
    Key::new(org_pk(org), format!("{PRODUCT_SK_PREFIX}{conn}#{}", id_segment(id)))
}

pub fn customer_key(org: &OrgId, conn: &ConnectionId, id: &str) -> Key {
    Key::new(org_pk(org), format!("{CUSTOMER_SK_PREFIX}{conn}#{}", id_segment(id)))
}

/// Sort-key prefix of the ledger's running totals, `COUNTER#{YYYY-MM}#{region}`: month first, so one range query
/// reads every region of a span of months.
pub const COUNTER_SK_PREFIX: &str = "COUNTER#";

pub fn counter_key(org: &OrgId, conn: &ConnectionId, month: &str, region: &str) -> Key {
    Key::new(conn_pk(org, conn), format!("{COUNTER_SK_PREFIX}{month}#{}", id_segment(region)))
}

/// The sort key that bounds months `from`..=`to` (`YYYY-MM`) of the counters: `[lo, hi)`.
pub fn counter_months(from: &str, to: &str) -> (String, String) {
    (format!("{COUNTER_SK_PREFIX}{from}#"), format!("{COUNTER_SK_PREFIX}{to}#~"))
}

/// Present once the connection's counters hold every stored transaction (written by their first build).
pub fn counters_ready_key(org: &OrgId, conn: &ConnectionId) -> Key {
    Key::new(conn_pk(org, conn), "COUNTERS_READY")
}

/// Where a webhook's path token leads (`WEBHOOK#{sha256(token)}`): looked up before the org is known, so it is
/// its own partition; the token itself is never stored.
pub fn webhook_route_key(token: &str) -> Key {
    Key::new(format!("WEBHOOK#{}", sha256_hex(token.as_bytes())), "ROUTE")
}

/// A delivered webhook, remembered (with a TTL) against replays: `WEBHOOKSEEN#{digest}` in the connection's
/// partition.
pub fn webhook_seen_key(org: &OrgId, conn: &ConnectionId, digest: &str) -> Key {
    Key::new(conn_pk(org, conn), format!("WEBHOOKSEEN#{digest}"))
}

/// A document a targeted job is already queued for (`PENDING#{stream}#{id}`, with a TTL): later webhooks for it
/// ride on that job instead of queueing their own.
pub fn pending_target_key(org: &OrgId, conn: &ConnectionId, stream: &str, id: &str) -> Key {
    Key::new(conn_pk(org, conn), format!("PENDING#{stream}#{}", id_segment(id)))
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
