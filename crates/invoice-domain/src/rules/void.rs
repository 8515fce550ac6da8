//! Voiding an issued invoice: balance zero, collection halted, and (by the
//! tenant's policy) a credit note for everything still uncredited.

use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::invoice::{ActionRecord, Approval, Invoice, InvoiceStatus};
use crate::model::number::DocumentNumber;
use crate::model::reason::{Reason, ReasonCode};
use crate::model::tenant::VoidPolicy;
use crate::rules::credit::{credit_everything, credit_note_issued};
use crate::rules::{Builder, Context, NumberedError, Transition};

impl Invoice {
    /// Voids an open or uncollectible invoice: the amount due becomes zero,
    /// collection is halted and the next payment attempt cleared. The
    /// document (lines, totals, number) stays as issued.
    ///
    /// Under [`VoidPolicy::Always`] the void writes the document the law
    /// expects: a credit note for everything still uncredited, with reason
    /// `issued_in_error` (and the void's own text), numbered by
    /// `next_credit_note_number` once every check passed. Under
    /// [`VoidPolicy::Never`] it only marks the invoice.
    ///
    /// Refused for a draft (cancel it instead), a paid, cancelled or void
    /// invoice, an approved one, and while net payments are held (refund
    /// them first).
    pub fn void<E>(
        &self,
        reason: Option<Reason>,
        policy: VoidPolicy,
        ctx: Context<'_>,
        next_credit_note_number: impl FnOnce() -> Result<DocumentNumber, E>,
    ) -> Result<Transition, NumberedError<E>> {
        self.ensure_not_terminal()?;
        if self.status == InvoiceStatus::Draft {
            return Err(Refusal::InvoiceIsDraft.into());
        }
        if matches!(self.approval, Approval::Approved { .. }) {
            return Err(Refusal::InvoiceApproved.into());
        }
        if !self.amount_paid().is_zero() {
            return Err(Refusal::InvoiceHasPayments.into());
        }
        let document = self.issued_as()?;
        let mut b = Builder::new(self, ctx);
        let note = match policy {
            VoidPolicy::Always => {
                let text = reason.as_ref().and_then(|r| r.text.clone());
                let because = Reason {
                    code: ReasonCode::IssuedInError,
                    text,
                };
                credit_everything(self, &document, &mut b, Some(because), next_credit_note_number)?
            }
            VoidPolicy::Never => None,
        };
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
        if let Some(note) = note {
            b.event(credit_note_issued(&note));
        }
        Ok(b.finish())
    }
}
