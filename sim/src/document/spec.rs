//! The shape of `sim/spec/sequence-2024-07-30.json`: endpoints, schemas, fields and named enums.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub api_version: String,
    /// Value lists several fields share (countries, states, currencies, integration services).
    pub enums: BTreeMap<String, Vec<String>>,
    pub endpoints: Vec<Endpoint>,
    pub schemas: BTreeMap<String, Schema>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Endpoint {
    pub method: String,
    /// With placeholders, e.g. `/invoices/{invoice}/line-items`.
    pub path: String,
    /// The response schema's name.
    pub response: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Schema {
    pub fields: BTreeMap<String, Field>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    #[serde(flatten)]
    pub ty: FieldType,
    pub required: bool,
    pub nullable: bool,
}

/// A JSON type as the document gives it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FieldType {
    String {
        #[serde(default, rename = "enum")]
        values: Option<EnumRef>,
    },
    Integer {
        #[serde(default)]
        format: Option<String>,
    },
    Boolean,
    Object {
        schema: String,
    },
    Array {
        items: Box<FieldType>,
    },
    /// A JSON object with arbitrary keys (`object map (string → T)`).
    Map {
        values: Box<FieldType>,
    },
}

/// Documented enum values: inline, or the name of a list under `enums`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum EnumRef {
    Named(String),
    Inline(Vec<String>),
}

impl Spec {
    pub fn parse(json: &str) -> Result<Spec, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// A named enum's values.
    pub fn enum_values(&self, name: &str) -> Option<&[String]> {
        self.enums.get(name).map(Vec::as_slice)
    }

    /// The values an enum reference stands for.
    pub fn resolve<'a>(&'a self, e: &'a EnumRef) -> Option<&'a [String]> {
        match e {
            EnumRef::Named(n) => self.enum_values(n),
            EnumRef::Inline(v) => Some(v.as_slice()),
        }
    }

    /// The endpoint with this path template (e.g. `/customers/{id}`).
    pub fn endpoint(&self, path: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.path == path)
    }
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldType::String { .. } => f.write_str("string"),
            FieldType::Integer { .. } => f.write_str("integer"),
            FieldType::Boolean => f.write_str("boolean"),
            FieldType::Object { schema } => write!(f, "object {schema}"),
            FieldType::Array { items } => write!(f, "array of {items}"),
            FieldType::Map { values } => write!(f, "object map (string → {values})"),
        }
    }
}
