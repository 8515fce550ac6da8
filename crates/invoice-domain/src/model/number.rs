//! Document numbers from gapless per-tenant series (`INV-000052`, `CN-000007`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// The prefix naming a number series: 1–16 characters of `A-Z`, `0-9` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SeriesPrefix(String);

impl SeriesPrefix {
    /// Parses a prefix; lowercase letters are refused rather than silently changed.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok = !value.is_empty()
            && value.len() <= 16
            && value
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(SeriesPrefix(value.to_string()))
        } else {
            Err(ValidationError::new(
                "series",
                "must be 1 to 16 characters of A-Z, 0-9 or _",
            ))
        }
    }

    /// The default invoice series, `INV`.
    pub fn invoices() -> Self {
        SeriesPrefix("INV".into())
    }

    /// The default credit-note series, `CN`.
    pub fn credit_notes() -> Self {
        SeriesPrefix("CN".into())
    }

    /// The prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SeriesPrefix {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        SeriesPrefix::parse(&value)
    }
}

impl From<SeriesPrefix> for String {
    fn from(value: SeriesPrefix) -> String {
        value.0
    }
}

impl fmt::Display for SeriesPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A number drawn from a series: the prefix and a sequence starting at 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DocumentNumber {
    /// The series it was drawn from.
    pub series: SeriesPrefix,
    /// Position in the series, starting at 1, with no gap.
    pub sequence: u64,
}

impl DocumentNumber {
    /// Builds a number; sequence 0 is refused since series start at 1.
    pub fn new(series: SeriesPrefix, sequence: u64) -> Result<Self, ValidationError> {
        if sequence == 0 {
            return Err(ValidationError::new("number", "sequence starts at 1"));
        }
        Ok(DocumentNumber { series, sequence })
    }

    /// Parses the printed form `PREFIX-000123`.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let (prefix, digits) = text
            .rsplit_once('-')
            .ok_or_else(|| ValidationError::new("number", "must look like INV-000001"))?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 19 {
            return Err(ValidationError::new("number", "must look like INV-000001"));
        }
        let sequence = digits
            .parse()
            .map_err(|_| ValidationError::new("number", "sequence is too large"))?;
        DocumentNumber::new(SeriesPrefix::parse(prefix)?, sequence)
    }
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:06}", self.series, self.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_and_parse_round_trip() {
        let n = DocumentNumber::new(SeriesPrefix::invoices(), 52).unwrap();
        assert_eq!(n.to_string(), "INV-000052");
        assert_eq!(DocumentNumber::parse("INV-000052").unwrap(), n);
        assert_eq!(DocumentNumber::parse("INV-1234567").unwrap().sequence, 1_234_567);
        assert!(DocumentNumber::parse("INV-").is_err());
        assert!(DocumentNumber::parse("inv-000001").is_err());
        assert!(DocumentNumber::parse("INV-000000").is_err());
        assert!(SeriesPrefix::parse("TOO_LONG_PREFIX_XX").is_err());
    }
}
