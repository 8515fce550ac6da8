//! Payments received against an invoice and their refunds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ids::{PaymentId, RefundId};
use crate::model::money::{bounded_sum, Amount, PositiveAmount};

/// Where a payment's money came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentSource {
    /// From the payer, by whatever means (`method` says which).
    #[default]
    External,
    /// From the customer's credit balance, applied at finalize.
    CustomerBalance,
}

/// Where a refund's money goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundDestination {
    /// Back to the payer, the way it came.
    #[default]
    OriginalMethod,
    /// Onto the customer's credit balance, for later invoices.
    CustomerBalance,
}

impl PaymentSource {
    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentSource::External => "external",
            PaymentSource::CustomerBalance => "customer_balance",
        }
    }
}

impl RefundDestination {
    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundDestination::OriginalMethod => "original_method",
            RefundDestination::CustomerBalance => "customer_balance",
        }
    }
}

/// Money received against an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Stable id of the payment.
    pub id: PaymentId,
    /// Amount received, in minor units.
    pub amount: PositiveAmount,
    /// How it was paid (`card`, `bank_transfer`…), free text.
    pub method: Option<String>,
    /// The payer's or processor's reference.
    pub reference: Option<String>,
    /// When it was recorded.
    pub received_at: DateTime<Utc>,
    /// Where the money came from.
    #[serde(default)]
    pub source: PaymentSource,
    /// Refunds of this payment, oldest first.
    pub refunds: Vec<Refund>,
}

impl Payment {
    /// Sum of this payment's refunds.
    pub fn refunded(&self) -> Amount {
        bounded_sum(self.refunds.iter().map(|r| r.amount.amount()))
    }

    /// What is still held of this payment: amount minus refunds (the rules
    /// never let refunds exceed the payment).
    pub fn net(&self) -> Amount {
        self.amount.amount().saturating_sub(self.refunded())
    }
}

/// Money given back from a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Stable id of the refund.
    pub id: RefundId,
    /// Amount given back.
    pub amount: PositiveAmount,
    /// Why, free text.
    pub reason: Option<String>,
    /// When it was recorded.
    pub refunded_at: DateTime<Utc>,
    /// Where the money went.
    #[serde(default)]
    pub destination: RefundDestination,
}
