//! Use case: finalize a draft, drawing its number in the same transaction.

use crate::model::number::DocumentNumber;
use crate::ports::{Clock, DocumentKind, IdGenerator, InvoiceRepository, NumberAllocator};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Finalizes a draft: number, issue date, collection start.
    pub fn finalize<S: InvoiceRepository + NumberAllocator>(
        &self,
        store: &mut S,
        target: &Target<'_>,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Finalize, |invoice, ctx, store| {
            Ok(invoice.finalize(ctx, || {
                let series = invoice.series.clone();
                let sequence = store.next_number(invoice.tenant, DocumentKind::Invoice, &series)?;
                Ok::<_, crate::ports::RepositoryError>(DocumentNumber { series, sequence })
            })?)
        })
    }
}
