//! Use cases: record a payment, refund one.

use crate::commands::{NewPayment, RefundRequest};
use crate::ports::{Clock, IdGenerator, InvoiceRepository};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Records a payment; the invoice becomes paid when nothing is due.
    pub fn record_payment<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        payment: NewPayment,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::RecordPayment, |invoice, ctx, _| {
            Ok(invoice.record_payment(payment, ctx)?)
        })
    }

    /// Refunds (part of) a payment.
    pub fn refund<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        request: RefundRequest,
    ) -> Result<Transition, UseCaseError> {
        self.transition(store, target, Action::Refund, |invoice, ctx, _| {
            Ok(invoice.refund_payment(request, ctx)?)
        })
    }
}
