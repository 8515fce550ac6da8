//! `invoice_versions`: the invoice as each transaction left it, stored once
//! per transaction as a document whose shape this adapter owns.
//!
//! Events point at `(invoice_id, invoice_version)`; webhook payloads, the
//! event log, `GET …?version=N` and the one-statement `GET` of the current
//! invoice all read these rows. The document mirrors the adapter's own table
//! rows (`rows.rs`), not the domain's serde shape, so renaming a domain
//! field changes the mapping code here, never a stored row.
//!
//! Formats (`invoice_versions.format`):
//! * `0`: the domain `Invoice` as JSON, which events carried as `snapshot`
//!   before this table existed (moved here by the 2026-12-08 migration).
//!   History only: an earlier migration may have rewritten the tables since
//!   such a snapshot was taken, so the current state of an invoice last
//!   written before versions existed is read from its tables instead.
//! * `1`: [`DocV1`], the compact document below, written by `save` in the
//!   transaction that wrote the tables. Fields that are absent mean
//!   none/zero, so an older document keeps reading when fields are added.
//!
//! A later migration that rewrites invoice data in the tables must rewrite
//! the current format-1 rows too, or the one-statement reads go stale.

use super::codec::corrupt;
use super::connection::DbConnection;
use super::errors::repository_error;
use super::named::Named;
use super::rows::{CreditNoteLineRow, CreditNoteRow, InvoiceRow, LineRow, PaymentRow, RefundRow, StoredEvent};
use super::schema::invoice_versions;
use diesel::prelude::*;
use invoice_domain::{
    CollectionMethod, Invoice, InvoiceStatus, LineKind, LineStatus, Payment, PaymentSource, RefundDestination,
    RepositoryError, Settlement, TaxCategory,
};
use serde::{Deserialize, Serialize};

/// The domain snapshot events carried before versions existed.
pub const FORMAT_LEGACY: i32 = 0;
/// [`DocV1`].
pub const FORMAT_V1: i32 = 1;

/// JSON text stored inside the document as JSON (not as an escaped string).
mod raw {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::value::RawValue;

    pub fn serialize<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(text).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Box::<RawValue>::deserialize(d)?.get().to_string())
    }

    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
            match text {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
            Ok(Option::<Box<RawValue>>::deserialize(d)?.map(|r| r.get().to_string()))
        }
    }
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Format 1: the invoice's columns and its child rows, keys implied by the
/// version row (tenant, invoice id) and by nesting (payment of a refund,
/// credit note of a line). JSON-valued columns are embedded as JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct DocV1 {
    serial: i64,
    series: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    status: Named<InvoiceStatus>,
    currency: String,
    customer_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issuer_id: Option<String>,
    #[serde(with = "raw")]
    customer: String,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "raw::opt")]
    issuer: Option<String>,
    subtotal: i64,
    tax: i64,
    total: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    amount_paid: i64,
    collection_method: Named<CollectionMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_payment_attempt: Option<chrono::NaiveDateTime>,
    #[serde(default)]
    collection_halted: bool,
    #[serde(with = "raw")]
    approval: String,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "raw::opt")]
    cancellation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "raw::opt")]
    void_record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    due_date: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_reference: Option<String>,
    #[serde(with = "raw")]
    metadata: String,
    version: i64,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issued_at: Option<chrono::NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paid_at: Option<chrono::NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancelled_at: Option<chrono::NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voided_at: Option<chrono::NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "raw::opt")]
    uncollectible: Option<String>,
    #[serde(with = "raw")]
    details: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lines: Vec<LineDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    payments: Vec<PaymentDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    credit_notes: Vec<CreditNoteDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct LineDoc {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    variation_id: Option<String>,
    description: String,
    quantity: i64,
    unit_amount: i64,
    tax_rate: i64,
    #[serde(default)]
    tax_inclusive: bool,
    status: Named<LineStatus>,
    net: i64,
    tax: i64,
    gross: i64,
    tax_category: Named<TaxCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exemption_reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exemption_reason: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    credited_quantity: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    credited_net: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    credited_tax: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    credited_gross: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<Named<LineKind>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PaymentDoc {
    id: String,
    amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    received_at: chrono::NaiveDateTime,
    source: Named<PaymentSource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    refunds: Vec<RefundDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RefundDoc {
    id: String,
    amount: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    refunded_at: chrono::NaiveDateTime,
    destination: Named<RefundDestination>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CreditNoteDoc {
    id: String,
    series: String,
    number_seq: i64,
    number: String,
    invoice_series: String,
    invoice_number_seq: i64,
    invoice_number: String,
    invoice_issued_at: chrono::NaiveDateTime,
    currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "raw::opt")]
    reason: Option<String>,
    subtotal: i64,
    tax: i64,
    total: i64,
    issued_at: chrono::NaiveDateTime,
    settlement: Named<Settlement>,
    lines: Vec<CreditNoteLineDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CreditNoteLineDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line_id: Option<String>,
    description: String,
    quantity: i64,
    unit_amount: i64,
    tax_rate: i64,
    #[serde(default)]
    tax_inclusive: bool,
    net: i64,
    tax: i64,
    gross: i64,
    tax_category: Named<TaxCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exemption_reason_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exemption_reason: Option<String>,
}

impl DocV1 {
    /// The document of `inv`, whose invoice row the caller already built.
    pub fn from_domain(inv: &Invoice, row: &InvoiceRow) -> Result<Self, RepositoryError> {
        let lines = inv
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| LineRow::from_domain(inv, i, l).map(LineDoc::from))
            .collect::<Result<_, _>>()?;
        let payments = inv
            .payments
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let row = PaymentRow::from_domain(inv, i, p)?;
                let refunds = p
                    .refunds
                    .iter()
                    .map(|r| RefundRow::from_domain(inv, p, r).map(RefundDoc::from))
                    .collect::<Result<_, _>>()?;
                Ok(PaymentDoc {
                    id: row.id,
                    amount: row.amount,
                    method: row.method,
                    reference: row.reference,
                    received_at: row.received_at,
                    source: row.source,
                    refunds,
                })
            })
            .collect::<Result<_, RepositoryError>>()?;
        let credit_notes = inv
            .credit_notes
            .iter()
            .map(|cn| {
                let row = CreditNoteRow::from_domain(cn)?;
                let lines = CreditNoteLineRow::all(cn)?
                    .into_iter()
                    .map(CreditNoteLineDoc::from)
                    .collect();
                Ok(CreditNoteDoc {
                    id: row.id,
                    series: row.series,
                    number_seq: row.number_seq,
                    number: row.number,
                    invoice_series: row.invoice_series,
                    invoice_number_seq: row.invoice_number_seq,
                    invoice_number: row.invoice_number,
                    invoice_issued_at: row.invoice_issued_at,
                    currency: row.currency,
                    reason: row.reason,
                    subtotal: row.subtotal,
                    tax: row.tax,
                    total: row.total,
                    issued_at: row.issued_at,
                    settlement: row.settlement,
                    lines,
                })
            })
            .collect::<Result<_, RepositoryError>>()?;
        let r = row.clone();
        Ok(DocV1 {
            serial: r.serial,
            series: r.series,
            number_seq: r.number_seq,
            number: r.number,
            status: r.status,
            currency: r.currency,
            customer_id: r.customer_id,
            issuer_id: r.issuer_id,
            customer: r.customer,
            issuer: r.issuer,
            subtotal: r.subtotal,
            tax: r.tax,
            total: r.total,
            amount_paid: r.amount_paid,
            collection_method: r.collection_method,
            next_payment_attempt: r.next_payment_attempt,
            collection_halted: r.collection_halted,
            approval: r.approval,
            cancellation: r.cancellation,
            void_record: r.void_record,
            due_date: r.due_date,
            external_reference: r.external_reference,
            metadata: r.metadata,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            issued_at: r.issued_at,
            paid_at: r.paid_at,
            cancelled_at: r.cancelled_at,
            voided_at: r.voided_at,
            uncollectible: r.uncollectible,
            details: r.details,
            lines,
            payments,
            credit_notes,
        })
    }

    /// The invoice row and the aggregate this document describes.
    pub fn into_domain(self, tenant: i64, id: &str) -> Result<(InvoiceRow, Invoice), RepositoryError> {
        let row = InvoiceRow {
            tenant_id: tenant,
            id: id.to_string(),
            serial: self.serial,
            series: self.series,
            number_seq: self.number_seq,
            number: self.number,
            status: self.status,
            currency: self.currency,
            customer_id: self.customer_id,
            issuer_id: self.issuer_id,
            customer: self.customer,
            issuer: self.issuer,
            subtotal: self.subtotal,
            tax: self.tax,
            total: self.total,
            amount_paid: self.amount_paid,
            collection_method: self.collection_method,
            next_payment_attempt: self.next_payment_attempt,
            collection_halted: self.collection_halted,
            approval: self.approval,
            cancellation: self.cancellation,
            void_record: self.void_record,
            due_date: self.due_date,
            external_reference: self.external_reference,
            metadata: self.metadata,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            issued_at: self.issued_at,
            paid_at: self.paid_at,
            cancelled_at: self.cancelled_at,
            voided_at: self.voided_at,
            uncollectible: self.uncollectible,
            details: self.details,
        };
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| l.into_row(tenant, id, i))
            .collect::<Result<_, _>>()?;
        let payments = self
            .payments
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let refunds = p
                    .refunds
                    .into_iter()
                    .map(|r| {
                        RefundRow {
                            tenant_id: tenant,
                            invoice_id: id.to_string(),
                            payment_id: p.id.clone(),
                            id: r.id,
                            amount: r.amount,
                            reason: r.reason,
                            refunded_at: r.refunded_at,
                            destination: r.destination,
                        }
                        .into_domain()
                    })
                    .collect::<Result<_, _>>()?;
                PaymentRow {
                    tenant_id: tenant,
                    invoice_id: id.to_string(),
                    id: p.id,
                    position: position(i)?,
                    amount: p.amount,
                    method: p.method,
                    reference: p.reference,
                    received_at: p.received_at,
                    source: p.source,
                }
                .into_domain(refunds)
            })
            .collect::<Result<Vec<Payment>, _>>()?;
        let credit_notes = self
            .credit_notes
            .into_iter()
            .map(|cn| {
                let lines = cn
                    .lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| {
                        Ok(CreditNoteLineRow {
                            tenant_id: tenant,
                            credit_note_id: cn.id.clone(),
                            line_id: l.line_id,
                            position: position(i)?,
                            description: l.description,
                            quantity: l.quantity,
                            unit_amount: l.unit_amount,
                            tax_rate: l.tax_rate,
                            tax_inclusive: l.tax_inclusive,
                            net: l.net,
                            tax: l.tax,
                            gross: l.gross,
                            tax_category: l.tax_category,
                            exemption_reason_code: l.exemption_reason_code,
                            exemption_reason: l.exemption_reason,
                        })
                    })
                    .collect::<Result<_, RepositoryError>>()?;
                CreditNoteRow {
                    tenant_id: tenant,
                    id: cn.id,
                    invoice_id: id.to_string(),
                    series: cn.series,
                    number_seq: cn.number_seq,
                    number: cn.number,
                    invoice_series: cn.invoice_series,
                    invoice_number_seq: cn.invoice_number_seq,
                    invoice_number: cn.invoice_number,
                    invoice_issued_at: cn.invoice_issued_at,
                    currency: cn.currency,
                    reason: cn.reason,
                    subtotal: cn.subtotal,
                    tax: cn.tax,
                    total: cn.total,
                    issued_at: cn.issued_at,
                    settlement: cn.settlement,
                }
                .into_domain(lines)
            })
            .collect::<Result<_, _>>()?;
        let invoice = row.clone().into_domain(lines, payments, credit_notes)?;
        Ok((row, invoice))
    }
}

fn position(i: usize) -> Result<i32, RepositoryError> {
    i32::try_from(i).map_err(|_| corrupt("position", i))
}

impl From<LineRow> for LineDoc {
    fn from(l: LineRow) -> Self {
        LineDoc {
            id: l.id,
            product_id: l.product_id,
            variation_id: l.variation_id,
            description: l.description,
            quantity: l.quantity,
            unit_amount: l.unit_amount,
            tax_rate: l.tax_rate,
            tax_inclusive: l.tax_inclusive,
            status: l.status,
            net: l.net,
            tax: l.tax,
            gross: l.gross,
            tax_category: l.tax_category,
            exemption_reason_code: l.exemption_reason_code,
            exemption_reason: l.exemption_reason,
            credited_quantity: l.credited_quantity,
            credited_net: l.credited_net,
            credited_tax: l.credited_tax,
            credited_gross: l.credited_gross,
            kind: l.kind,
        }
    }
}

impl LineDoc {
    fn into_row(self, tenant: i64, invoice_id: &str, i: usize) -> Result<LineRow, RepositoryError> {
        Ok(LineRow {
            tenant_id: tenant,
            invoice_id: invoice_id.to_string(),
            id: self.id,
            position: position(i)?,
            product_id: self.product_id,
            variation_id: self.variation_id,
            description: self.description,
            quantity: self.quantity,
            unit_amount: self.unit_amount,
            tax_rate: self.tax_rate,
            tax_inclusive: self.tax_inclusive,
            status: self.status,
            net: self.net,
            tax: self.tax,
            gross: self.gross,
            tax_category: self.tax_category,
            exemption_reason_code: self.exemption_reason_code,
            exemption_reason: self.exemption_reason,
            credited_quantity: self.credited_quantity,
            credited_net: self.credited_net,
            credited_tax: self.credited_tax,
            credited_gross: self.credited_gross,
            kind: self.kind,
        })
    }
}

impl From<RefundRow> for RefundDoc {
    fn from(r: RefundRow) -> Self {
        RefundDoc {
            id: r.id,
            amount: r.amount,
            reason: r.reason,
            refunded_at: r.refunded_at,
            destination: r.destination,
        }
    }
}

impl From<CreditNoteLineRow> for CreditNoteLineDoc {
    fn from(l: CreditNoteLineRow) -> Self {
        CreditNoteLineDoc {
            line_id: l.line_id,
            description: l.description,
            quantity: l.quantity,
            unit_amount: l.unit_amount,
            tax_rate: l.tax_rate,
            tax_inclusive: l.tax_inclusive,
            net: l.net,
            tax: l.tax,
            gross: l.gross,
            tax_category: l.tax_category,
            exemption_reason_code: l.exemption_reason_code,
            exemption_reason: l.exemption_reason,
        }
    }
}

/// The stored text of `inv` in the current format.
pub fn encode(inv: &Invoice, row: &InvoiceRow) -> Result<String, RepositoryError> {
    serde_json::to_string(&DocV1::from_domain(inv, row)?).map_err(|e| RepositoryError::Other(e.to_string()))
}

/// Reads a stored version of invoice `id` of `tenant` in any format.
pub fn decode(tenant: i64, id: &str, format: i32, body: &str) -> Result<(InvoiceRow, Invoice), RepositoryError> {
    match format {
        FORMAT_V1 => serde_json::from_str::<DocV1>(body)
            .map_err(|e| corrupt("invoice version", e))?
            .into_domain(tenant, id),
        FORMAT_LEGACY => {
            let invoice = legacy(body)?;
            Ok((InvoiceRow::from_domain(&invoice)?, invoice))
        }
        other => Err(corrupt("invoice version format", other)),
    }
}

impl StoredEvent {
    /// The invoice as the event left it.
    pub fn invoice(&self) -> Result<Invoice, RepositoryError> {
        decode(self.event.tenant_id, &self.event.invoice_id, self.format, &self.body).map(|(_, i)| i)
    }
}

/// Reads a format-0 document: the domain's own serde shape as it was when
/// events carried snapshots. A later rename in the domain must keep this
/// reading the old names (a fixture test of a stored row pins them).
fn legacy(body: &str) -> Result<Invoice, RepositoryError> {
    serde_json::from_str(body).map_err(|e| corrupt("legacy invoice snapshot", e))
}

/// Inserts the version row of `inv` (its current version).
pub fn insert(conn: &mut DbConnection, inv: &Invoice, row: &InvoiceRow) -> Result<(), RepositoryError> {
    diesel::insert_into(invoice_versions::table)
        .values((
            invoice_versions::tenant_id.eq(row.tenant_id),
            invoice_versions::invoice_id.eq(&row.id),
            invoice_versions::version.eq(row.version),
            invoice_versions::format.eq(FORMAT_V1),
            invoice_versions::body.eq(encode(inv, row)?),
        ))
        .execute(conn)
        .map_err(repository_error)?;
    Ok(())
}

/// One stored version, read back.
pub fn load(conn: &mut DbConnection, tenant: i64, id: &str, version: i64) -> Result<Option<Invoice>, RepositoryError> {
    let stored: Option<(i32, String)> = invoice_versions::table
        .filter(invoice_versions::tenant_id.eq(tenant))
        .filter(invoice_versions::invoice_id.eq(id))
        .filter(invoice_versions::version.eq(version))
        .select((invoice_versions::format, invoice_versions::body))
        .first(conn)
        .optional()
        .map_err(repository_error)?;
    stored
        .map(|(format, body)| decode(tenant, id, format, &body).map(|(_, inv)| inv))
        .transpose()
}
