//! Use cases: cancel (fully or by lines) and void.

use crate::model::number::SeriesPrefix;
use crate::model::reason::Reason;
use crate::ports::{Clock, DocumentKind, IdGenerator, InvoiceRepository, NumberAllocator};
use crate::rules::{CancelRequest, Transition};
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Cancels the whole invoice or the requested lines; an issued invoice
    /// gets a credit note numbered in the same transaction.
    pub fn cancel<S: InvoiceRepository + NumberAllocator>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        request: &CancelRequest,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Cancel, |invoice, ctx, store| {
            Ok(invoice.cancel(request, ctx, || {
                store.next_number(invoice.tenant, DocumentKind::CreditNote, &SeriesPrefix::credit_notes())
            })?)
        })
    }

    /// Voids an open invoice.
    pub fn void<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        reason: Option<Reason>,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Void, |invoice, ctx, _| {
            Ok(invoice.void(reason, ctx)?)
        })
    }
}
