//! Credit notes: the numbered documents that cancel (part of) an issued invoice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ids::{CreditNoteId, InvoiceId, LineId, TenantId};
use crate::model::money::{Amount, Currency, LineAmounts, TaxRate};
use crate::model::number::DocumentNumber;
use crate::model::reason::Reason;

/// A cancellation document with its own gapless number series that
/// references the original invoice's number and issue date.
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
    /// The credited invoice's number.
    pub invoice_number: DocumentNumber,
    /// The credited invoice's issue date.
    pub invoice_issued_at: DateTime<Utc>,
    /// Currency of the credited invoice.
    pub currency: Currency,
    /// Every credited line with its amounts.
    pub lines: Vec<CreditNoteLine>,
    /// Why the invoice or lines were cancelled.
    pub reason: Option<Reason>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
}

impl CreditNote {
    /// Sum of credited nets.
    pub fn subtotal(&self) -> Amount {
        self.lines.iter().map(|l| l.amounts.net).sum()
    }
    /// Sum of credited taxes.
    pub fn tax(&self) -> Amount {
        self.lines.iter().map(|l| l.amounts.tax).sum()
    }
    /// Sum of credited gross amounts: `subtotal + tax`.
    pub fn total(&self) -> Amount {
        self.lines.iter().map(|l| l.amounts.gross).sum()
    }
}

/// One credited line: a copy of the cancelled invoice line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteLine {
    /// The invoice line it credits.
    pub line_id: LineId,
    /// Copied description.
    pub description: String,
    /// Copied quantity.
    pub quantity: u32,
    /// Copied unit amount.
    pub unit_amount: Amount,
    /// Copied tax rate.
    pub tax_rate: TaxRate,
    /// Copied inclusive flag.
    pub tax_inclusive: bool,
    /// Credited net, tax and gross.
    pub amounts: LineAmounts,
}
