//! The records the sync writes once per connection (`{KIND}#{connection}#{id}` under the org) and the
//! console edits one field of: products (their tax code) and customers (where an exemption applies).
//!
//! Why one place: the same Sequence id may exist under several connections of an org, so an edit
//! finds every copy, writes each with a version check (the sync's concurrent upsert keeps the field,
//! so neither write is lost) and its audit entry in the same atomic write, and then drops the tax
//! caches that read these fields.

use crate::error::ConnectError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::app::{App, Store};
use shared::ledger::keys::id_segment;
use shared::org::{Principal, org_pk};
use shared::store::record::{self, Versioned};
use shared::store::{Key, Query};

/// One stored copy: its key, its connection id and the record.
pub type Copy<T> = (Key, String, Versioned<T>);

/// One page of the records under `{prefix}` of the org (`limit` of them after the store cursor `after`), and
/// the cursor of the next page.
pub async fn page<T: DeserializeOwned, S: Store>(
    app: &App<S>,
    who: &Principal,
    prefix: &str,
    after: Option<String>,
    limit: usize,
) -> Result<(Vec<Copy<T>>, Option<String>), ConnectError> {
    let mut q = Query::prefix(org_pk(&who.org), prefix);
    q.after = after;
    q.limit = limit;
    let page = app.store.query(&q).await?;
    let mut out = Vec::with_capacity(page.items.len());
    for item in &page.items {
        out.push(copy_of(item)?);
    }
    Ok((out, page.next))
}

fn copy_of<T: DeserializeOwned>(item: &shared::store::Item) -> Result<Copy<T>, ConnectError> {
    let conn = item.key.sk.split('#').nth(1).unwrap_or_default().to_owned();
    Ok((item.key.clone(), conn, Versioned { value: record::decode(item)?, version: item.version }))
}

/// The records under `{prefix}` whose key passes `keep` (only those are decoded).
async fn select<T: DeserializeOwned, S: Store>(
    app: &App<S>,
    who: &Principal,
    prefix: &str,
    keep: impl Fn(&Key) -> bool,
) -> Result<Vec<Copy<T>>, ConnectError> {
    let mut q = Query::prefix(org_pk(&who.org), prefix);
    let mut out = Vec::new();
    loop {
        let page = app.store.query(&q).await?;
        for item in page.items.iter().filter(|i| keep(&i.key)) {
            out.push(copy_of(item)?);
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Sets one field on every copy of the Sequence document `id` (404 when there is none): `change`
/// gives the new record, `field` the audited value of a record; each write carries its audit entry.
/// Returns `view` of every updated copy.
#[allow(clippy::too_many_arguments)]
pub async fn update_each<T: DeserializeOwned + Serialize, S: Store>(
    app: &App<S>,
    who: &Principal,
    prefix: &str,
    id: &str,
    action: &str,
    change: impl Fn(&T) -> T,
    field: impl Fn(&T) -> Value,
    view: impl Fn(&str, &T) -> Value,
) -> Result<Vec<Value>, ConnectError> {
    let suffix = format!("#{}", id_segment(id));
    let matching: Vec<Copy<T>> = select(app, who, prefix, |k| k.sk.ends_with(&suffix)).await?;
    if matching.is_empty() {
        return Err(ConnectError::NotFound);
    }
    let now = app.now_rfc3339();
    let mut updated = Vec::with_capacity(matching.len());
    for (key, conn, current) in matching {
        let next = change(&current.value);
        app.store
            .write(vec![
                record::put(key, &next, current.expect())?,
                shared::audit::entry(who, &now, action, id, Some(field(&current.value)), Some(field(&next)))?,
            ])
            .await?;
        updated.push(view(&conn, &next));
    }
    app.caches.forget_tax_context();
    Ok(updated)
}
