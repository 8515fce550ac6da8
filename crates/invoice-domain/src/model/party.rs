//! Parties: who issues an invoice and who owes it.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::address::{address_compat, PostalAddress};
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
    /// Postal address (BG-5, BG-8); older free-text addresses read as the street line.
    #[serde(default, deserialize_with = "address_compat")]
    pub address: Option<PostalAddress>,
    /// Telephone.
    #[serde(default)]
    pub phone: Option<String>,
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
            address: optional_text(address, "address", 500)?
                .filter(|a| !a.trim().is_empty())
                .map(|a| PostalAddress::street_only(&a)),
            phone: None,
        })
    }

    /// Replaces the address with a structured one (an empty one clears it).
    pub fn with_address(mut self, address: PostalAddress) -> Self {
        self.address = (!address.is_empty()).then_some(address);
        self
    }

    /// Sets the telephone number (at most 64 characters).
    pub fn with_phone(mut self, phone: Option<&str>) -> Result<Self, ValidationError> {
        self.phone = optional_text(phone, "phone", 64)?.filter(|p| !p.trim().is_empty());
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_free_text_address_reads_as_the_street_line() {
        let old: Party =
            serde_json::from_str(r#"{"id":"c","name":"C","email":null,"tax_number":null,"address":"Main St 1"}"#)
                .unwrap();
        assert_eq!(old.address, Some(PostalAddress::street_only("Main St 1")));
        assert_eq!(old.phone, None);
        let round: Party = serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(round, old);
    }
}
