//! Raw patches: replace or remove top-level JSON fields of one served document, e.g.
//! `{"resource":"customers","id":"…","set":{"customProperties":[1,2]}}`. Why: the connector must
//! quarantine an item it cannot decode and import the rest of the page, and the only way to serve such
//! an item from a simulator that otherwise follows the document is to overwrite the JSON after
//! serialisation. A patch applies wherever the document is served (list pages and by id), survives
//! later changes to the document, and marks the document as deliberately off-document, so the
//! departure checker skips it.

use crate::SimError;
use crate::world::{InvoiceRec, World};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shared::domain::Environment;
use std::collections::{BTreeMap, HashMap};

/// What can be patched (the resource segment of its list route; line items by line id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resource {
    Customers,
    Products,
    Invoices,
    CreditNotes,
    InvoiceLineItems,
    CreditNoteLineItems,
}

/// Fields to set (any JSON, including wrong types and `null`) and fields to remove.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawPatch {
    pub set: Map<String, Value>,
    pub unset: Vec<String>,
}

impl RawPatch {
    /// Applies to a JSON object (other values are left alone).
    pub fn apply(&self, v: &mut Value) {
        if let Value::Object(m) = v {
            for k in &self.unset {
                m.remove(k);
            }
            for (k, val) in &self.set {
                m.insert(k.clone(), val.clone());
            }
        }
    }

    /// Later changes win: a field set now is no longer unset, and vice versa.
    fn merge(&mut self, later: RawPatch) {
        for k in &later.unset {
            self.set.remove(k);
        }
        self.unset.retain(|k| !later.set.contains_key(k));
        self.unset.extend(later.unset);
        self.set.extend(later.set);
    }
}

/// An account's patches.
#[derive(Debug, Clone, Default)]
pub struct RawPatches(HashMap<Resource, HashMap<String, RawPatch>>);

impl RawPatches {
    pub fn get(&self, resource: Resource, id: &str) -> Option<&RawPatch> {
        self.0.get(&resource)?.get(id)
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    fn add(&mut self, resource: Resource, id: &str, patch: RawPatch) {
        match self.0.entry(resource).or_default().entry(id.to_owned()) {
            std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().merge(patch),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(patch);
            }
        }
    }

    /// Drops the patches of a deleted invoice and of its lines.
    pub fn forget_invoice(&mut self, rec: &InvoiceRec) {
        if let Some(m) = self.0.get_mut(&Resource::Invoices) {
            m.remove(&rec.invoice.id);
        }
        if let Some(m) = self.0.get_mut(&Resource::InvoiceLineItems) {
            for l in &rec.lines {
                m.remove(&l.id);
            }
        }
    }

    fn ids(&self) -> BTreeMap<Resource, Vec<String>> {
        self.0
            .iter()
            .map(|(r, m)| {
                let mut ids: Vec<String> = m.keys().cloned().collect();
                ids.sort();
                (*r, ids)
            })
            .collect()
    }
}

/// `POST /_sim/raw-patch` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawPatchRequest {
    pub resource: Resource,
    pub id: String,
    #[serde(flatten)]
    pub patch: RawPatch,
}

/// A patched document, as listed by `GET /_sim/raw-patch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPatched {
    pub environment: Environment,
    pub account_id: String,
    pub resource: Resource,
    pub id: String,
}

impl World {
    /// Patches the document `req.id` of `req.resource`, wherever it lives.
    pub fn raw_patch(&mut self, req: RawPatchRequest) -> Result<RawPatched, SimError> {
        let id = req.id.as_str();
        let found = self.accounts.iter().position(|a| match req.resource {
            Resource::Customers => a.customers.contains(id),
            Resource::Products => a.products.contains(id),
            Resource::Invoices => a.invoices.contains(id),
            Resource::CreditNotes => a.credit_notes.contains(id),
            Resource::InvoiceLineItems => a.invoices.iter().any(|r| r.lines.iter().any(|l| l.id == id)),
            Resource::CreditNoteLineItems => a.credit_notes.iter().any(|r| r.lines.iter().any(|l| l.id == id)),
        });
        let Some(a) = found else {
            return Err(SimError::not_found("document", id));
        };
        let acc = &mut self.accounts[a];
        acc.raw_patches.add(req.resource, id, req.patch);
        Ok(RawPatched {
            environment: acc.environment,
            account_id: acc.info.id.clone(),
            resource: req.resource,
            id: req.id,
        })
    }

    /// Every patched document.
    pub fn raw_patched(&self) -> Vec<RawPatched> {
        let mut out: Vec<RawPatched> = self
            .accounts
            .iter()
            .flat_map(|acc| {
                acc.raw_patches.ids().into_iter().flat_map(move |(resource, ids)| {
                    ids.into_iter().map(move |id| RawPatched {
                        environment: acc.environment,
                        account_id: acc.info.id.clone(),
                        resource,
                        id,
                    })
                })
            })
            .collect();
        out.sort_by(|x, y| (&x.account_id, x.resource, &x.id).cmp(&(&y.account_id, y.resource, &y.id)));
        out
    }

    pub fn clear_raw_patches(&mut self) {
        for a in &mut self.accounts {
            a.raw_patches.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_set_unset_and_merge() {
        let mut p: RawPatch =
            serde_json::from_value(json!({"set": {"customProperties": [1, 2]}, "unset": ["label"]})).unwrap();
        let mut v = json!({"id": "c1", "label": "x", "customProperties": {"region": "EU"}});
        p.apply(&mut v);
        assert_eq!(v, json!({"id": "c1", "customProperties": [1, 2]}));
        p.merge(serde_json::from_value(json!({"set": {"label": null}, "unset": ["customProperties"]})).unwrap());
        let mut v = json!({"id": "c1", "label": "x", "customProperties": {}});
        p.apply(&mut v);
        assert_eq!(v, json!({"id": "c1", "label": null}));
    }
}
