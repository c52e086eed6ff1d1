//! What the console and report tests share: two orgs' users and org A's active sandbox connection, "Acme".

use shared::connection::ConnectionRecord;
use shared::domain::{ConnectionId, Environment, Mode, OrgId, SequenceAccountId};
use shared::org::Principal;

/// Alice of `org_a` and Bob of `org_b`, both in test mode.
pub fn alice_and_bob() -> (Principal, Principal) {
    let a = Principal { org: OrgId::parse("org_a").unwrap(), mode: Mode::Test, actor: "alice".into() };
    let b = Principal { org: OrgId::parse("org_b").unwrap(), mode: Mode::Test, actor: "bob".into() };
    (a, b)
}

/// `conn_a1`, org A's active connection to Sequence account `acc-1` ("Acme"), created at `now_ms`.
pub fn acme(org: &OrgId, now_ms: i64) -> ConnectionRecord {
    ConnectionRecord {
        company_name: Some("Acme".into()),
        ..ConnectionRecord::active(
            ConnectionId::parse("conn_a1").unwrap(),
            org.clone(),
            Environment::Sandbox,
            SequenceAccountId::parse("acc-1").unwrap(),
            format!("sphere/sequence/{org}/conn_a1"),
            "t",
            now_ms,
        )
    }
}
