//! Recording payments and refunds against issued invoices.

use crate::commands::{NewPayment, RefundRequest};
use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::ids::{PaymentId, RefundId};
use crate::model::invoice::{Approval, Invoice, InvoiceStatus};
use crate::model::payment::{Payment, Refund};
use crate::rules::{Builder, Change, Context, Transition};

/// Most payments one invoice may take. With every payment at most
/// [`crate::model::money::MAX_AMOUNT`], every sum of payments or refunds stays
/// below 10^18 minor units, so it fits `u64` and `i64` with room to spare.
pub const MAX_PAYMENTS: u64 = 1_000;

const _: () = assert!(match crate::model::money::MAX_AMOUNT.checked_mul(MAX_PAYMENTS) {
    Some(limit) => limit < i64::MAX.unsigned_abs(),
    None => false,
});

impl Invoice {
    /// Refuses money movements on invoices that are not issued and owing.
    fn ensure_collectible(&self) -> Result<(), Refusal> {
        match self.status {
            InvoiceStatus::Open | InvoiceStatus::Uncollectible => Ok(()),
            InvoiceStatus::Draft => Err(Refusal::InvoiceNotOpen),
            InvoiceStatus::Paid => Err(Refusal::InvoicePaid),
            InvoiceStatus::Cancelled | InvoiceStatus::Void => Err(Refusal::InvoiceNotCollectible),
        }
    }

    /// Records a payment on an open or uncollectible invoice that is
    /// approved or needs no approval. Overpayment is refused; reaching zero
    /// due makes it paid.
    pub fn record_payment(&self, payment: NewPayment, ctx: Context<'_>) -> Result<Transition, Refusal> {
        self.ensure_collectible()?;
        match self.approval {
            Approval::Pending { .. } => return Err(Refusal::InvoiceAwaitingApproval),
            Approval::Rejected { .. } => return Err(Refusal::InvoiceRejected),
            Approval::NotRequired | Approval::Approved { .. } => {}
        }
        if u64::try_from(self.payments.len()).map_or(true, |n| n >= MAX_PAYMENTS) {
            return Err(Refusal::TooManyPayments);
        }
        if payment.amount.amount() > self.totals().amount_due {
            return Err(Refusal::Overpayment);
        }
        let id = PaymentId::from_uuid(ctx.ids.new_id());
        let mut b = Builder::new(self, ctx);
        b.invoice().payments.push(Payment {
            id,
            amount: payment.amount,
            method: payment.method,
            reference: payment.reference,
            received_at: ctx.now,
            refunds: Vec::new(),
            source: crate::model::payment::PaymentSource::External,
        });
        b.change(Change::PaymentRecorded(id));
        b.event(EventKind::PaymentRecorded {
            payment_id: id,
            amount: payment.amount.amount(),
        });
        if b.invoice().totals().amount_due.is_zero() {
            b.mark_paid();
        }
        Ok(b.finish())
    }

    /// Refunds (part of) a payment of an open or uncollectible invoice.
    pub fn refund_payment(&self, request: RefundRequest, ctx: Context<'_>) -> Result<Transition, Refusal> {
        self.ensure_collectible()?;
        let index = self
            .payments
            .iter()
            .position(|p| p.id == request.payment_id)
            .ok_or(Refusal::PaymentNotFound)?;
        if request.amount.amount() > self.payments[index].net() {
            return Err(Refusal::RefundExceedsPayment);
        }
        let id = RefundId::from_uuid(ctx.ids.new_id());
        let mut b = Builder::new(self, ctx);
        b.invoice().payments[index].refunds.push(Refund {
            id,
            amount: request.amount,
            reason: request.reason,
            refunded_at: ctx.now,
            destination: crate::model::payment::RefundDestination::OriginalMethod,
        });
        b.change(Change::RefundRecorded {
            payment: request.payment_id,
            refund: id,
        });
        b.event(EventKind::PaymentRefunded {
            payment_id: request.payment_id,
            refund_id: id,
            amount: request.amount.amount(),
        });
        Ok(b.finish())
    }
}
