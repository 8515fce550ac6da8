//! Typed identifiers, so an invoice id can never be passed where a line id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValidationError;

/// Makes fresh ids; a port so tests can make them predictable.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait IdGenerator {
    /// A new unique id (UUID v7 in production, so ids sort by time). Never fails.
    fn new_id(&self) -> Uuid;
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID.
            pub const fn from_uuid(id: Uuid) -> Self {
                $name(id)
            }
            /// The underlying UUID.
            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map($name)
                    .map_err(|_| ValidationError::new("id", "is not a UUID"))
            }
        }
    };
}

uuid_id!(
    /// Identifies an invoice (UUID v7, so ids sort by creation time).
    InvoiceId
);
uuid_id!(
    /// Identifies one line of an invoice.
    LineId
);
uuid_id!(
    /// Identifies a payment recorded against an invoice.
    PaymentId
);
uuid_id!(
    /// Identifies a refund of a payment.
    RefundId
);
uuid_id!(
    /// Identifies a credit note.
    CreditNoteId
);
uuid_id!(
    /// Identifies a domain event (stable across webhook retries).
    EventId
);
uuid_id!(
    /// Identifies one entry of a customer's credit-balance ledger.
    BalanceEntryId
);

/// Identifies a tenant: every invoice, key and event belongs to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(i64);

impl TenantId {
    /// Wraps the tenant's integer id.
    pub const fn new(id: i64) -> Self {
        TenantId(id)
    }
    /// The integer id.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Parses a bounded, non-blank, control-free identifier string.
fn parse_token(value: &str, field: &str, max: usize) -> Result<String, ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be blank"));
    }
    if value.chars().count() > max {
        return Err(ValidationError::new(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "must not contain control characters"));
    }
    Ok(value.to_string())
}

macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a non-blank identifier of at most 128 characters.
            pub fn parse(value: &str) -> Result<Self, ValidationError> {
                parse_token(value, $field, 128).map($name)
            }
            /// The identifier text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_id!(
    /// Identifies a party (issuer or customer) in the caller's own terms.
    PartyId,
    "party.id"
);
token_id!(
    /// The caller's product identifier carried on a line.
    ProductId,
    "product_id"
);
token_id!(
    /// The caller's product-variation identifier carried on a line.
    VariationId,
    "variation_id"
);
