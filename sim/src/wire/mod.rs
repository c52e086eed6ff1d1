//! The simulator's own wire types: one serde struct per schema of the 12 responses we read, written
//! from our notes on Sequence's published 2024-07-30 document (`research/sequence-fields.md`, summarised
//! in `sim/spec/sequence-2024-07-30.json`). Why separate from `shared::sequence::models`: the client
//! models only what the connector uses and must tolerate what it does not know, while the simulator
//! must send what Sequence sends — every required field with its documented JSON type, object maps as
//! objects, arrays as arrays (never null). Required fields are plain fields; optional ones are
//! `Option`s that are omitted when absent (no optional field in these schemas is nullable except the
//! pagination of two lists, and omitting is always allowed). Money is `Decimal` serialised as a
//! decimal string, dates `YYYY-MM-DD`, timestamps RFC 3339 with `Z`.

mod account;
mod common;
mod credit_note;
mod customer;
mod enums;
mod invoice;
mod product;

pub use account::SequenceAccount;
pub use common::{
    Address, DateRange, ExternalId, InclusiveDateRange, KeyValuePair, LinkInfo, ListResponse, Pagination,
};
pub use credit_note::{CreditNote, CreditNoteApplication, CreditNoteLineItem, CreditNoteSettings};
pub use customer::{
    Contact, Customer, CustomerIdWithName, CustomerOrganization, CustomerResponse, IntegrationId, TaxRegistration,
};
pub use enums::*;
pub use invoice::{
    AppliedCreditGrant, AppliedCreditNote, AppliedCreditNoteLineItem, IntegrationPaymentStatuses, Invoice,
    InvoiceDetail, InvoiceLineItem, InvoiceResponse, MerchantDetails, PaymentAllocation, ProjectedCreditGrant,
    RenderSettings, SortCodeAccountNumber, UsAchDestination,
};
pub use product::Product;
