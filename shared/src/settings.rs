//! An org's tax settings as the console stores them and the tax endpoint reads them: rounding, the
//! default product tax code, the origin address (one `SETTINGS` item) and the registrations (one item
//! per country/region), assembled into the engine's [`OrgTaxSettings`].

use crate::domain::OrgId;
use crate::layout::{REGISTRATION_SK_PREFIX, org_pk, registration_key, settings_key};
use crate::store::record::{self, Versioned};
use crate::store::{Expect, ItemStore, Query, StoreError, WriteOp};
use crate::tax::{Address, OrgTaxSettings, Registration, Rounding};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsRecord {
    #[serde(default)]
    pub rounding: Rounding,
    #[serde(default)]
    pub default_product_tax_code: Option<String>,
    #[serde(default)]
    pub origin_address: Option<Address>,
}

/// A registration as stored: the engine's view plus what only the console shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRecord {
    #[serde(flatten)]
    pub registration: Registration,
    #[serde(default)]
    pub registration_number: Option<String>,
}

pub async fn get_settings<S: ItemStore>(store: &S, org: &OrgId) -> Result<Versioned<SettingsRecord>, StoreError> {
    Ok(record::get(store, &settings_key(org))
        .await?
        .unwrap_or(Versioned { value: SettingsRecord::default(), version: 0 }))
}

pub async fn registrations<S: ItemStore>(store: &S, org: &OrgId) -> Result<Vec<RegistrationRecord>, StoreError> {
    record::query_all(store, &Query::prefix(org_pk(org), REGISTRATION_SK_PREFIX)).await
}

/// The write of the org's settings (the caller adds its audit entry to the same atomic write).
pub fn put_settings(org: &OrgId, rec: &SettingsRecord, expect: Expect) -> Result<WriteOp, StoreError> {
    record::put(settings_key(org), rec, expect)
}

/// One registration of the org, by country and region.
pub async fn get_registration<S: ItemStore>(
    store: &S,
    org: &OrgId,
    country: &str,
    region: Option<&str>,
) -> Result<Option<Versioned<RegistrationRecord>>, StoreError> {
    record::get(store, &registration_key(org, country, region)).await
}

/// The write of one registration (keyed by its country and region).
pub fn put_registration(org: &OrgId, rec: &RegistrationRecord, expect: Expect) -> Result<WriteOp, StoreError> {
    let r = &rec.registration;
    record::put(registration_key(org, &r.country, r.region.as_deref()), rec, expect)
}

/// The removal of one registration.
pub fn delete_registration(org: &OrgId, country: &str, region: Option<&str>, expect: Expect) -> WriteOp {
    WriteOp::Delete { key: registration_key(org, country, region), expect }
}

/// Everything the engine needs from the org, plus the default tax code.
pub async fn load<S: ItemStore>(store: &S, org: &OrgId) -> Result<(OrgTaxSettings, Option<String>), StoreError> {
    let s = get_settings(store, org).await?.value;
    let regs = registrations(store, org).await?;
    Ok((
        OrgTaxSettings {
            rounding: s.rounding,
            registrations: regs.into_iter().map(|r| r.registration).collect(),
            origin_address: s.origin_address,
        },
        s.default_product_tax_code,
    ))
}
