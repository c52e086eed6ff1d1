//! `SequenceAccount` (`GET /sequence-accounts`): the merchant's own Sequence account.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SequenceAccount {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub sequence_organisation_id: String,
    pub company_name: String,
    pub company_number: String,
    /// ISO 3166 alpha-2.
    pub country: String,
    pub send_customer_notifications: bool,
    pub alert_email_addresses: Vec<String>,
}
