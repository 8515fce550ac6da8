//! Full and partial cancellation, with credit notes for issued invoices.

use std::collections::BTreeSet;

use crate::error::Refusal;
use crate::model::credit_note::{CreditNote, CreditNoteLine};
use crate::model::event::EventKind;
use crate::model::ids::CreditNoteId;
use crate::model::invoice::{Approval, CancellationRecord, Invoice, InvoiceStatus};
use crate::model::line::{Line, LineRef, LineStatus};
use crate::model::money::Amount;
use crate::model::number::{DocumentNumber, SeriesPrefix};
use crate::model::reason::Reason;
use crate::rules::{Builder, Change, Context, NumberedError, Transition};

/// A request to cancel an invoice, or only some of its lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelRequest {
    /// Lines to cancel; empty means the whole invoice.
    pub lines: Vec<LineRef>,
    /// Why.
    pub reason: Option<Reason>,
}

/// What an accepted cancellation will do, decided before any number is drawn.
struct CancelPlan {
    /// Indexes of the lines to cancel.
    lines: Vec<usize>,
    /// True when the request named lines (rather than the whole invoice).
    partial: bool,
    /// True when no active line remains afterwards.
    cancels_invoice: bool,
}

impl Invoice {
    /// Checks a cancellation request and reports whether it needs a credit
    /// note number (true for an issued, open invoice).
    pub fn check_cancel(&self, request: &CancelRequest) -> Result<bool, Refusal> {
        self.plan_cancel(request)?;
        Ok(self.status == InvoiceStatus::Open)
    }

    fn plan_cancel(&self, request: &CancelRequest) -> Result<CancelPlan, Refusal> {
        self.ensure_not_terminal()?;
        if matches!(self.approval, Approval::Approved { .. }) {
            return Err(Refusal::InvoiceApproved);
        }
        let active: Vec<usize> = (0..self.lines.len()).filter(|&i| self.lines[i].is_active()).collect();
        if request.lines.is_empty() {
            if !self.amount_paid().is_zero() {
                return Err(Refusal::InvoiceHasPayments);
            }
            return Ok(CancelPlan {
                lines: active,
                partial: false,
                cancels_invoice: true,
            });
        }
        let mut chosen = BTreeSet::new();
        for reference in &request.lines {
            chosen.insert(self.resolve_line(reference)?);
        }
        let remaining: Amount = active
            .iter()
            .filter(|i| !chosen.contains(i))
            .map(|&i| self.lines[i].amounts.gross)
            .sum();
        if remaining < self.amount_paid() {
            return Err(Refusal::CancellationBelowPaidAmount);
        }
        Ok(CancelPlan {
            cancels_invoice: chosen.len() == active.len(),
            lines: chosen.into_iter().collect(),
            partial: true,
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

    /// Cancels the whole invoice (no lines in the request) or the named
    /// lines, recomputing totals exactly.
    ///
    /// * A draft is discarded: its lines are cancelled, it gets no number and
    ///   no credit note.
    /// * An open invoice gets a credit note for exactly the cancelled lines,
    ///   numbered from the tenant's credit-note series by `next_credit_note_number`,
    ///   which is called only once every check passed.
    /// * Cancelling the last active line cancels the invoice; a partial
    ///   cancel that leaves nothing due on a partly paid invoice makes it paid.
    pub fn cancel<E>(
        &self,
        request: &CancelRequest,
        ctx: Context<'_>,
        next_credit_note_number: impl FnOnce() -> Result<u64, E>,
    ) -> Result<Transition, NumberedError<E>> {
        let plan = self.plan_cancel(request)?;
        let issued = self.status == InvoiceStatus::Open;
        let credit_note_number = if issued {
            Some(next_credit_note_number().map_err(NumberedError::Number)?)
        } else {
            None
        };

        let mut b = Builder::new(self, ctx);
        let inv = b.invoice();
        let mut cancelled_ids = Vec::with_capacity(plan.lines.len());
        let mut credited = Vec::with_capacity(plan.lines.len());
        for &i in &plan.lines {
            let line = &mut inv.lines[i];
            line.status = LineStatus::Cancelled;
            cancelled_ids.push(line.id);
            credited.push(CreditNoteLine {
                line_id: line.id,
                description: line.description.clone(),
                quantity: line.quantity,
                unit_amount: line.unit_amount,
                tax_rate: line.tax_rate,
                tax_inclusive: line.tax_inclusive,
                amounts: line.amounts,
            });
        }
        let cancelled_amount: Amount = credited.iter().map(|l| l.amounts.gross).sum();
        let credit_note = credit_note_number.map(|sequence| CreditNote {
            id: CreditNoteId::from_uuid(ctx.ids.new_id()),
            tenant: inv.tenant,
            number: DocumentNumber {
                series: SeriesPrefix::credit_notes(),
                sequence,
            },
            invoice_id: inv.id,
            invoice_number: inv.number.clone().expect("an open invoice has a number"),
            invoice_issued_at: inv.issued_at.expect("an open invoice has an issue date"),
            currency: inv.currency,
            lines: credited,
            reason: request.reason.clone(),
            issued_at: ctx.now,
        });
        if plan.cancels_invoice {
            inv.status = InvoiceStatus::Cancelled;
            inv.cancelled_at = Some(ctx.now);
            inv.cancellation = Some(CancellationRecord {
                at: ctx.now,
                actor: ctx.actor.clone(),
                reason: request.reason.clone(),
            });
            inv.collection.halted = true;
            inv.collection.next_payment_attempt = None;
        }
        let becomes_paid = issued && !plan.cancels_invoice && {
            let t = inv.totals();
            t.amount_due.is_zero() && !t.amount_paid.is_zero()
        };
        if becomes_paid {
            inv.status = InvoiceStatus::Paid;
            inv.paid_at = Some(ctx.now);
            inv.collection.next_payment_attempt = None;
        }
        if let Some(cn) = &credit_note {
            inv.credit_notes.push(cn.clone());
        }

        if !cancelled_ids.is_empty() {
            b.change(Change::LinesCancelled(cancelled_ids.clone()));
        }
        if plan.partial {
            b.event(EventKind::LinesCancelled {
                line_ids: cancelled_ids,
                amount: cancelled_amount,
                reason: request.reason.clone(),
            });
        }
        if plan.cancels_invoice {
            b.event(EventKind::Cancelled {
                reason: request.reason.clone(),
            });
        }
        if becomes_paid {
            b.event(EventKind::Paid);
        }
        if let Some(cn) = credit_note {
            b.change(Change::CreditNoteIssued(cn.id));
            b.event(EventKind::CreditNoteIssued {
                credit_note_id: cn.id,
                number: cn.number.to_string(),
                total: cn.total(),
            });
        }
        Ok(b.finish())
    }
}
