//! Why an invoice or its lines were cancelled or voided.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// The structured cause of a cancellation or void.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The customer asked for it.
    CustomerRequest,
    /// The invoice duplicates another one.
    Duplicate,
    /// The invoice or the order behind it is fraudulent.
    Fraudulent,
    /// The order changed after invoicing.
    OrderChange,
    /// The invoice was issued by mistake.
    IssuedInError,
    /// Anything else; say more in the text.
    Other,
}

impl ReasonCode {
    /// Every code, in documentation order.
    pub const ALL: [ReasonCode; 6] = [
        ReasonCode::CustomerRequest,
        ReasonCode::Duplicate,
        ReasonCode::Fraudulent,
        ReasonCode::OrderChange,
        ReasonCode::IssuedInError,
        ReasonCode::Other,
    ];

    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::CustomerRequest => "customer_request",
            ReasonCode::Duplicate => "duplicate",
            ReasonCode::Fraudulent => "fraudulent",
            ReasonCode::OrderChange => "order_change",
            ReasonCode::IssuedInError => "issued_in_error",
            ReasonCode::Other => "other",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReasonCode {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReasonCode::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            ValidationError::new(
                "reason_code",
                "must be one of customer_request, duplicate, fraudulent, order_change, issued_in_error, other",
            )
        })
    }
}

/// Longest free-text reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A cancellation or void reason: a code and optional free text (≤ 500 chars).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The structured cause.
    pub code: ReasonCode,
    /// Free text from the caller, kept byte-for-byte.
    pub text: Option<String>,
}

impl Reason {
    /// Parses a reason, refusing text over 500 characters.
    pub fn new(code: ReasonCode, text: Option<&str>) -> Result<Self, ValidationError> {
        let text = crate::model::text::optional_text(text, "reason", MAX_REASON_CHARS)?;
        Ok(Reason { code, text })
    }
}
