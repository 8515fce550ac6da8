//! Domain events: the audit trail and what webhooks deliver.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::commands::Settlement;
use crate::model::balance::BalanceDirection;
use crate::model::ids::{CreditNoteId, EventId, InvoiceId, LineId, PartyId, PaymentId, RefundId, TenantId};
use crate::model::money::{Amount, Currency};
use crate::model::reason::Reason;

/// Who performed a transition and through which API.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The API key id (or `system`, `cli`…).
    pub id: String,
    /// The API dialect or channel the request came through (`v1`, `tms`…).
    pub channel: String,
}

impl Actor {
    /// Builds an actor.
    pub fn new(id: impl Into<String>, channel: impl Into<String>) -> Self {
        Actor {
            id: id.into(),
            channel: channel.into(),
        }
    }
}

/// What happened, with the facts specific to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A draft was created.
    Created,
    /// The draft was finalized and numbered.
    Finalized {
        /// The number assigned.
        number: String,
    },
    /// A payment was recorded.
    PaymentRecorded {
        /// The payment.
        payment_id: PaymentId,
        /// Its amount.
        amount: Amount,
    },
    /// A payment was (partly) refunded.
    PaymentRefunded {
        /// The refunded payment.
        payment_id: PaymentId,
        /// The refund.
        refund_id: RefundId,
        /// Its amount.
        amount: Amount,
    },
    /// The amount due reached zero through payments.
    Paid,
    /// Some lines of an issued invoice were credited in full by a credit
    /// note; the document's totals stay as issued.
    LinesCancelled {
        /// The lines cancelled.
        line_ids: Vec<LineId>,
        /// Their gross total, as credited.
        amount: Amount,
        /// Why.
        reason: Option<Reason>,
    },
    /// Some lines were taken off a draft, which is not a document yet: no
    /// money was credited.
    LinesRemoved {
        /// The lines removed.
        line_ids: Vec<LineId>,
        /// Why.
        reason: Option<Reason>,
    },
    /// The invoice was sent to its customer.
    Sent,
    /// The invoice was written off as uncollectible: collection halts.
    MarkedUncollectible {
        /// Why.
        reason: Option<Reason>,
    },
    /// The whole invoice was cancelled.
    Cancelled {
        /// Why.
        reason: Option<Reason>,
    },
    /// The invoice was voided: balance zero, collection halted.
    Voided {
        /// Why.
        reason: Option<Reason>,
    },
    /// One approval level (or the final one) was granted.
    Approved {
        /// The level just approved (1-based).
        level: u8,
        /// True when this was the last level.
        fully_approved: bool,
    },
    /// The payer rejected the invoice.
    Rejected {
        /// Reasons given.
        reasons: Vec<String>,
        /// Free remark.
        remark: Option<String>,
    },
    /// The invoice was credited through a credit note: by line, quantity,
    /// amount or goodwill, settled as the caller chose.
    Credited {
        /// The credit note.
        credit_note_id: CreditNoteId,
        /// Its gross total.
        amount: Amount,
        /// How it was settled.
        settlement: Settlement,
        /// Why.
        reason: Option<Reason>,
    },
    /// The invoice was cancelled and replaced by a new draft, or this draft
    /// replaces a cancelled invoice.
    Reissued {
        /// The cancelled invoice (on the new draft's event).
        replaces: Option<InvoiceId>,
        /// The new draft (on the cancelled invoice's event).
        replaced_by: Option<InvoiceId>,
    },
    /// A customer's credit balance changed because of this invoice.
    BalanceChanged {
        /// Whose balance.
        customer_id: PartyId,
        /// In which currency.
        currency: Currency,
        /// Credit or debit.
        direction: BalanceDirection,
        /// By how much.
        amount: Amount,
        /// The balance afterwards.
        balance: Amount,
    },
    /// A credit note was issued for this invoice.
    CreditNoteIssued {
        /// The credit note.
        credit_note_id: CreditNoteId,
        /// Its number.
        number: String,
        /// Its gross total.
        total: Amount,
    },
}

impl EventKind {
    /// The dotted event type name (`invoice.cancelled`, `credit_note.issued`…).
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Created => "invoice.created",
            EventKind::Finalized { .. } => "invoice.finalized",
            EventKind::PaymentRecorded { .. } => "invoice.payment_recorded",
            EventKind::PaymentRefunded { .. } => "invoice.payment_refunded",
            EventKind::Paid => "invoice.paid",
            EventKind::LinesCancelled { .. } => "invoice.lines_cancelled",
            EventKind::LinesRemoved { .. } => "invoice.lines_removed",
            EventKind::MarkedUncollectible { .. } => "invoice.marked_uncollectible",
            EventKind::Sent => "invoice.sent",
            EventKind::Cancelled { .. } => "invoice.cancelled",
            EventKind::Voided { .. } => "invoice.voided",
            EventKind::Approved { .. } => "invoice.approved",
            EventKind::Rejected { .. } => "invoice.rejected",
            EventKind::Credited { .. } => "invoice.credited",
            EventKind::Reissued { .. } => "invoice.reissued",
            EventKind::BalanceChanged { .. } => "customer.balance_changed",
            EventKind::CreditNoteIssued { .. } => "credit_note.issued",
        }
    }

    /// Every event type name, for validating webhook subscriptions.
    pub const TYPE_NAMES: [&'static str; 17] = [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_recorded",
        "invoice.payment_refunded",
        "invoice.paid",
        "invoice.lines_cancelled",
        "invoice.lines_removed",
        "invoice.marked_uncollectible",
        "invoice.sent",
        "invoice.cancelled",
        "invoice.voided",
        "invoice.approved",
        "invoice.rejected",
        "invoice.credited",
        "invoice.reissued",
        "customer.balance_changed",
        "credit_note.issued",
    ];
}

/// One fact in an invoice's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Stable id (webhook deliveries reuse it).
    pub id: EventId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// The invoice concerned.
    pub invoice_id: InvoiceId,
    /// What happened.
    pub kind: EventKind,
    /// Who did it and through which API.
    pub actor: Actor,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// The invoice's version right after the event.
    pub invoice_version: u64,
}
