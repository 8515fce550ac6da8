//! Use cases: payer approval and rejection.

use crate::commands::Rejection;
use crate::ports::{Clock, IdGenerator, InvoiceRepository};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Approves the pending approval level.
    pub fn approve<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Approve, |invoice, ctx, _| {
            Ok(invoice.approve(ctx)?)
        })
    }

    /// Rejects the invoice.
    pub fn reject<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        rejection: Rejection,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Reject, |invoice, ctx, _| {
            Ok(invoice.reject(rejection, ctx)?)
        })
    }
}
