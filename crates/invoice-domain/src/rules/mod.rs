//! The business rules: every transition an invoice can make, and every refusal.
//!
//! Each transition is a method on [`Invoice`] that takes `&self` and either
//! refuses (returning a [`Refusal`] and leaving the invoice untouched) or
//! returns a [`Transition`]: the new state, the events, and the list of
//! changes a repository must persist atomically.
//!
//! Transitions that need a document number (finalize, cancelling an issued
//! invoice) take a closure that draws it. The closure is called only after
//! every check has passed, so a refusal never consumes a number.
//!
//! Once finalized, an invoice is a document: its lines, amounts, totals,
//! VAT breakdown, parties, number and issue date never change again. Every
//! correction is a credit note beside it.

mod approval;
mod cancel;
mod create;
mod credit;
mod finalize;
mod payment;
mod reissue;
mod sent;
mod uncollectible;
mod void;

use chrono::{DateTime, Utc};

pub use crate::commands::{MAX_APPROVAL_LEVELS, MAX_LINES};
pub use payment::MAX_PAYMENTS;
pub use reissue::Reissue;

use crate::error::{Refusal, ValidationError};
use crate::model::balance::BalanceEntry;
use crate::model::event::{Actor, Event, EventKind};
use crate::model::ids::{CreditNoteId, EventId, LineId, PaymentId, RefundId};
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::ports::IdGenerator;

/// Who acts, when, and where fresh ids come from, for one transition.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The time the transition happens.
    pub now: DateTime<Utc>,
    /// Who performs it.
    pub actor: &'a Actor,
    /// Source of new ids (events, payments, credit notes).
    pub ids: &'a dyn IdGenerator,
}

/// One thing a repository must write besides the invoice row itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new invoice (insert every line).
    Created,
    /// These lines' status and credited amounts changed (nothing else of a
    /// line ever does): credit notes credited them, or a discarded draft
    /// took them with it.
    LinesUpdated(Vec<LineId>),
    /// These lines were taken off a draft (delete them).
    LinesRemoved(Vec<LineId>),
    /// A payment was added.
    PaymentRecorded(PaymentId),
    /// A refund was added to a payment.
    RefundRecorded {
        /// The refunded payment.
        payment: PaymentId,
        /// The new refund.
        refund: RefundId,
    },
    /// A credit note was issued (it is in `invoice.credit_notes`).
    CreditNoteIssued(CreditNoteId),
}

/// The outcome of an accepted transition, to be saved atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The invoice after the transition.
    pub invoice: Invoice,
    /// The version the stored invoice must still have (0 for a new one).
    pub expected_version: u64,
    /// Events to append, in order.
    pub events: Vec<Event>,
    /// What changed besides the invoice row.
    pub changes: Vec<Change>,
    /// Entries of customer credit-balance ledgers to record with it.
    pub balance_entries: Vec<BalanceEntry>,
}

/// Why a numbered transition did not happen: a rule refused it, the input
/// it derived did not validate, or the number source failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberedError<E> {
    /// A business rule refused the transition.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Values built from the request and the invoice together did not
    /// validate (e.g. an edited line of a reissue).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Drawing the number failed.
    #[error("could not draw a document number")]
    Number(E),
}

/// Collects the new state and events of one transition.
struct Builder<'a> {
    ctx: Context<'a>,
    transition: Transition,
}

impl<'a> Builder<'a> {
    fn new(invoice: &Invoice, ctx: Context<'a>) -> Self {
        let mut next = invoice.clone();
        next.version = invoice.version + 1;
        next.updated_at = ctx.now;
        Builder {
            ctx,
            transition: Transition {
                invoice: next,
                expected_version: invoice.version,
                events: Vec::new(),
                changes: Vec::new(),
                balance_entries: Vec::new(),
            },
        }
    }

    /// Adds to a transition already made (a new draft that gets more events).
    fn continuing(transition: Transition, ctx: Context<'a>) -> Self {
        Builder { ctx, transition }
    }

    fn invoice(&mut self) -> &mut Invoice {
        &mut self.transition.invoice
    }

    fn event(&mut self, kind: EventKind) {
        let inv = &self.transition.invoice;
        self.transition.events.push(Event {
            id: EventId::from_uuid(self.ctx.ids.new_id()),
            tenant: inv.tenant,
            invoice_id: inv.id,
            kind,
            actor: self.ctx.actor.clone(),
            occurred_at: self.ctx.now,
            invoice_version: inv.version,
        });
    }

    fn change(&mut self, change: Change) {
        self.transition.changes.push(change);
    }

    /// Makes the invoice paid (nothing left due), with its event.
    fn mark_paid(&mut self) {
        let now = self.ctx.now;
        let inv = self.invoice();
        inv.status = InvoiceStatus::Paid;
        inv.paid_at = Some(now);
        inv.collection.next_payment_attempt = None;
        self.event(EventKind::Paid);
    }

    fn finish(self) -> Transition {
        self.transition
    }
}

impl Invoice {
    /// Refuses any transition out of a state that takes it with the
    /// state's own code: `paid` (which takes only credit notes and a
    /// reissue), `cancelled` and `void`.
    fn ensure_not_terminal(&self) -> Result<(), Refusal> {
        match self.status {
            InvoiceStatus::Paid => Err(Refusal::InvoicePaid),
            InvoiceStatus::Cancelled => Err(Refusal::InvoiceAlreadyCancelled),
            InvoiceStatus::Void => Err(Refusal::InvoiceAlreadyVoid),
            InvoiceStatus::Draft | InvoiceStatus::Open | InvoiceStatus::Uncollectible => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod credit_tests;

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod state_machine;

#[cfg(test)]
mod mutation_tests;
