//! An org's tax settings as the console stores them and the tax endpoint reads them: rounding, the
//! default product tax code, the origin address (one `SETTINGS` item) and the registrations (one item
//! per country/region), assembled into the engine's [`OrgTaxSettings`].

use crate::domain::OrgId;
use crate::org::org_pk;
use crate::store::record::{self, Versioned};
use crate::store::{ItemStore, Key, Query, StoreError};
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

pub fn settings_key(org: &OrgId) -> Key {
    Key::new(org_pk(org), "SETTINGS")
}

/// `REG#{country}#{region or -}`, both uppercase.
pub fn registration_key(org: &OrgId, country: &str, region: Option<&str>) -> Key {
    Key::new(
        org_pk(org),
        format!("REG#{}#{}", country.to_ascii_uppercase(), region.unwrap_or("-").to_ascii_uppercase()),
    )
}

pub async fn get_settings<S: ItemStore>(store: &S, org: &OrgId) -> Result<Versioned<SettingsRecord>, StoreError> {
    Ok(record::get(store, &settings_key(org))
        .await?
        .unwrap_or(Versioned { value: SettingsRecord::default(), version: 0 }))
}

pub async fn registrations<S: ItemStore>(store: &S, org: &OrgId) -> Result<Vec<RegistrationRecord>, StoreError> {
    let mut q = Query::prefix(org_pk(org), "REG#");
    let mut out = Vec::new();
    loop {
        let page = store.query(&q).await?;
        for item in &page.items {
            out.push(record::decode(item)?);
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => return Ok(out),
        }
    }
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
