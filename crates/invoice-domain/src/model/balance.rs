//! Customer credit balances: money a customer holds with a tenant, per
//! currency, from credit notes settled onto it, and spent on later invoices.
//!
//! Every change is an entry in a ledger, recorded in the same transaction as
//! the invoice change that caused it, so a balance is always the sum of its
//! entries and never changes silently.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ids::{BalanceEntryId, CreditNoteId, InvoiceId, PartyId, PaymentId, RefundId, TenantId};
use crate::model::money::{Amount, Currency, PositiveAmount};

/// Which way an entry moves the balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BalanceDirection {
    /// The customer's balance grows (a credit note settled onto it).
    Credit,
    /// The balance is spent (applied to an invoice).
    Debit,
}

impl BalanceDirection {
    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BalanceDirection::Credit => "credit",
            BalanceDirection::Debit => "debit",
        }
    }
}

/// One change of a customer's balance, with what caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceEntry {
    /// Stable id.
    pub id: BalanceEntryId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Whose balance.
    pub customer: PartyId,
    /// Which currency's balance.
    pub currency: Currency,
    /// Credit or debit.
    pub direction: BalanceDirection,
    /// How much.
    pub amount: PositiveAmount,
    /// The balance right after this entry.
    pub balance_after: Amount,
    /// The invoice whose credit note or payment caused it.
    pub invoice_id: InvoiceId,
    /// The credit note settled onto the balance, for credits.
    pub credit_note_id: Option<CreditNoteId>,
    /// The payment made from the balance, for debits.
    pub payment_id: Option<PaymentId>,
    /// The refund that moved paid money onto the balance, for credits.
    pub refund_id: Option<RefundId>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A customer's balance in one currency, with its ledger, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerBalance {
    /// Whose.
    pub customer: PartyId,
    /// In which currency.
    pub currency: Currency,
    /// What the customer holds now: the sum of credits minus debits.
    pub balance: Amount,
    /// Every entry, oldest first.
    pub entries: Vec<BalanceEntry>,
}
