//! The invoice aggregate: its state, totals and lifecycle records.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::model::credit_note::CreditNote;
use crate::model::event::Actor;
use crate::model::ids::{InvoiceId, PartyId, TenantId};
use crate::model::line::Line;
use crate::model::money::{bounded_sum, Amount, Currency};
use crate::model::number::{DocumentNumber, SeriesPrefix};
use crate::model::party::Party;
use crate::model::payment::Payment;
use crate::model::reason::Reason;
use crate::model::seller::SellerProfile;
use crate::model::tax::{self, TaxSubtotal};
use crate::model::text::Metadata;

/// Where an invoice is in its lifecycle.
///
/// `draft → open → paid`, with `uncollectible` beside `open`, plus
/// `cancelled` and `void`. `cancelled` and `void` are terminal; `paid` takes
/// nothing but credit notes and a reissue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Editable, unnumbered, not a document yet, not owed.
    Draft,
    /// Issued and numbered; money is owed and collected.
    Open,
    /// Issued, but written off as unlikely to be paid: collection halts. It
    /// can still be paid, voided or cancelled.
    Uncollectible,
    /// Nothing is due any more. Only credit notes and a reissue correct it.
    Paid,
    /// Cancelled: a discarded draft, or an issued invoice credited in full. Terminal.
    Cancelled,
    /// Voided: balance zero, collection halted. Terminal.
    Void,
}

impl InvoiceStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [InvoiceStatus; 6] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Open,
        InvoiceStatus::Uncollectible,
        InvoiceStatus::Paid,
        InvoiceStatus::Cancelled,
        InvoiceStatus::Void,
    ];

    /// True for issued invoices that may still owe money and take payments,
    /// refunds and credit notes: open or uncollectible.
    pub fn is_open_for_money(self) -> bool {
        matches!(self, InvoiceStatus::Open | InvoiceStatus::Uncollectible)
    }

    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Open => "open",
            InvoiceStatus::Uncollectible => "uncollectible",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Cancelled => "cancelled",
            InvoiceStatus::Void => "void",
        }
    }

    /// Parses the wire name.
    pub fn parse(value: &str) -> Option<Self> {
        InvoiceStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Whether payment is pulled automatically or awaited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CollectionMethod {
    /// We attempt payment on a dunning schedule.
    #[default]
    Automatic,
    /// The customer pays by themselves; no attempts are scheduled.
    Manual,
}

impl CollectionMethod {
    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionMethod::Automatic => "automatic",
            CollectionMethod::Manual => "manual",
        }
    }
}

/// How payment is collected, and whether collection has been halted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Collection {
    /// Automatic or manual.
    pub method: CollectionMethod,
    /// When the next automatic attempt is due, if any.
    pub next_payment_attempt: Option<DateTime<Utc>>,
    /// True once cancelled or voided: no payment is taken any more.
    pub halted: bool,
}

/// Payer-side approval of an invoice (the transporter flow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Approval {
    /// No approval is needed.
    NotRequired,
    /// Waiting for approval at `level` of `required` levels.
    Pending {
        /// The level awaited next (1-based).
        level: u8,
        /// How many levels must approve.
        required: u8,
    },
    /// Every level approved.
    Approved {
        /// When the last level approved.
        at: DateTime<Utc>,
    },
    /// The payer rejected the invoice.
    Rejected {
        /// When.
        at: DateTime<Utc>,
        /// Reasons given.
        reasons: Vec<String>,
        /// Free remark.
        remark: Option<String>,
        /// How many levels had to approve, so a reissue asks for them again
        /// (0 when rejected before this was kept).
        #[serde(default)]
        required: u8,
    },
}

impl Approval {
    /// The initial state for an invoice that needs `levels` approvals.
    pub fn requiring(levels: u8) -> Self {
        if levels == 0 {
            Approval::NotRequired
        } else {
            Approval::Pending {
                level: 1,
                required: levels,
            }
        }
    }
}

/// Who changed an invoice's status, when and why: kept for a full
/// cancellation, a void and a write-off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// Who, and through which API.
    pub actor: Actor,
    /// Why.
    pub reason: Option<Reason>,
}

/// The record of a full cancellation.
pub type CancellationRecord = ActionRecord;
/// The record of a void.
pub type VoidRecord = ActionRecord;
/// The record of marking an invoice uncollectible.
pub type UncollectibleRecord = ActionRecord;

/// An invoice's money: the document's totals as issued, and the balance
/// that credit notes, payments and refunds leave.
///
/// `amount_due = total − amount_credited − amount_paid`, never below zero,
/// and zero once the invoice is void or cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Sum of the document's lines' net amounts (BT-109).
    pub subtotal: Amount,
    /// Sum of the document's lines' taxes (BT-110).
    pub tax: Amount,
    /// `subtotal + tax`, as issued (BT-112); credit notes never change it.
    pub total: Amount,
    /// Sum of the credit notes' totals.
    pub amount_credited: Amount,
    /// Payments minus refunds.
    pub amount_paid: Amount,
    /// Sum of all refunds.
    pub amount_refunded: Amount,
    /// What is still owed.
    pub amount_due: Amount,
}

/// An invoice: the aggregate every rule works on.
///
/// Fields are public for reading and for repositories that restore stored
/// state; change an invoice only through its transition methods (see
/// [`crate::rules`]), which keep every invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// Stable id (UUID v7).
    pub id: InvoiceId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// The tenant's integer id for the invoice (1, 2, 3… in creation
    /// order), for APIs that name invoices by integers. 0 only on invoices
    /// stored before serials existed and not yet read back from storage.
    #[serde(default)]
    pub serial: u64,
    /// Assigned at finalize from `series`; kept forever afterwards.
    pub number: Option<DocumentNumber>,
    /// The number series the invoice draws from.
    pub series: SeriesPrefix,
    /// Lifecycle state.
    pub status: InvoiceStatus,
    /// Invoice currency.
    pub currency: Currency,
    /// Who issues the invoice (the supplier or transporter).
    pub issuer: Option<Party>,
    /// Who owes it.
    pub customer: Party,
    /// Lines, in order. Once issued they are the document's lines and never
    /// change; credited lines stay, marked.
    pub lines: Vec<Line>,
    /// Payments, oldest first.
    pub payments: Vec<Payment>,
    /// Collection settings and state.
    pub collection: Collection,
    /// Payer approval state.
    pub approval: Approval,
    /// Set once fully cancelled.
    pub cancellation: Option<CancellationRecord>,
    /// Set once voided.
    pub void: Option<VoidRecord>,
    /// Set while (and after) the invoice was marked uncollectible.
    #[serde(default)]
    pub uncollectible: Option<UncollectibleRecord>,
    /// The invoice this draft was reissued from.
    #[serde(default)]
    pub replaces: Option<InvoiceId>,
    /// The draft that replaces this invoice after a reissue.
    #[serde(default)]
    pub replaced_by: Option<InvoiceId>,
    /// Credit notes issued against this invoice, oldest first.
    pub credit_notes: Vec<CreditNote>,
    /// When payment is due.
    pub due_date: Option<NaiveDate>,
    /// The supplier's own invoice number.
    pub external_reference: Option<String>,
    /// The buyer's reference for routing the invoice (EN 16931 BT-10).
    #[serde(default)]
    pub buyer_reference: Option<String>,
    /// The seller as the document names it (BG-4), frozen at finalize from
    /// the issuer or the tenant's seller profile; `None` on drafts and on
    /// invoices issued before seller profiles existed.
    #[serde(default)]
    pub seller: Option<SellerProfile>,
    /// Caller-defined string pairs.
    pub metadata: Metadata,
    /// Bumped by every transition; used for optimistic concurrency.
    pub version: u64,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When the invoice last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was finalized (its issue date).
    pub issued_at: Option<DateTime<Utc>>,
    /// When it became paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// When it was voided.
    pub voided_at: Option<DateTime<Utc>>,
    /// When it was last marked as sent to the customer.
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
}

impl Invoice {
    /// The document's totals and the balance left by credit notes, payments
    /// and refunds.
    pub fn totals(&self) -> Totals {
        let subtotal = bounded_sum(self.lines.iter().map(|l| l.amounts.net));
        let tax = bounded_sum(self.lines.iter().map(|l| l.amounts.tax));
        let total = bounded_sum(self.lines.iter().map(|l| l.amounts.gross));
        let amount_credited = self.amount_credited();
        let amount_paid = self.amount_paid();
        let amount_due = match self.status {
            InvoiceStatus::Cancelled | InvoiceStatus::Void => Amount::ZERO,
            _ => total.saturating_sub(amount_credited).saturating_sub(amount_paid),
        };
        Totals {
            subtotal,
            tax,
            total,
            amount_credited,
            amount_paid,
            amount_refunded: self.amount_refunded(),
            amount_due,
        }
    }

    /// The VAT breakdown of the document (BG-23): one entry per category
    /// and rate, summing to the subtotal and the tax.
    pub fn tax_breakdown(&self) -> Vec<TaxSubtotal> {
        tax::breakdown(self.lines.iter().map(|l| (&l.tax, &l.amounts)))
    }

    /// Payments minus refunds.
    pub fn amount_paid(&self) -> Amount {
        bounded_sum(self.payments.iter().map(Payment::net))
    }

    /// Sum of all refunds.
    pub fn amount_refunded(&self) -> Amount {
        bounded_sum(self.payments.iter().map(Payment::refunded))
    }

    /// Sum of the credit notes' totals.
    pub fn amount_credited(&self) -> Amount {
        bounded_sum(self.credit_notes.iter().map(CreditNote::total))
    }

    /// True once the invoice was issued as a numbered document.
    pub fn is_issued(&self) -> bool {
        self.number.is_some() && self.issued_at.is_some()
    }

    /// True when `party` is this invoice's issuer or customer.
    pub fn involves(&self, party: &PartyId) -> bool {
        &self.customer.id == party || self.issued_by(party)
    }

    /// True when `party` issued this invoice.
    pub fn issued_by(&self, party: &PartyId) -> bool {
        self.issuer.as_ref().is_some_and(|i| &i.id == party)
    }

    /// The number as printed (`INV-000052`), if finalized.
    pub fn number_text(&self) -> Option<String> {
        self.number.as_ref().map(|n| n.as_str().to_string())
    }
}
