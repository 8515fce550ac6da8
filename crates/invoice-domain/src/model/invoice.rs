//! The invoice aggregate: its state, totals and lifecycle records.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::credit_note::CreditNote;
use crate::model::event::Actor;
use crate::model::ids::{InvoiceId, PartyId, TenantId};
use crate::model::line::Line;
use crate::model::money::{Amount, Currency};
use crate::model::number::{DocumentNumber, SeriesPrefix};
use crate::model::party::Party;
use crate::model::payment::Payment;
use crate::model::reason::Reason;
use crate::model::text::Metadata;

/// Where an invoice is in its lifecycle.
///
/// `draft → open → paid`, plus `cancelled` and `void`. `paid`, `cancelled`
/// and `void` are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Editable, unnumbered, not yet owed.
    Draft,
    /// Issued and numbered; money is owed.
    Open,
    /// Fully paid. Terminal.
    Paid,
    /// Cancelled (a discarded draft, or an issued invoice with a credit note). Terminal.
    Cancelled,
    /// Voided: balance zero, collection halted. Terminal.
    Void,
}

impl InvoiceStatus {
    /// True for states that accept no further transition.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            InvoiceStatus::Paid | InvoiceStatus::Cancelled | InvoiceStatus::Void
        )
    }

    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Cancelled => "cancelled",
            InvoiceStatus::Void => "void",
        }
    }

    /// Parses the wire name.
    pub fn parse(value: &str) -> Option<Self> {
        [
            InvoiceStatus::Draft,
            InvoiceStatus::Open,
            InvoiceStatus::Paid,
            InvoiceStatus::Cancelled,
            InvoiceStatus::Void,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// Whether payment is pulled automatically or awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CollectionMethod {
    /// We attempt payment on a dunning schedule.
    #[default]
    Automatic,
    /// The customer pays by themselves; no attempts are scheduled.
    Manual,
}

/// How payment is collected, and whether collection has been halted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Collection {
    /// Automatic or manual.
    pub method: CollectionMethod,
    /// When the next automatic attempt is due, if any.
    pub next_payment_attempt: Option<DateTime<Utc>>,
    /// True once cancelled or voided: no payment is taken any more.
    pub halted: bool,
}

/// Payer-side approval of an invoice (the transporter flow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Approval {
    /// No approval is needed.
    NotRequired,
    /// Waiting for approval at `level` of `required` levels.
    Pending {
        /// The level awaited next (1-based).
        level: u8,
        /// How many levels must approve.
        required: u8,
    },
    /// Every level approved.
    Approved {
        /// When the last level approved.
        at: DateTime<Utc>,
    },
    /// The payer rejected the invoice.
    Rejected {
        /// When.
        at: DateTime<Utc>,
        /// Reasons given.
        reasons: Vec<String>,
        /// Free remark.
        remark: Option<String>,
    },
}

impl Approval {
    /// The initial state for an invoice that needs `levels` approvals.
    pub fn requiring(levels: u8) -> Self {
        if levels == 0 {
            Approval::NotRequired
        } else {
            Approval::Pending {
                level: 1,
                required: levels,
            }
        }
    }
}

/// The record of a full cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// Why.
    pub reason: Option<Reason>,
}

/// The record of a void.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: Actor,
    /// Why.
    pub reason: Option<Reason>,
}

/// Sums of an invoice, all derived from its lines and payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Sum of active lines' net amounts.
    pub subtotal: Amount,
    /// Sum of active lines' tax amounts.
    pub tax: Amount,
    /// Sum of active lines' gross amounts; always `subtotal + tax`.
    pub total: Amount,
    /// Payments minus refunds.
    pub amount_paid: Amount,
    /// What is still owed: `total − amount_paid` while open, else zero
    /// (a draft owes nothing yet but shows its total).
    pub amount_due: Amount,
    /// Sum of cancelled lines' gross amounts.
    pub amount_cancelled: Amount,
}

/// An invoice: the aggregate every rule works on.
///
/// Fields are public for reading and for repositories that restore stored
/// state; change an invoice only through its transition methods (see
/// [`crate::rules`]), which keep every invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// Stable id (UUID v7).
    pub id: InvoiceId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Assigned at finalize from `series`; kept forever afterwards.
    pub number: Option<DocumentNumber>,
    /// The number series the invoice draws from.
    pub series: SeriesPrefix,
    /// Lifecycle state.
    pub status: InvoiceStatus,
    /// Invoice currency.
    pub currency: Currency,
    /// Who issues the invoice (the supplier or transporter).
    pub issuer: Option<Party>,
    /// Who owes it.
    pub customer: Party,
    /// Lines, in order; cancelled lines stay for the record.
    pub lines: Vec<Line>,
    /// Payments, oldest first.
    pub payments: Vec<Payment>,
    /// Collection settings and state.
    pub collection: Collection,
    /// Payer approval state.
    pub approval: Approval,
    /// Set once fully cancelled.
    pub cancellation: Option<CancellationRecord>,
    /// Set once voided.
    pub void: Option<VoidRecord>,
    /// Credit notes issued against this invoice, oldest first.
    pub credit_notes: Vec<CreditNote>,
    /// When payment is due.
    pub due_date: Option<NaiveDate>,
    /// The supplier's own invoice number.
    pub external_reference: Option<String>,
    /// Caller-defined string pairs.
    pub metadata: Metadata,
    /// Bumped by every transition; used for optimistic concurrency.
    pub version: u64,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When the invoice last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was finalized (its issue date).
    pub issued_at: Option<DateTime<Utc>>,
    /// When it became paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// When it was voided.
    pub voided_at: Option<DateTime<Utc>>,
}

impl Invoice {
    /// Computes the totals from the lines and payments.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            subtotal: Amount::ZERO,
            tax: Amount::ZERO,
            total: Amount::ZERO,
            amount_paid: self.amount_paid(),
            amount_due: Amount::ZERO,
            amount_cancelled: Amount::ZERO,
        };
        for line in &self.lines {
            if line.is_active() {
                t.subtotal = t.subtotal + line.amounts.net;
                t.tax = t.tax + line.amounts.tax;
                t.total = t.total + line.amounts.gross;
            } else {
                t.amount_cancelled = t.amount_cancelled + line.amounts.gross;
            }
        }
        t.amount_due = match self.status {
            InvoiceStatus::Draft => t.total,
            InvoiceStatus::Open => t.total - t.amount_paid,
            InvoiceStatus::Paid | InvoiceStatus::Cancelled | InvoiceStatus::Void => Amount::ZERO,
        };
        t
    }

    /// Payments minus refunds.
    pub fn amount_paid(&self) -> Amount {
        self.payments.iter().map(Payment::net).sum()
    }

    /// Sum of all refunds.
    pub fn amount_refunded(&self) -> Amount {
        self.payments.iter().map(Payment::refunded).sum()
    }

    /// True when `party` is this invoice's issuer or customer.
    pub fn involves(&self, party: &PartyId) -> bool {
        &self.customer.id == party || self.issuer.as_ref().is_some_and(|i| &i.id == party)
    }

    /// True when `party` issued this invoice.
    pub fn issued_by(&self, party: &PartyId) -> bool {
        self.issuer.as_ref().is_some_and(|i| &i.id == party)
    }

    /// The number as printed (`INV-000052`), if finalized.
    pub fn number_text(&self) -> Option<String> {
        self.number.as_ref().map(ToString::to_string)
    }
}
