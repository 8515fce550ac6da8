//! Use cases: cancel (fully or by lines), credit, void, reissue, write off.

use chrono::NaiveDate;

use crate::commands::{CancelRequest, CreditRequest, ReissueRequest, Settlement};
use crate::model::invoice::Invoice;
use crate::model::money::Amount;
use crate::model::number::DocumentNumber;
use crate::model::reason::Reason;
use crate::ports::{
    BalanceRepository, Clock, DocumentKind, IdGenerator, InvoiceRepository, NumberAllocator, RepositoryError,
    SettingsRepository,
};
use crate::rules::{Reissue, Transition};
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

/// Draws the next credit-note number of the invoice's tenant, in the series
/// and format its settings name, for a credit note issued on `date`.
fn next_credit_note_number<S: NumberAllocator + SettingsRepository>(
    store: &mut S,
    invoice: &Invoice,
    date: NaiveDate,
) -> Result<DocumentNumber, RepositoryError> {
    let settings = store.settings(invoice.tenant)?;
    let slot = settings
        .credit_note_number_format
        .slot(&settings.credit_note_series, date);
    let sequence = store.next_number(invoice.tenant, DocumentKind::CreditNote, &slot.counter())?;
    slot.number(sequence).map_err(|e| RepositoryError::Other(e.to_string()))
}

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
                next_credit_note_number(store, invoice, ctx.now.date_naive())
            })?)
        })
    }

    /// Issues a credit note on an open, uncollectible or paid invoice,
    /// settled as the request says; a settlement onto the customer's credit
    /// balance reads and changes that balance in the same transaction.
    pub fn credit<S: InvoiceRepository + NumberAllocator + SettingsRepository + BalanceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        request: &CreditRequest,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Credit, |invoice, ctx, store| {
            let balance = match request.settle() {
                Settlement::ReduceDue => Amount::ZERO,
                Settlement::Refund | Settlement::CreditBalance => {
                    store.balance(invoice.tenant, &invoice.customer.id, invoice.currency)?
                }
            };
            Ok(invoice.credit(request, balance, ctx, || {
                next_credit_note_number(store, invoice, ctx.now.date_naive())
            })?)
        })
    }

    /// Voids an open or uncollectible invoice; by the tenant's policy it
    /// issues a credit note for everything still uncredited.
    pub fn void<S: InvoiceRepository + NumberAllocator + SettingsRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        reason: Option<Reason>,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Void, |invoice, ctx, store| {
            let policy = store.settings(invoice.tenant)?.void_credit_note;
            Ok(invoice.void(reason, policy, ctx, || {
                next_credit_note_number(store, invoice, ctx.now.date_naive())
            })?)
        })
    }

    /// Cancels an issued invoice with a credit note and creates its
    /// corrected draft in the same transaction; both are saved or neither.
    pub fn reissue<S: InvoiceRepository + NumberAllocator + SettingsRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        request: &ReissueRequest,
    ) -> Result<Reissue, UseCaseError> {
        let invoice = self.load(store, target, Action::Reissue)?;
        let ctx = self.context(target.actor);
        let serial = store.next_serial(invoice.tenant)?;
        let reissue = invoice.reissue(request, serial, ctx, || {
            next_credit_note_number(store, &invoice, ctx.now.date_naive())
        })?;
        store.save(&reissue.cancelled)?;
        store.save(&reissue.replacement)?;
        Ok(reissue)
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

    /// Records that an issued invoice was sent to its customer.
    pub fn mark_sent<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::MarkSent, |invoice, ctx, _| {
            Ok(invoice.mark_sent(ctx)?)
        })
    }
}
