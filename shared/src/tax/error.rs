//! Errors of the tax engine (one enum for calculation, one for the embedded data).

/// A calculation the engine refuses. The HTTP layer maps these to Sphere's error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    /// The address resolves to no jurisdiction we know → Sphere's `customer_tax_location_invalid`.
    #[error("customer tax location invalid: {0}")]
    LocationInvalid(String),
    /// Line tax codes not in the catalogue → Sphere's `invalid_product_tax_code`.
    #[error("unknown tax code(s): {}", .0.join(", "))]
    UnknownTaxCode(Vec<String>),
    /// Bad amounts, discounts, empty request … → `validation_errors`.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The org collects tax where our data has no rate for the date (we never report zero instead).
    #[error("no rate data: {0}")]
    NoRateData(String),
    /// The embedded tax content failed to load (a build defect; tests catch it).
    #[error("tax data unavailable: {0}")]
    Data(#[from] DataError),
}

/// A malformed row in `data/`: names the file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/{file}:{line}: {message}")]
pub struct DataError {
    pub file: String,
    pub line: usize,
    pub message: String,
}
