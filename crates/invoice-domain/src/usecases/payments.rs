//! Use cases: record a payment, refund one.

use crate::model::ids::PaymentId;
use crate::model::money::Amount;
use crate::ports::{Clock, IdGenerator, InvoiceRepository};
use crate::rules::NewPayment;
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Target, UseCaseError};

/// A refund to record against one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The payment refunded.
    pub payment_id: PaymentId,
    /// How much, positive.
    pub amount: Amount,
    /// Why.
    pub reason: Option<String>,
}

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
            Ok(invoice.refund_payment(request.payment_id, request.amount, request.reason, ctx)?)
        })
    }
}
