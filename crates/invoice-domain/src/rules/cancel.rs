//! Full and partial cancellation: credit notes for issued invoices, removal
//! for drafts.

use std::collections::BTreeSet;

use crate::commands::CancelRequest;
use crate::error::Refusal;
use crate::model::credit_note::{CreditNote, CreditNoteLine};
use crate::model::event::EventKind;
use crate::model::ids::CreditNoteId;
use crate::model::invoice::{ActionRecord, Approval, Invoice};
use crate::model::line::{Line, LineCredit, LineRef, LineStatus};
use crate::model::money::bounded_sum;
use crate::model::number::DocumentNumber;
use crate::rules::{Builder, Change, Context, NumberedError, Transition};

/// What an accepted cancellation will do, decided before any number is drawn.
struct CancelPlan {
    /// Indexes of the lines to cancel, in document order.
    lines: Vec<usize>,
    /// True when no active line remains afterwards.
    cancels_invoice: bool,
}

impl Invoice {
    fn plan_cancel(&self, request: &CancelRequest) -> Result<CancelPlan, Refusal> {
        self.ensure_not_terminal()?;
        if matches!(self.approval, Approval::Approved { .. }) {
            return Err(Refusal::InvoiceApproved);
        }
        let active: Vec<usize> = (0..self.lines.len()).filter(|&i| self.lines[i].is_active()).collect();
        if request.is_whole() {
            if !self.amount_paid().is_zero() {
                return Err(Refusal::InvoiceHasPayments);
            }
            return Ok(CancelPlan {
                lines: active,
                cancels_invoice: true,
            });
        }
        let mut chosen = BTreeSet::new();
        for reference in request.line_refs() {
            chosen.insert(self.resolve_line(reference)?);
        }
        // What stays owed after crediting these lines must still cover what
        // was paid: a credit never turns into money owed back here.
        let crediting = bounded_sum(chosen.iter().map(|&i| self.lines[i].uncredited().gross));
        let totals = self.totals();
        let left = totals
            .total
            .saturating_sub(totals.amount_credited)
            .saturating_sub(crediting);
        if left < totals.amount_paid {
            return Err(Refusal::CancellationBelowPaidAmount);
        }
        Ok(CancelPlan {
            cancels_invoice: chosen.len() == active.len(),
            lines: chosen.into_iter().collect(),
        })
    }

    /// Finds the one active line a reference points at.
    fn resolve_line(&self, reference: &LineRef) -> Result<usize, Refusal> {
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

    /// Cancels the whole invoice (a request without lines) or the named lines.
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
        let plan = self.plan_cancel(request)?;
        let (Some(invoice_number), Some(invoice_issued_at)) = (self.number.clone(), self.issued_at) else {
            return Ok(self.cancel_draft(request, &plan, ctx));
        };
        let number = next_credit_note_number().map_err(NumberedError::Number)?;

        let mut b = Builder::new(self, ctx);
        let inv = b.invoice();
        let mut ids = Vec::with_capacity(plan.lines.len());
        let mut credited = Vec::with_capacity(plan.lines.len());
        for &i in &plan.lines {
            let line = &mut inv.lines[i];
            credited.push(CreditNoteLine {
                line_id: line.id,
                description: line.description.clone(),
                quantity: line.uncredited_quantity(),
                unit_amount: line.unit_amount,
                tax: line.tax.clone(),
                tax_inclusive: line.tax_inclusive,
                amounts: line.uncredited(),
            });
            line.credited = LineCredit {
                quantity: line.quantity,
                amounts: line.amounts,
            };
            line.status = LineStatus::Cancelled;
            ids.push(line.id);
        }
        let credit_note = CreditNote {
            id: CreditNoteId::from_uuid(ctx.ids.new_id()),
            tenant: inv.tenant,
            number,
            invoice_id: inv.id,
            invoice_number,
            invoice_issued_at,
            currency: inv.currency,
            lines: credited,
            reason: request.reason().cloned(),
            issued_at: ctx.now,
        };
        inv.credit_notes.push(credit_note.clone());
        if plan.cancels_invoice {
            close_as_cancelled(inv, request, ctx);
        }

        b.change(Change::LinesUpdated(ids.clone()));
        b.change(Change::CreditNoteIssued(credit_note.id));
        if !request.is_whole() {
            b.event(EventKind::LinesCancelled {
                line_ids: ids,
                amount: credit_note.total(),
                reason: request.reason().cloned(),
            });
        }
        if plan.cancels_invoice {
            b.event(EventKind::Cancelled {
                reason: request.reason().cloned(),
            });
        }
        b.event(EventKind::CreditNoteIssued {
            credit_note_id: credit_note.id,
            number: credit_note.number.to_string(),
            total: credit_note.total(),
        });
        if !plan.cancels_invoice && b.invoice().totals().amount_due.is_zero() {
            b.mark_paid();
        }
        Ok(b.finish())
    }

    /// Removes lines from a draft, or discards it whole.
    fn cancel_draft(&self, request: &CancelRequest, plan: &CancelPlan, ctx: Context<'_>) -> Transition {
        let mut b = Builder::new(self, ctx);
        let ids: Vec<_> = plan.lines.iter().map(|&i| self.lines[i].id).collect();
        if plan.cancels_invoice {
            let inv = b.invoice();
            for &i in &plan.lines {
                inv.lines[i].status = LineStatus::Cancelled;
            }
            close_as_cancelled(inv, request, ctx);
            b.change(Change::LinesUpdated(ids));
            b.event(EventKind::Cancelled {
                reason: request.reason().cloned(),
            });
        } else {
            b.invoice().lines.retain(|l| !ids.contains(&l.id));
            b.change(Change::LinesRemoved(ids.clone()));
            b.event(EventKind::LinesRemoved {
                line_ids: ids,
                reason: request.reason().cloned(),
            });
        }
        b.finish()
    }
}

/// Sets the cancelled status, its record, and halts collection.
fn close_as_cancelled(inv: &mut Invoice, request: &CancelRequest, ctx: Context<'_>) {
    inv.status = crate::model::invoice::InvoiceStatus::Cancelled;
    inv.cancelled_at = Some(ctx.now);
    inv.cancellation = Some(ActionRecord {
        at: ctx.now,
        actor: ctx.actor.clone(),
        reason: request.reason().cloned(),
    });
    inv.collection.halted = true;
    inv.collection.next_payment_attempt = None;
}
