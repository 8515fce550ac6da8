//! Writing an open invoice off as uncollectible.

use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::invoice::{ActionRecord, Invoice, InvoiceStatus};
use crate::model::reason::Reason;
use crate::rules::{Builder, Context, Transition};

impl Invoice {
    /// Marks an open invoice uncollectible: collection halts and the next
    /// payment attempt is cleared, but nothing is forgiven. The invoice can
    /// still be paid (then it becomes paid), voided or cancelled.
    pub fn mark_uncollectible(&self, reason: Option<Reason>, ctx: Context<'_>) -> Result<Transition, Refusal> {
        self.ensure_not_terminal()?;
        match self.status {
            InvoiceStatus::Open => {}
            InvoiceStatus::Uncollectible => return Err(Refusal::InvoiceAlreadyUncollectible),
            _ => return Err(Refusal::InvoiceNotOpen),
        }
        let mut b = Builder::new(self, ctx);
        let inv = b.invoice();
        inv.status = InvoiceStatus::Uncollectible;
        inv.uncollectible = Some(ActionRecord {
            at: ctx.now,
            actor: ctx.actor.clone(),
            reason: reason.clone(),
        });
        inv.collection.halted = true;
        inv.collection.next_payment_attempt = None;
        b.event(EventKind::MarkedUncollectible { reason });
        Ok(b.finish())
    }
}
