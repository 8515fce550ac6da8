//! Use case: finalize a draft, drawing its number in the same transaction.

use crate::model::money::Amount;
use crate::ports::{
    BalanceRepository, Clock, DocumentKind, IdGenerator, InvoiceRepository, NumberAllocator, RepositoryError,
    SettingsRepository,
};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Finalizes a draft: number, issue date, collection start, and the
    /// seller frozen on the document from the tenant's settings, which may
    /// require every issued invoice to be a complete EN 16931 e-invoice.
    /// When the tenant applies credit balances, the customer's balance in
    /// the invoice's currency is spent on it in the same transaction.
    pub fn finalize<S: InvoiceRepository + NumberAllocator + SettingsRepository + BalanceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Finalize, |invoice, ctx, store| {
            invoice.check_finalize()?;
            let settings = store.settings(invoice.tenant)?;
            let balance = if settings.apply_credit_balance {
                store.balance(invoice.tenant, &invoice.customer.id, invoice.currency)?
            } else {
                Amount::ZERO
            };
            Ok(
                invoice.finalize_with_seller(&settings.seller, settings.require_en16931, balance, ctx, || {
                    let slot = settings
                        .invoice_number_format
                        .slot(&invoice.series, ctx.now.date_naive());
                    let sequence = store.next_number(invoice.tenant, DocumentKind::Invoice, &slot.counter())?;
                    slot.number(sequence).map_err(|e| RepositoryError::Other(e.to_string()))
                })?,
            )
        })
    }
}
