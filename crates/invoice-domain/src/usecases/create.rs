//! Use case: create a draft invoice.

use crate::commands::NewInvoice;
use crate::model::event::Actor;
use crate::model::invoice::Invoice;
use crate::ports::{Clock, IdGenerator, InvoiceRepository};
use crate::rules::Transition;
use crate::usecases::{InvoiceService, Scope, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Creates and saves a draft. A party-restricted caller may only create
    /// invoices it is party to.
    pub fn create_draft<S: InvoiceRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        actor: &Actor,
        new: NewInvoice,
    ) -> Result<Transition, UseCaseError> {
        let transition = Invoice::create_draft(scope.tenant, new, self.context(actor));
        scope.check(&transition.invoice)?;
        store.save(&transition)?;
        Ok(transition)
    }
}
