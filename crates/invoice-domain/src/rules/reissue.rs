//! Cancel and reissue: credit an issued invoice in full and, in the same
//! transaction, start a corrected draft of it (a Stornorechnung and a new
//! invoice, in German practice).

use crate::commands::{LineEdit, NewInvoice, ReissueLines, ReissueRequest};
use crate::error::{Refusal, ValidationError};
use crate::model::event::EventKind;
use crate::model::invoice::{Approval, Invoice, InvoiceStatus};
use crate::model::line::{Line, LineRef, NewLine};
use crate::model::number::DocumentNumber;
use crate::rules::cancel::close_as_cancelled;
use crate::rules::credit::{credit_everything, credit_note_issued};
use crate::rules::{Builder, Context, NumberedError, Transition};

/// The two halves of a reissue, saved together.
#[derive(Debug, Clone, PartialEq)]
pub struct Reissue {
    /// The old invoice, credited in full and cancelled, pointing at its replacement.
    pub cancelled: Transition,
    /// The new draft, pointing at the invoice it replaces.
    pub replacement: Transition,
}

/// A line of the old invoice as a new line, with an edit's values applied.
fn copy_line(line: &Line, edit: Option<&LineEdit>) -> Result<NewLine, ValidationError> {
    let (quantity, unit_amount, description) = match edit {
        Some(LineEdit::Change {
            quantity,
            unit_amount,
            description,
            ..
        }) => (*quantity, *unit_amount, description.clone()),
        _ => (None, None, None),
    };
    let unit =
        i64::try_from(line.unit_amount.minor()).map_err(|_| ValidationError::new("unit_amount", "is too large"))?;
    let mut b = NewLine::builder(description.as_deref().unwrap_or(&line.description))
        .quantity(quantity.unwrap_or_else(|| i64::from(line.quantity)))
        .unit_amount(unit_amount.unwrap_or(unit))
        .tax_rate(&line.tax.rate().to_string())
        .tax_category(line.tax.category().code())
        .tax_inclusive(line.tax_inclusive);
    if let Some(e) = line.tax.exemption() {
        b = b.exemption_reason(e.code.as_deref(), e.text.as_deref());
    }
    if let Some(p) = &line.product_id {
        b = b.product_id(p.as_str());
    }
    if let Some(v) = &line.variation_id {
        b = b.variation_id(v.as_str());
    }
    if let Some(kind) = line.kind {
        b = b.kind(kind);
    }
    b.build()
}

/// True when `reference` names `line` (of any status: a reissue copies the
/// document as issued).
fn names(reference: &LineRef, line: &Line) -> bool {
    match reference {
        LineRef::LineId(id) => &line.id == id,
        LineRef::ProductId(p) => line.product_id.as_ref() == Some(p),
        LineRef::VariationId(v) => line.variation_id.as_ref() == Some(v),
    }
}

impl Invoice {
    /// The lines of the new draft: the document's lines as issued, edited
    /// or replaced as asked. An edit must name exactly one line.
    fn reissued_lines(&self, lines: &ReissueLines) -> Result<Vec<NewLine>, NumberedError<std::convert::Infallible>> {
        let edits = match lines {
            ReissueLines::Replaced(new) => return Ok(new.clone()),
            ReissueLines::Copy => &[][..],
            ReissueLines::Edited(edits) => edits.as_slice(),
        };
        let mut chosen: Vec<Option<&LineEdit>> = vec![None; self.lines.len()];
        for edit in edits {
            let matching: Vec<usize> = (0..self.lines.len())
                .filter(|&i| names(edit.line(), &self.lines[i]))
                .collect();
            match matching.as_slice() {
                [] => return Err(Refusal::LineNotFound(edit.line().to_string()).into()),
                [i] => chosen[*i] = Some(edit),
                _ => return Err(Refusal::LineReferenceAmbiguous(edit.line().to_string()).into()),
            }
        }
        let mut out = Vec::with_capacity(self.lines.len());
        for (i, line) in self.lines.iter().enumerate() {
            if matches!(chosen[i], Some(LineEdit::Remove(_))) {
                continue;
            }
            out.push(copy_line(line, chosen[i]).map_err(|e| e.within(format!("lines[{i}]")))?);
        }
        Ok(out)
    }

    /// Cancels an issued invoice by crediting everything still uncredited,
    /// and starts a new draft copying its parties, currency, series, due
    /// date, approval levels and metadata, with its lines as issued or as
    /// `request` edits them. The two point at each other (`replaced_by`,
    /// `replaces`). Payments stay with the old invoice, which must hold none.
    /// `serial` is the tenant's next invoice serial, for the new draft.
    pub fn reissue<E>(
        &self,
        request: &ReissueRequest,
        serial: u64,
        ctx: Context<'_>,
        next_credit_note_number: impl FnOnce() -> Result<DocumentNumber, E>,
    ) -> Result<Reissue, NumberedError<E>> {
        match self.status {
            InvoiceStatus::Open | InvoiceStatus::Uncollectible | InvoiceStatus::Paid => {}
            InvoiceStatus::Draft => return Err(Refusal::InvoiceIsDraft.into()),
            InvoiceStatus::Cancelled => return Err(Refusal::InvoiceAlreadyCancelled.into()),
            InvoiceStatus::Void => return Err(Refusal::InvoiceAlreadyVoid.into()),
        }
        if matches!(self.approval, Approval::Approved { .. }) {
            return Err(Refusal::InvoiceApproved.into());
        }
        if !self.amount_paid().is_zero() {
            return Err(Refusal::ReissueHasPayments.into());
        }
        let document = self.issued_as()?;
        let lines = self.reissued_lines(request.lines()).map_err(|e| match e {
            NumberedError::Refused(r) => NumberedError::Refused(r),
            NumberedError::Invalid(v) => NumberedError::Invalid(v),
            NumberedError::Number(never) => match never {},
        })?;
        let levels = match self.approval {
            Approval::Pending { required, .. } | Approval::Rejected { required, .. } => required,
            Approval::NotRequired | Approval::Approved { .. } => 0,
        };
        let mut new = NewInvoice::builder(self.currency, self.customer.clone())
            .lines(lines)
            .series(self.series.clone())
            .approval_levels(levels)
            .collection_method(self.collection.method)
            .metadata(self.metadata.clone());
        if let Some(issuer) = &self.issuer {
            new = new.issuer(issuer.clone());
        }
        if let Some(date) = self.due_date {
            new = new.due_date(date);
        }
        if let Some(reference) = &self.buyer_reference {
            new = new.buyer_reference(reference);
        }
        let mut replacement = Invoice::create_draft(self.tenant, serial, new.build()?, ctx);
        replacement.invoice.replaces = Some(self.id);
        let replacement_id = replacement.invoice.id;

        let reason = request.reason().cloned();
        let mut b = Builder::new(self, ctx);
        let note = credit_everything(self, &document, &mut b, reason.clone(), next_credit_note_number)?;
        close_as_cancelled(b.invoice(), reason.clone(), ctx);
        b.invoice().replaced_by = Some(replacement_id);
        b.event(EventKind::Cancelled { reason });
        if let Some(note) = note {
            b.event(credit_note_issued(&note));
        }
        b.event(EventKind::Reissued {
            replaces: None,
            replaced_by: Some(replacement_id),
        });
        let cancelled = b.finish();

        let mut r = Builder::continuing(replacement, ctx);
        r.event(EventKind::Reissued {
            replaces: Some(self.id),
            replaced_by: None,
        });
        Ok(Reissue {
            cancelled,
            replacement: r.finish(),
        })
    }
}
