//! Creating a draft invoice.

use chrono::NaiveDate;

use crate::error::ValidationError;
use crate::model::event::EventKind;
use crate::model::ids::{InvoiceId, LineId, TenantId};
use crate::model::invoice::{Approval, Collection, CollectionMethod, Invoice, InvoiceStatus};
use crate::model::line::{Line, NewLine};
use crate::model::money::{Currency, MAX_LINE_AMOUNT};
use crate::model::number::SeriesPrefix;
use crate::model::party::Party;
use crate::model::text::Metadata;
use crate::rules::{Builder, Change, Context, Transition};

/// Most lines one invoice may have (keeps every sum far from overflow).
pub const MAX_LINES: usize = 5_000;
/// Most approval levels an invoice may require.
pub const MAX_APPROVAL_LEVELS: u8 = 10;

/// Everything needed to create a draft, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    /// Invoice currency.
    pub currency: Currency,
    /// Who owes it.
    pub customer: Party,
    /// Who issues it.
    pub issuer: Option<Party>,
    /// Lines (may be empty for a draft).
    pub lines: Vec<NewLine>,
    /// When payment is due.
    pub due_date: Option<NaiveDate>,
    /// Number series; `INV` when absent.
    pub series: Option<SeriesPrefix>,
    /// The supplier's own invoice number.
    pub external_reference: Option<String>,
    /// How many payer approval levels are required (0 for none).
    pub approval_levels: u8,
    /// Automatic or manual collection.
    pub collection_method: CollectionMethod,
    /// Caller-defined pairs.
    pub metadata: Metadata,
}

impl NewInvoice {
    /// Checks the limits that span several fields.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "lines",
                format!("must have at most {MAX_LINES} lines"),
            ));
        }
        if self.approval_levels > MAX_APPROVAL_LEVELS {
            return Err(ValidationError::new(
                "approval_levels",
                format!("must be at most {MAX_APPROVAL_LEVELS}"),
            ));
        }
        debug_assert!(MAX_LINES as i128 * MAX_LINE_AMOUNT as i128 <= i64::MAX as i128);
        Ok(())
    }
}

impl Invoice {
    /// Creates a draft invoice from a validated request.
    pub fn create_draft(tenant: TenantId, new: NewInvoice, ctx: Context<'_>) -> Result<Transition, ValidationError> {
        new.validate()?;
        let lines = new
            .lines
            .into_iter()
            .map(|l| Line::from_new(LineId::from_uuid(ctx.ids.new_id()), l))
            .collect();
        let invoice = Invoice {
            id: InvoiceId::from_uuid(ctx.ids.new_id()),
            tenant,
            number: None,
            series: new.series.unwrap_or_else(SeriesPrefix::invoices),
            status: InvoiceStatus::Draft,
            currency: new.currency,
            issuer: new.issuer,
            customer: new.customer,
            lines,
            payments: Vec::new(),
            collection: Collection {
                method: new.collection_method,
                next_payment_attempt: None,
                halted: false,
            },
            approval: Approval::requiring(new.approval_levels),
            cancellation: None,
            void: None,
            credit_notes: Vec::new(),
            due_date: new.due_date,
            external_reference: new.external_reference,
            metadata: new.metadata,
            version: 0,
            created_at: ctx.now,
            updated_at: ctx.now,
            issued_at: None,
            paid_at: None,
            cancelled_at: None,
            voided_at: None,
        };
        let mut b = Builder::new(&invoice, ctx);
        b.event(EventKind::Created);
        b.change(Change::Created);
        Ok(b.finish())
    }
}
