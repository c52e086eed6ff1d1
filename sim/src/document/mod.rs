//! The published document as data, and the departure checker. `sim/spec/sequence-2024-07-30.json` is
//! our own description of the 12 responses we read (written from `research/sequence-fields.md`): per
//! endpoint its response schema, per schema each field's JSON type, required and nullable flags and
//! documented enum values. Why the simulator carries it: its tests walk every served document against
//! it, so "the simulator follows the document" is checked, not assumed; the API also uses its currency
//! list to validate the `invoiceCurrency` filter.

mod check;
mod spec;

pub use check::{Departure, DepartureKind, Report};
pub use spec::{Endpoint, EnumRef, Field, FieldType, Schema, Spec};

use std::sync::OnceLock;

/// The description, as committed.
pub const SPEC_JSON: &str = include_str!("../../spec/sequence-2024-07-30.json");

/// The parsed description (an empty one if it failed to parse, which the crate's tests rule out).
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| Spec::parse(SPEC_JSON).unwrap_or_default())
}
