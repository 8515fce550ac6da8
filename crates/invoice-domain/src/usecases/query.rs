//! Use cases that only read: get, list, audit trail, credit note.

use crate::einvoice::{self, EDocument, Profile};
use crate::error::Refusal;
use crate::model::balance::CustomerBalance;
use crate::model::credit_note::CreditNote;
use crate::model::event::Event;
use crate::model::ids::{CreditNoteId, PartyId};
use crate::model::invoice::Invoice;
use crate::ports::{
    BalanceRepository, Clock, IdGenerator, InvoiceRef, InvoiceRepository, ListQuery, SettingsRepository,
};
use crate::usecases::{Action, InvoiceService, Scope, UseCaseError};

/// Largest page a list returns.
pub const MAX_PAGE: u32 = 100;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The invoices, newest first.
    pub invoices: Vec<Invoice>,
    /// True when more invoices follow the last one.
    pub has_more: bool,
}

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Loads one invoice visible to `scope`.
    pub fn get<S: InvoiceRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        reference: &InvoiceRef,
    ) -> Result<Invoice, UseCaseError> {
        let invoice = store.find(scope.tenant, reference)?.ok_or(UseCaseError::NotFound)?;
        scope.authorize(&invoice, Action::Read)?;
        Ok(invoice)
    }

    /// Lists invoices visible to `scope`, newest first; the limit is clamped
    /// to 1..=100, and one extra row is fetched to tell whether more follow.
    pub fn list<S: InvoiceRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        mut query: ListQuery,
    ) -> Result<Page, UseCaseError> {
        let limit = query.limit.clamp(1, MAX_PAGE) as usize;
        query.limit = limit as u32 + 1;
        if scope.party.is_some() {
            query.party.clone_from(&scope.party);
        }
        let mut invoices = store.list(scope.tenant, &query)?;
        invoices.retain(|i| scope.authorize(i, Action::Read).is_ok());
        let has_more = invoices.len() > limit;
        invoices.truncate(limit);
        Ok(Page { invoices, has_more })
    }

    /// The audit trail of an invoice visible to `scope`.
    pub fn events<S: InvoiceRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        reference: &InvoiceRef,
    ) -> Result<Vec<Event>, UseCaseError> {
        let invoice = self.get(store, scope, reference)?;
        Ok(store.events(scope.tenant, invoice.id)?)
    }

    /// A credit note whose invoice is visible to `scope`.
    pub fn credit_note<S: InvoiceRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        id: CreditNoteId,
    ) -> Result<CreditNote, UseCaseError> {
        let note = store.credit_note(scope.tenant, id)?.ok_or(UseCaseError::NotFound)?;
        if scope.party.is_some() {
            self.get(store, scope, &InvoiceRef::Id(note.invoice_id))?;
        }
        Ok(note)
    }

    /// The credit balances of `customer`, one per currency, with their
    /// ledgers. A party-restricted caller may read only its own balances.
    pub fn customer_balances<S: BalanceRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        customer: &PartyId,
    ) -> Result<Vec<CustomerBalance>, UseCaseError> {
        if scope.party.as_ref().is_some_and(|p| p != customer) {
            return Err(UseCaseError::NotOwned);
        }
        Ok(store.balances(scope.tenant, customer)?)
    }

    /// The e-invoice of an issued invoice visible to `scope`, refused with
    /// `invoice_not_issued` for a draft and `document_incomplete` (listing
    /// every missing field) when it lacks what `profile` requires.
    pub fn invoice_document<S: InvoiceRepository + SettingsRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        reference: &InvoiceRef,
        profile: Profile,
    ) -> Result<EDocument, UseCaseError> {
        let invoice = self.get(store, scope, reference)?;
        if !invoice.is_issued() {
            return Err(Refusal::InvoiceNotIssued.into());
        }
        let settings = store.settings(scope.tenant)?;
        let doc = EDocument::of_invoice(&invoice, &settings.seller).ok_or(Refusal::InvoiceNotIssued)?;
        einvoice::check(&doc, profile).map_err(Refusal::DocumentIncomplete)?;
        Ok(doc)
    }

    /// The e-invoice of a credit note whose invoice is visible to `scope`,
    /// built from the note's own lines, breakdown and totals, with the
    /// parties of its invoice; refused like [`InvoiceService::invoice_document`].
    pub fn credit_note_document<S: InvoiceRepository + SettingsRepository>(
        &self,
        store: &mut S,
        scope: &Scope,
        id: CreditNoteId,
        profile: Profile,
    ) -> Result<EDocument, UseCaseError> {
        let note = store.credit_note(scope.tenant, id)?.ok_or(UseCaseError::NotFound)?;
        let invoice = self.get(store, scope, &InvoiceRef::Id(note.invoice_id))?;
        let settings = store.settings(scope.tenant)?;
        let doc = EDocument::of_credit_note(&note, &invoice, &settings.seller);
        einvoice::check(&doc, profile).map_err(Refusal::DocumentIncomplete)?;
        Ok(doc)
    }
}
