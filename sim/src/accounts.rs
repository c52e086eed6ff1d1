//! Sequence accounts: the merchant's `SequenceAccount` record, fresh credentials, and the merchant
//! details printed on every document. Why credentials come from the OS CSPRNG and not the seeded
//! PRNG: a replayable seed must never make secrets predictable.

use crate::raw::RawPatches;
use crate::util::slug;
use crate::wire::{Address, KeyValuePair, MerchantDetails, SequenceAccount, SortCodeAccountNumber, UsAchDestination};
use crate::world::{Account, SimCredentials, World};
use chrono::Duration;
use shared::domain::Environment;

impl World {
    /// A new empty account in `country` ("US" or anything else → a UK merchant) with fresh credentials.
    pub fn add_account(&mut self, environment: Environment, company_name: &str, country: &str) -> SimCredentials {
        let account_id = self.rng.uuid();
        let credentials = SimCredentials {
            client_id: format!(
                "sim_{}_{}",
                environment.as_str(),
                shared::crypto::hex(&shared::crypto::random_bytes(8))
            ),
            client_secret: shared::crypto::hex(&shared::crypto::random_bytes(24)),
            account_id: account_id.clone(),
        };
        let now = self.now();
        let domain = format!("{}.example", slug(company_name));
        let us = country == "US";
        let company_number = self.rng.digits(8);
        let merchant = MerchantDetails {
            address: if us {
                Address {
                    line1: "500 Howard Street".into(),
                    line2: Some("Floor 4".into()),
                    town: "San Francisco".into(),
                    state: Some("CA".into()),
                    postcode: "94105".into(),
                    country: "US".into(),
                }
            } else {
                Address {
                    line1: "1 Finsbury Avenue".into(),
                    line2: None,
                    town: "London".into(),
                    state: None,
                    postcode: "EC2M 2PF".into(),
                    country: "GB".into(),
                }
            },
            phone_number: Some(if us { "+1 415 555 0100".into() } else { "+44 20 7946 0000".into() }),
            email: format!("billing@{domain}"),
            tax_id: Some(if us {
                format!("{}-{}", self.rng.digits(2), self.rng.digits(7))
            } else {
                format!("GB{}", self.rng.digits(9))
            }),
            iban: None,
            uk_account_details: (!us)
                .then(|| SortCodeAccountNumber { sort_code: "04-00-04".into(), account_number: self.rng.digits(8) }),
            us_ach_details: us.then(|| UsAchDestination {
                account_number: self.rng.digits(10),
                account_name: company_name.to_owned(),
                bank_name: "First Simulated Bank".into(),
                bank_routing_number: "021000021".into(),
            }),
            logo_url: Some(format!("https://assets.{domain}/logo.png")),
            legal_company_name: company_name.to_owned(),
            primary_colour: Some("#1F4E79".into()),
            custom_fields: vec![
                KeyValuePair::new("Company number", company_number.clone()),
                KeyValuePair::new("Support", format!("support@{domain}")),
            ],
            include_beneficiary_address_in_payment_details: false,
        };
        self.accounts.push(Account {
            environment,
            credentials: credentials.clone(),
            info: SequenceAccount {
                id: account_id,
                created_at: now - Duration::days(500),
                sequence_organisation_id: self.rng.uuid(),
                company_name: company_name.to_owned(),
                company_number,
                country: country.to_owned(),
                send_customer_notifications: environment == Environment::Production,
                alert_email_addresses: vec![format!("finance@{domain}")],
            },
            merchant,
            customers: Default::default(),
            tax_registrations: Vec::new(),
            products: Default::default(),
            invoices: Default::default(),
            credit_notes: Default::default(),
            sphere: None,
            last_tax_request: None,
            invoice_counter: 0,
            credit_note_counter: 0,
            raw_patches: RawPatches::default(),
            hard_cases: None,
            policies: Vec::new(),
        });
        credentials
    }
}
