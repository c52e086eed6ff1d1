//! A check against the world, not against our mirror: Sequence's own published OpenAPI document
//! (repository `SequenceHQ/openapi-schema`, file `2024-07-30.product.json`). The document has no
//! licence, so it is not in this repository; point `SEQUENCE_OPENAPI` at a checkout's copy:
//!
//! ```sh
//! git clone https://github.com/SequenceHQ/openapi-schema /tmp/seq
//! SEQUENCE_OPENAPI=/tmp/seq/2024-07-30.product.json cargo test -p shared --test sequence_openapi -- --nocapture
//! ```
//!
//! It checks, for the 12 endpoints the connector reads: (1) the document's own example response of
//! each decodes with our models, item by item, with nothing rejected; (2) each of our hand-written
//! fixtures (`fixtures/sequence/`) has every field the document marks required, with the documented
//! JSON type, nullability and enum values. Without the variable the test says so and passes (CI has
//! no network); the closing note of the change that added it records its last result.

use serde_json::Value;
use shared::sequence::decode::{decode, decode_item};
use shared::sequence::*;

/// (path in the document, our fixture, how we decode it)
const ENDPOINTS: [(&str, &str, Kind); 12] = [
    ("/sequence-accounts", "sequence-accounts.json", Kind::List(check_list::<SequenceAccount>)),
    ("/customers", "customers.json", Kind::List(check_list::<Customer>)),
    ("/customers/{id}", "customer.json", Kind::One(check_one::<Customer>)),
    ("/products", "products.json", Kind::List(check_list::<Product>)),
    ("/products/{id}", "product.json", Kind::One(check_one::<Product>)),
    ("/invoices", "invoices.json", Kind::List(check_list::<Invoice>)),
    ("/invoices/{id}", "invoice.json", Kind::One(check_one::<Invoice>)),
    ("/invoices/{invoice}/line-items", "invoice-line-items.json", Kind::List(check_list::<InvoiceLineItem>)),
    ("/credit-notes", "credit-notes.json", Kind::List(check_list::<CreditNote>)),
    ("/credit-notes/{id}", "credit-note.json", Kind::One(check_one::<CreditNote>)),
    (
        "/credit-notes/{creditnote}/line-items",
        "credit-note-line-items.json",
        Kind::List(check_list::<CreditNoteLineItem>),
    ),
    (
        "/tax-registrations/for-customer/{id}",
        "tax-registrations-for-customer.json",
        Kind::List(check_list::<TaxRegistration>),
    ),
];

#[derive(Clone, Copy)]
enum Kind {
    List(fn(&str) -> Result<usize, String>),
    One(fn(&str) -> Result<usize, String>),
}

fn check_list<T: serde::de::DeserializeOwned>(json: &str) -> Result<usize, String> {
    let raw: RawList = serde_json::from_str(json).map_err(|e| e.to_string())?;
    for item in &raw.items {
        decode_item::<T>(item).map_err(|r| r.reason)?;
    }
    Ok(raw.items.len())
}

fn check_one<T: serde::de::DeserializeOwned>(json: &str) -> Result<usize, String> {
    decode::<T>(json).map(|_| 1).map_err(|r| r.reason)
}

/// Every departure of `v` from `schema`, with its JSON path.
fn departures(doc: &Value, schema: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if v.is_null() {
        if schema.get("nullable") != Some(&Value::Bool(true)) {
            out.push(format!("{path}: null where the document does not allow it"));
        }
        return;
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let ok = options.iter().any(|o| {
            let mut d = Vec::new();
            departures(doc, o, v, path, &mut d);
            d.is_empty()
        });
        if !ok {
            out.push(format!("{path}: matches none of the oneOf options"));
        }
        return;
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("object");
    let type_ok = match ty {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        _ => v.is_object(),
    };
    if !type_ok {
        out.push(format!("{path}: expected {ty}, got {v}"));
        return;
    }
    if let (Some(allowed), Some(s)) = (schema.get("enum").and_then(Value::as_array), v.as_str())
        && !allowed.iter().any(|a| a.as_str() == Some(s))
    {
        out.push(format!("{path}: {s:?} is not a documented value"));
    }
    match ty {
        "array" => {
            if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
                for (i, x) in arr.iter().enumerate() {
                    departures(doc, items, x, &format!("{path}[{i}]"), out);
                }
            }
        }
        "string" | "integer" | "number" | "boolean" => {}
        _ => {
            let obj = v.as_object().expect("checked above");
            for req in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                if let Some(name) = req.as_str()
                    && !obj.contains_key(name)
                {
                    out.push(format!("{path}.{name}: required, missing"));
                }
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, x) in obj {
                match (props.and_then(|p| p.get(k)), schema.get("additionalProperties")) {
                    (Some(s), _) => departures(doc, s, x, &format!("{path}.{k}"), out),
                    (None, Some(extra)) if extra.is_object() => departures(doc, extra, x, &format!("{path}.{k}"), out),
                    (None, _) => out.push(format!("{path}.{k}: not in the document")),
                }
            }
        }
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/")) {
        Some(pointer) => resolve(doc, doc.pointer(&format!("/{pointer}")).unwrap_or(&Value::Null)),
        None => schema,
    }
}

#[test]
fn our_models_and_fixtures_agree_with_sequences_published_document() {
    let Ok(path) = std::env::var("SEQUENCE_OPENAPI") else {
        eprintln!("skipped: set SEQUENCE_OPENAPI to SequenceHQ/openapi-schema's 2024-07-30.product.json");
        return;
    };
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read SEQUENCE_OPENAPI"))
        .expect("the document is JSON");
    let mut failures = Vec::new();
    for (endpoint, fixture, kind) in ENDPOINTS {
        let response = doc
            .pointer(&format!("/paths/{}/get/responses/200/content/application~1json", endpoint.replace('/', "~1")))
            .unwrap_or_else(|| panic!("{endpoint} is not in the document"));
        let schema = &response["schema"];
        // (1) the document's example decodes with our models
        let example = schema.get("example").or_else(|| response.get("example")).expect("an example");
        let checker = match kind {
            Kind::List(f) | Kind::One(f) => f,
        };
        match checker(&example.to_string()) {
            Ok(n) => eprintln!("{endpoint}: the document's example decodes ({n} item(s))"),
            Err(e) => failures.push(format!("{endpoint}: the document's example does not decode: {e}")),
        }
        // (2) our fixture follows the document
        let ours: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}/tests/fixtures/sequence/{fixture}", env!("CARGO_MANIFEST_DIR")))
                .expect("fixture"),
        )
        .expect("fixture is JSON");
        let mut d = Vec::new();
        departures(&doc, schema, &ours, fixture, &mut d);
        eprintln!("{fixture}: {} departure(s) from the document", d.len());
        failures.extend(d);
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The checker itself: a fixture broken on purpose departs where it was broken.
#[test]
fn the_departure_checker_finds_what_is_wrong() {
    let doc = serde_json::json!({"components": {"schemas": {
        "C": {"type": "object", "required": ["id", "props", "tags"], "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["A", "B"]},
            "props": {"type": "object", "additionalProperties": {"type": "string"}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "after": {"type": "string", "nullable": true}
        }}
    }}});
    let schema = serde_json::json!({"$ref": "#/components/schemas/C"});
    let good = serde_json::json!({"id": "x", "status": "A", "props": {"k": "v"}, "tags": [], "after": null});
    let mut d = Vec::new();
    departures(&doc, &schema, &good, "c", &mut d);
    assert!(d.is_empty(), "{d:?}");
    let bad = serde_json::json!({"status": "C", "props": [1], "tags": null, "extra": 1});
    departures(&doc, &schema, &bad, "c", &mut d);
    assert_eq!(
        d,
        [
            "c.id: required, missing",
            "c.extra: not in the document",
            "c.props: expected object, got [1]",
            "c.status: \"C\" is not a documented value",
            "c.tags: null where the document does not allow it",
        ]
    );
}
