//! Recording payments and refunds against open invoices.

use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::ids::{PaymentId, RefundId};
use crate::model::invoice::{Approval, Invoice, InvoiceStatus};
use crate::model::money::Amount;
use crate::model::payment::{Payment, Refund};
use crate::rules::{Builder, Change, Context, Transition};

/// A payment to record, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    /// Positive amount in minor units.
    pub amount: Amount,
    /// How it was paid.
    pub method: Option<String>,
    /// The payer's or processor's reference.
    pub reference: Option<String>,
}

impl Invoice {
    /// Refuses money movements on invoices that are not open and collectible.
    fn ensure_collectible(&self) -> Result<(), Refusal> {
        match self.status {
            InvoiceStatus::Open => Ok(()),
            InvoiceStatus::Draft => Err(Refusal::InvoiceNotOpen),
            InvoiceStatus::Paid => Err(Refusal::InvoicePaid),
            InvoiceStatus::Cancelled | InvoiceStatus::Void => Err(Refusal::InvoiceNotCollectible),
        }?;
        if self.collection.halted {
            return Err(Refusal::InvoiceNotCollectible);
        }
        Ok(())
    }

    /// Records a payment on an open, collectible, approved-or-unapproval
    /// invoice. Overpayment is refused; reaching zero due makes it paid.
    pub fn record_payment(&self, payment: NewPayment, ctx: Context<'_>) -> Result<Transition, Refusal> {
        self.ensure_collectible()?;
        match self.approval {
            Approval::Pending { .. } => return Err(Refusal::InvoiceAwaitingApproval),
            Approval::Rejected { .. } => return Err(Refusal::InvoiceRejected),
            Approval::NotRequired | Approval::Approved { .. } => {}
        }
        if payment.amount > self.totals().amount_due {
            return Err(Refusal::Overpayment);
        }
        let id = PaymentId::from_uuid(ctx.ids.new_id());
        let mut b = Builder::new(self, ctx);
        let inv = b.invoice();
        inv.payments.push(Payment {
            id,
            amount: payment.amount,
            method: payment.method,
            reference: payment.reference,
            received_at: ctx.now,
            refunds: Vec::new(),
        });
        let paid = inv.totals().amount_due.is_zero();
        if paid {
            inv.status = InvoiceStatus::Paid;
            inv.paid_at = Some(ctx.now);
            inv.collection.next_payment_attempt = None;
        }
        b.change(Change::PaymentRecorded(id));
        b.event(EventKind::PaymentRecorded {
            payment_id: id,
            amount: payment.amount,
        });
        if paid {
            b.event(EventKind::Paid);
        }
        Ok(b.finish())
    }

    /// Refunds (part of) a payment of an open invoice.
    pub fn refund_payment(
        &self,
        payment_id: PaymentId,
        amount: Amount,
        reason: Option<String>,
        ctx: Context<'_>,
    ) -> Result<Transition, Refusal> {
        self.ensure_collectible()?;
        let index = self
            .payments
            .iter()
            .position(|p| p.id == payment_id)
            .ok_or(Refusal::PaymentNotFound)?;
        if amount > self.payments[index].net() {
            return Err(Refusal::RefundExceedsPayment);
        }
        let id = RefundId::from_uuid(ctx.ids.new_id());
        let mut b = Builder::new(self, ctx);
        b.invoice().payments[index].refunds.push(Refund {
            id,
            amount,
            reason,
            refunded_at: ctx.now,
        });
        b.change(Change::RefundRecorded {
            payment: payment_id,
            refund: id,
        });
        b.event(EventKind::PaymentRefunded {
            payment_id,
            refund_id: id,
            amount,
        });
        Ok(b.finish())
    }
}
