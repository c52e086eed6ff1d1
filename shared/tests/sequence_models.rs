//! Our models against responses shaped as Sequence's published document describes them (one
//! hand-written file per endpoint under `fixtures/sequence/`, every required field present, see its
//! README), decoded the way the client decodes them: the envelope, then each item on its own.

use shared::domain::Decimal;
use shared::sequence::decode::{decode, decode_item};
use shared::sequence::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/sequence/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes a list file item by item; every item must decode.
fn list<T: serde::de::DeserializeOwned>(name: &str) -> (Vec<T>, Pagination) {
    let raw: RawList = serde_json::from_str(&fixture(name)).unwrap();
    let items = raw.items.iter().map(|i| decode_item::<T>(i).unwrap_or_else(|r| panic!("{name}: {r:?}"))).collect();
    (items, raw.pagination)
}

fn one<T: serde::de::DeserializeOwned>(name: &str) -> T {
    decode::<T>(&fixture(name)).unwrap_or_else(|r| panic!("{name}: {r:?}"))
}

#[test]
fn sequence_accounts() {
    let (a, p) = list::<SequenceAccount>("sequence-accounts.json");
    assert_eq!(a[0].company_name, "Merchant Ltd");
    assert_eq!(p.after, None, "a null `after` is the last page");
}

#[test]
fn customers_with_custom_property_maps_contacts_and_organizations() {
    let (c, p) = list::<Customer>("customers.json");
    assert_eq!(p.after.as_deref(), Some("Y3VzXzAy"));
    assert_eq!(c[0].tax_status, TaxStatus::ReverseCharged);
    assert_eq!(c[0].address.country, "GB");
    assert_eq!(c[1].address.state.as_deref(), Some("MN"));
    assert!(c[1].archived_at.is_some());
    let single: Customer = one("customer.json");
    assert_eq!(single.legal_name, "Acme Ltd");
}

#[test]
fn customer_tax_registrations() {
    let (r, _) = list::<TaxRegistration>("tax-registrations-for-customer.json");
    assert_eq!(r.iter().map(|r| r.tax_identifier.as_str()).collect::<Vec<_>>(), ["GB123456789", "12-3456789"]);
    assert_eq!(r[1].state.as_deref(), Some("MN"));
}

#[test]
fn products() {
    let (p, _) = list::<Product>("products.json");
    assert_eq!(p[0].tax_category_id.as_deref(), Some("tc_saas"));
    assert_eq!(p[1].tax_category_id, None);
    let single: Product = one("product.json");
    assert_eq!(single.id, "prod_01");
}

#[test]
fn invoices_in_every_shape_we_read() {
    let (i, p) = list::<Invoice>("invoices.json");
    assert_eq!(p.after.as_deref(), Some("MDE4ZjVm"));
    let a = &i[0];
    assert_eq!(a.status, InvoiceStatus::Sent);
    assert_eq!(a.currency, "GBP");
    assert_eq!(a.net_total, d("20000.10"));
    assert_eq!(a.net_total.to_string(), "20000.10", "decimal digits are kept");
    assert_eq!(a.customer_tax_status, Some(TaxStatus::ReverseCharged));
    assert_eq!(a.sphere_calculation_id(), Some("cfd1e35a-ccb8-4bf1-86ed-49e332be220b"));
    assert_eq!(a.accounting_date.to_string(), "2026-03-01");
    let b = &i[1];
    assert_eq!(b.status, InvoiceStatus::InProgress);
    assert_eq!((b.currency.as_str(), b.total_tax), ("JPY", d("150")));
    assert_eq!(b.issue_date, None);
    let single: Invoice = one("invoice.json");
    assert_eq!(single.id, a.id, "the single-invoice response (balances, allocations, assets) decodes too");
}

#[test]
fn invoice_and_credit_note_line_items() {
    let (l, _) = list::<InvoiceLineItem>("invoice-line-items.json");
    assert_eq!(l[0].product_id.as_deref(), Some("prod_01"));
    assert_eq!((l[1].quantity, l[1].net_total), (d("1200.5"), d("0.12")));
    let (c, _) = list::<CreditNoteLineItem>("credit-note-line-items.json");
    assert_eq!(c[0].line_item_id.as_deref(), Some("li_01"));
}

#[test]
fn credit_notes() {
    let (c, _) = list::<CreditNote>("credit-notes.json");
    assert_eq!(c[0].status, CreditNoteStatus::Final);
    assert_eq!(c[0].invoice_id.as_deref(), Some("018f5fbf-0b8a-7a7e-9c8a-3e2d1c0b9a88"));
    assert_eq!(c[1].status, CreditNoteStatus::Draft);
    assert_eq!((c[1].invoice_id.as_ref(), c[1].accounting_date), (None, None));
    let single: CreditNote = one("credit-note.json");
    assert_eq!(single.credit_note_number.as_deref(), Some("CN-0001"));
}

/// Values Sequence may add later are kept, and fields we do not read cannot break a decode whatever
/// their shape.
#[test]
fn unknown_enum_values_and_any_shape_of_unread_fields_are_accepted() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("invoice.json")).unwrap();
    v["status"] = "PAID_OUT".into();
    v["currency"] = "XBT".into();
    v["customerTaxStatus"] = "PARTIAL".into();
    v["linkedServices"][0]["externalService"] = "BrandNewService".into();
    v["renderSettings"] = serde_json::json!([1, 2, 3]);
    v["metadata"] = serde_json::json!({"now": "a map"});
    v["paymentAllocations"] = serde_json::Value::Null;
    v["someFutureField"] = serde_json::json!({"nested": true});
    let i: Invoice = decode(&v.to_string()).unwrap();
    assert_eq!(i.status, InvoiceStatus::Other("PAID_OUT".into()));
    assert_eq!(i.currency, "XBT");
    assert_eq!(i.customer_tax_status, Some(TaxStatus::Other("PARTIAL".into())));
    assert_eq!(i.linked_services[0].external_service, "BrandNewService");

    let mut c: serde_json::Value = serde_json::from_str(&fixture("customer.json")).unwrap();
    c["customProperties"] = serde_json::json!([{"key": "region", "value": "EU"}]);
    c["contacts"] = serde_json::Value::Null;
    c["organizations"] = serde_json::json!("?");
    decode::<Customer>(&c.to_string()).unwrap();
}

/// A required field we use that is missing, or of the wrong type, rejects that document only; the
/// reason names the field and never repeats the document's values.
#[test]
fn a_bad_document_is_rejected_alone_with_a_reason_free_of_its_values() {
    let mut raw: serde_json::Value = serde_json::from_str(&fixture("customers.json")).unwrap();
    raw["items"][0]["legalName"] = serde_json::json!({"first": "Acme", "last": "Secret Holdings"});
    raw["items"][1].as_object_mut().unwrap().remove("createdAt");
    raw["items"].as_array_mut().unwrap().push(serde_json::json!({"id": 7, "legalName": "Nameless Secret"}));
    let list: RawList = serde_json::from_str(&raw.to_string()).unwrap();
    let results: Vec<Result<Customer, Rejected>> = list.items.iter().map(|i| decode_item(i)).collect();
    let rejected: Vec<&Rejected> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(rejected.len(), 3);
    assert_eq!(rejected[0].id.as_deref(), Some("cus_01"));
    assert_eq!(rejected[0].reason, "legalName: invalid type: map, expected a string");
    assert_eq!(rejected[1].reason, "missing field `createdAt`");
    assert_eq!(rejected[2].id, None);
    for r in rejected {
        assert!(!r.reason.contains("Secret") && !r.reason.contains("Acme"), "{}", r.reason);
    }
}
