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
//!
//! The rules work without any store: the caller supplies the clock's time,
//! an id source and the numbers. [`crate::usecases::InvoiceService`] does
//! that over the ports; here it is by hand.
//!
//! ```
//! use invoice_domain::*;
//! use invoice_domain::rules::Context;
//!
//! // Ports: a fixed clock and sequential ids keep the example deterministic.
//! struct Ids(std::cell::Cell<u128>);
//! impl IdGenerator for Ids {
//!     fn new_id(&self) -> uuid::Uuid { self.0.set(self.0.get() + 1); uuid::Uuid::from_u128(self.0.get()) }
//! }
//! let ids = Ids(Default::default());
//! let actor = Actor::new("key_1", "example");
//! let ctx = Context { now: chrono::Utc::now(), actor: &actor, ids: &ids };
//! let number = |series: &str, sequence| DocumentNumber::new(SeriesPrefix::parse(series).unwrap(), sequence);
//!
//! let new = NewInvoice::builder(Currency::parse("EUR")?, Party::parse("cust-1", "ACME GmbH", None, None, None)?)
//!     .line(NewLine::builder("Freight").product_id("p-1").unit_amount(10_000).tax_rate("19").build()?)
//!     .line(NewLine::builder("Toll").product_id("p-2").quantity(2).unit_amount(1_250).tax_rate("7").build()?)
//!     .build()?;
//! let draft = Invoice::create_draft(TenantId::new(1), 1, new, ctx).invoice;
//! let open = draft.finalize(ctx, || number("INV", 52)).unwrap().invoice;
//! assert_eq!(open.number_text().as_deref(), Some("INV-000052"));
//! assert_eq!(open.totals().total.minor(), 11_900 + 2_675);
//!
//! // Cancel the toll line: the document stays as issued, a credit note is issued beside it.
//! let request = CancelRequest::lines(
//!     vec![LineRef::ProductId(ProductId::parse("p-2")?)],
//!     Some(Reason::new(ReasonCode::OrderChange, Some("toll waived"))?),
//! )?;
//! let t = open.cancel(&request, ctx, || number("CN", 7)).unwrap();
//! let totals = t.invoice.totals();
//! assert_eq!((totals.total.minor(), totals.amount_credited.minor()), (14_575, 2_675));
//! assert_eq!(totals.amount_due.minor(), 11_900);
//! assert_eq!(t.invoice.credit_notes[0].number.to_string(), "CN-000007");
//! assert_eq!(t.invoice.credit_notes[0].total().display(t.invoice.currency).to_string(), "26.75 EUR");
//!
//! // A void of the rest halts collection, leaves nothing due, and credits
//! // what was left with a second credit note.
//! let void = t.invoice.void(None, VoidPolicy::Always, ctx, || number("CN", 8)).unwrap().invoice;
//! assert_eq!(void.status, InvoiceStatus::Void);
//! assert!(void.collection.halted && void.totals().amount_due.is_zero());
//! assert_eq!(void.totals().amount_credited, void.totals().total);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
use crate::model::ids::IdGenerator;
use crate::model::ids::{CreditNoteId, EventId, LineId, PaymentId, RefundId};
use crate::model::invoice::{Invoice, InvoiceStatus};

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
