//! Use case: create a draft invoice.

use crate::commands::NewInvoice;
use crate::model::event::Actor;
use crate::model::invoice::Invoice;
use crate::ports::{Clock, IdGenerator, InvoiceRepository, NumberAllocator};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Scope, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Creates and saves a draft. A party-restricted caller may only create
    /// invoices it issues, so that it can never act in another party's name.
    pub fn create_draft<S: InvoiceRepository + NumberAllocator>(
        &self,
        store: &mut S,
        scope: &Scope,
        actor: &Actor,
        new: NewInvoice,
    ) -> Result<Transition, UseCaseError> {
        // A refused create rolls back with the caller's transaction, and
        // its serial with it.
        let serial = store.next_serial(scope.tenant)?;
        let transition = Invoice::create_draft(scope.tenant, serial, new, self.context(actor));
        scope.authorize(&transition.invoice, Action::Create)?;
        store.save(&transition)?;
        Ok(transition)
    }
}
