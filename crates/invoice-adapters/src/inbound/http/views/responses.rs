//! Response bodies rendered from domain values. Amounts are integers in
//! minor units; tax rates are decimal strings in percent.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use invoice_domain::{
    Approval, CancellationRecord, CreditNote, Event, Invoice, Line, Party, Payment, Reason, VoidRecord,
};
use serde::Serialize;
use utoipa::ToSchema;

/// An issuer or customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartyView {
    /// The caller's party id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: Option<String>,
    /// Tax number.
    pub tax_number: Option<String>,
    /// Address.
    pub address: Option<String>,
}

impl From<&Party> for PartyView {
    fn from(p: &Party) -> Self {
        PartyView {
            id: p.id.to_string(),
            name: p.name.clone(),
            email: p.email.clone(),
            tax_number: p.tax_number.clone(),
            address: p.address.clone(),
        }
    }
}

/// One invoice line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    /// Line id.
    pub id: String,
    /// The caller's product id.
    pub product_id: Option<String>,
    /// The caller's variation id.
    pub variation_id: Option<String>,
    /// Description.
    pub description: String,
    /// Quantity.
    pub quantity: u32,
    /// Unit amount in minor units.
    pub unit_amount: i64,
    /// Tax rate in percent, as a decimal string.
    #[schema(example = "19")]
    pub tax_rate: String,
    /// True when the unit amount includes tax.
    pub tax_inclusive: bool,
    /// Net in minor units.
    pub net_amount: i64,
    /// Tax in minor units.
    pub tax_amount: i64,
    /// Gross in minor units.
    pub total_amount: i64,
    /// `active` or `cancelled`.
    pub status: &'static str,
}

impl From<&Line> for LineView {
    fn from(l: &Line) -> Self {
        LineView {
            id: l.id.to_string(),
            product_id: l.product_id.as_ref().map(ToString::to_string),
            variation_id: l.variation_id.as_ref().map(ToString::to_string),
            description: l.description.clone(),
            quantity: l.quantity,
            unit_amount: l.unit_amount.minor(),
            tax_rate: l.tax_rate.to_string(),
            tax_inclusive: l.tax_inclusive,
            net_amount: l.amounts.net.minor(),
            tax_amount: l.amounts.tax.minor(),
            total_amount: l.amounts.gross.minor(),
            status: l.status.as_str(),
        }
    }
}

/// Collection state.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionView {
    /// `automatic` or `manual`.
    pub method: &'static str,
    /// True once cancelled or voided.
    pub halted: bool,
    /// Next automatic attempt.
    pub next_payment_attempt: Option<DateTime<Utc>>,
}

/// Approval state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    /// `not_required`, `pending`, `approved` or `rejected`.
    pub state: &'static str,
    /// Level awaited while pending.
    pub level: Option<u8>,
    /// Levels required while pending.
    pub required_levels: Option<u8>,
    /// When approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// When rejected.
    pub rejected_at: Option<DateTime<Utc>>,
    /// Rejection reasons.
    pub reasons: Vec<String>,
    /// Rejection remark.
    pub remark: Option<String>,
}

impl From<&Approval> for ApprovalView {
    fn from(a: &Approval) -> Self {
        let mut v = ApprovalView {
            state: "not_required",
            level: None,
            required_levels: None,
            approved_at: None,
            rejected_at: None,
            reasons: Vec::new(),
            remark: None,
        };
        match a {
            Approval::NotRequired => {}
            Approval::Pending { level, required } => {
                v.state = "pending";
                v.level = Some(*level);
                v.required_levels = Some(*required);
            }
            Approval::Approved { at } => {
                v.state = "approved";
                v.approved_at = Some(*at);
            }
            Approval::Rejected { at, reasons, remark } => {
                v.state = "rejected";
                v.rejected_at = Some(*at);
                v.reasons.clone_from(reasons);
                v.remark.clone_from(remark);
            }
        }
        v
    }
}

/// A cancellation or void record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    /// When.
    pub at: DateTime<Utc>,
    /// The API key that did it.
    pub actor: String,
    /// The API it came through.
    pub channel: String,
    /// Reason code.
    pub reason_code: Option<&'static str>,
    /// Reason text.
    pub reason: Option<String>,
}

fn record(at: DateTime<Utc>, actor: &invoice_domain::Actor, reason: Option<&Reason>) -> RecordView {
    RecordView {
        at,
        actor: actor.id.clone(),
        channel: actor.channel.clone(),
        reason_code: reason.map(|r| r.code.as_str()),
        reason: reason.and_then(|r| r.text.clone()),
    }
}

impl From<&CancellationRecord> for RecordView {
    fn from(r: &CancellationRecord) -> Self {
        record(r.at, &r.actor, r.reason.as_ref())
    }
}

impl From<&VoidRecord> for RecordView {
    fn from(r: &VoidRecord) -> Self {
        record(r.at, &r.actor, r.reason.as_ref())
    }
}

/// A refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    /// Refund id.
    pub id: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Reason.
    pub reason: Option<String>,
    /// When.
    pub refunded_at: DateTime<Utc>,
}

/// A payment with its refunds.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    /// Payment id.
    pub id: String,
    /// Amount in minor units.
    pub amount: i64,
    /// Amount refunded so far.
    pub amount_refunded: i64,
    /// Method.
    pub method: Option<String>,
    /// Reference.
    pub reference: Option<String>,
    /// When.
    pub received_at: DateTime<Utc>,
    /// Refunds.
    pub refunds: Vec<RefundView>,
}

impl From<&Payment> for PaymentView {
    fn from(p: &Payment) -> Self {
        PaymentView {
            id: p.id.to_string(),
            amount: p.amount.minor(),
            amount_refunded: p.refunded().minor(),
            method: p.method.clone(),
            reference: p.reference.clone(),
            received_at: p.received_at,
            refunds: p
                .refunds
                .iter()
                .map(|r| RefundView {
                    id: r.id.to_string(),
                    amount: r.amount.minor(),
                    reason: r.reason.clone(),
                    refunded_at: r.refunded_at,
                })
                .collect(),
        }
    }
}

/// A credited line.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteLineView {
    /// The invoice line credited.
    pub line_id: String,
    /// Description.
    pub description: String,
    /// Quantity.
    pub quantity: u32,
    /// Unit amount.
    pub unit_amount: i64,
    /// Tax rate in percent.
    pub tax_rate: String,
    /// Inclusive flag.
    pub tax_inclusive: bool,
    /// Credited net.
    pub net_amount: i64,
    /// Credited tax.
    pub tax_amount: i64,
    /// Credited gross.
    pub total_amount: i64,
}

/// A credit note.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteView {
    /// Credit note id.
    pub id: String,
    /// Always `credit_note`.
    pub object: &'static str,
    /// Its number, e.g. `CN-000007`.
    pub number: String,
    /// The credited invoice.
    pub invoice_id: String,
    /// The credited invoice's number.
    pub invoice_number: String,
    /// The credited invoice's issue date.
    pub invoice_issued_at: DateTime<Utc>,
    /// Currency.
    pub currency: &'static str,
    /// Credited lines.
    pub lines: Vec<CreditNoteLineView>,
    /// Sum of nets.
    pub subtotal: i64,
    /// Sum of taxes.
    pub tax: i64,
    /// Sum of gross amounts.
    pub total: i64,
    /// Reason code.
    pub reason_code: Option<&'static str>,
    /// Reason text.
    pub reason: Option<String>,
    /// When issued.
    pub issued_at: DateTime<Utc>,
}

impl From<&CreditNote> for CreditNoteView {
    fn from(c: &CreditNote) -> Self {
        CreditNoteView {
            id: c.id.to_string(),
            object: "credit_note",
            number: c.number.to_string(),
            invoice_id: c.invoice_id.to_string(),
            invoice_number: c.invoice_number.to_string(),
            invoice_issued_at: c.invoice_issued_at,
            currency: c.currency.code(),
            lines: c
                .lines
                .iter()
                .map(|l| CreditNoteLineView {
                    line_id: l.line_id.to_string(),
                    description: l.description.clone(),
                    quantity: l.quantity,
                    unit_amount: l.unit_amount.minor(),
                    tax_rate: l.tax_rate.to_string(),
                    tax_inclusive: l.tax_inclusive,
                    net_amount: l.amounts.net.minor(),
                    tax_amount: l.amounts.tax.minor(),
                    total_amount: l.amounts.gross.minor(),
                })
                .collect(),
            subtotal: c.subtotal().minor(),
            tax: c.tax().minor(),
            total: c.total().minor(),
            reason_code: c.reason.as_ref().map(|r| r.code.as_str()),
            reason: c.reason.as_ref().and_then(|r| r.text.clone()),
            issued_at: c.issued_at,
        }
    }
}

/// An invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    /// Invoice id (UUID v7).
    pub id: String,
    /// Always `invoice`.
    pub object: &'static str,
    /// Number, once finalized (e.g. `INV-000052`).
    pub number: Option<String>,
    /// `draft`, `open`, `paid`, `cancelled` or `void`.
    pub status: &'static str,
    /// ISO 4217 code.
    pub currency: &'static str,
    /// Who owes it.
    pub customer: PartyView,
    /// Who issues it.
    pub issuer: Option<PartyView>,
    /// Lines, cancelled ones included.
    pub lines: Vec<LineView>,
    /// Sum of active nets.
    pub subtotal: i64,
    /// Sum of active taxes.
    pub tax: i64,
    /// `subtotal + tax`.
    pub total: i64,
    /// Payments minus refunds.
    pub amount_paid: i64,
    /// Still owed.
    pub amount_due: i64,
    /// Gross of cancelled lines.
    pub amount_cancelled: i64,
    /// Sum of refunds.
    pub amount_refunded: i64,
    /// Collection state.
    pub collection: CollectionView,
    /// Approval state.
    pub approval: ApprovalView,
    /// Set once cancelled.
    pub cancellation: Option<RecordView>,
    /// Set once voided.
    pub void: Option<RecordView>,
    /// Credit notes issued against it.
    pub credit_notes: Vec<CreditNoteView>,
    /// Payments.
    pub payments: Vec<PaymentView>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// The supplier's own number.
    pub external_reference: Option<String>,
    /// Caller-defined pairs.
    pub metadata: BTreeMap<String, String>,
    /// Version, also sent as `ETag`.
    pub version: u64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Finalized.
    pub issued_at: Option<DateTime<Utc>>,
    /// Paid.
    pub paid_at: Option<DateTime<Utc>>,
    /// Cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Voided.
    pub voided_at: Option<DateTime<Utc>>,
}

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        let t = i.totals();
        InvoiceView {
            id: i.id.to_string(),
            object: "invoice",
            number: i.number_text(),
            status: i.status.as_str(),
            currency: i.currency.code(),
            customer: (&i.customer).into(),
            issuer: i.issuer.as_ref().map(Into::into),
            lines: i.lines.iter().map(Into::into).collect(),
            subtotal: t.subtotal.minor(),
            tax: t.tax.minor(),
            total: t.total.minor(),
            amount_paid: t.amount_paid.minor(),
            amount_due: t.amount_due.minor(),
            amount_cancelled: t.amount_cancelled.minor(),
            amount_refunded: i.amount_refunded().minor(),
            collection: CollectionView {
                method: match i.collection.method {
                    invoice_domain::CollectionMethod::Automatic => "automatic",
                    invoice_domain::CollectionMethod::Manual => "manual",
                },
                halted: i.collection.halted,
                next_payment_attempt: i.collection.next_payment_attempt,
            },
            approval: (&i.approval).into(),
            cancellation: i.cancellation.as_ref().map(Into::into),
            void: i.void.as_ref().map(Into::into),
            credit_notes: i.credit_notes.iter().map(Into::into).collect(),
            payments: i.payments.iter().map(Into::into).collect(),
            due_date: i.due_date,
            external_reference: i.external_reference.clone(),
            metadata: i.metadata.clone(),
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
            issued_at: i.issued_at,
            paid_at: i.paid_at,
            cancelled_at: i.cancelled_at,
            voided_at: i.voided_at,
        }
    }
}

/// A page of invoices.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceList {
    /// Always `list`.
    pub object: &'static str,
    /// The invoices, newest first.
    pub data: Vec<InvoiceView>,
    /// True when another page follows; pass the last id as `starting_after`.
    pub has_more: bool,
}

/// Who performed an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorView {
    /// API key id.
    pub id: String,
    /// API channel (`v1`, `tms`, `plugnpaid`, `chargeover`, `flextell`, `cli`).
    pub channel: String,
}

/// An audit-trail event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Event id (stable; webhook deliveries reuse it).
    pub id: String,
    /// Always `event`.
    pub object: &'static str,
    /// Dotted type, e.g. `invoice.cancelled`.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// The invoice concerned.
    pub invoice_id: String,
    /// Who.
    pub actor: ActorView,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The invoice version right after the event.
    pub invoice_version: u64,
    /// Facts specific to the event type.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        let mut data = serde_json::to_value(&e.kind).unwrap_or_default();
        if let Some(obj) = data.as_object_mut() {
            obj.remove("type");
        }
        EventView {
            id: e.id.to_string(),
            object: "event",
            event_type: e.kind.type_name(),
            invoice_id: e.invoice_id.to_string(),
            actor: ActorView {
                id: e.actor.id.clone(),
                channel: e.actor.channel.clone(),
            },
            created_at: e.occurred_at,
            invoice_version: e.invoice_version,
            data,
        }
    }
}

/// The audit trail of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    /// Always `list`.
    pub object: &'static str,
    /// Events, oldest first.
    pub data: Vec<EventView>,
}
