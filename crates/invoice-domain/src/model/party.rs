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
    /// Given name, when the party is a person whose names are known apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name, when the party is a person whose names are known apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Preferred language as a BCP 47 tag (`en`, `de-AT`), for documents
    /// and messages sent to the party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Where goods go, when not to the postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<PostalAddress>,
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
            given_name: None,
            family_name: None,
            locale: None,
            shipping_address: None,
        })
    }

    /// Replaces the address with a structured one (an empty one clears it).
    pub fn with_address(mut self, address: PostalAddress) -> Self {
        self.address = (!address.is_empty()).then_some(address);
        self
    }

    /// Sets the person's given and family names (at most 100 characters
    /// each); blank means unknown.
    pub fn with_names(mut self, given: Option<&str>, family: Option<&str>) -> Result<Self, ValidationError> {
        self.given_name = optional_text(given, "given_name", 100)?.filter(|n| !n.trim().is_empty());
        self.family_name = optional_text(family, "family_name", 100)?.filter(|n| !n.trim().is_empty());
        Ok(self)
    }

    /// Sets the preferred language, a BCP 47 tag: a 2- or 3-letter language
    /// and up to three subtags of 2 to 8 letters or digits (`en`, `de-AT`,
    /// `zh-Hant-TW`).
    pub fn with_locale(mut self, locale: Option<&str>) -> Result<Self, ValidationError> {
        self.locale = match locale.filter(|l| !l.is_empty()) {
            None => None,
            Some(tag) => {
                let mut parts = tag.split('-');
                let language = parts.next().unwrap_or_default();
                let subtags: Vec<&str> = parts.collect();
                let ok = (2..=3).contains(&language.len())
                    && language.bytes().all(|b| b.is_ascii_alphabetic())
                    && subtags.len() <= 3
                    && subtags
                        .iter()
                        .all(|s| (2..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
                if !ok {
                    return Err(ValidationError::new(
                        "locale",
                        "must be a language tag such as en or de-AT",
                    ));
                }
                Some(tag.to_string())
            }
        };
        Ok(self)
    }

    /// Sets where goods go (an empty address clears it).
    pub fn with_shipping_address(mut self, address: PostalAddress) -> Self {
        self.shipping_address = (!address.is_empty()).then_some(address);
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
        assert_eq!((old.given_name, old.locale, old.shipping_address), (None, None, None));
    }

    #[test]
    fn names_and_locales_are_checked() {
        let p = Party::parse("c", "Jane Doe", None, None, None).unwrap();
        let named = p.clone().with_names(Some("Jane"), Some(" ")).unwrap();
        assert_eq!((named.given_name.as_deref(), named.family_name), (Some("Jane"), None));
        assert!(p.clone().with_names(Some(&"x".repeat(101)), None).is_err());
        for good in ["en", "de-AT", "zh-Hant-TW", "sv"] {
            assert_eq!(p.clone().with_locale(Some(good)).unwrap().locale.as_deref(), Some(good));
        }
        for bad in ["e", "english", "de_AT", "de-", "en-US-x-y-z-q", "ü"] {
            assert_eq!(p.clone().with_locale(Some(bad)).unwrap_err().field, "locale", "{bad}");
        }
    }
}
