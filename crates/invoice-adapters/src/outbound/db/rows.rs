//! Row types, one per table, and their conversions to and from the domain.
//!
//! Row fields mirror the columns declared in `schema.rs` one to one.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use invoice_domain::{
    Amount, BalanceDirection, BalanceEntry, CollectionMethod, CreditNote, CreditNoteLine, Currency, DocumentNumber,
    Event, ExemptionReason, Invoice, InvoiceId, InvoiceStatus, Line, LineAmounts, LineCredit, LineKind, LineStatus,
    LineTax, PartyId, Payment, PaymentSource, PositiveAmount, ProductId, Refund, RefundDestination, RepositoryError,
    SeriesPrefix, Settlement, TaxCategory, TaxRate, VariationId,
};
use serde::Deserialize;
use serde::Serialize;

/// Attributes of an invoice that no query filters on, stored as one
/// versioned JSON document (`invoices.details`) owned by this adapter, so
/// the domain's types can change shape without touching stored rows. Every
/// field is optional: absent means none, and an older document reads.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredDetails {
    /// Format version.
    v: u32,
    /// The invoice this draft was reissued from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replaces: Option<String>,
    /// The draft that replaced this invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replaced_by: Option<String>,
    /// The buyer's reference (BT-10), when the buyer gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    buyer_reference: Option<String>,
    /// The seller as frozen at finalize; absent on drafts and on invoices
    /// issued before seller profiles existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seller: Option<super::seller::StoredSeller>,
    /// When the invoice was last marked sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent_at: Option<DateTime<Utc>>,
}

// The domain's enums stored by the names their `as_str` gives, which stay
// their one spelling: existing rows and migrations rely on it.
stored_by_name!(InvoiceStatus as "invoice status": Draft, Open, Uncollectible, Paid, Cancelled, Void);
stored_by_name!(CollectionMethod as "collection method": Automatic, Manual);
stored_by_name!(LineStatus as "line status": Active, Cancelled);
stored_by_name!(LineKind as "line kind": Physical, Service, Digital, Shipping);
stored_by_name!(
    TaxCategory as "tax category": Standard,
    ZeroRated,
    Exempt,
    ReverseCharge,
    IntraCommunity,
    Export,
    OutsideScope
);
stored_by_name!(PaymentSource as "payment source": External, CustomerBalance);
stored_by_name!(RefundDestination as "refund destination": OriginalMethod, CustomerBalance);
stored_by_name!(Settlement as "settlement": ReduceDue, Refund, CreditBalance);
stored_by_name!(BalanceDirection as "balance direction": Credit, Debit);

use super::schema::{
    balance_entries, credit_note_lines, credit_notes, events, invoice_lines, invoices, payments, refunds,
};

pub use super::codec::{corrupt, from_json, to_json, ts, utc};
use super::named::{stored_by_name, Named};

fn uuid_of<T: std::str::FromStr>(what: &str, text: &str) -> Result<T, RepositoryError> {
    text.parse().map_err(|_| corrupt(what, text))
}

/// An amount as the `BIGINT` both backends store. The domain's bounds keep
/// every amount far below `i64::MAX`; one above it is refused, never wrapped.
pub fn db_amount(a: Amount) -> Result<i64, RepositoryError> {
    i64::try_from(a.minor()).map_err(|_| RepositoryError::Other(format!("amount {a} does not fit a BIGINT")))
}

/// A stored `BIGINT` back as an amount; a negative one is corrupt.
pub fn stored_amount(what: &str, minor: i64) -> Result<Amount, RepositoryError> {
    u64::try_from(minor)
        .map(Amount::from_minor)
        .map_err(|_| corrupt(what, minor))
}

/// A stored `BIGINT` back as a strictly positive amount.
fn stored_positive(what: &str, minor: i64) -> Result<PositiveAmount, RepositoryError> {
    u64::try_from(minor)
        .ok()
        .and_then(|m| PositiveAmount::new(m).ok())
        .ok_or_else(|| corrupt(what, minor))
}

/// A count (version, sequence, position) as a `BIGINT`.
fn db_count<T: TryInto<i64> + Copy + std::fmt::Display>(what: &str, n: T) -> Result<i64, RepositoryError> {
    n.try_into()
        .map_err(|_| RepositoryError::Other(format!("{what} {n} does not fit a BIGINT")))
}

/// A stored count back in its domain type; a negative or huge one is corrupt.
fn stored_count<T: TryFrom<i64>>(what: &str, n: i64) -> Result<T, RepositoryError> {
    T::try_from(n).map_err(|_| corrupt(what, n))
}

fn stored_amounts(net: i64, tax: i64, gross: i64) -> Result<LineAmounts, RepositoryError> {
    Ok(LineAmounts {
        net: stored_amount("net", net)?,
        tax: stored_amount("tax", tax)?,
        gross: stored_amount("gross", gross)?,
    })
}

fn stored_tax(
    rate_units: i64,
    category: TaxCategory,
    code: Option<&str>,
    text: Option<&str>,
) -> Result<LineTax, RepositoryError> {
    let exemption = if code.is_some() || text.is_some() {
        Some(ExemptionReason::parse(code, text).map_err(|e| corrupt("exemption reason", e))?)
    } else {
        None
    };
    LineTax::new(rate(rate_units)?, Some(category), exemption).map_err(|e| corrupt("line tax", e))
}

/// The `invoices` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub tenant_id: i64,
    pub id: String,
    pub serial: i64,
    pub series: String,
    pub number_seq: Option<i64>,
    pub number: Option<String>,
    pub status: Named<InvoiceStatus>,
    pub currency: String,
    pub customer_id: String,
    pub issuer_id: Option<String>,
    pub customer: String,
    pub issuer: Option<String>,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub amount_paid: i64,
    pub collection_method: Named<CollectionMethod>,
    pub next_payment_attempt: Option<NaiveDateTime>,
    pub collection_halted: bool,
    pub approval: String,
    pub cancellation: Option<String>,
    pub void_record: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub external_reference: Option<String>,
    pub metadata: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub issued_at: Option<NaiveDateTime>,
    pub paid_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub voided_at: Option<NaiveDateTime>,
    pub uncollectible: Option<String>,
    pub details: String,
}

impl InvoiceRow {
    /// The row for an invoice's current state.
    pub fn from_domain(inv: &Invoice) -> Result<Self, RepositoryError> {
        let totals = inv.totals();
        Ok(InvoiceRow {
            tenant_id: inv.tenant.get(),
            id: inv.id.to_string(),
            serial: db_count("serial", inv.serial)?,
            series: inv.series.to_string(),
            number_seq: inv
                .number
                .as_ref()
                .map(|n| db_count("number", n.sequence))
                .transpose()?,
            number: inv.number.as_ref().map(|n| n.as_str().to_string()),
            status: Named(inv.status),
            currency: inv.currency.code().to_string(),
            customer_id: inv.customer.id.to_string(),
            issuer_id: inv.issuer.as_ref().map(|p| p.id.to_string()),
            customer: to_json(&inv.customer),
            issuer: inv.issuer.as_ref().map(to_json),
            subtotal: db_amount(totals.subtotal)?,
            tax: db_amount(totals.tax)?,
            total: db_amount(totals.total)?,
            amount_paid: db_amount(totals.amount_paid)?,
            collection_method: Named(inv.collection.method),
            next_payment_attempt: inv.collection.next_payment_attempt.map(ts),
            collection_halted: inv.collection.halted,
            approval: to_json(&inv.approval),
            cancellation: inv.cancellation.as_ref().map(to_json),
            void_record: inv.void.as_ref().map(to_json),
            due_date: inv.due_date,
            external_reference: inv.external_reference.clone(),
            metadata: to_json(&inv.metadata),
            version: db_count("version", inv.version)?,
            created_at: ts(inv.created_at),
            updated_at: ts(inv.updated_at),
            issued_at: inv.issued_at.map(ts),
            paid_at: inv.paid_at.map(ts),
            cancelled_at: inv.cancelled_at.map(ts),
            voided_at: inv.voided_at.map(ts),
            uncollectible: inv.uncollectible.as_ref().map(to_json),
            details: to_json(&StoredDetails {
                v: 1,
                replaces: inv.replaces.map(|id| id.to_string()),
                replaced_by: inv.replaced_by.map(|id| id.to_string()),
                buyer_reference: inv.buyer_reference.clone(),
                seller: inv.seller.as_ref().map(super::seller::StoredSeller::from_domain),
                sent_at: inv.sent_at,
            }),
        })
    }

    /// Rebuilds the aggregate from its rows.
    pub fn into_domain(
        self,
        lines: Vec<LineRow>,
        payments: Vec<Payment>,
        credit_notes: Vec<CreditNote>,
    ) -> Result<Invoice, RepositoryError> {
        let series = SeriesPrefix::parse(&self.series).map_err(|e| corrupt("series", e))?;
        let details: StoredDetails = from_json("invoice details", &self.details)?;
        let link = |id: Option<String>| id.map(|id| uuid_of::<InvoiceId>("reissue link", &id)).transpose();
        let seller = details
            .seller
            .map(super::seller::StoredSeller::into_domain)
            .transpose()?;
        let number = match (self.number_seq, self.number.as_deref()) {
            (Some(seq), Some(text)) => Some(
                DocumentNumber::issued(series.clone(), stored_count("number", seq)?, text)
                    .map_err(|e| corrupt("number", e))?,
            ),
            (None, None) => None,
            _ => return Err(corrupt("number", "a sequence without its text, or the reverse")),
        };
        Ok(Invoice {
            id: uuid_of("invoice id", &self.id)?,
            tenant: invoice_domain::TenantId::new(self.tenant_id),
            serial: stored_count("serial", self.serial)?,
            number,
            series,
            status: self.status.0,
            currency: Currency::parse(&self.currency).map_err(|e| corrupt("currency", e))?,
            issuer: self.issuer.as_deref().map(|j| from_json("issuer", j)).transpose()?,
            customer: from_json("customer", &self.customer)?,
            lines: lines.into_iter().map(LineRow::into_domain).collect::<Result<_, _>>()?,
            payments,
            collection: invoice_domain::Collection {
                method: self.collection_method.0,
                next_payment_attempt: self.next_payment_attempt.map(utc),
                halted: self.collection_halted,
            },
            approval: from_json("approval", &self.approval)?,
            cancellation: self
                .cancellation
                .as_deref()
                .map(|j| from_json("cancellation", j))
                .transpose()?,
            void: self.void_record.as_deref().map(|j| from_json("void", j)).transpose()?,
            uncollectible: self
                .uncollectible
                .as_deref()
                .map(|j| from_json("uncollectible record", j))
                .transpose()?,
            replaces: link(details.replaces)?,
            replaced_by: link(details.replaced_by)?,
            credit_notes,
            due_date: self.due_date,
            external_reference: self.external_reference,
            buyer_reference: details.buyer_reference,
            seller,
            metadata: from_json("metadata", &self.metadata)?,
            version: stored_count("version", self.version)?,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            issued_at: self.issued_at.map(utc),
            paid_at: self.paid_at.map(utc),
            cancelled_at: self.cancelled_at.map(utc),
            voided_at: self.voided_at.map(utc),
            sent_at: details.sent_at,
        })
    }
}

/// Declares [`InvoiceChanges`] from one list of the invoice row's columns,
/// so the struct, the diff, the full update and the column names cannot
/// drift apart, and a column added to [`InvoiceRow`] but not here is a
/// compile error rather than a column `save` silently never updates.
macro_rules! invoice_changes {
    ($($column:ident: $ty:ty),* $(,)?) => {
        /// The columns of an invoice row that a transition changed, plus
        /// version and `updated_at`: an `UPDATE` writes only these. `None`
        /// leaves a column alone; for a nullable column `Some(None)` writes
        /// `NULL`.
        #[derive(Debug, Default, AsChangeset)]
        #[diesel(table_name = invoices)]
        pub struct InvoiceChanges {
            $($column: Option<$ty>,)*
        }

        impl InvoiceChanges {
            /// What differs from `old` in `new` (the same invoice), always
            /// with the new version and `updated_at`.
            pub fn between(old: &InvoiceRow, new: &InvoiceRow) -> Self {
                let mut changes = InvoiceChanges {
                    $($column: (old.$column != new.$column).then(|| new.$column.clone()),)*
                };
                changes.version = Some(new.version);
                changes.updated_at = Some(new.updated_at);
                changes
            }

            /// Every column, for when the stored row was not read in this
            /// transaction.
            pub fn all(new: &InvoiceRow) -> Self {
                InvoiceChanges {
                    $($column: Some(new.$column.clone()),)*
                }
            }

            /// The names of the columns it writes, for tests and statement
            /// counts.
            pub fn columns(&self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $(if self.$column.is_some() { out.push(stringify!($column)); })*
                out
            }
        }

        // Fails to compile when `InvoiceRow` has a column the list lacks
        // (only the key columns never change).
        const _: fn(InvoiceRow) = |row| {
            let InvoiceRow { tenant_id: _, id: _, $($column: _,)* } = row;
        };
    };
}

invoice_changes! {
    serial: i64,
    series: String,
    number_seq: Option<i64>,
    number: Option<String>,
    status: Named<InvoiceStatus>,
    currency: String,
    customer_id: String,
    issuer_id: Option<String>,
    customer: String,
    issuer: Option<String>,
    subtotal: i64,
    tax: i64,
    total: i64,
    amount_paid: i64,
    collection_method: Named<CollectionMethod>,
    next_payment_attempt: Option<NaiveDateTime>,
    collection_halted: bool,
    approval: String,
    cancellation: Option<String>,
    void_record: Option<String>,
    due_date: Option<NaiveDate>,
    external_reference: Option<String>,
    metadata: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    issued_at: Option<NaiveDateTime>,
    paid_at: Option<NaiveDateTime>,
    cancelled_at: Option<NaiveDateTime>,
    voided_at: Option<NaiveDateTime>,
    uncollectible: Option<String>,
    details: String,
}

/// The `invoice_lines` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoice_lines)]
pub struct LineRow {
    pub tenant_id: i64,
    pub invoice_id: String,
    pub id: String,
    pub position: i32,
    pub product_id: Option<String>,
    pub variation_id: Option<String>,
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub tax_rate: i64,
    pub tax_inclusive: bool,
    pub status: Named<LineStatus>,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
    pub tax_category: Named<TaxCategory>,
    pub exemption_reason_code: Option<String>,
    pub exemption_reason: Option<String>,
    pub credited_quantity: i64,
    pub credited_net: i64,
    pub credited_tax: i64,
    pub credited_gross: i64,
    pub kind: Option<Named<LineKind>>,
}

impl LineRow {
    /// The row of line `position` of `inv`.
    pub fn from_domain(inv: &Invoice, position: usize, l: &Line) -> Result<Self, RepositoryError> {
        let exemption = l.tax.exemption();
        Ok(LineRow {
            tenant_id: inv.tenant.get(),
            invoice_id: inv.id.to_string(),
            id: l.id.to_string(),
            position: stored_position(position)?,
            product_id: l.product_id.as_ref().map(ToString::to_string),
            variation_id: l.variation_id.as_ref().map(ToString::to_string),
            description: l.description.clone(),
            quantity: i64::from(l.quantity),
            unit_amount: db_amount(l.unit_amount)?,
            tax_rate: i64::from(l.tax.rate().units()),
            tax_inclusive: l.tax_inclusive,
            status: Named(l.status),
            net: db_amount(l.amounts.net)?,
            tax: db_amount(l.amounts.tax)?,
            gross: db_amount(l.amounts.gross)?,
            tax_category: Named(l.tax.category()),
            exemption_reason_code: exemption.and_then(|e| e.code.clone()),
            exemption_reason: exemption.and_then(|e| e.text.clone()),
            credited_quantity: i64::from(l.credited.quantity),
            credited_net: db_amount(l.credited.amounts.net)?,
            credited_tax: db_amount(l.credited.amounts.tax)?,
            credited_gross: db_amount(l.credited.amounts.gross)?,
            kind: l.kind.map(Named),
        })
    }

    fn into_domain(self) -> Result<Line, RepositoryError> {
        Ok(Line {
            id: uuid_of("line id", &self.id)?,
            product_id: self
                .product_id
                .as_deref()
                .map(ProductId::parse)
                .transpose()
                .map_err(|e| corrupt("product id", e))?,
            variation_id: self
                .variation_id
                .as_deref()
                .map(VariationId::parse)
                .transpose()
                .map_err(|e| corrupt("variation id", e))?,
            tax: stored_tax(
                self.tax_rate,
                self.tax_category.0,
                self.exemption_reason_code.as_deref(),
                self.exemption_reason.as_deref(),
            )?,
            description: self.description,
            quantity: stored_count("quantity", self.quantity)?,
            unit_amount: stored_amount("unit amount", self.unit_amount)?,
            tax_inclusive: self.tax_inclusive,
            status: self.status.0,
            amounts: stored_amounts(self.net, self.tax, self.gross)?,
            credited: LineCredit {
                quantity: stored_count("credited quantity", self.credited_quantity)?,
                amounts: stored_amounts(self.credited_net, self.credited_tax, self.credited_gross)?,
            },
            kind: self.kind.map(|k| k.0),
        })
    }
}

/// A position in a list as the `INTEGER` both backends store.
fn stored_position(position: usize) -> Result<i32, RepositoryError> {
    i32::try_from(position).map_err(|_| RepositoryError::Other(format!("position {position} does not fit")))
}

fn rate(units: i64) -> Result<TaxRate, RepositoryError> {
    u32::try_from(units)
        .ok()
        .and_then(|u| TaxRate::from_units(u).ok())
        .ok_or_else(|| corrupt("tax rate", units))
}

/// The `payments` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub tenant_id: i64,
    pub invoice_id: String,
    pub id: String,
    pub position: i32,
    pub amount: i64,
    pub method: Option<String>,
    pub reference: Option<String>,
    pub received_at: NaiveDateTime,
    pub source: Named<PaymentSource>,
}

impl PaymentRow {
    /// The row of payment `position` of `inv`.
    pub fn from_domain(inv: &Invoice, position: usize, p: &Payment) -> Result<Self, RepositoryError> {
        Ok(PaymentRow {
            tenant_id: inv.tenant.get(),
            invoice_id: inv.id.to_string(),
            id: p.id.to_string(),
            position: stored_position(position)?,
            amount: db_amount(p.amount.amount())?,
            method: p.method.clone(),
            reference: p.reference.clone(),
            received_at: ts(p.received_at),
            source: Named(p.source),
        })
    }

    /// Rebuilds a payment with its refunds.
    pub fn into_domain(self, refunds: Vec<Refund>) -> Result<Payment, RepositoryError> {
        Ok(Payment {
            id: uuid_of("payment id", &self.id)?,
            amount: stored_positive("payment amount", self.amount)?,
            method: self.method,
            reference: self.reference,
            received_at: utc(self.received_at),
            refunds,
            source: self.source.0,
        })
    }
}

/// The `refunds` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refunds)]
pub struct RefundRow {
    pub tenant_id: i64,
    pub invoice_id: String,
    pub payment_id: String,
    pub id: String,
    pub amount: i64,
    pub reason: Option<String>,
    pub refunded_at: NaiveDateTime,
    pub destination: Named<RefundDestination>,
}

impl RefundRow {
    /// The row of a refund of `payment` on `inv`.
    pub fn from_domain(inv: &Invoice, payment: &Payment, r: &Refund) -> Result<Self, RepositoryError> {
        Ok(RefundRow {
            tenant_id: inv.tenant.get(),
            invoice_id: inv.id.to_string(),
            payment_id: payment.id.to_string(),
            id: r.id.to_string(),
            amount: db_amount(r.amount.amount())?,
            reason: r.reason.clone(),
            refunded_at: ts(r.refunded_at),
            destination: Named(r.destination),
        })
    }

    /// Rebuilds the refund.
    pub fn into_domain(self) -> Result<Refund, RepositoryError> {
        Ok(Refund {
            id: uuid_of("refund id", &self.id)?,
            amount: stored_positive("refund amount", self.amount)?,
            reason: self.reason,
            refunded_at: utc(self.refunded_at),
            destination: self.destination.0,
        })
    }
}

/// The `credit_notes` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_notes)]
pub struct CreditNoteRow {
    pub tenant_id: i64,
    pub id: String,
    pub invoice_id: String,
    pub series: String,
    pub number_seq: i64,
    pub number: String,
    pub invoice_series: String,
    pub invoice_number_seq: i64,
    pub invoice_number: String,
    pub invoice_issued_at: NaiveDateTime,
    pub currency: String,
    pub reason: Option<String>,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub issued_at: NaiveDateTime,
    pub settlement: Named<Settlement>,
}

impl CreditNoteRow {
    /// The row of a credit note.
    pub fn from_domain(cn: &CreditNote) -> Result<Self, RepositoryError> {
        Ok(CreditNoteRow {
            tenant_id: cn.tenant.get(),
            id: cn.id.to_string(),
            invoice_id: cn.invoice_id.to_string(),
            series: cn.number.series.to_string(),
            number_seq: db_count("number", cn.number.sequence)?,
            number: cn.number.as_str().to_string(),
            invoice_series: cn.invoice_number.series.to_string(),
            invoice_number_seq: db_count("number", cn.invoice_number.sequence)?,
            invoice_number: cn.invoice_number.as_str().to_string(),
            invoice_issued_at: ts(cn.invoice_issued_at),
            currency: cn.currency.code().to_string(),
            reason: cn.reason.as_ref().map(to_json),
            subtotal: db_amount(cn.subtotal())?,
            tax: db_amount(cn.tax())?,
            total: db_amount(cn.total())?,
            issued_at: ts(cn.issued_at),
            settlement: Named(cn.settlement),
        })
    }

    /// Rebuilds the credit note with its lines.
    pub fn into_domain(self, lines: Vec<CreditNoteLineRow>) -> Result<CreditNote, RepositoryError> {
        let number = |series: &str, seq: i64, text: &str| {
            SeriesPrefix::parse(series)
                .and_then(|s| DocumentNumber::issued(s, u64::try_from(seq).unwrap_or(0), text))
                .map_err(|e| corrupt("credit note number", e))
        };
        Ok(CreditNote {
            id: uuid_of("credit note id", &self.id)?,
            tenant: invoice_domain::TenantId::new(self.tenant_id),
            number: number(&self.series, self.number_seq, &self.number)?,
            invoice_id: uuid_of("invoice id", &self.invoice_id)?,
            invoice_number: number(&self.invoice_series, self.invoice_number_seq, &self.invoice_number)?,
            invoice_issued_at: utc(self.invoice_issued_at),
            currency: Currency::parse(&self.currency).map_err(|e| corrupt("currency", e))?,
            lines: lines
                .into_iter()
                .map(|l| {
                    Ok(CreditNoteLine {
                        line_id: l.line_id.as_deref().map(|id| uuid_of("line id", id)).transpose()?,
                        tax: stored_tax(
                            l.tax_rate,
                            l.tax_category.0,
                            l.exemption_reason_code.as_deref(),
                            l.exemption_reason.as_deref(),
                        )?,
                        description: l.description,
                        quantity: stored_count("quantity", l.quantity)?,
                        unit_amount: stored_amount("unit amount", l.unit_amount)?,
                        tax_inclusive: l.tax_inclusive,
                        amounts: stored_amounts(l.net, l.tax, l.gross)?,
                    })
                })
                .collect::<Result<_, RepositoryError>>()?,
            reason: self.reason.as_deref().map(|j| from_json("reason", j)).transpose()?,
            settlement: self.settlement.0,
            issued_at: utc(self.issued_at),
        })
    }
}

/// The `credit_note_lines` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_note_lines)]
pub struct CreditNoteLineRow {
    pub tenant_id: i64,
    pub credit_note_id: String,
    pub line_id: Option<String>,
    pub position: i32,
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub tax_rate: i64,
    pub tax_inclusive: bool,
    pub net: i64,
    pub tax: i64,
    pub gross: i64,
    pub tax_category: Named<TaxCategory>,
    pub exemption_reason_code: Option<String>,
    pub exemption_reason: Option<String>,
}

impl CreditNoteLineRow {
    /// The rows of a credit note's lines.
    pub fn all(cn: &CreditNote) -> Result<Vec<Self>, RepositoryError> {
        cn.lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let exemption = l.tax.exemption();
                Ok(CreditNoteLineRow {
                    tenant_id: cn.tenant.get(),
                    credit_note_id: cn.id.to_string(),
                    line_id: l.line_id.map(|id| id.to_string()),
                    position: stored_position(i)?,
                    description: l.description.clone(),
                    quantity: i64::from(l.quantity),
                    unit_amount: db_amount(l.unit_amount)?,
                    tax_rate: i64::from(l.tax.rate().units()),
                    tax_inclusive: l.tax_inclusive,
                    net: db_amount(l.amounts.net)?,
                    tax: db_amount(l.amounts.tax)?,
                    gross: db_amount(l.amounts.gross)?,
                    tax_category: Named(l.tax.category()),
                    exemption_reason_code: exemption.and_then(|e| e.code.clone()),
                    exemption_reason: exemption.and_then(|e| e.text.clone()),
                })
            })
            .collect()
    }
}

/// A new `events` row (the sequence is assigned by the database).
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = events)]
pub struct NewEventRow {
    pub tenant_id: i64,
    pub id: String,
    pub invoice_id: String,
    pub event_type: String,
    pub actor_id: String,
    pub channel: String,
    pub occurred_at: NaiveDateTime,
    pub invoice_version: i64,
    pub data: String,
}

impl NewEventRow {
    /// The row of `event`; the invoice it left is its version row.
    pub fn from_domain(event: &Event) -> Result<Self, RepositoryError> {
        Ok(NewEventRow {
            tenant_id: event.tenant.get(),
            id: event.id.to_string(),
            invoice_id: event.invoice_id.to_string(),
            event_type: event.kind.type_name().to_string(),
            actor_id: event.actor.id.clone(),
            channel: event.actor.channel.clone(),
            occurred_at: ts(event.occurred_at),
            invoice_version: db_count("version", event.invoice_version)?,
            data: to_json(&event.kind),
        })
    }
}

/// A stored `events` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub tenant_id: i64,
    pub seq: i64,
    pub id: String,
    pub invoice_id: String,
    pub event_type: String,
    pub actor_id: String,
    pub channel: String,
    pub occurred_at: NaiveDateTime,
    pub invoice_version: i64,
    pub data: String,
}

/// A stored event with the version row of the invoice it left.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The event.
    pub event: EventRow,
    /// `invoice_versions.format` of its version.
    pub format: i32,
    /// `invoice_versions.body` of its version.
    pub body: String,
}

impl From<(EventRow, i32, String)> for StoredEvent {
    fn from((event, format, body): (EventRow, i32, String)) -> Self {
        StoredEvent { event, format, body }
    }
}

impl EventRow {
    /// Rebuilds the domain event.
    pub fn to_domain(&self) -> Result<Event, RepositoryError> {
        Ok(Event {
            id: uuid_of("event id", &self.id)?,
            tenant: invoice_domain::TenantId::new(self.tenant_id),
            invoice_id: uuid_of("invoice id", &self.invoice_id)?,
            kind: from_json("event data", &self.data)?,
            actor: invoice_domain::Actor::new(self.actor_id.clone(), self.channel.clone()),
            occurred_at: utc(self.occurred_at),
            invoice_version: stored_count("version", self.invoice_version)?,
        })
    }
}

/// A `balance_entries` row (the sequence is assigned by the database).
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = balance_entries)]
pub struct BalanceEntryRow {
    pub tenant_id: i64,
    pub id: String,
    pub customer_id: String,
    pub currency: String,
    pub direction: Named<BalanceDirection>,
    pub amount: i64,
    pub balance_after: i64,
    pub invoice_id: String,
    pub credit_note_id: Option<String>,
    pub payment_id: Option<String>,
    pub refund_id: Option<String>,
    pub at: NaiveDateTime,
}

impl BalanceEntryRow {
    /// The row of a ledger entry.
    pub fn from_domain(e: &BalanceEntry) -> Result<Self, RepositoryError> {
        Ok(BalanceEntryRow {
            tenant_id: e.tenant.get(),
            id: e.id.to_string(),
            customer_id: e.customer.to_string(),
            currency: e.currency.code().to_string(),
            direction: Named(e.direction),
            amount: db_amount(e.amount.amount())?,
            balance_after: db_amount(e.balance_after)?,
            invoice_id: e.invoice_id.to_string(),
            credit_note_id: e.credit_note_id.map(|id| id.to_string()),
            payment_id: e.payment_id.map(|id| id.to_string()),
            refund_id: e.refund_id.map(|id| id.to_string()),
            at: ts(e.at),
        })
    }

    /// Rebuilds the ledger entry.
    pub fn into_domain(self) -> Result<BalanceEntry, RepositoryError> {
        Ok(BalanceEntry {
            id: uuid_of("balance entry id", &self.id)?,
            tenant: invoice_domain::TenantId::new(self.tenant_id),
            customer: PartyId::parse(&self.customer_id).map_err(|e| corrupt("customer id", e))?,
            currency: Currency::parse(&self.currency).map_err(|e| corrupt("currency", e))?,
            direction: self.direction.0,
            amount: stored_positive("balance entry amount", self.amount)?,
            balance_after: stored_amount("balance", self.balance_after)?,
            invoice_id: uuid_of("invoice id", &self.invoice_id)?,
            credit_note_id: self
                .credit_note_id
                .as_deref()
                .map(|id| uuid_of("credit note id", id))
                .transpose()?,
            payment_id: self
                .payment_id
                .as_deref()
                .map(|id| uuid_of("payment id", id))
                .transpose()?,
            refund_id: self
                .refund_id
                .as_deref()
                .map(|id| uuid_of("refund id", id))
                .transpose()?,
            at: utc(self.at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::named::StoredName;
    use super::*;

    /// The stored names of `all`, each checked to read back as itself (so
    /// no two values share a name).
    fn names<T: StoredName + PartialEq>(all: &[T]) -> Vec<&'static str> {
        for v in all {
            assert_eq!(T::from_name(v.name()), Some(*v), "{} {v:?}", T::WHAT);
        }
        all.iter().map(|v| v.name()).collect()
    }

    #[test]
    fn every_value_keeps_the_name_existing_rows_hold() {
        assert_eq!(
            names(&InvoiceStatus::ALL),
            ["draft", "open", "uncollectible", "paid", "cancelled", "void"]
        );
        assert_eq!(
            names(&[CollectionMethod::Automatic, CollectionMethod::Manual]),
            ["automatic", "manual"]
        );
        assert_eq!(
            names(&[LineStatus::Active, LineStatus::Cancelled]),
            ["active", "cancelled"]
        );
        assert_eq!(names(&LineKind::ALL), ["physical", "service", "digital", "shipping"]);
        assert_eq!(names(&TaxCategory::ALL), ["S", "Z", "E", "AE", "K", "G", "O"]);
        assert_eq!(
            names(&[PaymentSource::External, PaymentSource::CustomerBalance]),
            ["external", "customer_balance"]
        );
        assert_eq!(
            names(&[RefundDestination::OriginalMethod, RefundDestination::CustomerBalance]),
            ["original_method", "customer_balance"]
        );
        assert_eq!(
            names(&[Settlement::ReduceDue, Settlement::Refund, Settlement::CreditBalance]),
            ["reduce_due", "refund", "credit_balance"]
        );
        assert_eq!(
            names(&[BalanceDirection::Credit, BalanceDirection::Debit]),
            ["credit", "debit"]
        );
        assert_eq!(InvoiceStatus::from_name("archived"), None);
    }
}
