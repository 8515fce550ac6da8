//! Voiding an issued invoice: balance zero, collection halted.

use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::invoice::{ActionRecord, Approval, Invoice, InvoiceStatus};
use crate::model::reason::Reason;
use crate::rules::{Builder, Context, Transition};

impl Invoice {
    /// Voids an open or uncollectible invoice: the amount due becomes zero,
    /// collection is halted and the next payment attempt cleared. The
    /// document (lines, totals, number) stays as issued.
    ///
    /// Refused for a draft (cancel it instead), a terminal invoice, an
    /// approved one, and while net payments are held (refund them first).
    pub fn void(&self, reason: Option<Reason>, ctx: Context<'_>) -> Result<Transition, Refusal> {
        self.ensure_not_terminal()?;
        if self.status == InvoiceStatus::Draft {
            return Err(Refusal::InvoiceIsDraft);
        }
        if matches!(self.approval, Approval::Approved { .. }) {
            return Err(Refusal::InvoiceApproved);
        }
        if !self.amount_paid().is_zero() {
            return Err(Refusal::InvoiceHasPayments);
        }
        let mut b = Builder::new(self, ctx);
        let inv = b.invoice();
        inv.status = InvoiceStatus::Void;
        inv.voided_at = Some(ctx.now);
        inv.void = Some(ActionRecord {
            at: ctx.now,
            actor: ctx.actor.clone(),
            reason: reason.clone(),
        });
        inv.collection.halted = true;
        inv.collection.next_payment_attempt = None;
        b.event(EventKind::Voided { reason });
        Ok(b.finish())
    }
}
