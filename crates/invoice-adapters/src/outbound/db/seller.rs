//! The stored shape of a seller profile, in tenant settings and frozen in
//! an invoice's details: versioned JSON documents owned by this adapter, so a renamed
//! domain field never breaks a stored row. Every value is parsed back
//! through the domain's parsers; one that no longer parses is corrupt.

use invoice_domain::{
    Contact, ElectronicAddress, Locale, PaymentMeans, PostalAddress, RepositoryError, SellerProfile, VatId,
};
use serde::{Deserialize, Serialize};

use super::rows::corrupt;

/// A postal address as stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    postcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    country: Option<String>,
}

impl StoredAddress {
    fn from_domain(a: &PostalAddress) -> Self {
        StoredAddress {
            street: a.street.clone(),
            city: a.city.clone(),
            postcode: a.postcode.clone(),
            region: a.region.clone(),
            country: a.country.map(|c| c.to_string()),
        }
    }

    fn into_domain(self) -> Result<PostalAddress, RepositoryError> {
        PostalAddress::parse(
            self.street.as_deref(),
            self.city.as_deref(),
            self.postcode.as_deref(),
            self.region.as_deref(),
            self.country.as_deref(),
        )
        .map_err(|e| corrupt("seller address", e))
    }
}

/// A seller profile as stored, version 1: every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredSeller {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vat_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tax_registration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<StoredAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint_scheme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_terms: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locale: Option<String>,
}

impl StoredSeller {
    /// The stored shape of `s`.
    pub fn from_domain(s: &SellerProfile) -> Self {
        let contact = s.contact.clone().unwrap_or_default();
        StoredSeller {
            name: s.name.clone(),
            vat_id: s.vat_id.as_ref().map(ToString::to_string),
            tax_registration: s.tax_registration.clone(),
            address: s.address.as_ref().map(StoredAddress::from_domain),
            endpoint_scheme: s.electronic_address.as_ref().map(|e| e.scheme.clone()),
            endpoint: s.electronic_address.as_ref().map(|e| e.value.clone()),
            contact_name: contact.name,
            contact_phone: contact.phone,
            contact_email: contact.email,
            payment_code: s.payment_means.as_ref().map(|p| p.code.clone()),
            iban: s.payment_means.as_ref().map(|p| p.iban.as_str().to_string()),
            bic: s.payment_means.as_ref().and_then(|p| p.bic.clone()),
            account_name: s.payment_means.as_ref().and_then(|p| p.account_name.clone()),
            payment_terms: s.payment_terms.clone(),
            locale: (s.locale != Locale::default()).then(|| s.locale.code().to_string()),
        }
    }

    /// Parses the stored shape back; a value that no longer parses is corrupt.
    pub fn into_domain(self) -> Result<SellerProfile, RepositoryError> {
        let bad = |e| corrupt("seller profile", e);
        let contact = if self.contact_name.is_some() || self.contact_phone.is_some() || self.contact_email.is_some() {
            Some(
                Contact::parse(
                    self.contact_name.as_deref(),
                    self.contact_phone.as_deref(),
                    self.contact_email.as_deref(),
                )
                .map_err(bad)?,
            )
        } else {
            None
        };
        let electronic_address = match (self.endpoint_scheme, self.endpoint) {
            (Some(scheme), Some(value)) => Some(ElectronicAddress::parse(&scheme, &value).map_err(bad)?),
            (None, None) => None,
            _ => return Err(corrupt("seller profile", "half an electronic address")),
        };
        let payment_means = match self.iban {
            Some(iban) => Some(
                PaymentMeans::parse(
                    self.payment_code.as_deref(),
                    &iban,
                    self.bic.as_deref(),
                    self.account_name.as_deref(),
                )
                .map_err(bad)?,
            ),
            None => None,
        };
        Ok(SellerProfile {
            name: self.name,
            vat_id: self.vat_id.as_deref().map(VatId::parse).transpose().map_err(bad)?,
            tax_registration: self.tax_registration,
            address: self.address.map(StoredAddress::into_domain).transpose()?,
            electronic_address,
            contact,
            payment_means,
            payment_terms: self.payment_terms,
            locale: self
                .locale
                .as_deref()
                .map(Locale::parse)
                .transpose()
                .map_err(bad)?
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_profile_round_trips_and_a_bad_stored_value_is_corrupt() {
        let full = SellerProfile {
            name: Some("Seller GmbH".into()),
            vat_id: Some(VatId::parse("DE123456789").unwrap()),
            tax_registration: Some("12/345/67890".into()),
            address: Some(
                PostalAddress::parse(Some("Main St 1"), Some("Berlin"), Some("10115"), None, Some("DE")).unwrap(),
            ),
            electronic_address: Some(ElectronicAddress::parse("EM", "billing@seller.example").unwrap()),
            contact: Some(
                Contact::parse(Some("Billing"), Some("+49 30 1234"), Some("billing@seller.example")).unwrap(),
            ),
            payment_means: Some(
                PaymentMeans::parse(None, "DE89370400440532013000", Some("COBADEFFXXX"), Some("Seller GmbH")).unwrap(),
            ),
            payment_terms: Some("30 days net".into()),
            locale: Locale::De,
        };
        let text = serde_json::to_string(&StoredSeller::from_domain(&full)).unwrap();
        let back: StoredSeller = serde_json::from_str(&text).unwrap();
        assert_eq!(back.into_domain().unwrap(), full);
        let bad: StoredSeller = serde_json::from_str(r#"{"vat_id":"XX1"}"#).unwrap();
        assert!(bad.into_domain().is_err());
        let empty: StoredSeller = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.into_domain().unwrap(), SellerProfile::default());
    }
}
