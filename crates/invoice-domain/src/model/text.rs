//! Bounded free-text values shared by several model types.

use std::collections::BTreeMap;

use crate::error::ValidationError;

/// Parses required text: not blank, at most `max` characters, no control
/// characters except line breaks and tabs. The text is kept byte-for-byte.
pub fn required_text(value: &str, field: &str, max: usize) -> Result<String, ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be blank"));
    }
    bounded(value, field, max)
}

/// Parses optional text with the same rules as [`required_text`]; an absent
/// value stays absent.
pub fn optional_text(value: Option<&str>, field: &str, max: usize) -> Result<Option<String>, ValidationError> {
    value.map(|v| bounded(v, field, max)).transpose()
}

fn bounded(value: &str, field: &str, max: usize) -> Result<String, ValidationError> {
    if value.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(value.to_string())
}

/// Most metadata entries an invoice may carry.
pub const MAX_METADATA_ENTRIES: usize = 50;

/// Caller-defined string key/value pairs kept on an invoice.
pub type Metadata = BTreeMap<String, String>;

/// Parses metadata: at most 50 entries, keys of at most 40 characters,
/// values of at most 500.
pub fn parse_metadata(entries: BTreeMap<String, String>) -> Result<Metadata, ValidationError> {
    if entries.len() > MAX_METADATA_ENTRIES {
        return Err(ValidationError::new(
            "metadata",
            format!("must have at most {MAX_METADATA_ENTRIES} entries"),
        ));
    }
    for (k, v) in &entries {
        required_text(k, "metadata", 40)?;
        bounded(v, &format!("metadata.{k}"), 500)?;
    }
    Ok(entries)
}
