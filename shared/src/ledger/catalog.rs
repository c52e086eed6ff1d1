//! The org's synced catalog: products and customers, one copy per connection under the org's partition
//! (`PRODUCT#{connection}#{id}`, `CUSTOMER#{connection}#{id}`; [`crate::layout`]). The sync writes them
//! ([`super::Ledger`]); the console pages through them and edits one field of every copy of an id; the tax
//! endpoint reads a request's products in one batch and a customer's exemption.
//!
//! Why every copy: the same Sequence id may exist under several connections of an org, so an edit finds each
//! copy and writes it with a version check (the sync's concurrent upsert keeps the field, so neither write is
//! lost).

use super::model::{CustomerRecord, CustomerTaxStatus, ProductRecord};
use crate::domain::{ConnectionId, OrgId};
use crate::layout::{self, CUSTOMER_SK_PREFIX, PRODUCT_SK_PREFIX, org_pk};
use crate::store::record::{self, Versioned};
use crate::store::{Item, ItemStore, Query, StoreError, WriteOp};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Which half of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    Products,
    Customers,
}

impl Catalog {
    fn prefix(self) -> &'static str {
        match self {
            Catalog::Products => PRODUCT_SK_PREFIX,
            Catalog::Customers => CUSTOMER_SK_PREFIX,
        }
    }

    /// Whether a store cursor can have come from a page of this catalog (callers refuse anything else).
    pub fn is_cursor(self, cursor: &str) -> bool {
        cursor.starts_with(self.prefix())
    }
}

/// One stored copy of a catalog record: under which connection, and the record with its version.
#[derive(Debug, Clone)]
pub struct StoredCopy<T> {
    pub connection: String,
    pub record: Versioned<T>,
    key: crate::store::Key,
}

impl<T: Serialize> StoredCopy<T> {
    /// The version-checked write of `next` over this copy.
    pub fn replace(&self, next: &T) -> Result<WriteOp, StoreError> {
        record::put(self.key.clone(), next, self.record.if_unchanged())
    }
}

fn copy_of<T: DeserializeOwned>(item: &Item) -> Result<StoredCopy<T>, StoreError> {
    Ok(StoredCopy {
        connection: layout::catalog_connection(&item.key.sk).to_owned(),
        record: Versioned { value: record::decode(item)?, version: item.version },
        key: item.key.clone(),
    })
}

/// Up to `limit` records of `catalog` after the store cursor `after`, and the cursor of the next page.
pub async fn page<T: DeserializeOwned, S: ItemStore>(
    store: &S,
    org: &OrgId,
    catalog: Catalog,
    after: Option<String>,
    limit: usize,
) -> Result<(Vec<StoredCopy<T>>, Option<String>), StoreError> {
    let q = Query { after, limit, ..Query::prefix(org_pk(org), catalog.prefix()) };
    let page = store.query(&q).await?;
    let items = page.items.iter().map(copy_of).collect::<Result<Vec<_>, _>>()?;
    Ok((items, page.next))
}

/// Every copy of the Sequence document `id` in `catalog`, across the org's connections (only those are decoded).
pub async fn copies<T: DeserializeOwned, S: ItemStore>(
    store: &S,
    org: &OrgId,
    catalog: Catalog,
    id: &str,
) -> Result<Vec<StoredCopy<T>>, StoreError> {
    let suffix = layout::catalog_id_suffix(id);
    let items = store.query_all(&Query::prefix(org_pk(org), catalog.prefix())).await?;
    items.iter().filter(|i| i.key.sk.ends_with(&suffix)).map(copy_of).collect()
}

/// The tax code assigned to each of `ids` (in order; `None`: not synced, or no code assigned), in one batch read.
pub async fn product_tax_codes<S: ItemStore>(
    store: &S,
    org: &OrgId,
    conn: &ConnectionId,
    ids: &[&str],
) -> Result<Vec<Option<String>>, StoreError> {
    let keys: Vec<_> = ids.iter().map(|id| layout::product_key(org, conn, id)).collect();
    let mut codes = Vec::with_capacity(keys.len());
    for item in store.get_many(&keys).await? {
        let product = item.map(|i| record::decode::<ProductRecord>(&i)).transpose()?;
        codes.push(product.and_then(|p| p.tax_code));
    }
    Ok(codes)
}

/// What the tax path needs of a synced customer: whether it is exempt and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerExemption {
    pub exempt: bool,
    /// `exempt_jurisdictions` as stored (validated by the console; empty = everywhere).
    pub jurisdictions: Vec<String>,
}

/// The synced customer's exemption (`None`: the customer is not synced).
pub async fn customer_exemption<S: ItemStore>(
    store: &S,
    org: &OrgId,
    conn: &ConnectionId,
    id: &str,
) -> Result<Option<CustomerExemption>, StoreError> {
    let rec = record::get::<CustomerRecord, _>(store, &layout::customer_key(org, conn, id)).await?;
    Ok(rec.map(|v| CustomerExemption {
        exempt: v.value.tax_status == CustomerTaxStatus::TaxExempt,
        jurisdictions: v.value.exempt_jurisdictions,
    }))
}
