//! Our product tax codes and their default taxability. Per-jurisdiction rules live in data
//! (`data/taxability/us.csv`); this module holds only the catalogue and the documented category defaults used
//! where the data has no row (the engine then adds a warning saying so).

use super::types::TaxCode;

/// What a code defaults to where the data has no specific rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Defaults {
    /// US states: taxable unless data says otherwise.
    pub us_taxable: bool,
    /// Canadian PST / RST (BC, MB, SK): these taxes reach goods and software, not most services.
    pub ca_pst_taxable: bool,
    /// VAT / GST / HST / QST / JCT: standard-rated (true) or exempt (false).
    pub vat_taxable: bool,
}

const CODES: &[(TaxCode, Defaults)] = &[
    (
        TaxCode {
            id: "physical_goods",
            name: "Physical goods",
            description: "Tangible personal property shipped or handed over.",
        },
        Defaults { us_taxable: true, ca_pst_taxable: true, vat_taxable: true },
    ),
    (
        TaxCode {
            id: "saas",
            name: "Software as a service",
            description: "Remotely accessed software (business use), billed as a subscription or by usage.",
        },
        Defaults { us_taxable: false, ca_pst_taxable: true, vat_taxable: true },
    ),
    (
        TaxCode {
            id: "digital_services",
            name: "Electronically supplied services",
            description: "Automated online services other than SaaS (data feeds, hosting, online platforms). US: follows the state's SaaS rule.",
        },
        Defaults { us_taxable: false, ca_pst_taxable: true, vat_taxable: true },
    ),
    (
        TaxCode {
            id: "software_download",
            name: "Downloaded software / digital goods",
            description: "Prewritten software or digital products transferred electronically.",
        },
        Defaults { us_taxable: true, ca_pst_taxable: true, vat_taxable: true },
    ),
    (
        TaxCode {
            id: "professional_services",
            name: "Professional services",
            description: "Consulting, implementation and other services performed by people.",
        },
        Defaults { us_taxable: false, ca_pst_taxable: false, vat_taxable: true },
    ),
    (
        TaxCode {
            id: "training",
            name: "Training",
            description: "Training and education services (live or recorded).",
        },
        Defaults { us_taxable: false, ca_pst_taxable: false, vat_taxable: true },
    ),
    (
        TaxCode {
            id: "support_maintenance",
            name: "Support and maintenance",
            description: "Optional software support and maintenance contracts.",
        },
        Defaults { us_taxable: false, ca_pst_taxable: false, vat_taxable: true },
    ),
    (
        TaxCode { id: "shipping", name: "Shipping", description: "Delivery charges stated separately on the invoice." },
        Defaults { us_taxable: true, ca_pst_taxable: true, vat_taxable: true },
    ),
    (
        TaxCode {
            id: "non_taxable",
            name: "Non-taxable",
            description: "Never taxed (e.g. pass-through fees, donations).",
        },
        Defaults { us_taxable: false, ca_pst_taxable: false, vat_taxable: false },
    ),
];

/// Every tax code the engine accepts, in catalogue order.
pub fn catalog() -> Vec<TaxCode> {
    CODES.iter().map(|(c, _)| *c).collect()
}

pub(crate) fn find(id: &str) -> Option<(TaxCode, Defaults)> {
    CODES.iter().find(|(c, _)| c.id == id).copied()
}

/// The data key for US per-state rules: `digital_services` follows the state's `saas` rule.
pub(crate) fn us_rule_code(id: &str) -> &str {
    if id == "digital_services" { "saas" } else { id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_the_required_codes() {
        let ids: Vec<_> = catalog().iter().map(|c| c.id).collect();
        for id in [
            "physical_goods",
            "saas",
            "digital_services",
            "software_download",
            "professional_services",
            "training",
            "support_maintenance",
            "shipping",
            "non_taxable",
        ] {
            assert!(ids.contains(&id), "{id}");
        }
        assert!(find("nope").is_none());
    }
}
