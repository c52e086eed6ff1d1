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
use shared::ledger::catalog::{self, Catalog};
use shared::org::Principal;

/// Sets one field on every copy of the Sequence document `id` (404 when there is none): `change`
/// gives the new record, `field` the audited value of a record; each write carries its audit entry.
/// Returns `view` of every updated copy.
#[allow(clippy::too_many_arguments)]
pub async fn update_each<T: DeserializeOwned + Serialize, S: Store>(
    app: &App<S>,
    who: &Principal,
    catalog: Catalog,
    id: &str,
    action: &str,
    change: impl Fn(&T) -> T,
    field: impl Fn(&T) -> Value,
    view: impl Fn(&str, &T) -> Value,
) -> Result<Vec<Value>, ConnectError> {
    let matching = catalog::copies::<T, _>(&app.store, &who.org, catalog, id).await?;
    if matching.is_empty() {
        return Err(ConnectError::NotFound);
    }
    let now = app.now_rfc3339();
    let mut updated = Vec::with_capacity(matching.len());
    for copy in matching {
        let current = &copy.record.value;
        let next = change(current);
        app.store
            .write(vec![
                copy.replace(&next)?,
                shared::audit::entry(who, &now, action, id, Some(field(current)), Some(field(&next)))?,
            ])
            .await?;
        updated.push(view(&copy.connection, &next));
    }
    app.caches.forget_tax_context();
    Ok(updated)
}
