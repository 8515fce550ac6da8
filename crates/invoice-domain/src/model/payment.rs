//! Payments received against an invoice and their refunds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ids::{PaymentId, RefundId};
use crate::model::money::Amount;

/// Money received against an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Stable id of the payment.
    pub id: PaymentId,
    /// Amount received, in minor units, positive.
    pub amount: Amount,
    /// How it was paid (`card`, `bank_transfer`…), free text.
    pub method: Option<String>,
    /// The payer's or processor's reference.
    pub reference: Option<String>,
    /// When it was recorded.
    pub received_at: DateTime<Utc>,
    /// Refunds of this payment, oldest first.
    pub refunds: Vec<Refund>,
}

impl Payment {
    /// Sum of this payment's refunds.
    pub fn refunded(&self) -> Amount {
        self.refunds.iter().map(|r| r.amount).sum()
    }

    /// What is still held of this payment: amount minus refunds.
    pub fn net(&self) -> Amount {
        self.amount - self.refunded()
    }
}

/// Money given back from a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Stable id of the refund.
    pub id: RefundId,
    /// Amount given back, positive.
    pub amount: Amount,
    /// Why, free text.
    pub reason: Option<String>,
    /// When it was recorded.
    pub refunded_at: DateTime<Utc>,
}
