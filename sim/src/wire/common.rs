//! Small schemas several responses share: addresses, key/value pairs, linked services, date ranges,
//! line external ids, and the list envelope with its pagination.

use super::IntegrationService;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// `Address` (customers) and `Address1` (invoices, credit notes, merchant): the same fields. `state`
/// is a US state or Canadian province code, sent only for those two countries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub town: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub postcode: String,
    pub country: String,
}

/// `KeyValuePair` (`metadata[]`, merchant `customFields[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValuePair {
    pub key: String,
    pub value: String,
}

impl KeyValuePair {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        KeyValuePair { key: key.into(), value: value.into() }
    }
}

/// `LinkInfo` (`linkedServices[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkInfo {
    pub external_id: String,
    pub external_service: IntegrationService,
    pub sync_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
}

/// `InclusiveDateRange` (invoice `billingPeriod`, credit-note line `servicePeriod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusiveDateRange {
    pub start: NaiveDate,
    pub end_inclusive: NaiveDate,
}

/// `DateRange` (invoice line `servicePeriod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// `IntegrationExternalIdentifier` (line `externalIds[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalId {
    pub key: IntegrationService,
    pub value: String,
}

/// The `pagination` object of every list (the `PaginationMeta*` / `PaginationResponse*` schemas).
/// Absent cursors are omitted: only two of those schemas allow `null`, and all allow absence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_result_size: Option<u64>,
}

/// Every list response: `{"items": [...], "pagination": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub items: Vec<T>,
    pub pagination: Pagination,
}
