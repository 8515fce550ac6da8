//! Credit notes: the numbered, immutable documents that correct an issued
//! invoice, which itself never changes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::ids::{CreditNoteId, InvoiceId, LineId, TenantId};
use crate::model::money::{bounded_sum, Amount, Currency, LineAmounts, TaxRate};
use crate::model::number::DocumentNumber;
use crate::model::reason::Reason;
use crate::model::tax::{self, ExemptionReason, LineTax, TaxCategory, TaxSubtotal};

/// A correction document with its own gapless number series. It references
/// the credited invoice's number and issue date (EN 16931 BT-25, BT-26) and
/// carries its own lines, VAT breakdown and totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNote {
    /// Stable id.
    pub id: CreditNoteId,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Number from the tenant's credit-note series, e.g. `CN-000007`.
    pub number: DocumentNumber,
    /// The invoice it credits.
    pub invoice_id: InvoiceId,
    /// The credited invoice's number (BT-25).
    pub invoice_number: DocumentNumber,
    /// The credited invoice's issue date (BT-26).
    pub invoice_issued_at: DateTime<Utc>,
    /// Currency of the credited invoice.
    pub currency: Currency,
    /// Every credited line with its amounts.
    pub lines: Vec<CreditNoteLine>,
    /// Why the invoice or lines were credited.
    pub reason: Option<Reason>,
    /// How the credited amount was settled.
    #[serde(default)]
    pub settlement: Settlement,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
}

impl CreditNote {
    /// Sum of credited nets.
    pub fn subtotal(&self) -> Amount {
        bounded_sum(self.lines.iter().map(|l| l.amounts.net))
    }

    /// Sum of credited taxes.
    pub fn tax(&self) -> Amount {
        bounded_sum(self.lines.iter().map(|l| l.amounts.tax))
    }

    /// Sum of credited gross amounts: `subtotal + tax`.
    pub fn total(&self) -> Amount {
        bounded_sum(self.lines.iter().map(|l| l.amounts.gross))
    }

    /// The VAT breakdown of the credited lines (BG-23): its sums equal
    /// [`CreditNote::subtotal`] and [`CreditNote::tax`].
    pub fn tax_breakdown(&self) -> Vec<TaxSubtotal> {
        tax::breakdown(self.lines.iter().map(|l| (&l.tax, &l.amounts)))
    }
}

/// One credited line: what of an invoice line it credits (or a goodwill
/// amount tied to no line), with the description, price and tax treatment
/// copied, since the credit note is a document of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredCreditNoteLine", into = "StoredCreditNoteLine")]
pub struct CreditNoteLine {
    /// The invoice line it credits; `None` for a goodwill credit.
    pub line_id: Option<LineId>,
    /// Copied description.
    pub description: String,
    /// Units credited.
    pub quantity: u32,
    /// Copied unit amount.
    pub unit_amount: Amount,
    /// Copied rate, category and exemption reason.
    pub tax: LineTax,
    /// Copied inclusive flag.
    pub tax_inclusive: bool,
    /// Credited net, tax and gross.
    pub amounts: LineAmounts,
}

/// The serialized shape of a [`CreditNoteLine`], reading lines written
/// before tax categories existed.
#[derive(Serialize, Deserialize)]
struct StoredCreditNoteLine {
    line_id: Option<LineId>,
    description: String,
    quantity: u32,
    unit_amount: Amount,
    tax_rate: TaxRate,
    #[serde(default)]
    tax_category: Option<TaxCategory>,
    #[serde(default)]
    exemption_reason: Option<ExemptionReason>,
    tax_inclusive: bool,
    amounts: LineAmounts,
}

impl TryFrom<StoredCreditNoteLine> for CreditNoteLine {
    type Error = ValidationError;
    fn try_from(s: StoredCreditNoteLine) -> Result<Self, Self::Error> {
        Ok(CreditNoteLine {
            line_id: s.line_id,
            description: s.description,
            quantity: s.quantity,
            unit_amount: s.unit_amount,
            tax: LineTax::new(s.tax_rate, s.tax_category, s.exemption_reason)?,
            tax_inclusive: s.tax_inclusive,
            amounts: s.amounts,
        })
    }
}

impl From<CreditNoteLine> for StoredCreditNoteLine {
    fn from(l: CreditNoteLine) -> Self {
        StoredCreditNoteLine {
            line_id: l.line_id,
            description: l.description,
            quantity: l.quantity,
            unit_amount: l.unit_amount,
            tax_rate: l.tax.rate(),
            tax_category: Some(l.tax.category()),
            exemption_reason: l.tax.exemption().cloned(),
            tax_inclusive: l.tax_inclusive,
            amounts: l.amounts,
        }
    }
}

/// How a credit note's amount is settled between the tenant and the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settlement {
    /// The customer owes that much less: only while the amount due covers it.
    #[default]
    ReduceDue,
    /// Money paid is given back: a refund against the invoice's payments,
    /// newest first; never more than the net paid.
    Refund,
    /// Money paid moves onto the customer's credit balance (per tenant,
    /// customer and currency), to be spent on later invoices.
    CreditBalance,
}

impl Settlement {
    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Settlement::ReduceDue => "reduce_due",
            Settlement::Refund => "refund",
            Settlement::CreditBalance => "credit_balance",
        }
    }

    /// Parses the wire name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        [Settlement::ReduceDue, Settlement::Refund, Settlement::CreditBalance]
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ValidationError::new("settle", "must be refund, credit_balance or reduce_due"))
    }
}
