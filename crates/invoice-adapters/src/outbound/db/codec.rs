//! The small conversions every stored row shares: timestamps, JSON text
//! and the error for a stored value that no longer parses. Kept apart from
//! the rows so that the documents stored beside them (seller, settings,
//! versions) use them without depending on the rows.

use chrono::{DateTime, NaiveDateTime, Utc};
use invoice_domain::RepositoryError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A stored value that no longer parses: a bug or manual tampering.
pub fn corrupt(what: &str, detail: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Other(format!("corrupt stored {what}: {detail}"))
}

/// UTC instant → the naive UTC timestamp both backends store.
pub fn ts(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc()
}

/// Stored naive UTC timestamp → UTC instant.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Serializes a value to JSON text.
pub fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain values always serialize")
}

/// Parses stored JSON text.
pub fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, RepositoryError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}
