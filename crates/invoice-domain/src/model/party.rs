//! Parties: who issues an invoice and who owes it.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::ids::PartyId;
use crate::model::text::{optional_text, required_text};

/// An issuer or customer of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// The caller's identifier for the party; party-restricted API keys match on it.
    pub id: PartyId,
    /// Display or legal name.
    pub name: String,
    /// Billing e-mail address.
    pub email: Option<String>,
    /// VAT or other tax registration number.
    pub tax_number: Option<String>,
    /// Postal address as free text.
    pub address: Option<String>,
}

impl Party {
    /// Parses a party, checking every field's length and content.
    pub fn parse(
        id: &str,
        name: &str,
        email: Option<&str>,
        tax_number: Option<&str>,
        address: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let email = optional_text(email, "email", 254)?;
        if let Some(e) = &email {
            let valid = e.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace)
            });
            if !valid {
                return Err(ValidationError::new("email", "is not an e-mail address"));
            }
        }
        Ok(Party {
            id: PartyId::parse(id).map_err(|e| ValidationError::new("id", e.message))?,
            name: required_text(name, "name", 200)?,
            email,
            tax_number: optional_text(tax_number, "tax_number", 64)?,
            address: optional_text(address, "address", 500)?,
        })
    }
}
