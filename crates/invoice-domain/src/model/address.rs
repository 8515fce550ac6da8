//! Postal addresses of parties and sellers (EN 16931 BG-5 and BG-8).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::einvoice::codes;
use crate::error::ValidationError;
use crate::model::text::optional_text;

/// An ISO 3166-1 alpha-2 country code as EN 16931 accepts it (BT-40, BT-55).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses an upper-case code from the EN 16931 country list (BR-CL-14).
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        match code.as_bytes() {
            [a, b] if codes::listed(codes::COUNTRIES, code) => Ok(CountryCode([*a, *b])),
            _ => Err(ValidationError::new(
                "country",
                "must be an upper-case ISO 3166-1 alpha-2 code such as DE",
            )),
        }
    }

    /// The two letters.
    pub fn as_str(&self) -> &str {
        // Only listed ASCII codes are ever built.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CountryCode::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A postal address. Every part is optional, since a plain invoice may have
/// none; an e-invoice needs at least the country (BR-9, BR-11).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Street and number (BT-35, BT-50); also where a free-text address goes.
    pub street: Option<String>,
    /// City (BT-37, BT-52).
    pub city: Option<String>,
    /// Post code (BT-38, BT-53).
    pub postcode: Option<String>,
    /// Region or state (BT-39, BT-54).
    pub region: Option<String>,
    /// Country (BT-40, BT-55).
    pub country: Option<CountryCode>,
}

impl PostalAddress {
    /// Parses each part: street at most 500 characters (free-text addresses
    /// land there), city and region 200, post code 32, a listed country.
    pub fn parse(
        street: Option<&str>,
        city: Option<&str>,
        postcode: Option<&str>,
        region: Option<&str>,
        country: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let non_blank = |v: Option<String>| v.filter(|t| !t.trim().is_empty());
        Ok(PostalAddress {
            street: non_blank(optional_text(street, "street", 500)?),
            city: non_blank(optional_text(city, "city", 200)?),
            postcode: non_blank(optional_text(postcode, "postcode", 32)?),
            region: non_blank(optional_text(region, "region", 200)?),
            country: country.map(CountryCode::parse).transpose()?,
        })
    }

    /// A free-text address, kept as the street line.
    pub fn street_only(text: &str) -> Self {
        PostalAddress {
            street: Some(text.to_string()),
            ..PostalAddress::default()
        }
    }

    /// True when no part is set.
    pub fn is_empty(&self) -> bool {
        self.street.is_none()
            && self.city.is_none()
            && self.postcode.is_none()
            && self.region.is_none()
            && self.country.is_none()
    }

    /// The parts on one line, comma-separated, for APIs that show an
    /// address as one text.
    pub fn one_line(&self) -> String {
        let city = match (&self.postcode, &self.city) {
            (Some(p), Some(c)) => Some(format!("{p} {c}")),
            (p, c) => p.clone().or_else(|| c.clone()),
        };
        [
            self.street.clone(),
            city,
            self.region.clone(),
            self.country.map(|c| c.to_string()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Reads an address stored either as an object or, as older rows and
/// snapshots have it, as free text (which becomes the street line).
pub(crate) fn address_compat<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PostalAddress>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Text(String),
        Structured(PostalAddress),
    }
    Ok(match Option::<Stored>::deserialize(d)? {
        None => None,
        Some(Stored::Text(t)) => Some(PostalAddress::street_only(&t)),
        Some(Stored::Structured(a)) => Some(a),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_come_from_the_list_in_upper_case() {
        assert_eq!(CountryCode::parse("DE").unwrap().as_str(), "DE");
        for bad in ["de", "D", "DEU", "XX", "", "EL"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_parse_part_by_part_and_print_on_one_line() {
        let a = PostalAddress::parse(Some("Main St 1"), Some("Berlin"), Some("10115"), None, Some("DE")).unwrap();
        assert_eq!(a.one_line(), "Main St 1, 10115 Berlin, DE");
        assert!(PostalAddress::parse(None, None, Some(&"9".repeat(33)), None, None).is_err());
        assert!(PostalAddress::parse(None, Some("  "), None, None, None)
            .unwrap()
            .is_empty());
        assert_eq!(PostalAddress::street_only("Somewhere 5").one_line(), "Somewhere 5");
    }
}
