//! Creating a draft invoice.

use crate::commands::NewInvoice;
use crate::model::event::EventKind;
use crate::model::ids::{InvoiceId, LineId, TenantId};
use crate::model::invoice::{Approval, Collection, Invoice, InvoiceStatus};
use crate::model::line::Line;
use crate::model::number::SeriesPrefix;
use crate::rules::{Builder, Change, Context, Transition};

impl Invoice {
    /// Creates a draft invoice from a validated request. A draft is not a
    /// document yet: its lines may still be removed until it is finalized.
    /// `serial` is the tenant's next invoice serial.
    pub fn create_draft(tenant: TenantId, serial: u64, new: NewInvoice, ctx: Context<'_>) -> Transition {
        let lines = new
            .lines
            .into_iter()
            .map(|l| Line::from_new(LineId::from_uuid(ctx.ids.new_id()), l))
            .collect();
        let invoice = Invoice {
            id: InvoiceId::from_uuid(ctx.ids.new_id()),
            tenant,
            serial,
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
            uncollectible: None,
            replaces: None,
            replaced_by: None,
            credit_notes: Vec::new(),
            due_date: new.due_date,
            external_reference: new.external_reference,
            buyer_reference: new.buyer_reference,
            seller: None,
            metadata: new.metadata,
            version: 0,
            created_at: ctx.now,
            updated_at: ctx.now,
            issued_at: None,
            paid_at: None,
            cancelled_at: None,
            voided_at: None,
            sent_at: None,
        };
        let mut b = Builder::new(&invoice, ctx);
        b.event(EventKind::Created);
        b.change(Change::Created);
        b.finish()
    }
}
