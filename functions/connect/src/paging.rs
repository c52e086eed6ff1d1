//! The console's one paging contract, shared by every paged route: `limit` 1–100 (default 50) and
//! `after`, the previous page's `next` — an opaque, URL-safe encoding of the store cursor, refused
//! unless it decodes to a cursor this route could have produced.

use crate::error::ConnectError;
use base64::Engine;
use std::collections::HashMap;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `(limit, after)` from the query string; `valid` says whether a decoded cursor belongs to the route.
pub fn params(
    q: &HashMap<String, String>,
    valid: impl Fn(&str) -> bool,
) -> Result<(usize, Option<String>), ConnectError> {
    let limit = match q.get("limit") {
        None => 50,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| ConnectError::BadRequest("limit must be 1–100".into()))?,
    };
    let after = match q.get("after") {
        None => None,
        Some(a) => Some(
            B64.decode(a)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .filter(|c| valid(c))
                .ok_or_else(|| ConnectError::BadRequest("after is not a cursor from a previous page".into()))?,
        ),
    };
    Ok((limit, after))
}

/// The `next` a client sends back as `after`.
pub fn next(cursor: Option<String>) -> Option<String> {
    cursor.map(|c| B64.encode(c))
}
