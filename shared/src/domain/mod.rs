//! Domain vocabulary shared by every function: identifiers, test/live mode, Sequence environments,
//! currencies and money. Pure: no I/O.

mod currency;
mod ids;
mod mode;

pub use currency::{Currency, MoneyError, UnknownCurrency};
pub use ids::{ConnectionId, IdError, KeyId, OrgId, SequenceAccountId, new_uuid, new_uuid_v7};
pub use mode::{Environment, Mode, PairingError};

/// Money is always a `Decimal` in major units (or `i64` minor units on the tax wire); never `f64`.
pub use rust_decimal::Decimal;
