//! Finalizing a draft: numbering it and opening it for collection.

use chrono::Duration;

use crate::einvoice::{self, EDocument, Profile};
use crate::error::Refusal;
use crate::model::balance::{BalanceDirection, BalanceEntry};
use crate::model::event::EventKind;
use crate::model::ids::{BalanceEntryId, PaymentId};
use crate::model::invoice::Approval;
use crate::model::invoice::{CollectionMethod, Invoice, InvoiceStatus};
use crate::model::money::{Amount, PositiveAmount};
use crate::model::number::DocumentNumber;
use crate::model::payment::{Payment, PaymentSource};
use crate::model::seller::SellerProfile;
use crate::rules::{Builder, Change, Context, NumberedError, Transition};

/// Delay between finalizing and the first automatic payment attempt.
pub const FIRST_ATTEMPT_DELAY_HOURS: i64 = 1;

impl Invoice {
    /// Checks that the invoice may be finalized, without drawing a number.
    pub fn check_finalize(&self) -> Result<(), Refusal> {
        if self.status != InvoiceStatus::Draft {
            self.ensure_not_terminal()?;
            return Err(Refusal::InvoiceNotDraft);
        }
        if self.lines.is_empty() {
            return Err(Refusal::InvoiceHasNoLines);
        }
        Ok(())
    }

    /// The seller this draft's document would name: its issuer, or else
    /// the tenant's seller `profile`.
    pub fn seller_for(&self, profile: &SellerProfile) -> SellerProfile {
        match &self.issuer {
            Some(issuer) => profile.for_issuer(issuer),
            None => profile.clone(),
        }
    }

    /// Checks that the draft, once issued, could be sent as an EN 16931
    /// e-invoice with `seller`, without drawing a number.
    pub fn check_en16931(&self, seller: &SellerProfile, ctx: Context<'_>) -> Result<(), Refusal> {
        let mut preview = self.clone();
        preview.number = DocumentNumber::new(self.series.clone(), 1).ok();
        preview.issued_at = Some(ctx.now);
        preview.seller = Some(seller.clone());
        match EDocument::of_invoice(&preview, seller) {
            Some(doc) => einvoice::check(&doc, Profile::En16931).map_err(Refusal::DocumentIncomplete),
            None => Ok(()),
        }
    }

    /// Finalizes a draft as [`Invoice::finalize_applying_balance`] does,
    /// freezing the seller of its document (its issuer, or the tenant's
    /// `profile`). With `require_en16931` it first refuses, drawing no
    /// number, a draft whose document would lack what EN 16931 requires.
    pub fn finalize_with_seller<E>(
        &self,
        profile: &SellerProfile,
        require_en16931: bool,
        balance: Amount,
        ctx: Context<'_>,
        next_number: impl FnOnce() -> Result<DocumentNumber, E>,
    ) -> Result<Transition, NumberedError<E>> {
        self.check_finalize()?;
        let seller = self.seller_for(profile);
        if require_en16931 {
            self.check_en16931(&seller, ctx)?;
        }
        let mut transition = self.finalize_applying_balance(ctx, balance, next_number)?;
        transition.invoice.seller = Some(seller);
        Ok(transition)
    }

    /// Finalizes a draft: assigns the next number of its series (drawn from
    /// `next_number` only once every check passed), sets the issue date and
    /// starts collection. From here on the invoice is a document that never
    /// changes. One whose total is zero owes nothing and is paid at once.
    pub fn finalize<E>(
        &self,
        ctx: Context<'_>,
        next_number: impl FnOnce() -> Result<DocumentNumber, E>,
    ) -> Result<Transition, NumberedError<E>> {
        self.finalize_applying_balance(ctx, Amount::ZERO, next_number)
    }

    /// Finalizes a draft as [`Invoice::finalize`] does, then spends up to
    /// `balance` (the customer's credit balance in the invoice's currency,
    /// read in the same transaction) on it: a payment from the balance on
    /// the invoice and a debit in the customer's ledger, never a silent
    /// change. Nothing is spent while an approval is pending.
    pub fn finalize_applying_balance<E>(
        &self,
        ctx: Context<'_>,
        balance: Amount,
        next_number: impl FnOnce() -> Result<DocumentNumber, E>,
    ) -> Result<Transition, NumberedError<E>> {
        self.check_finalize()?;
        let number = next_number().map_err(NumberedError::Number)?;
        let mut b = Builder::new(self, ctx);
        let inv = b.invoice();
        inv.status = InvoiceStatus::Open;
        inv.number = Some(number.clone());
        inv.issued_at = Some(ctx.now);
        if inv.collection.method == CollectionMethod::Automatic {
            inv.collection.next_payment_attempt = Some(ctx.now + Duration::hours(FIRST_ATTEMPT_DELAY_HOURS));
        }
        b.event(EventKind::Finalized {
            number: number.to_string(),
        });
        let due = b.invoice().totals().amount_due;
        let spend = balance.min(due);
        if let (Ok(amount), Approval::NotRequired) = (PositiveAmount::new(spend.minor()), &self.approval) {
            spend_balance(&mut b, amount, balance.saturating_sub(spend));
        }
        if b.invoice().totals().amount_due.is_zero() {
            b.mark_paid();
        }
        Ok(b.finish())
    }
}

/// Pays `amount` of the invoice from the customer's credit balance: a
/// payment on the invoice and the matching debit in the ledger, leaving
/// `balance_after`.
fn spend_balance(b: &mut Builder<'_>, amount: PositiveAmount, balance_after: Amount) {
    let ctx = b.ctx;
    let payment_id = PaymentId::from_uuid(ctx.ids.new_id());
    let inv = b.invoice();
    inv.payments.push(Payment {
        id: payment_id,
        amount,
        method: Some("credit_balance".into()),
        reference: None,
        received_at: ctx.now,
        refunds: Vec::new(),
        source: PaymentSource::CustomerBalance,
    });
    let entry = BalanceEntry {
        id: BalanceEntryId::from_uuid(ctx.ids.new_id()),
        tenant: inv.tenant,
        customer: inv.customer.id.clone(),
        currency: inv.currency,
        direction: BalanceDirection::Debit,
        amount,
        balance_after,
        invoice_id: inv.id,
        credit_note_id: None,
        payment_id: Some(payment_id),
        refund_id: None,
        at: ctx.now,
    };
    b.change(Change::PaymentRecorded(payment_id));
    b.event(EventKind::PaymentRecorded {
        payment_id,
        amount: amount.amount(),
    });
    b.event(EventKind::BalanceChanged {
        customer_id: entry.customer.clone(),
        currency: entry.currency,
        direction: BalanceDirection::Debit,
        amount: amount.amount(),
        balance: balance_after,
    });
    b.balance_entry(entry);
}
