//! Full and partial cancellation: credit notes for issued invoices, removal
//! for drafts.

use std::collections::BTreeSet;

use crate::commands::{CancelRequest, CreditPortion, LineCreditRequest, Settlement};
use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::invoice::{ActionRecord, Approval, Invoice};
use crate::model::line::{Line, LineRef, LineStatus};
use crate::model::money::Amount;
use crate::model::number::DocumentNumber;
use crate::model::reason::Reason;
use crate::rules::credit::{credit_everything, credit_note_issued, issue, settle_status};
use crate::rules::{Builder, Change, Context, NumberedError, Transition};

impl Invoice {
    /// Finds the one active line a reference points at.
    pub(super) fn resolve_line(&self, reference: &LineRef) -> Result<usize, Refusal> {
        let matches = |l: &Line| match reference {
            LineRef::LineId(id) => &l.id == id,
            LineRef::ProductId(p) => l.product_id.as_ref() == Some(p),
            LineRef::VariationId(v) => l.variation_id.as_ref() == Some(v),
        };
        let mut any = false;
        let mut active = self.lines.iter().enumerate().filter(|(_, l)| {
            let m = matches(l);
            any |= m;
            m && l.is_active()
        });
        let first = active.next().map(|(i, _)| i);
        let second = active.next();
        drop(active);
        match (first, second) {
            (Some(_), Some(_)) => Err(Refusal::LineReferenceAmbiguous(reference.to_string())),
            (Some(i), None) => Ok(i),
            (None, _) if any => Err(Refusal::LineAlreadyCancelled(reference.to_string())),
            (None, _) => Err(Refusal::LineNotFound(reference.to_string())),
        }
    }

    /// Cancels the whole invoice (a request without lines) or the named
    /// lines: the shorthand for "credit these lines, settle by reducing what
    /// is due", with the refusals a cancel has always had.
    ///
    /// * An issued invoice never changes as a document: the lines are marked
    ///   cancelled (credited in full) and a credit note for exactly what was
    ///   left of them is issued, numbered by `next_credit_note_number`, which
    ///   is called only once every check passed. Its totals stay as issued;
    ///   `amount_credited` grows and `amount_due` shrinks. Crediting the last
    ///   active line cancels the invoice; a partial cancel that leaves nothing
    ///   due while lines remain makes it paid.
    /// * A draft is not a document: named lines are simply removed from it,
    ///   with no money recorded, and cancelling all of it discards it.
    pub fn cancel<E>(
        &self,
        request: &CancelRequest,
        ctx: Context<'_>,
        next_credit_note_number: impl FnOnce() -> Result<DocumentNumber, E>,
    ) -> Result<Transition, NumberedError<E>> {
        self.ensure_not_terminal()?;
        if matches!(self.approval, Approval::Approved { .. }) {
            return Err(Refusal::InvoiceApproved.into());
        }
        let Ok(document) = self.issued_as() else {
            return Ok(self.cancel_draft(request, ctx)?);
        };
        let reason = request.reason().cloned();
        if request.is_whole() {
            if !self.amount_paid().is_zero() {
                return Err(Refusal::InvoiceHasPayments.into());
            }
            let mut b = Builder::new(self, ctx);
            let note = credit_everything(self, &document, &mut b, reason.clone(), next_credit_note_number)?;
            close_as_cancelled(b.invoice(), reason.clone(), ctx);
            b.event(EventKind::Cancelled { reason });
            if let Some(note) = note {
                b.event(credit_note_issued(&note));
            }
            return Ok(b.finish());
        }
        let shares: Vec<_> = request
            .line_refs()
            .iter()
            .map(|r| LineCreditRequest {
                line: r.clone(),
                portion: CreditPortion::Rest,
            })
            .collect();
        let plan = self.plan_credit(&shares, None)?;
        if plan.total() > self.totals().amount_due {
            return Err(Refusal::CancellationBelowPaidAmount.into());
        }
        let number = next_credit_note_number().map_err(NumberedError::Number)?;
        let total = plan.total();
        let mut b = Builder::new(self, ctx);
        let issued = issue(
            &mut b,
            &document,
            plan,
            number,
            reason.clone(),
            Settlement::ReduceDue,
            Amount::ZERO,
        );
        let line_ids = issued.credit_note.lines.iter().filter_map(|l| l.line_id).collect();
        b.event(EventKind::LinesCancelled {
            line_ids,
            amount: total,
            reason: reason.clone(),
        });
        b.event(credit_note_issued(&issued.credit_note));
        settle_status(&mut b, reason);
        Ok(b.finish())
    }

    /// Removes lines from a draft, or discards it whole (when the request
    /// is whole or names every line).
    fn cancel_draft(&self, request: &CancelRequest, ctx: Context<'_>) -> Result<Transition, Refusal> {
        let mut chosen = BTreeSet::new();
        for reference in request.line_refs() {
            chosen.insert(self.resolve_line(reference)?);
        }
        let discard = request.is_whole() || chosen.len() == self.lines.len();
        let mut b = Builder::new(self, ctx);
        if discard {
            let ids: Vec<_> = self.lines.iter().map(|l| l.id).collect();
            let inv = b.invoice();
            for line in &mut inv.lines {
                line.status = LineStatus::Cancelled;
            }
            close_as_cancelled(inv, request.reason().cloned(), ctx);
            b.change(Change::LinesUpdated(ids));
            b.event(EventKind::Cancelled {
                reason: request.reason().cloned(),
            });
        } else {
            let ids: Vec<_> = chosen.iter().map(|&i| self.lines[i].id).collect();
            b.invoice().lines.retain(|l| !ids.contains(&l.id));
            b.change(Change::LinesRemoved(ids.clone()));
            b.event(EventKind::LinesRemoved {
                line_ids: ids,
                reason: request.reason().cloned(),
            });
        }
        Ok(b.finish())
    }
}

/// Sets the cancelled status, its record, and halts collection.
pub(super) fn close_as_cancelled(inv: &mut Invoice, reason: Option<Reason>, ctx: Context<'_>) {
    inv.status = crate::model::invoice::InvoiceStatus::Cancelled;
    inv.cancelled_at = Some(ctx.now);
    inv.cancellation = Some(ActionRecord {
        at: ctx.now,
        actor: ctx.actor.clone(),
        reason,
    });
    inv.collection.halted = true;
    inv.collection.next_payment_attempt = None;
}
