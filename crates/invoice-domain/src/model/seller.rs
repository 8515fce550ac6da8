//! The seller profile of a tenant: who issues its invoices, as an
//! e-invoice names the seller (EN 16931 BG-4) and how it wants to be paid
//! (BG-16).
//!
//! An invoice freezes the seller at finalize, so an issued document never
//! changes when the profile does later.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::einvoice::codes;
use crate::error::ValidationError;
use crate::model::address::PostalAddress;
use crate::model::party::Party;
use crate::model::text::{optional_text, required_text};

/// A VAT identifier with a country prefix EN 16931 accepts (BT-31, BT-48;
/// BR-CO-09), e.g. `DE123456789`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct VatId(String);

impl VatId {
    /// Parses a prefix from the list (`EL` for Greece too) followed by 2 to
    /// 18 letters, digits, `+`, `*` or `.`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "vat_id",
                "must be a VAT identifier with a country prefix, e.g. DE123456789",
            )
        };
        let prefix = text.get(..2).ok_or_else(bad)?;
        let rest = &text[2..];
        if !codes::listed(codes::VAT_PREFIXES, prefix)
            || !(2..=18).contains(&rest.len())
            || !rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'*' | b'.'))
        {
            return Err(bad());
        }
        Ok(VatId(text.to_string()))
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for VatId {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        VatId::parse(&s)
    }
}

impl From<VatId> for String {
    fn from(v: VatId) -> Self {
        v.0
    }
}

impl fmt::Display for VatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an e-invoice can be delivered (BT-34): a value in an EAS scheme,
/// e.g. `EM` for an e-mail address or `9930` for a German VAT number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectronicAddress {
    /// The EAS scheme code (BR-62, BR-CL-25).
    pub scheme: String,
    /// The address in that scheme.
    pub value: String,
}

impl ElectronicAddress {
    /// Parses a scheme from the EAS list and a value of at most 254
    /// characters without whitespace.
    pub fn parse(scheme: &str, value: &str) -> Result<Self, ValidationError> {
        if !codes::listed(codes::EAS, scheme) {
            return Err(ValidationError::new(
                "electronic_address.scheme",
                "must be a code of the EAS list, e.g. EM or 9930",
            ));
        }
        let value = required_text(value, "electronic_address.value", 254)?;
        if value.chars().any(char::is_whitespace) {
            return Err(ValidationError::new(
                "electronic_address.value",
                "must not contain whitespace",
            ));
        }
        Ok(ElectronicAddress {
            scheme: scheme.to_string(),
            value,
        })
    }
}

/// The seller's contact point (BG-6).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    /// A person or department (BT-41).
    pub name: Option<String>,
    /// Telephone (BT-42).
    pub phone: Option<String>,
    /// E-mail (BT-43).
    pub email: Option<String>,
}

impl Contact {
    /// Parses each part: name 200 characters, phone 64, e-mail 254.
    pub fn parse(name: Option<&str>, phone: Option<&str>, email: Option<&str>) -> Result<Self, ValidationError> {
        let email = optional_text(email, "contact.email", 254)?;
        if let Some(e) = &email {
            if !looks_like_email(e) {
                return Err(ValidationError::new("contact.email", "is not an e-mail address"));
            }
        }
        Ok(Contact {
            name: optional_text(name, "contact.name", 200)?.filter(|t| !t.trim().is_empty()),
            phone: optional_text(phone, "contact.phone", 64)?.filter(|t| !t.trim().is_empty()),
            email,
        })
    }
}

/// The shape an e-mail address must have here: something, `@`, a domain
/// with a dot, no whitespace.
pub(crate) fn looks_like_email(e: &str) -> bool {
    e.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace))
}

/// An International Bank Account Number, checked with its ISO 13616 check
/// digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban(String);

impl Iban {
    /// Parses 15 to 34 upper-case letters and digits (spaces are dropped)
    /// whose mod-97 check is 1.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let compact: String = text.chars().filter(|c| *c != ' ').collect();
        let bad = || ValidationError::new("payment_means.iban", "is not a valid IBAN");
        let bytes = compact.as_bytes();
        if !(15..=34).contains(&bytes.len())
            || !bytes[..2].iter().all(u8::is_ascii_uppercase)
            || !bytes[2..4].iter().all(u8::is_ascii_digit)
            || !bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(bad());
        }
        let rotated = bytes[4..].iter().chain(&bytes[..4]);
        let mut rest: u32 = 0;
        for b in rotated {
            let value = if b.is_ascii_digit() {
                u32::from(b - b'0')
            } else {
                u32::from(b - b'A') + 10
            };
            rest = if value >= 10 {
                (rest * 100 + value) % 97
            } else {
                (rest * 10 + value) % 97
            };
        }
        if rest != 1 {
            return Err(bad());
        }
        Ok(Iban(compact))
    }

    /// The IBAN without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Iban {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Iban::parse(&s)
    }
}

impl From<Iban> for String {
    fn from(v: Iban) -> Self {
        v.0
    }
}

/// How the seller wants to be paid (BG-16): a credit transfer to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMeans {
    /// UNCL4461 code: `58` SEPA credit transfer or `30` credit transfer (BT-81).
    pub code: String,
    /// The payee account (BT-84).
    pub iban: Iban,
    /// The payee's bank (BT-86).
    pub bic: Option<String>,
    /// The account holder (BT-85).
    pub account_name: Option<String>,
}

impl PaymentMeans {
    /// Parses a transfer: code `58` (default) or `30`, an IBAN, a BIC of 8
    /// or 11 letters and digits, an account name of at most 200 characters.
    pub fn parse(
        code: Option<&str>,
        iban: &str,
        bic: Option<&str>,
        account_name: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let code = code.unwrap_or("58");
        if !matches!(code, "58" | "30") {
            return Err(ValidationError::new(
                "payment_means.code",
                "must be 58 (SEPA credit transfer) or 30 (credit transfer)",
            ));
        }
        if let Some(b) = bic {
            if !matches!(b.len(), 8 | 11) || !b.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                return Err(ValidationError::new(
                    "payment_means.bic",
                    "must be 8 or 11 upper-case letters and digits",
                ));
            }
        }
        Ok(PaymentMeans {
            code: code.to_string(),
            iban: Iban::parse(iban)?,
            bic: bic.map(str::to_string),
            account_name: optional_text(account_name, "payment_means.account_name", 200)?
                .filter(|t| !t.trim().is_empty()),
        })
    }
}

/// The language and formats of a printed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Locale {
    /// English: `1,234.56`, `7 December 2026`.
    #[default]
    #[serde(rename = "en")]
    En,
    /// German: `1.234,56`, `07.12.2026`.
    #[serde(rename = "de")]
    De,
}

impl Locale {
    /// Every locale.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::De];

    /// The code, `en` or `de`.
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
        }
    }

    /// Parses `en` or `de`.
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        Locale::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .ok_or_else(|| ValidationError::new("locale", "must be en or de"))
    }
}

/// Who issues a tenant's invoices and how it is paid. Every field is
/// optional: a tenant that does not send e-invoices needs none of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SellerProfile {
    /// Legal name (BT-27).
    pub name: Option<String>,
    /// VAT identifier (BT-31).
    pub vat_id: Option<VatId>,
    /// Tax registration, e.g. a German Steuernummer (BT-32).
    pub tax_registration: Option<String>,
    /// Postal address (BG-5).
    pub address: Option<PostalAddress>,
    /// Electronic address (BT-34).
    pub electronic_address: Option<ElectronicAddress>,
    /// Contact point (BG-6).
    pub contact: Option<Contact>,
    /// Payment instructions (BG-16).
    pub payment_means: Option<PaymentMeans>,
    /// Default payment terms, e.g. "30 days net" (BT-20).
    pub payment_terms: Option<String>,
    /// Language of printed documents.
    #[serde(default)]
    pub locale: Locale,
}

impl SellerProfile {
    /// Parses the legal name (at most 200 characters, not blank).
    pub fn parse_name(name: &str) -> Result<String, ValidationError> {
        required_text(name, "name", 200)
    }

    /// Parses a tax registration (at most 64 characters, not blank).
    pub fn parse_tax_registration(text: &str) -> Result<String, ValidationError> {
        required_text(text, "tax_registration", 64)
    }

    /// Parses payment terms (at most 500 characters, not blank).
    pub fn parse_payment_terms(text: &str) -> Result<String, ValidationError> {
        required_text(text, "payment_terms", 500)
    }

    /// The seller of an invoice issued by `issuer` on a tenant with this
    /// profile: the issuer's identity (name, tax number, address, e-mail,
    /// phone), with the tenant's payment means, terms and locale, since the
    /// tenant collects the money. A tax number with a VAT prefix is the VAT
    /// identifier, any other the tax registration.
    pub fn for_issuer(&self, issuer: &Party) -> SellerProfile {
        let vat_id = issuer.tax_number.as_deref().and_then(|t| VatId::parse(t).ok());
        let tax_registration = match vat_id {
            Some(_) => None,
            None => issuer.tax_number.clone(),
        };
        let contact = (issuer.phone.is_some() || issuer.email.is_some()).then(|| Contact {
            name: None,
            phone: issuer.phone.clone(),
            email: issuer.email.clone(),
        });
        SellerProfile {
            name: Some(issuer.name.clone()),
            vat_id,
            tax_registration,
            address: issuer.address.clone(),
            electronic_address: issuer.email.as_ref().map(|e| ElectronicAddress {
                scheme: "EM".to_string(),
                value: e.clone(),
            }),
            contact,
            payment_means: self.payment_means.clone(),
            payment_terms: self.payment_terms.clone(),
            locale: self.locale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_ids_need_a_listed_prefix() {
        assert_eq!(VatId::parse("DE123456789").unwrap().as_str(), "DE123456789");
        assert!(VatId::parse("EL123456789").is_ok(), "Greece uses EL");
        for bad in ["123456789", "XX123456", "DE", "DE 123", "de123456789", "DE1"] {
            assert!(VatId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ibans_are_checked_with_their_check_digits() {
        assert_eq!(
            Iban::parse("DE89 3704 0044 0532 0130 00").unwrap().as_str(),
            "DE89370400440532013000"
        );
        assert!(Iban::parse("DE88370400440532013000").is_err(), "wrong check digits");
        assert!(Iban::parse("de89370400440532013000").is_err());
        assert!(Iban::parse("DE89").is_err());
    }

    #[test]
    fn payment_means_electronic_addresses_and_locales_parse_from_their_lists() {
        assert_eq!(
            PaymentMeans::parse(None, "DE89370400440532013000", Some("COBADEFFXXX"), None)
                .unwrap()
                .code,
            "58"
        );
        assert!(PaymentMeans::parse(Some("10"), "DE89370400440532013000", None, None).is_err());
        assert!(PaymentMeans::parse(None, "DE89370400440532013000", Some("cobadeff"), None).is_err());
        assert!(ElectronicAddress::parse("EM", "billing@seller.example").is_ok());
        assert!(ElectronicAddress::parse("XX", "billing@seller.example").is_err());
        assert!(ElectronicAddress::parse("EM", "a b").is_err());
        assert_eq!(Locale::parse("de").unwrap(), Locale::De);
        assert!(Locale::parse("fr").is_err());
    }

    #[test]
    fn an_issuer_becomes_the_seller_with_the_tenants_payment_means() {
        let profile = SellerProfile {
            payment_means: Some(PaymentMeans::parse(None, "DE89370400440532013000", None, None).unwrap()),
            payment_terms: Some("14 days".into()),
            name: Some("Platform GmbH".into()),
            ..SellerProfile::default()
        };
        let vat = Party::parse("t", "Transporter", Some("t@t.example"), Some("DE123456789"), None).unwrap();
        let seller = profile.for_issuer(&vat);
        assert_eq!(seller.name.as_deref(), Some("Transporter"));
        assert_eq!(seller.vat_id.as_ref().map(VatId::as_str), Some("DE123456789"));
        assert_eq!(seller.tax_registration, None);
        assert_eq!(seller.payment_terms.as_deref(), Some("14 days"));
        assert_eq!(seller.electronic_address.unwrap().scheme, "EM");
        let local = Party::parse("t", "Transporter", None, Some("12/345/67890"), None).unwrap();
        let seller = profile.for_issuer(&local);
        assert_eq!(
            (seller.vat_id, seller.tax_registration.as_deref()),
            (None, Some("12/345/67890"))
        );
    }
}
