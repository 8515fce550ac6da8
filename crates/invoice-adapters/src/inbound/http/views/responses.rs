//! Response bodies rendered from domain values. Amounts are integers in
//! minor units; tax rates are decimal strings in percent.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use invoice_domain::{
    ActionRecord, Approval, BalanceEntry, CreditNote, CustomerBalance, Event, Invoice, Line, LineKind, LineTax, Party,
    Payment, PaymentSource, PostalAddress, RefundDestination, Reissue, TaxSubtotal,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A postal address.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressView {
    /// Street and number (BT-35, BT-50).
    pub street: Option<String>,
    /// City (BT-37, BT-52).
    pub city: Option<String>,
    /// Post code (BT-38, BT-53).
    pub postcode: Option<String>,
    /// Region or state (BT-39, BT-54).
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country code (BT-40, BT-55).
    #[schema(example = "DE")]
    pub country: Option<String>,
}

impl From<&PostalAddress> for AddressView {
    fn from(a: &PostalAddress) -> Self {
        AddressView {
            street: a.street.clone(),
            city: a.city.clone(),
            postcode: a.postcode.clone(),
            region: a.region.clone(),
            country: a.country.map(|c| c.to_string()),
        }
    }
}

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
    /// Postal address.
    pub address: Option<AddressView>,
    /// Telephone.
    pub phone: Option<String>,
    /// A person's given name.
    pub given_name: Option<String>,
    /// A person's family name.
    pub family_name: Option<String>,
    /// Preferred language (BCP 47).
    pub locale: Option<String>,
    /// Where goods go, when not to `address`.
    pub shipping_address: Option<AddressView>,
}

impl From<&Party> for PartyView {
    fn from(p: &Party) -> Self {
        PartyView {
            id: p.id.to_string(),
            name: p.name.clone(),
            email: p.email.clone(),
            tax_number: p.tax_number.clone(),
            address: p.address.as_ref().map(Into::into),
            phone: p.phone.clone(),
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            locale: p.locale.clone(),
            shipping_address: p.shipping_address.as_ref().map(Into::into),
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
    pub unit_amount: u64,
    /// Tax rate in percent, as a decimal string.
    #[schema(example = "19")]
    pub tax_rate: String,
    /// EN 16931 VAT category: `S`, `Z`, `E`, `AE`, `K`, `G` or `O`.
    #[schema(example = "S")]
    pub tax_category: &'static str,
    /// VATEX code of the exemption reason, for untaxed categories.
    pub exemption_reason_code: Option<String>,
    /// Text of the exemption reason, for untaxed categories.
    pub exemption_reason: Option<String>,
    /// True when the unit amount includes tax.
    pub tax_inclusive: bool,
    /// Net in minor units, as issued.
    pub net_amount: u64,
    /// Tax in minor units, as issued.
    pub tax_amount: u64,
    /// Gross in minor units, as issued.
    pub total_amount: u64,
    /// `active`, or `cancelled` once credited in full (or discarded with its draft).
    pub status: &'static str,
    /// Units credited by credit notes so far.
    pub credited_quantity: u32,
    /// Gross credited by credit notes so far, in minor units.
    pub credited_amount: u64,
    /// `physical`, `service`, `digital` or `shipping`, when the caller said.
    pub kind: Option<&'static str>,
}

/// The category code and exemption reason of a line's tax, as the views show them.
fn tax_fields(tax: &LineTax) -> (&'static str, Option<String>, Option<String>) {
    let exemption = tax.exemption();
    (
        tax.category().code(),
        exemption.and_then(|e| e.code.clone()),
        exemption.and_then(|e| e.text.clone()),
    )
}

impl From<&Line> for LineView {
    fn from(l: &Line) -> Self {
        let (tax_category, exemption_reason_code, exemption_reason) = tax_fields(&l.tax);
        LineView {
            id: l.id.to_string(),
            product_id: l.product_id.as_ref().map(ToString::to_string),
            variation_id: l.variation_id.as_ref().map(ToString::to_string),
            description: l.description.clone(),
            quantity: l.quantity,
            unit_amount: l.unit_amount.minor(),
            tax_rate: l.tax.rate().to_string(),
            tax_category,
            exemption_reason_code,
            exemption_reason,
            tax_inclusive: l.tax_inclusive,
            net_amount: l.amounts.net.minor(),
            tax_amount: l.amounts.tax.minor(),
            total_amount: l.amounts.gross.minor(),
            status: l.status.as_str(),
            credited_quantity: l.credited.quantity,
            credited_amount: l.credited.amounts.gross.minor(),
            kind: l.kind.map(LineKind::as_str),
        }
    }
}

/// One entry of a VAT breakdown (EN 16931 BG-23): every line of one
/// category and rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxBreakdownView {
    /// VAT category code.
    #[schema(example = "S")]
    pub category: &'static str,
    /// Rate in percent, as a decimal string.
    #[schema(example = "19")]
    pub rate: String,
    /// Sum of the lines' nets in minor units.
    pub taxable_amount: u64,
    /// Sum of the lines' rounded taxes in minor units.
    pub tax_amount: u64,
    /// VATEX code of the exemption reason, for untaxed categories.
    pub exemption_reason_code: Option<String>,
    /// Text of the exemption reason, for untaxed categories.
    pub exemption_reason: Option<String>,
}

impl From<&TaxSubtotal> for TaxBreakdownView {
    fn from(t: &TaxSubtotal) -> Self {
        TaxBreakdownView {
            category: t.category.code(),
            rate: t.rate.to_string(),
            taxable_amount: t.taxable_amount.minor(),
            tax_amount: t.tax_amount.minor(),
            exemption_reason_code: t.exemption.as_ref().and_then(|e| e.code.clone()),
            exemption_reason: t.exemption.as_ref().and_then(|e| e.text.clone()),
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
            Approval::Rejected {
                at, reasons, remark, ..
            } => {
                v.state = "rejected";
                v.rejected_at = Some(*at);
                v.reasons.clone_from(reasons);
                v.remark.clone_from(remark);
            }
        }
        v
    }
}

/// A cancellation, void or write-off record.
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

impl From<&ActionRecord> for RecordView {
    fn from(r: &ActionRecord) -> Self {
        RecordView {
            at: r.at,
            actor: r.actor.id.clone(),
            channel: r.actor.channel.clone(),
            reason_code: r.reason.as_ref().map(|r| r.code.as_str()),
            reason: r.reason.as_ref().and_then(|r| r.text.clone()),
        }
    }
}

/// A refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    /// Refund id.
    pub id: String,
    /// Amount in minor units.
    pub amount: u64,
    /// Reason.
    pub reason: Option<String>,
    /// When.
    pub refunded_at: DateTime<Utc>,
    /// `original_method` (back to the payer) or `customer_balance`.
    pub destination: &'static str,
}

/// A payment with its refunds.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    /// Payment id.
    pub id: String,
    /// Amount in minor units.
    pub amount: u64,
    /// Amount refunded so far.
    pub amount_refunded: u64,
    /// Method.
    pub method: Option<String>,
    /// Reference.
    pub reference: Option<String>,
    /// When.
    pub received_at: DateTime<Utc>,
    /// `external` (from the payer) or `customer_balance` (spent from the customer's credit balance).
    pub source: &'static str,
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
            source: match p.source {
                PaymentSource::External => "external",
                PaymentSource::CustomerBalance => "customer_balance",
            },
            refunds: p
                .refunds
                .iter()
                .map(|r| RefundView {
                    id: r.id.to_string(),
                    amount: r.amount.minor(),
                    reason: r.reason.clone(),
                    refunded_at: r.refunded_at,
                    destination: match r.destination {
                        RefundDestination::OriginalMethod => "original_method",
                        RefundDestination::CustomerBalance => "customer_balance",
                    },
                })
                .collect(),
        }
    }
}

/// A credited line.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteLineView {
    /// The invoice line credited; null for a goodwill credit.
    pub line_id: Option<String>,
    /// Description.
    pub description: String,
    /// Units credited.
    pub quantity: u32,
    /// Unit amount.
    pub unit_amount: u64,
    /// Tax rate in percent.
    pub tax_rate: String,
    /// EN 16931 VAT category.
    #[schema(example = "S")]
    pub tax_category: &'static str,
    /// VATEX code of the exemption reason, for untaxed categories.
    pub exemption_reason_code: Option<String>,
    /// Text of the exemption reason, for untaxed categories.
    pub exemption_reason: Option<String>,
    /// Inclusive flag.
    pub tax_inclusive: bool,
    /// Credited net.
    pub net_amount: u64,
    /// Credited tax.
    pub tax_amount: u64,
    /// Credited gross.
    pub total_amount: u64,
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
    /// Its own VAT breakdown, one entry per category and rate.
    pub tax_breakdown: Vec<TaxBreakdownView>,
    /// Sum of nets.
    pub subtotal: u64,
    /// Sum of taxes.
    pub tax: u64,
    /// Sum of gross amounts.
    pub total: u64,
    /// Reason code.
    pub reason_code: Option<&'static str>,
    /// Reason text.
    pub reason: Option<String>,
    /// How it was settled: `reduce_due`, `refund` or `credit_balance`.
    pub settlement: &'static str,
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
                .map(|l| {
                    let (tax_category, exemption_reason_code, exemption_reason) = tax_fields(&l.tax);
                    CreditNoteLineView {
                        line_id: l.line_id.map(|id| id.to_string()),
                        description: l.description.clone(),
                        quantity: l.quantity,
                        unit_amount: l.unit_amount.minor(),
                        tax_rate: l.tax.rate().to_string(),
                        tax_category,
                        exemption_reason_code,
                        exemption_reason,
                        tax_inclusive: l.tax_inclusive,
                        net_amount: l.amounts.net.minor(),
                        tax_amount: l.amounts.tax.minor(),
                        total_amount: l.amounts.gross.minor(),
                    }
                })
                .collect(),
            tax_breakdown: c.tax_breakdown().iter().map(Into::into).collect(),
            subtotal: c.subtotal().minor(),
            tax: c.tax().minor(),
            total: c.total().minor(),
            reason_code: c.reason.as_ref().map(|r| r.code.as_str()),
            reason: c.reason.as_ref().and_then(|r| r.text.clone()),
            settlement: c.settlement.as_str(),
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
    /// The tenant's integer id for the invoice (1, 2, 3… in creation
    /// order), which APIs naming invoices by integers use.
    pub serial: u64,
    /// Number, once finalized, in the tenant's format (e.g. `INV-000052`).
    pub number: Option<String>,
    /// `draft`, `open`, `uncollectible`, `paid`, `cancelled` or `void`.
    pub status: &'static str,
    /// ISO 4217 code.
    pub currency: &'static str,
    /// Who owes it.
    pub customer: PartyView,
    /// Who issues it.
    pub issuer: Option<PartyView>,
    /// The document's lines as issued, credited ones included and marked.
    pub lines: Vec<LineView>,
    /// Sum of the lines' nets, as issued.
    pub subtotal: u64,
    /// Sum of the lines' taxes, as issued.
    pub tax: u64,
    /// `subtotal + tax`, as issued; credit notes never change it.
    pub total: u64,
    /// The document's VAT breakdown, one entry per category and rate.
    pub tax_breakdown: Vec<TaxBreakdownView>,
    /// Sum of the credit notes' totals.
    pub amount_credited: u64,
    /// Payments minus refunds.
    pub amount_paid: u64,
    /// Sum of refunds.
    pub amount_refunded: u64,
    /// Still owed: `total − amount_credited − amount_paid`, never below 0;
    /// 0 once void or cancelled.
    pub amount_due: u64,
    /// Collection state.
    pub collection: CollectionView,
    /// Approval state.
    pub approval: ApprovalView,
    /// Set once cancelled.
    pub cancellation: Option<RecordView>,
    /// Set once voided.
    pub void: Option<RecordView>,
    /// Set once marked uncollectible.
    pub uncollectible: Option<RecordView>,
    /// The invoice this draft was reissued from.
    pub replaces: Option<String>,
    /// The draft that replaced this invoice after a reissue.
    pub replaced_by: Option<String>,
    /// Credit notes issued against it.
    pub credit_notes: Vec<CreditNoteView>,
    /// Payments.
    pub payments: Vec<PaymentView>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// The client's own code for the invoice, unique in the tenant.
    pub external_reference: Option<String>,
    /// The buyer's reference (BT-10).
    pub buyer_reference: Option<String>,
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
    /// Last marked as sent to the customer.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<&Invoice> for InvoiceView {
    fn from(i: &Invoice) -> Self {
        let t = i.totals();
        InvoiceView {
            id: i.id.to_string(),
            object: "invoice",
            serial: i.serial,
            number: i.number_text(),
            status: i.status.as_str(),
            currency: i.currency.code(),
            customer: (&i.customer).into(),
            issuer: i.issuer.as_ref().map(Into::into),
            lines: i.lines.iter().map(Into::into).collect(),
            subtotal: t.subtotal.minor(),
            tax: t.tax.minor(),
            total: t.total.minor(),
            tax_breakdown: i.tax_breakdown().iter().map(Into::into).collect(),
            amount_credited: t.amount_credited.minor(),
            amount_paid: t.amount_paid.minor(),
            amount_refunded: t.amount_refunded.minor(),
            amount_due: t.amount_due.minor(),
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
            uncollectible: i.uncollectible.as_ref().map(Into::into),
            replaces: i.replaces.map(|id| id.to_string()),
            replaced_by: i.replaced_by.map(|id| id.to_string()),
            credit_notes: i.credit_notes.iter().map(Into::into).collect(),
            payments: i.payments.iter().map(Into::into).collect(),
            due_date: i.due_date,
            external_reference: i.external_reference.clone(),
            buyer_reference: i.buyer_reference.clone(),
            metadata: i.metadata.clone(),
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
            issued_at: i.issued_at,
            paid_at: i.paid_at,
            cancelled_at: i.cancelled_at,
            voided_at: i.voided_at,
            sent_at: i.sent_at,
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
    /// Facts specific to the event type; `invoice.finalized` and
    /// `credit_note.issued` carry `document_url`, the path of the UBL document.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        let mut data = serde_json::to_value(&e.kind).unwrap_or_default();
        if let Some(obj) = data.as_object_mut() {
            obj.remove("type");
        }
        crate::inbound::http::v1::add_document_url(e.kind.type_name(), &e.invoice_id.to_string(), &mut data);
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

/// A cancel and reissue: the credited old invoice and its new draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReissueView {
    /// Always `reissue`.
    pub object: &'static str,
    /// The old invoice, cancelled by a credit note, with `replaced_by`.
    pub cancelled: InvoiceView,
    /// The new draft, with `replaces`.
    pub replacement: InvoiceView,
}

impl From<&Reissue> for ReissueView {
    fn from(r: &Reissue) -> Self {
        ReissueView {
            object: "reissue",
            cancelled: (&r.cancelled.invoice).into(),
            replacement: (&r.replacement.invoice).into(),
        }
    }
}

/// One entry of a customer's balance ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceEntryView {
    /// Entry id.
    pub id: String,
    /// `credit` (the balance grew) or `debit` (it was spent).
    pub direction: &'static str,
    /// How much, in minor units.
    pub amount: u64,
    /// The balance right after it.
    pub balance_after: u64,
    /// The invoice it concerns.
    pub invoice_id: String,
    /// The credit note settled onto the balance, for credits.
    pub credit_note_id: Option<String>,
    /// The payment made from the balance, for debits.
    pub payment_id: Option<String>,
    /// The refund that moved paid money onto the balance, for credits.
    pub refund_id: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<&BalanceEntry> for BalanceEntryView {
    fn from(e: &BalanceEntry) -> Self {
        BalanceEntryView {
            id: e.id.to_string(),
            direction: e.direction.as_str(),
            amount: e.amount.minor(),
            balance_after: e.balance_after.minor(),
            invoice_id: e.invoice_id.to_string(),
            credit_note_id: e.credit_note_id.map(|id| id.to_string()),
            payment_id: e.payment_id.map(|id| id.to_string()),
            refund_id: e.refund_id.map(|id| id.to_string()),
            created_at: e.at,
        }
    }
}

/// A customer's balance in one currency, with its ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyBalanceView {
    /// ISO 4217 code.
    pub currency: &'static str,
    /// What the customer holds, in minor units: credits minus debits.
    pub balance: u64,
    /// Every entry, oldest first.
    pub entries: Vec<BalanceEntryView>,
}

/// `GET /v1/customers/{id}/balance`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerBalanceView {
    /// Always `customer_balance`.
    pub object: &'static str,
    /// The customer (party) id.
    pub customer_id: String,
    /// One entry per currency the customer ever held a balance in.
    pub balances: Vec<CurrencyBalanceView>,
}

impl CustomerBalanceView {
    /// The view of `customer`'s balances.
    pub fn new(customer: &str, balances: &[CustomerBalance]) -> Self {
        CustomerBalanceView {
            object: "customer_balance",
            customer_id: customer.to_string(),
            balances: balances
                .iter()
                .map(|b| CurrencyBalanceView {
                    currency: b.currency.code(),
                    balance: b.balance.minor(),
                    entries: b.entries.iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }
}

/// What a credit note request made: the credit note and the invoice after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditResultView {
    /// Always `credit_note_issued`.
    pub object: &'static str,
    /// The new credit note.
    pub credit_note: CreditNoteView,
    /// The invoice after the credit: `amount_credited`, `amount_refunded`
    /// and `amount_due` follow; the document itself is unchanged.
    pub invoice: InvoiceView,
}
