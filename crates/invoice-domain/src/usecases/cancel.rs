//! Use cases: cancel (fully or by lines), void, and write off.

use crate::commands::CancelRequest;
use crate::model::number::DocumentNumber;
use crate::model::reason::Reason;
use crate::ports::{Clock, DocumentKind, IdGenerator, InvoiceRepository, NumberAllocator, SettingsRepository};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Cancels the whole invoice or the requested lines; an issued invoice
    /// gets a credit note numbered from the tenant's credit-note series in
    /// the same transaction.
    pub fn cancel<S: InvoiceRepository + NumberAllocator + SettingsRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        request: &CancelRequest,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Cancel, |invoice, ctx, store| {
            Ok(invoice.cancel(request, ctx, || {
                let series = store.settings(invoice.tenant)?.credit_note_series;
                let sequence = store.next_number(invoice.tenant, DocumentKind::CreditNote, &series)?;
                Ok::<_, crate::ports::RepositoryError>(DocumentNumber { series, sequence })
            })?)
        })
    }

    /// Voids an open or uncollectible invoice.
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

    /// Marks an open invoice uncollectible: collection halts.
    pub fn mark_uncollectible<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        reason: Option<Reason>,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::MarkUncollectible, |invoice, ctx, _| {
            Ok(invoice.mark_uncollectible(reason, ctx)?)
        })
    }
}
