//! Decoding Sequence responses one document at a time, with reasons that name the field but never
//! repeat its content.
//!
//! Why: a list page holds up to 100 documents of many customers. If one of them has a shape our
//! models do not expect, failing the page would stop the whole connection (it did: one customer's
//! `customProperties` map stopped every sync). So the client decodes the envelope first and each
//! item on its own; an item that does not decode becomes a [`Rejected`] entry (its Sequence id when
//! it has one, the JSON path of the first problem, and serde's message with every quoted value cut
//! out), which the sync quarantines while importing the rest. The reason is stored and shown in the
//! console, so it must carry no customer data: values appear in serde's messages only inside double
//! quotes, and those are replaced by `"…"`.

use crate::crypto::sha256_hex;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

/// A document that did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The document's `id`, when the raw JSON has a string `id` at the top.
    pub id: Option<String>,
    /// Where and why, e.g. `customProperties: invalid type: map, expected a sequence`.
    pub reason: String,
    /// SHA-256 of the raw JSON: an unchanged rejected document is recognised without storing it.
    pub hash: String,
}

/// Decodes one document; on failure says where and why, without the document's values.
pub fn decode<T: DeserializeOwned>(json: &str) -> Result<T, Rejected> {
    let mut de = serde_json::Deserializer::from_str(json);
    let reason = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => match de.end() {
            Ok(()) => return Ok(v),
            Err(e) => redact(&strip_position(&e.to_string())),
        },
        Err(e) => reason(&e),
    };
    Err(Rejected { id: top_level_id(json), reason, hash: sha256_hex(json.as_bytes()) })
}

/// Decodes one raw list item.
pub fn decode_item<T: DeserializeOwned>(raw: &RawValue) -> Result<T, Rejected> {
    decode(raw.get())
}

fn top_level_id(json: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Option<serde_json::Value>,
    }
    match serde_json::from_str::<IdOnly>(json).ok()?.id? {
        serde_json::Value::String(s) if !s.is_empty() && s.len() <= 200 => Some(s),
        _ => None,
    }
}

fn reason(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    let message = redact(&strip_position(&e.inner().to_string()));
    if path == "." || path.is_empty() { message } else { format!("{path}: {message}") }
}

/// serde_json appends ` at line L column C`: useless once the path is known.
fn strip_position(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}

/// Replaces every value serde quotes with `…`: double-quoted spans (strings) and back-quoted spans
/// that are not names (numbers such as `42` or `1.5`; field names like `legalName` stay). Bounds the
/// length.
pub fn redact(m: &str) -> String {
    let mut out = String::with_capacity(m.len());
    let mut rest = m;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest[i..].chars().next().unwrap_or('"');
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (inner, tail) = match after.find(quote) {
            Some(j) => (&after[..j], &after[j + 1..]),
            None => (after, ""),
        };
        let is_name = quote == '`' && inner.starts_with(|c: char| c.is_ascii_alphabetic());
        out.push(quote);
        out.push_str(if is_name { inner } else { "…" });
        out.push(quote);
        rest = tail;
    }
    out.push_str(rest);
    if out.chars().count() > 300 { out.chars().take(300).collect::<String>() + "…" } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Doc {
        id: String,
        legal_name: String,
        tags: Vec<String>,
        total: crate::domain::Decimal,
    }

    #[test]
    fn a_bad_field_is_named_and_its_value_is_not_repeated() {
        let r = decode::<Doc>(r#"{"id":"c-1","legalName":"Acme","tags":{"region":"EU"},"total":"1"}"#).unwrap_err();
        assert_eq!(r.id.as_deref(), Some("c-1"));
        assert_eq!(r.reason, "tags: invalid type: map, expected a sequence");
        let r = decode::<Doc>(
            r#"{"id":"c-2","legalName":"Secret Customer Name","tags":"Secret Customer Name","total":"1"}"#,
        )
        .unwrap_err();
        assert!(r.reason.starts_with("tags: invalid type: string \"…\""), "{}", r.reason);
        assert!(!r.reason.contains("Secret"));
        let r = decode::<Doc>(r#"{"id":"c-3","tags":[],"total":"1"}"#).unwrap_err();
        assert_eq!(r.reason, "missing field `legalName`");
        let r = decode::<Doc>(r#"{"id":42,"legalName":"A","tags":[],"total":"1"}"#).unwrap_err();
        assert_eq!(r.id, None);
        assert_eq!(r.reason, "id: invalid type: integer `…`, expected a string");
        let r = decode::<Doc>(r#"{"id":"c-4","legalName":"A","tags":[],"total":1234.5}"#).unwrap_err();
        assert!(r.reason.starts_with("total: "), "{}", r.reason);
        assert!(!r.reason.contains("1234"), "{}", r.reason);
        let r = decode::<Doc>(r#"{"id":"c-5","legalName":"A","tags":[],"total":"12,5 Secret"}"#).unwrap_err();
        assert!(r.reason.starts_with("total: "), "{}", r.reason);
        assert!(!r.reason.contains("Secret"), "{}", r.reason);
    }

    #[test]
    fn good_documents_decode_and_hashes_identify_the_raw_json() {
        let ok: Doc = decode(r#"{"id":"x","legalName":"A","tags":["a"],"total":"1.50","more":{"x":1}}"#).unwrap();
        assert_eq!(ok.total.to_string(), "1.50");
        let a = decode::<Doc>(r#"{"id":"x"}"#).unwrap_err();
        let b = decode::<Doc>(r#"{"id":"x"}"#).unwrap_err();
        let c = decode::<Doc>(r#"{"id":"x" }"#).unwrap_err();
        assert_eq!(a.hash, b.hash);
        assert_ne!(a.hash, c.hash);
    }

    #[test]
    fn redaction_handles_unbalanced_quotes_and_length() {
        assert_eq!(redact(r#"a "b" c "d"#), r#"a "…" c "…""#);
        assert_eq!(redact("missing field `legalName` `12` `-1`"), "missing field `legalName` `…` `…`");
        assert!(redact(&"x".repeat(1000)).chars().count() <= 301);
    }
}
