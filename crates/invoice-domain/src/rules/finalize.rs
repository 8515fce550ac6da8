//! Finalizing a draft: numbering it and opening it for collection.

use chrono::Duration;

use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::invoice::{CollectionMethod, Invoice, InvoiceStatus};
use crate::model::number::DocumentNumber;
use crate::rules::{Builder, Context, NumberedError, Transition};

/// Delay between finalizing and the first automatic payment attempt.
pub const FIRST_ATTEMPT_DELAY_HOURS: i64 = 1;

impl Invoice {
    /// Checks that the invoice may be finalized, without drawing a number.
    pub fn check_finalize(&self) -> Result<(), Refusal> {
        if self.status != InvoiceStatus::Draft {
            self.ensure_not_terminal()?;
            return Err(Refusal::InvoiceNotDraft);
        }
        if !self.lines.iter().any(|l| l.is_active()) {
            return Err(Refusal::InvoiceHasNoLines);
        }
        Ok(())
    }

    /// Finalizes a draft: assigns the next number of its series (drawn from
    /// `next_number` only once every check passed), sets the issue date and
    /// starts collection.
    pub fn finalize<E>(
        &self,
        ctx: Context<'_>,
        next_number: impl FnOnce() -> Result<u64, E>,
    ) -> Result<Transition, NumberedError<E>> {
        self.check_finalize()?;
        let sequence = next_number().map_err(NumberedError::Number)?;
        let number = DocumentNumber {
            series: self.series.clone(),
            sequence,
        };
        let mut b = Builder::new(self, ctx);
        let inv = b.invoice();
        inv.status = InvoiceStatus::Open;
        inv.number = Some(number.clone());
        inv.issued_at = Some(ctx.now);
        if inv.collection.method == CollectionMethod::Automatic {
            inv.collection.next_payment_attempt = Some(ctx.now + Duration::hours(FIRST_ATTEMPT_DELAY_HOURS));
        }
        b.event(EventKind::Finalized {
            number: number.to_string(),
        });
        Ok(b.finish())
    }
}
