//! The documented string enums the simulator sends. Why closed Rust enums (unlike the client, which
//! keeps unknown values): the simulator only ever sends documented values, and its control API should
//! refuse a status it cannot play. Currencies and countries stay strings: the simulator deliberately
//! serves one undocumented currency so the connector's quarantine is exercised.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value outside an enum's documented set (control API input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every documented value, in the document's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    other => Err(UnknownValue { kind: stringify!($name), value: other.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

wire_enum!(
    /// `Invoice.status`.
    InvoiceStatus { InProgress = "IN_PROGRESS", Draft = "DRAFT", Final = "FINAL", Sent = "SENT", Voided = "VOIDED" }
);
wire_enum!(
    /// `CreditNote.status`.
    CreditNoteStatus { Draft = "DRAFT", Final = "FINAL", InProgress = "IN_PROGRESS", Sent = "SENT", Voided = "VOIDED" }
);
wire_enum!(
    /// `Invoice.paymentStatus`.
    PaymentStatus { Unpaid = "UNPAID", PartiallyPaid = "PARTIALLY_PAID", Paid = "PAID", Uncollectible = "UNCOLLECTIBLE" }
);
wire_enum!(
    /// Customer `taxStatus`, invoice `customerTaxStatus`.
    TaxStatus { Taxed = "TAXED", TaxExempt = "TAX_EXEMPT", ReverseCharged = "REVERSE_CHARGED" }
);
wire_enum!(
    /// Customer `status` (single-customer response only).
    CustomerStatus { Draft = "DRAFT", Active = "ACTIVE" }
);
wire_enum!(
    /// Contact `billingPreference`: who receives invoices.
    BillingPreference { Primary = "PRIMARY", Standard = "STANDARD", NoInvoices = "NONE" }
);
wire_enum!(
    /// The integration services (`service`, `externalService`, external id `key`).
    IntegrationService {
        AmazonRedshift = "Amazon_Redshift",
        GoCardless = "GoCardless",
        GoogleBigQuery = "Google_BigQuery",
        GoogleSheets = "Google_Sheets",
        HubSpot = "HubSpot",
        NetSuite = "NetSuite",
        QuickBooksOnline = "QuickBooks_Online",
        Salesforce = "Salesforce",
        Slack = "Slack",
        Snowflake = "Snowflake",
        Stripe = "Stripe",
        Xero = "Xero",
        Avalara = "Avalara",
        Anrok = "Anrok",
        Attio = "Attio",
        Numeral = "Numeral",
        Rillet = "Rillet",
        Sphere = "Sphere",
    }
);
wire_enum!(
    /// Line item `rateDisplay`.
    RateDisplay { Absolute = "ABSOLUTE", Percentage = "PERCENTAGE" }
);
wire_enum!(
    /// `renderSettings.paymentLinkDisplay`.
    PaymentLinkDisplay { Show = "SHOW_PAYMENT_LINK", Hide = "HIDE_PAYMENT_LINK" }
);
wire_enum!(
    /// Invoice `dueDateSource`.
    DueDateSource { Manual = "MANUAL", Calculated = "CALCULATED" }
);
wire_enum!(
    /// Credit note `settings.generateCashCreditGrant`.
    CashCreditGrant { Enabled = "ENABLED", Disabled = "DISABLED" }
);
wire_enum!(
    /// Credit note `applicationStatus`.
    ApplicationStatus {
        Unapplied = "UNAPPLIED",
        PartiallyApplied = "PARTIALLY_APPLIED",
        FullyApplied = "FULLY_APPLIED",
        Unknown = "UNKNOWN",
    }
);
wire_enum!(
    /// Payment allocation `origin`.
    PaymentOrigin { Manual = "MANUAL", Stripe = "STRIPE" }
);
wire_enum!(
    /// `integrationPaymentStatuses.stripe` / `.goCardless`.
    IntegrationPaymentStatus {
        Pending = "PENDING",
        InProgress = "IN_PROGRESS",
        Paid = "PAID",
        Failed = "FAILED",
        Cancelled = "CANCELLED",
        Refunded = "REFUNDED",
    }
);
wire_enum!(
    /// Line `revenueRecognitionMethod`.
    RevenueRecognitionMethod {
        StraightLine = "STRAIGHT_LINE",
        Usage = "USAGE",
        Milestone = "MILESTONE",
        PointInTime = "POINT_IN_TIME",
    }
);
wire_enum!(
    /// Line `revenueClassification`.
    RevenueClassification { Prepayment = "PREPAYMENT", Earned = "EARNED", Burndown = "BURNDOWN" }
);
wire_enum!(
    /// Invoice `paymentOptions[]`.
    PaymentOption { BankTransfer = "BANK_TRANSFER", Link = "LINK" }
);
wire_enum!(
    /// Applied credit grant `status`.
    CreditGrantStatus { Applied = "APPLIED", Projected = "PROJECTED" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_unknown_values() {
        for s in InvoiceStatus::ALL {
            assert_eq!(s.as_str().parse::<InvoiceStatus>(), Ok(*s));
        }
        assert_eq!(serde_json::to_string(&BillingPreference::NoInvoices).unwrap(), "\"NONE\"");
        assert_eq!(IntegrationService::QuickBooksOnline.as_str(), "QuickBooks_Online");
        let err = "BOGUS".parse::<CreditNoteStatus>().unwrap_err();
        assert_eq!(err.to_string(), "unknown CreditNoteStatus \"BOGUS\"");
        assert!(serde_json::from_str::<TaxStatus>("\"taxed\"").is_err());
    }
}
