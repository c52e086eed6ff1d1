//! The departure checker: walks a JSON response against a schema of the description, recursively
//! through every list item and nested object, and reports each departure with its JSON path and the
//! id of the document it belongs to. What counts as a departure: a required field missing, a wrong
//! JSON type, `null` where the field is not nullable, a list where an object map is documented, an
//! enum value outside the documented set, an integer out of its format's range, and a field the
//! schema does not list (the simulator must send what Sequence sends, not more).

use super::spec::{FieldType, Spec};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum DepartureKind {
    MissingRequired,
    WrongType {
        expected: String,
        found: &'static str,
    },
    NullNotNullable,
    /// An array where an object map is documented.
    ListForMap,
    OutsideEnum {
        value: String,
    },
    IntegerOutOfRange {
        format: String,
    },
    Undocumented,
    UnknownSchema {
        schema: String,
    },
}

/// One departure from the description.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Departure {
    /// `$.items[3].customProperties`.
    pub path: String,
    /// The `id` of the document (list item or single response) the path is in.
    pub doc_id: Option<String>,
    pub kind: DepartureKind,
}

impl fmt::Display for Departure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.kind {
            DepartureKind::MissingRequired => "required field missing".to_owned(),
            DepartureKind::WrongType { expected, found } => format!("expected {expected}, found {found}"),
            DepartureKind::NullNotNullable => "null, but not nullable".to_owned(),
            DepartureKind::ListForMap => "a list where an object map is documented".to_owned(),
            DepartureKind::OutsideEnum { value } => format!("{value:?} is not a documented value"),
            DepartureKind::IntegerOutOfRange { format } => format!("integer out of {format} range"),
            DepartureKind::Undocumented => "field not in the document".to_owned(),
            DepartureKind::UnknownSchema { schema } => format!("unknown schema {schema}"),
        };
        match &self.doc_id {
            Some(id) => write!(f, "{} (document {id}): {what}", self.path),
            None => write!(f, "{}: {what}", self.path),
        }
    }
}

/// The result of checking one or more responses.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub departures: Vec<Departure>,
    /// Present field values checked (so a vacuous walk shows).
    pub fields_checked: usize,
    /// Schemas that matched an object at least once.
    pub schemas_seen: BTreeSet<String>,
    /// `Schema.field` pairs that were present at least once.
    pub fields_seen: BTreeSet<String>,
}

impl Report {
    pub fn merge(&mut self, other: Report) {
        self.departures.extend(other.departures);
        self.fields_checked += other.fields_checked;
        self.schemas_seen.extend(other.schemas_seen);
        self.fields_seen.extend(other.fields_seen);
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn key_path(path: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key:?}]")
    }
}

struct Walk<'a> {
    spec: &'a Spec,
    report: Report,
}

impl Walk<'_> {
    fn depart(&mut self, path: &str, doc: &Option<String>, kind: DepartureKind) {
        self.report.departures.push(Departure { path: path.to_owned(), doc_id: doc.clone(), kind });
    }

    fn object(&mut self, schema_name: &str, v: &Value, path: &str, doc: &Option<String>) {
        let Some(schema) = self.spec.schemas.get(schema_name) else {
            self.depart(path, doc, DepartureKind::UnknownSchema { schema: schema_name.to_owned() });
            return;
        };
        let Value::Object(obj) = v else {
            let expected = format!("object {schema_name}");
            self.depart(path, doc, DepartureKind::WrongType { expected, found: kind(v) });
            return;
        };
        self.report.schemas_seen.insert(schema_name.to_owned());
        let doc = match doc {
            Some(_) => doc.clone(),
            None => obj.get("id").and_then(Value::as_str).map(str::to_owned),
        };
        for (name, field) in &schema.fields {
            let p = key_path(path, name);
            match obj.get(name) {
                None if field.required => self.depart(&p, &doc, DepartureKind::MissingRequired),
                None => {}
                Some(val) => {
                    self.report.fields_seen.insert(format!("{schema_name}.{name}"));
                    self.value(&field.ty, field.nullable, val, &p, &doc);
                }
            }
        }
        for name in obj.keys().filter(|k| !schema.fields.contains_key(*k)) {
            self.depart(&key_path(path, name), &doc, DepartureKind::Undocumented);
        }
    }

    fn value(&mut self, ty: &FieldType, nullable: bool, v: &Value, path: &str, doc: &Option<String>) {
        self.report.fields_checked += 1;
        if v.is_null() {
            if !nullable {
                self.depart(path, doc, DepartureKind::NullNotNullable);
            }
            return;
        }
        let wrong = |expected: &FieldType| DepartureKind::WrongType { expected: expected.to_string(), found: kind(v) };
        match ty {
            FieldType::String { values } => match v {
                Value::String(s) => {
                    if let Some(e) = values {
                        let known = self.spec.resolve(e).unwrap_or(&[]);
                        if !known.iter().any(|k| k == s) {
                            self.depart(path, doc, DepartureKind::OutsideEnum { value: s.clone() });
                        }
                    }
                }
                _ => self.depart(path, doc, wrong(ty)),
            },
            FieldType::Integer { format } => match v.as_i64() {
                Some(n) => {
                    if format.as_deref() == Some("int32") && i32::try_from(n).is_err() {
                        self.depart(path, doc, DepartureKind::IntegerOutOfRange { format: "int32".into() });
                    }
                }
                None => self.depart(path, doc, wrong(ty)),
            },
            FieldType::Boolean => {
                if !v.is_boolean() {
                    self.depart(path, doc, wrong(ty));
                }
            }
            FieldType::Object { schema } => self.object(schema, v, path, doc),
            FieldType::Array { items } => match v {
                Value::Array(list) => {
                    for (i, item) in list.iter().enumerate() {
                        // List items of an envelope are documents of their own.
                        let item_doc = if path == "$.items" { None } else { doc.clone() };
                        self.value(items, false, item, &format!("{path}[{i}]"), &item_doc);
                    }
                }
                _ => self.depart(path, doc, wrong(ty)),
            },
            FieldType::Map { values } => match v {
                Value::Object(m) => {
                    for (k, item) in m {
                        self.value(values, false, item, &key_path(path, k), doc);
                    }
                }
                Value::Array(_) => self.depart(path, doc, DepartureKind::ListForMap),
                _ => self.depart(path, doc, wrong(ty)),
            },
        }
    }
}

impl Spec {
    /// Checks `v` (a whole response) against the schema `schema`.
    pub fn check(&self, schema: &str, v: &Value) -> Report {
        let mut w = Walk { spec: self, report: Report::default() };
        w.object(schema, v, "$", &None);
        w.report
    }

    /// Checks a response of the endpoint with this path template (e.g. `/invoices/{id}`).
    pub fn check_endpoint(&self, path: &str, v: &Value) -> Report {
        match self.endpoint(path) {
            Some(e) => self.check(&e.response.clone(), v),
            None => Report {
                departures: vec![Departure {
                    path: "$".into(),
                    doc_id: None,
                    kind: DepartureKind::UnknownSchema { schema: format!("endpoint {path}") },
                }],
                ..Report::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{SPEC_JSON, spec};
    use serde_json::json;

    #[test]
    fn the_committed_description_parses_and_is_closed() {
        let s = Spec::parse(SPEC_JSON).unwrap();
        assert_eq!(s.api_version, "2024-07-30");
        assert_eq!(s.endpoints.len(), 12);
        fn refs(t: &FieldType, out: &mut Vec<String>) {
            match t {
                FieldType::Object { schema } => out.push(schema.clone()),
                FieldType::Array { items } => refs(items, out),
                FieldType::Map { values } => refs(values, out),
                _ => {}
            }
        }
        let mut named = Vec::new();
        for schema in s.schemas.values() {
            for f in schema.fields.values() {
                refs(&f.ty, &mut named);
                if let FieldType::String { values: Some(EnumRef::Named(n)) } = &f.ty {
                    assert!(s.enums.contains_key(n), "{n}");
                }
            }
        }
        named.extend(s.endpoints.iter().map(|e| e.response.clone()));
        for n in named {
            assert!(s.schemas.contains_key(&n), "{n} is referenced but not described");
        }
        assert!(spec().enum_values("Currency").is_some_and(|c| c.contains(&"EUR".to_owned())));
    }

    use crate::document::EnumRef;

    #[test]
    fn every_kind_of_departure_is_found_with_its_path() {
        let s = spec();
        let doc = json!({
            "id": "c1",
            "createdAt": "2026-01-01T00:00:00Z",
            "organizations": [{"id": "o1", "owner": {"id": "c1"}, "members": []}],
            "legalName": 42,
            "address": {"line1": "1 Road", "town": "Town", "postcode": "1", "country": "ZZ"},
            "integrationIds": [],
            "taxStatus": "TAXED",
            "contacts": null,
            "status": "ACTIVE",
            "customProperties": [{"key": "region", "value": "EU"}],
            "url": null,
            "extra": true
        });
        let r = s.check("Customer", &doc);
        let got: Vec<(String, DepartureKind)> = r.departures.iter().map(|d| (d.path.clone(), d.kind.clone())).collect();
        let want = vec![
            ("$.organizations[0].owner.name".to_owned(), DepartureKind::MissingRequired),
            ("$.legalName".to_owned(), DepartureKind::WrongType { expected: "string".into(), found: "integer" }),
            ("$.address.country".to_owned(), DepartureKind::OutsideEnum { value: "ZZ".into() }),
            ("$.url".to_owned(), DepartureKind::NullNotNullable),
            ("$.contacts".to_owned(), DepartureKind::NullNotNullable),
            ("$.customProperties".to_owned(), DepartureKind::ListForMap),
            ("$.extra".to_owned(), DepartureKind::Undocumented),
        ];
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted, "{got:#?}");
        assert!(r.departures.iter().all(|d| d.doc_id.as_deref() == Some("c1")));
        assert!(r.schemas_seen.contains("CustomerIdWithName"));
    }

    #[test]
    fn list_items_are_documents_and_nullable_pagination_is_allowed() {
        let s = spec();
        let page = json!({
            "items": [
                {"id": "r1", "sequenceAccountId": "a", "taxIdentifier": "x", "customerId": "c", "country": "GB"},
                {"id": "r2", "sequenceAccountId": "a", "taxIdentifier": "x", "customerId": "c", "country": "GB",
                 "state": "Bavaria"}
            ],
            "pagination": {"after": null, "before": null, "totalResultSize": 2}
        });
        let r = s.check_endpoint("/tax-registrations/for-customer/{id}", &page);
        assert_eq!(r.departures.len(), 1, "{:?}", r.departures);
        assert_eq!(r.departures[0].path, "$.items[1].state");
        assert_eq!(r.departures[0].doc_id.as_deref(), Some("r2"));
        // The same nulls are departures where the pagination is not nullable.
        let bad = json!({"items": [], "pagination": {"after": null, "totalResultSize": 1.5}});
        let r = s.check_endpoint("/products", &bad);
        let kinds: Vec<_> = r.departures.iter().map(|d| (d.path.as_str(), &d.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("$.pagination.after", &DepartureKind::NullNotNullable),
                (
                    "$.pagination.totalResultSize",
                    &DepartureKind::WrongType { expected: "integer".into(), found: "number" }
                ),
            ]
        );
        assert_eq!(s.check_endpoint("/nope", &page).departures.len(), 1);
        assert!(!s.check("Customer", &json!([])).departures.is_empty());
    }
}
