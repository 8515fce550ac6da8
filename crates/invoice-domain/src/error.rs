//! Errors of the domain layer.
//!
//! Each layer of Storno owns its error type and converts at its boundary:
//!
//! * [`ValidationError`]: a value could not be parsed into a domain type
//!   (bad currency, negative quantity…). Adapters report it as invalid input.
//! * [`Refusal`]: a business rule refused a transition. Every variant has a
//!   stable snake_case [`Refusal::code`] that APIs expose as-is; a refusal
//!   never changes the invoice.
//! * [`RepositoryError`](crate::ports::RepositoryError): what a storage
//!   adapter may report through the ports.
//! * [`UseCaseError`](crate::usecases::UseCaseError): what a use case returns,
//!   wrapping the three above plus not-found, ownership and version conflicts.

use std::fmt;

/// A value that failed to parse into a domain type, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct ValidationError {
    /// The field (JSON path) that holds the bad value, e.g. `lines[2].quantity`.
    pub field: String,
    /// What is wrong with it, in plain words.
    pub message: String,
}

impl ValidationError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field with its parent path (`lines[2]` + `quantity`).
    pub fn within(mut self, parent: impl fmt::Display) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

/// A business rule refused the requested transition; the invoice is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Finalize was asked of an invoice that is not a draft.
    #[error("only a draft invoice can be finalized")]
    InvoiceNotDraft,
    /// Finalize was asked of a draft without any active line.
    #[error("an invoice needs at least one line to be finalized")]
    InvoiceHasNoLines,
    /// Cancel or void while money is still held: refund it first.
    #[error("the invoice has payments that are not refunded; refund them first")]
    InvoiceHasPayments,
    /// The invoice is paid, a terminal state.
    #[error("the invoice is paid")]
    InvoicePaid,
    /// The invoice is already cancelled, a terminal state.
    #[error("the invoice is already cancelled")]
    InvoiceAlreadyCancelled,
    /// The invoice is already void, a terminal state.
    #[error("the invoice is already void")]
    InvoiceAlreadyVoid,
    /// The invoice was approved by the payer and can no longer be withdrawn.
    #[error("the invoice has been approved and can no longer be cancelled or voided")]
    InvoiceApproved,
    /// Void, credit or reissue was asked of a draft: a draft is not a
    /// document yet, so it is edited or cancelled (discarded) instead.
    #[error("a draft is not a document yet; cancel or change it instead")]
    InvoiceIsDraft,
    /// A line reference matched no line of the invoice.
    #[error("no line matches {0}")]
    LineNotFound(String),
    /// A line reference matched several active lines.
    #[error("{0} matches several active lines; reference the line by line_id")]
    LineReferenceAmbiguous(String),
    /// The referenced line is already cancelled.
    #[error("line {0} is already cancelled")]
    LineAlreadyCancelled(String),
    /// Cancelling these lines would bring the total below what was paid.
    #[error("cancelling these lines would bring the total below the amount already paid")]
    CancellationBelowPaidAmount,
    /// Collection is halted (cancelled or void): no payment is accepted.
    #[error("the invoice is not collectible")]
    InvoiceNotCollectible,
    /// Payments and refunds are recorded against open invoices only.
    #[error("the invoice is not open")]
    InvoiceNotOpen,
    /// The payment exceeds the amount due.
    #[error("the payment exceeds the amount due")]
    Overpayment,
    /// The payment to refund does not exist on this invoice.
    #[error("no such payment on this invoice")]
    PaymentNotFound,
    /// The refund exceeds what is left of the payment.
    #[error("the refund exceeds the unrefunded part of the payment")]
    RefundExceedsPayment,
    /// Approve or reject while no approval is pending.
    #[error("the invoice has no pending approval")]
    ApprovalNotPending,
    /// Payment before the payer approved the invoice.
    #[error("the invoice awaits approval")]
    InvoiceAwaitingApproval,
    /// Payment on an invoice the payer rejected.
    #[error("the invoice was rejected by the payer")]
    InvoiceRejected,
    /// The invoice is already marked uncollectible.
    #[error("the invoice is already marked uncollectible")]
    InvoiceAlreadyUncollectible,
    /// The invoice holds as many payments as one invoice may.
    #[error("the invoice has reached the maximum number of payments")]
    TooManyPayments,
    /// A credit asks for more of a line than is left uncredited.
    #[error("{0}: the credit exceeds what is left uncredited of the line")]
    CreditExceedsLine(String),
    /// The credit notes would exceed the invoice's total.
    #[error("the credit notes would exceed the invoice total")]
    CreditExceedsTotal,
    /// A credit settled by reducing the amount due exceeds it.
    #[error("the credit exceeds the amount due; settle it by refund or credit_balance")]
    CreditExceedsAmountDue,
    /// A credit settled by refund or onto the balance exceeds the net paid.
    #[error("the credit exceeds the net amount paid")]
    CreditExceedsAmountPaid,
    /// A reissue while money is held: payments stay with the old invoice, which must have none.
    #[error("the invoice holds payments; refund them (or credit with a refund) before reissuing")]
    ReissueHasPayments,
    /// A draft has no document yet: it is finalized first.
    #[error("a draft is not a document yet; finalize it first")]
    InvoiceNotIssued,
    /// The document lacks what EN 16931 requires (the document routes, and
    /// finalize when the tenant requires e-invoices).
    #[error("{0}")]
    DocumentIncomplete(crate::einvoice::Incomplete),
}

impl Refusal {
    /// The kind of this refusal without its details, for code that decides
    /// by the kind: matching a variant, a misspelt code does not compile.
    pub fn kind(&self) -> RefusalCode {
        match self {
            Refusal::InvoiceNotDraft => RefusalCode::InvoiceNotDraft,
            Refusal::InvoiceHasNoLines => RefusalCode::InvoiceHasNoLines,
            Refusal::InvoiceHasPayments => RefusalCode::InvoiceHasPayments,
            Refusal::InvoicePaid => RefusalCode::InvoicePaid,
            Refusal::InvoiceAlreadyCancelled => RefusalCode::InvoiceAlreadyCancelled,
            Refusal::InvoiceAlreadyVoid => RefusalCode::InvoiceAlreadyVoid,
            Refusal::InvoiceApproved => RefusalCode::InvoiceApproved,
            Refusal::InvoiceIsDraft => RefusalCode::InvoiceIsDraft,
            Refusal::LineNotFound(_) => RefusalCode::LineNotFound,
            Refusal::LineReferenceAmbiguous(_) => RefusalCode::LineReferenceAmbiguous,
            Refusal::LineAlreadyCancelled(_) => RefusalCode::LineAlreadyCancelled,
            Refusal::CancellationBelowPaidAmount => RefusalCode::CancellationBelowPaidAmount,
            Refusal::InvoiceNotCollectible => RefusalCode::InvoiceNotCollectible,
            Refusal::InvoiceNotOpen => RefusalCode::InvoiceNotOpen,
            Refusal::Overpayment => RefusalCode::Overpayment,
            Refusal::PaymentNotFound => RefusalCode::PaymentNotFound,
            Refusal::RefundExceedsPayment => RefusalCode::RefundExceedsPayment,
            Refusal::ApprovalNotPending => RefusalCode::ApprovalNotPending,
            Refusal::InvoiceAwaitingApproval => RefusalCode::InvoiceAwaitingApproval,
            Refusal::InvoiceRejected => RefusalCode::InvoiceRejected,
            Refusal::InvoiceAlreadyUncollectible => RefusalCode::InvoiceAlreadyUncollectible,
            Refusal::TooManyPayments => RefusalCode::TooManyPayments,
            Refusal::CreditExceedsLine(_) => RefusalCode::CreditExceedsLine,
            Refusal::CreditExceedsTotal => RefusalCode::CreditExceedsTotal,
            Refusal::CreditExceedsAmountDue => RefusalCode::CreditExceedsAmountDue,
            Refusal::CreditExceedsAmountPaid => RefusalCode::CreditExceedsAmountPaid,
            Refusal::ReissueHasPayments => RefusalCode::ReissueHasPayments,
            Refusal::InvoiceNotIssued => RefusalCode::InvoiceNotIssued,
            Refusal::DocumentIncomplete(_) => RefusalCode::DocumentIncomplete,
        }
    }

    /// The stable snake_case code that APIs expose for this refusal.
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// Defines [`RefusalCode`] and its wire text from one list, so each kind's
/// name and code stand side by side once.
macro_rules! refusal_codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// The kind of a [`Refusal`], one variant per stable code: what an
        /// adapter matches on to treat some refusals apart.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum RefusalCode {
            $($(#[$doc])* $variant,)*
        }

        impl RefusalCode {
            /// Every kind, in the order of [`Refusal`]'s variants.
            pub const ALL: &'static [RefusalCode] = &[$(RefusalCode::$variant,)*];

            /// The stable snake_case code that APIs expose.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RefusalCode::$variant => $text,)*
                }
            }
        }
    };
}

refusal_codes! {
    /// [`Refusal::InvoiceNotDraft`].
    InvoiceNotDraft = "invoice_not_draft",
    /// [`Refusal::InvoiceHasNoLines`].
    InvoiceHasNoLines = "invoice_has_no_lines",
    /// [`Refusal::InvoiceHasPayments`].
    InvoiceHasPayments = "invoice_has_payments",
    /// [`Refusal::InvoicePaid`].
    InvoicePaid = "invoice_paid",
    /// [`Refusal::InvoiceAlreadyCancelled`].
    InvoiceAlreadyCancelled = "invoice_already_cancelled",
    /// [`Refusal::InvoiceAlreadyVoid`].
    InvoiceAlreadyVoid = "invoice_already_void",
    /// [`Refusal::InvoiceApproved`].
    InvoiceApproved = "invoice_approved",
    /// [`Refusal::InvoiceIsDraft`].
    InvoiceIsDraft = "invoice_is_draft",
    /// [`Refusal::LineNotFound`].
    LineNotFound = "line_not_found",
    /// [`Refusal::LineReferenceAmbiguous`].
    LineReferenceAmbiguous = "line_reference_ambiguous",
    /// [`Refusal::LineAlreadyCancelled`].
    LineAlreadyCancelled = "line_already_cancelled",
    /// [`Refusal::CancellationBelowPaidAmount`].
    CancellationBelowPaidAmount = "cancellation_below_paid_amount",
    /// [`Refusal::InvoiceNotCollectible`].
    InvoiceNotCollectible = "invoice_not_collectible",
    /// [`Refusal::InvoiceNotOpen`].
    InvoiceNotOpen = "invoice_not_open",
    /// [`Refusal::Overpayment`].
    Overpayment = "overpayment",
    /// [`Refusal::PaymentNotFound`].
    PaymentNotFound = "payment_not_found",
    /// [`Refusal::RefundExceedsPayment`].
    RefundExceedsPayment = "refund_exceeds_payment",
    /// [`Refusal::ApprovalNotPending`].
    ApprovalNotPending = "approval_not_pending",
    /// [`Refusal::InvoiceAwaitingApproval`].
    InvoiceAwaitingApproval = "invoice_awaiting_approval",
    /// [`Refusal::InvoiceRejected`].
    InvoiceRejected = "invoice_rejected",
    /// [`Refusal::InvoiceAlreadyUncollectible`].
    InvoiceAlreadyUncollectible = "invoice_already_uncollectible",
    /// [`Refusal::TooManyPayments`].
    TooManyPayments = "too_many_payments",
    /// [`Refusal::CreditExceedsLine`].
    CreditExceedsLine = "credit_exceeds_line",
    /// [`Refusal::CreditExceedsTotal`].
    CreditExceedsTotal = "credit_exceeds_total",
    /// [`Refusal::CreditExceedsAmountDue`].
    CreditExceedsAmountDue = "credit_exceeds_amount_due",
    /// [`Refusal::CreditExceedsAmountPaid`].
    CreditExceedsAmountPaid = "credit_exceeds_amount_paid",
    /// [`Refusal::ReissueHasPayments`].
    ReissueHasPayments = "reissue_has_payments",
    /// [`Refusal::InvoiceNotIssued`].
    InvoiceNotIssued = "invoice_not_issued",
    /// [`Refusal::DocumentIncomplete`].
    DocumentIncomplete = "document_incomplete",
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_codes_are_distinct_snake_case_words() {
        let mut seen = std::collections::BTreeSet::new();
        for code in RefusalCode::ALL {
            let text = code.as_str();
            assert!(
                !text.is_empty() && !text.starts_with('_') && !text.ends_with('_'),
                "{text}"
            );
            assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{text}");
            assert!(!text.contains("__"), "{text}");
            assert!(seen.insert(text), "{text} twice");
        }
    }

    #[test]
    fn a_refusal_reports_its_kind_code() {
        let refusal = Refusal::LineNotFound("line 3".into());
        assert_eq!(refusal.kind(), RefusalCode::LineNotFound);
        assert_eq!(refusal.code(), "line_not_found");
        assert_eq!(Refusal::Overpayment.code(), RefusalCode::Overpayment.to_string());
    }
}
