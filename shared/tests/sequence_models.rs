//! Model parsing from recorded JSON shaped like Sequence's documented 2024-07-30 examples: decimal
//! strings, missing optional fields, nulls, unknown enum values and unknown fields.

use shared::domain::Decimal;
use shared::sequence::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const INVOICE_LIST: &str = r#"{
  "items": [{
    "id": "018f5fbf-0b8a-7a7e-9c8a-3e2d1c0b9a88",
    "sequenceAccountId": "9b4d1a2e-1c2f-4b7a-9d1e-2f3a4b5c6d7e",
    "status": "SENT",
    "currency": "GBP",
    "invoiceNumber": "INV-0042",
    "issueDate": "2024-08-01",
    "dueDate": "2024-08-31",
    "accountingDate": "2024-08-01",
    "billingPeriod": {"start": "2024-07-01", "endInclusive": "2024-07-31"},
    "createdAt": "2024-08-01T09:00:00Z",
    "updatedAt": "2024-08-01T09:05:12.123Z",
    "customerId": "cus_1",
    "customerLegalCompanyName": "Acme Ltd",
    "customerEmails": ["ap@acme.example"],
    "customerBillingAddress": {"line1": "1 High St", "town": "London", "postcode": "EC1A 1BB", "country": "GB"},
    "customerShippingAddress": {"line1": "1 High St", "line2": null, "town": "London", "postcode": "EC1A 1BB", "country": "GB"},
    "customerTaxStatus": "REVERSE_CHARGED",
    "customerTaxId": "GB123456789",
    "netTotal": "20000.10",
    "totalTax": "0.00",
    "grossTotal": "20000.10",
    "paymentStatus": "SOMETHING_NEW",
    "creditNoteIds": [],
    "linkedServices": [{"externalId": "cfd1e35a-ccb8-4bf1-86ed-49e332be220b", "externalService": "Sphere", "syncTime": "2024-08-01T09:00:01Z"},
                       {"externalId": "x1", "externalService": "BrandNewService"}],
    "metadata": [{"key": "k", "value": "v"}],
    "isCustomerArchived": false,
    "renderSettings": {"paymentLinkDisplay": "SHOW"},
    "someFutureField": {"nested": true}
  }, {
    "id": "i2", "sequenceAccountId": "a", "status": "FUTURE_STATUS", "currency": "JPY",
    "createdAt": "2024-08-01T09:00:00.000Z", "updatedAt": "2024-08-01T09:00:00.000Z",
    "customerId": "c", "netTotal": "1500", "totalTax": "150", "grossTotal": "1650"
  }],
  "pagination": {"after": "MDE4ZjVm", "before": null, "totalResultSize": 2}
}"#;

#[test]
fn invoice_list_parses_with_decimals_unknown_enums_and_fields() {
    let r: ListResponse<Invoice> = serde_json::from_str(INVOICE_LIST).unwrap();
    assert_eq!(r.items.len(), 2);
    let a = &r.items[0];
    assert_eq!(a.status, InvoiceStatus::Sent);
    assert_eq!(a.currency, "GBP");
    assert_eq!(a.net_total, d("20000.10"));
    assert_eq!(a.net_total.to_string(), "20000.10");
    assert_eq!(a.customer_tax_status, Some(TaxStatus::ReverseCharged));
    assert_eq!(a.payment_status, Some(PaymentStatus::Other("SOMETHING_NEW".into())));
    assert_eq!(a.linked_services[1].external_service, IntegrationService::Other("BrandNewService".into()));
    assert_eq!(a.sphere_calculation_id(), Some("cfd1e35a-ccb8-4bf1-86ed-49e332be220b"));
    assert_eq!(a.billing_period.as_ref().unwrap().end_inclusive.to_string(), "2024-07-31");
    assert_eq!(a.customer_billing_address.state, None);
    let b = &r.items[1];
    assert_eq!(b.status, InvoiceStatus::Other("FUTURE_STATUS".into()));
    assert_eq!(b.invoice_number, None);
    assert_eq!(b.issue_date, None);
    assert!(b.linked_services.is_empty());
    assert_eq!(b.customer_billing_address, Address::default());
    let p = r.pagination.unwrap();
    assert_eq!(p.after.as_deref(), Some("MDE4ZjVm"));
    assert_eq!(p.total_result_size, Some(2));
}

#[test]
fn unknown_enum_values_round_trip() {
    let s = InvoiceStatus::from("ARCHIVED_V2");
    assert_eq!(serde_json::to_string(&s).unwrap(), "\"ARCHIVED_V2\"");
    assert_eq!(serde_json::to_string(&InvoiceStatus::InProgress).unwrap(), "\"IN_PROGRESS\"");
    assert_eq!(InvoiceStatus::KNOWN.len(), 5);
}

#[test]
fn money_is_never_a_float() {
    // A JSON number where Sequence documents a string is refused rather than silently rounded.
    let bad = r#"{"id":"l","invoiceId":"i","title":"t","quantity":"1","rate":"1","taxRate":"0.2","index":0,
                  "netTotal":0.1,"totalTax":"0","grossTotal":"0"}"#;
    assert!(serde_json::from_str::<InvoiceLineItem>(bad).is_err());
}

#[test]
fn invoice_line_items_parse() {
    let json = r#"{"items":[{
        "id":"li_1","invoiceId":"i1","title":"Platform fee","description":null,
        "quantity":"3.5","rate":"10.123456","taxRate":"0.2","index":0,
        "servicePeriodStart":"2024-07-01T00:00:00Z","servicePeriod":{"startDate":"2024-07-01","endDate":"2024-07-31"},
        "netTotal":"35.43","totalTax":"7.09","grossTotal":"42.52","rateDisplay":"ABSOLUTE",
        "externalIds":[{"key":"Sphere","value":"x"}],"productId":"prod_1","newThing":1
      },{
        "id":"li_2","invoiceId":"i1","title":"Discount","quantity":"1","rate":"-5","taxRate":"0",
        "index":1,"netTotal":"-5.00","totalTax":"0.00","grossTotal":"-5.00","rateDisplay":"SOMETHING"
      }],"pagination":{"after":null}}"#;
    let r: ListResponse<InvoiceLineItem> = serde_json::from_str(json).unwrap();
    assert_eq!(r.items[0].quantity, d("3.5"));
    assert_eq!(r.items[0].rate, d("10.123456"));
    assert_eq!(r.items[0].product_id.as_deref(), Some("prod_1"));
    assert_eq!(r.items[0].external_ids[0].key, IntegrationService::Sphere);
    assert_eq!(r.items[1].product_id, None);
    assert_eq!(r.items[1].net_total, d("-5.00"));
    assert_eq!(r.items[1].rate_display, Some(RateDisplay::Other("SOMETHING".into())));
    assert_eq!(r.pagination.unwrap().after, None);
}

#[test]
fn credit_notes_and_lines_parse() {
    let json = r#"{"items":[{
        "id":"cn_1","sequenceAccountId":"a","status":"SENT","invoiceId":"i1","invoiceNumber":"INV-1",
        "currency":"EUR","issueDate":"2024-09-01","creditNoteNumber":"CN-1","customerId":"c1",
        "customerEmails":[],"customerLegalCompanyName":"Beta GmbH",
        "customerBillingAddress":{"line1":"Str 1","town":"Berlin","postcode":"10115","country":"DE"},
        "customerShippingAddress":{"line1":"Str 1","town":"Berlin","postcode":"10115","country":"DE"},
        "totalTax":"9.73","netTotal":"51.20","grossTotal":"60.93","metadata":[],"linkedServices":[],
        "applications":[{"invoiceId":"i1","amount":"60.93","appliedAt":"2024-09-01T10:00:00Z"}],
        "settings":{}
      },{
        "id":"cn_2","sequenceAccountId":"a","status":"DRAFT","currency":"USD","customerId":"c2",
        "totalTax":"0","netTotal":"10","grossTotal":"10"
      }]}"#;
    let r: ListResponse<CreditNote> = serde_json::from_str(json).unwrap();
    assert_eq!(r.items[0].net_total, d("51.20"));
    assert_eq!(r.items[0].applications[0].amount, Some(d("60.93")));
    assert_eq!(r.items[1].invoice_id, None);
    assert_eq!(r.items[1].status, CreditNoteStatus::Draft);
    assert!(r.pagination.is_none());
    let lines = r#"{"items":[{"id":"cl1","creditNoteId":"cn_1","lineItemId":"li_1","title":"Refund",
        "quantity":"1","rate":"51.20","taxRate":"0.19","netTotal":"51.20","totalTax":"9.73","grossTotal":"60.93",
        "servicePeriod":{"start":"2024-07-01","endInclusive":"2024-07-31"},"productId":"p1"}],"pagination":{}}"#;
    let l: ListResponse<CreditNoteLineItem> = serde_json::from_str(lines).unwrap();
    assert_eq!(l.items[0].line_item_id.as_deref(), Some("li_1"));
    assert_eq!(l.items[0].tax_rate, Some(d("0.19")));
}

#[test]
fn customers_products_accounts_registrations_parse() {
    let c: ListResponse<Customer> = serde_json::from_str(
        r#"{"items":[{"id":"c1","createdAt":"2024-01-01T00:00:00Z","organizations":[],"legalName":"Acme Inc",
        "address":{"line1":"1 Main","town":"Austin","state":"TX","postcode":"78701","country":"US"},
        "integrationIds":[{"service":"Sphere","id":"x","isPending":false}],"taxStatus":"TAX_EXEMPT",
        "customProperties":{"region":"US","tier":"gold"}},
        {"id":"c2","createdAt":"2024-01-02T00:00:00Z","legalName":"NoAddr","address":{}, "taxStatus":"NEW_STATUS"}],
        "pagination":{"after":null,"before":null,"totalResultSize":null}}"#,
    )
    .unwrap();
    assert_eq!(c.items[0].tax_status, TaxStatus::TaxExempt);
    assert_eq!(c.items[0].address.state.as_deref(), Some("TX"));
    assert_eq!(c.items[0].custom_properties["region"], "US");
    assert_eq!(c.items[1].tax_status, TaxStatus::Other("NEW_STATUS".into()));
    let p: ListResponse<Product> = serde_json::from_str(
        r#"{"items":[{"id":"p1","name":"Seats","label":null,"taxCategoryId":"tc1",
        "createdAt":"2024-01-01T00:00:00.000Z","updatedAt":"2024-02-01T00:00:00.000Z"}]}"#,
    )
    .unwrap();
    assert_eq!(p.items[0].tax_category_id.as_deref(), Some("tc1"));
    let a: ListResponse<SequenceAccount> = serde_json::from_str(
        r#"{"items":[{"id":"acc","createdAt":"2024-01-01T00:00:00Z","companyName":"Merchant Ltd","country":"GB",
        "sendCustomerNotifications":true,"alertEmailAddresses":["a@b.c"]}],"pagination":{"after":null}}"#,
    )
    .unwrap();
    assert_eq!(a.items[0].company_name.as_deref(), Some("Merchant Ltd"));
    let t: ListResponse<TaxRegistration> = serde_json::from_str(
        r#"{"items":[{"id":"tr1","sequenceAccountId":"acc","taxIdentifier":"DE123456789","customerId":"c1","country":"DE","state":null}],"pagination":null}"#,
    )
    .unwrap();
    assert_eq!(t.items[0].tax_identifier, "DE123456789");
}

mod properties {
    use proptest::prelude::*;
    use shared::domain::Decimal;
    use shared::sequence::*;
    use std::str::FromStr;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any decimal string Sequence could send survives parse → serialise unchanged (no float).
        #[test]
        fn money_strings_round_trip_exactly(units in -10_000_000_000i64..10_000_000_000i64, scale in 0u32..7) {
            let s = Decimal::new(units, scale).to_string();
            let json = format!(r#"{{"id":"l","invoiceId":"i","title":"t","quantity":"{s}","rate":"{s}","taxRate":"0.2","index":0,
                "netTotal":"{s}","totalTax":"{s}","grossTotal":"{s}"}}"#);
            let line: InvoiceLineItem = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(line.net_total, Decimal::from_str(&s).unwrap());
            let back = serde_json::to_value(&line).unwrap();
            prop_assert_eq!(back["netTotal"].as_str().unwrap(), s.as_str());
        }

        /// Unknown enum values are kept verbatim, known ones are recognised.
        #[test]
        fn enums_keep_any_value(v in "[A-Z_]{1,20}") {
            let st: InvoiceStatus = serde_json::from_value(serde_json::Value::String(v.clone())).unwrap();
            prop_assert_eq!(st.as_str(), v.as_str());
            prop_assert_eq!(matches!(st, InvoiceStatus::Other(_)), !InvoiceStatus::KNOWN.iter().any(|k| k.as_str() == v));
        }
    }
}
