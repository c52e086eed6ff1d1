//! Products: creation and changes (each change bumps `updatedAt`, which the sync's product stream
//! keys on).

use crate::SimError;
use crate::wire::Product;
use crate::world::{ProductRec, Target, World};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NewProduct {
    #[serde(flatten)]
    pub target: Target,
    pub name: String,
    pub label: Option<String>,
    /// Default: `sim-standard`.
    pub tax_category_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// Changes to a product.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub label: Option<String>,
    pub tax_category_id: Option<String>,
}

impl World {
    pub fn create_product(&mut self, p: NewProduct) -> Result<Product, SimError> {
        let a = self.account_index(&p.target)?;
        if p.name.trim().is_empty() {
            return Err(SimError::bad_request("name is required"));
        }
        let at = p.created_at.unwrap_or_else(|| self.now());
        let seq = self.seq();
        let product = Product {
            id: self.rng.uuid(),
            name: p.name,
            label: p.label,
            tax_category_id: p.tax_category_id.or_else(|| Some("sim-standard".into())),
            created_at: at,
            updated_at: at,
        };
        self.accounts[a].products.insert(ProductRec { seq, product: product.clone() });
        Ok(product)
    }

    pub fn update_product(&mut self, id: &str, p: ProductPatch) -> Result<Product, SimError> {
        let now = self.now();
        let a = self.product_account(id)?;
        let x = self.accounts[a].products.get_mut(id).ok_or_else(|| SimError::not_found("product", id))?;
        if let Some(n) = p.name {
            x.product.name = n;
        }
        if p.label.is_some() {
            x.product.label = p.label;
        }
        if p.tax_category_id.is_some() {
            x.product.tax_category_id = p.tax_category_id;
        }
        x.product.updated_at = now.max(x.product.updated_at);
        Ok(x.product.clone())
    }
}
