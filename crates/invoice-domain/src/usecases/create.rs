//! Use case: create a draft invoice.

use crate::commands::NewInvoice;
use crate::model::event::Actor;
use crate::model::invoice::Invoice;
use crate::ports::{Clock, IdGenerator, InvoiceRepository};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Scope, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Creates and saves a draft. A party-restricted caller may only create
    /// invoices it issues, so that it can never act in another party's name.
    pub fn create_draft<S: InvoiceRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        actor: &Actor,
        new: NewInvoice,
    ) -> Result<Transition, UseCaseError> {
        let transition = Invoice::create_draft(scope.tenant, new, self.context(actor));
        scope.authorize(&transition.invoice, Action::Create)?;
        store.save(&transition)?;
        Ok(transition)
    }
}
