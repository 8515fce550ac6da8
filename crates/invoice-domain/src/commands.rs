//! Every request a caller can make of an invoice, validated.
//!
//! Each type here can only be built through a constructor or builder that
//! checks it, and keeps its fields private: a value that exists is valid, so
//! the rules never see a negative payment or an over-long line list, however
//! the crate is used.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::ids::PaymentId;
use crate::model::invoice::CollectionMethod;
use crate::model::line::{LineRef, NewLine};
use crate::model::money::{bounded_sum, Currency, PositiveAmount, MAX_AMOUNT};
use crate::model::number::{DocumentCode, SeriesPrefix};
use crate::model::party::Party;
use crate::model::reason::Reason;
use crate::model::tax::LineTax;
use crate::model::text::{optional_text, parse_metadata, required_text, Metadata};

/// Most lines one invoice may have.
pub const MAX_LINES: usize = 5_000;
/// Most approval levels an invoice may require.
pub const MAX_APPROVAL_LEVELS: u8 = 10;

/// Everything needed to create a draft, checked as a whole: at most
/// [`MAX_LINES`] lines whose gross amounts sum to at most [`MAX_AMOUNT`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    pub(crate) currency: Currency,
    pub(crate) customer: Party,
    pub(crate) issuer: Option<Party>,
    pub(crate) lines: Vec<NewLine>,
    pub(crate) due_date: Option<NaiveDate>,
    pub(crate) series: Option<SeriesPrefix>,
    pub(crate) external_reference: Option<String>,
    pub(crate) buyer_reference: Option<String>,
    pub(crate) approval_levels: u8,
    pub(crate) collection_method: CollectionMethod,
    pub(crate) metadata: Metadata,
}

impl NewInvoice {
    /// Starts a draft request for `customer` in `currency`.
    pub fn builder(currency: Currency, customer: Party) -> NewInvoiceBuilder {
        NewInvoiceBuilder {
            currency,
            customer,
            issuer: None,
            lines: Vec::new(),
            due_date: None,
            series: None,
            external_reference: None,
            buyer_reference: None,
            approval_levels: 0,
            collection_method: CollectionMethod::Automatic,
            metadata: BTreeMap::new(),
        }
    }

    /// Invoice currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Who owes it.
    pub fn customer(&self) -> &Party {
        &self.customer
    }

    /// Who issues it.
    pub fn issuer(&self) -> Option<&Party> {
        self.issuer.as_ref()
    }

    /// The lines (may be empty for a draft).
    pub fn lines(&self) -> &[NewLine] {
        &self.lines
    }

    /// When payment is due.
    pub fn due_date(&self) -> Option<NaiveDate> {
        self.due_date
    }

    /// The number series; `INV` when absent.
    pub fn series(&self) -> Option<&SeriesPrefix> {
        self.series.as_ref()
    }

    /// The caller's own reference for the invoice.
    pub fn external_reference(&self) -> Option<&str> {
        self.external_reference.as_deref()
    }

    /// The buyer's reference (BT-10).
    pub fn buyer_reference(&self) -> Option<&str> {
        self.buyer_reference.as_deref()
    }

    /// Payer approval levels required.
    pub fn approval_levels(&self) -> u8 {
        self.approval_levels
    }

    /// Automatic or manual collection.
    pub fn collection_method(&self) -> CollectionMethod {
        self.collection_method
    }

    /// Caller-defined string pairs.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
}

/// Collects a draft request by name; [`NewInvoiceBuilder::build`] checks it.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct NewInvoiceBuilder {
    currency: Currency,
    customer: Party,
    issuer: Option<Party>,
    lines: Vec<NewLine>,
    due_date: Option<NaiveDate>,
    series: Option<SeriesPrefix>,
    external_reference: Option<String>,
    buyer_reference: Option<String>,
    approval_levels: u8,
    collection_method: CollectionMethod,
    metadata: BTreeMap<String, String>,
}

impl NewInvoiceBuilder {
    /// Who issues the invoice (the seller or transporter).
    pub fn issuer(mut self, issuer: Party) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Appends one line.
    pub fn line(mut self, line: NewLine) -> Self {
        self.lines.push(line);
        self
    }

    /// Appends lines, in order.
    pub fn lines(mut self, lines: impl IntoIterator<Item = NewLine>) -> Self {
        self.lines.extend(lines);
        self
    }

    /// When payment is due.
    pub fn due_date(mut self, date: NaiveDate) -> Self {
        self.due_date = Some(date);
        self
    }

    /// The number series to draw from at finalize (default `INV`).
    pub fn series(mut self, series: SeriesPrefix) -> Self {
        self.series = Some(series);
        self
    }

    /// The caller's own code for the invoice, unique in its tenant: 1 to
    /// 100 characters without control characters, so that it can name the
    /// invoice wherever an id or number can.
    pub fn external_reference(mut self, reference: &str) -> Self {
        self.external_reference = Some(reference.to_string());
        self
    }

    /// The buyer's reference for routing the invoice (BT-10, at most 200
    /// characters); e-invoices fall back to the external reference.
    pub fn buyer_reference(mut self, reference: &str) -> Self {
        self.buyer_reference = Some(reference.to_string());
        self
    }

    /// How many payer approval levels are required (0 to
    /// [`MAX_APPROVAL_LEVELS`], default 0).
    pub fn approval_levels(mut self, levels: u8) -> Self {
        self.approval_levels = levels;
        self
    }

    /// Automatic (default) or manual collection.
    pub fn collection_method(mut self, method: CollectionMethod) -> Self {
        self.collection_method = method;
        self
    }

    /// Caller-defined string pairs (at most 50).
    pub fn metadata(mut self, metadata: BTreeMap<String, String>) -> Self {
        self.metadata = metadata;
        self
    }

    /// Checks the request as a whole.
    pub fn build(self) -> Result<NewInvoice, ValidationError> {
        if self.lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "lines",
                format!("must have at most {MAX_LINES} lines"),
            ));
        }
        let total = bounded_sum(self.lines.iter().map(|l| l.amounts().gross));
        if total.minor() > MAX_AMOUNT {
            return Err(ValidationError::new(
                "lines",
                format!("the invoice total must be at most {MAX_AMOUNT} minor units"),
            ));
        }
        if self.approval_levels > MAX_APPROVAL_LEVELS {
            return Err(ValidationError::new(
                "approval_levels",
                format!("must be at most {MAX_APPROVAL_LEVELS}"),
            ));
        }
        Ok(NewInvoice {
            currency: self.currency,
            customer: self.customer,
            issuer: self.issuer,
            lines: self.lines,
            due_date: self.due_date,
            series: self.series,
            external_reference: self
                .external_reference
                .as_deref()
                .map(|r| {
                    DocumentCode::parse(r)
                        .map(|c| c.as_str().to_string())
                        .map_err(|e| ValidationError::new("external_reference", e.message))
                })
                .transpose()?,
            buyer_reference: optional_text(self.buyer_reference.as_deref(), "buyer_reference", 200)?
                .filter(|r| !r.trim().is_empty()),
            approval_levels: self.approval_levels,
            collection_method: self.collection_method,
            metadata: parse_metadata(self.metadata)?,
        })
    }
}

/// A request to cancel a whole invoice, or only some of its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelRequest {
    lines: Vec<LineRef>,
    reason: Option<Reason>,
}

impl CancelRequest {
    /// Cancels the whole invoice.
    pub fn whole(reason: Option<Reason>) -> Self {
        CancelRequest {
            lines: Vec::new(),
            reason,
        }
    }

    /// Cancels only the named lines: at least one, at most [`MAX_LINES`].
    pub fn lines(lines: Vec<LineRef>, reason: Option<Reason>) -> Result<Self, ValidationError> {
        if lines.is_empty() {
            return Err(ValidationError::new("lines", "must name at least one line"));
        }
        if lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "lines",
                format!("must name at most {MAX_LINES} lines"),
            ));
        }
        Ok(CancelRequest { lines, reason })
    }

    /// The lines named; empty for a whole-invoice cancel.
    pub fn line_refs(&self) -> &[LineRef] {
        &self.lines
    }

    /// True when the whole invoice is to be cancelled.
    pub fn is_whole(&self) -> bool {
        self.lines.is_empty()
    }

    /// Why.
    pub fn reason(&self) -> Option<&Reason> {
        self.reason.as_ref()
    }
}

/// A payment to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub(crate) amount: PositiveAmount,
    pub(crate) method: Option<String>,
    pub(crate) reference: Option<String>,
}

impl NewPayment {
    /// A payment of `amount`, with how it was paid (at most 64 characters)
    /// and the payer's reference (at most 200).
    pub fn new(amount: PositiveAmount, method: Option<&str>, reference: Option<&str>) -> Result<Self, ValidationError> {
        Ok(NewPayment {
            amount,
            method: optional_text(method, "method", 64)?,
            reference: optional_text(reference, "reference", 200)?,
        })
    }

    /// The amount received.
    pub fn amount(&self) -> PositiveAmount {
        self.amount
    }

    /// How it was paid.
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    /// The payer's or processor's reference.
    pub fn reference(&self) -> Option<&str> {
        self.reference.as_deref()
    }
}

/// A refund of (part of) one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub(crate) payment_id: PaymentId,
    pub(crate) amount: PositiveAmount,
    pub(crate) reason: Option<String>,
}

impl RefundRequest {
    /// A refund of `amount` from `payment_id`, with an optional reason (at
    /// most 500 characters).
    pub fn new(payment_id: PaymentId, amount: PositiveAmount, reason: Option<&str>) -> Result<Self, ValidationError> {
        Ok(RefundRequest {
            payment_id,
            amount,
            reason: optional_text(reason, "reason", 500)?,
        })
    }

    /// The refunded payment.
    pub fn payment_id(&self) -> PaymentId {
        self.payment_id
    }

    /// How much.
    pub fn amount(&self) -> PositiveAmount {
        self.amount
    }

    /// Why.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

/// A payer's rejection: reasons and an optional remark.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rejection {
    pub(crate) reasons: Vec<String>,
    pub(crate) remark: Option<String>,
}

impl Rejection {
    /// Parses a rejection: at most 20 reasons and a remark, each not blank
    /// and at most 500 characters.
    pub fn parse(reasons: Vec<String>, remark: Option<String>) -> Result<Self, ValidationError> {
        if reasons.len() > 20 {
            return Err(ValidationError::new("reasons", "must have at most 20 entries"));
        }
        for r in &reasons {
            required_text(r, "reasons", 500)?;
        }
        if let Some(r) = &remark {
            required_text(r, "remark", 500)?;
        }
        Ok(Rejection { reasons, remark })
    }

    /// The reasons given.
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// The free remark.
    pub fn remark(&self) -> Option<&str> {
        self.remark.as_deref()
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

/// How much of a line to credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditPortion {
    /// Everything still uncredited of the line.
    Rest,
    /// This many units (at most those not yet credited), at the line's price.
    Quantity(u32),
    /// This net amount (a part of the line's uncredited net), taxed at the
    /// line's rate.
    Net(PositiveAmount),
}

/// One line to credit and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCreditRequest {
    pub(crate) line: LineRef,
    pub(crate) portion: CreditPortion,
}

impl LineCreditRequest {
    /// Credits `portion` of the line `line` names; a quantity must be at
    /// least 1 (zero quantities cannot be built).
    pub fn new(line: LineRef, portion: CreditPortion) -> Result<Self, ValidationError> {
        if portion == CreditPortion::Quantity(0) {
            return Err(ValidationError::new("quantity", "must be at least 1"));
        }
        Ok(LineCreditRequest { line, portion })
    }

    /// The line.
    pub fn line(&self) -> &LineRef {
        &self.line
    }

    /// How much of it.
    pub fn portion(&self) -> CreditPortion {
        self.portion
    }
}

/// A goodwill credit tied to no line: a net amount at a tax treatment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraCredit {
    pub(crate) description: String,
    pub(crate) net: PositiveAmount,
    pub(crate) tax: LineTax,
}

impl ExtraCredit {
    /// A goodwill credit of `net` (before tax) described as `description`
    /// (at most 500 characters), taxed by `tax` as the goods it refers to were.
    pub fn new(description: &str, net: PositiveAmount, tax: LineTax) -> Result<Self, ValidationError> {
        Ok(ExtraCredit {
            description: required_text(description, "description", 500)?,
            net,
            tax,
        })
    }

    /// What it is for.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Net amount credited.
    pub fn net(&self) -> PositiveAmount {
        self.net
    }

    /// Its tax treatment.
    pub fn tax(&self) -> &LineTax {
        &self.tax
    }
}

/// A request for a credit note on an issued invoice: lines (whole, some
/// units, or part of their net), an optional goodwill credit, a reason, and
/// how the credit is settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRequest {
    pub(crate) lines: Vec<LineCreditRequest>,
    pub(crate) extra: Option<ExtraCredit>,
    pub(crate) reason: Option<Reason>,
    pub(crate) settle: Settlement,
}

impl CreditRequest {
    /// A credit of `lines` and/or `extra`: at least one of them, at most
    /// [`MAX_LINES`] lines.
    pub fn new(
        lines: Vec<LineCreditRequest>,
        extra: Option<ExtraCredit>,
        reason: Option<Reason>,
        settle: Settlement,
    ) -> Result<Self, ValidationError> {
        if lines.is_empty() && extra.is_none() {
            return Err(ValidationError::new(
                "lines",
                "name at least one line, or give an extra credit",
            ));
        }
        if lines.len() > MAX_LINES {
            return Err(ValidationError::new(
                "lines",
                format!("must name at most {MAX_LINES} lines"),
            ));
        }
        Ok(CreditRequest {
            lines,
            extra,
            reason,
            settle,
        })
    }

    /// The lines to credit.
    pub fn lines(&self) -> &[LineCreditRequest] {
        &self.lines
    }

    /// The goodwill credit, if any.
    pub fn extra(&self) -> Option<&ExtraCredit> {
        self.extra.as_ref()
    }

    /// Why.
    pub fn reason(&self) -> Option<&Reason> {
        self.reason.as_ref()
    }

    /// How it is settled.
    pub fn settle(&self) -> Settlement {
        self.settle
    }
}

/// A change to one line of the invoice being reissued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEdit {
    /// Leave the line off the new draft.
    Remove(LineRef),
    /// Copy the line with some of its values replaced.
    Change {
        /// Which line.
        line: LineRef,
        /// New quantity.
        quantity: Option<i64>,
        /// New unit amount in minor units.
        unit_amount: Option<i64>,
        /// New description.
        description: Option<String>,
    },
}

impl LineEdit {
    /// The line the edit names.
    pub fn line(&self) -> &LineRef {
        match self {
            LineEdit::Remove(line) | LineEdit::Change { line, .. } => line,
        }
    }
}

/// What the new draft of a reissue holds besides a copy of the invoice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReissueLines {
    /// The invoice's lines, as issued.
    #[default]
    Copy,
    /// The invoice's lines with these edits.
    Edited(Vec<LineEdit>),
    /// These lines instead.
    Replaced(Vec<NewLine>),
}

/// A request to cancel an issued invoice and start a corrected draft of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReissueRequest {
    pub(crate) lines: ReissueLines,
    pub(crate) reason: Option<Reason>,
}

impl ReissueRequest {
    /// A reissue whose new draft holds `lines`; edits and replacements are
    /// bounded like any draft's lines.
    pub fn new(lines: ReissueLines, reason: Option<Reason>) -> Result<Self, ValidationError> {
        let count = match &lines {
            ReissueLines::Copy => 0,
            ReissueLines::Edited(edits) => edits.len(),
            ReissueLines::Replaced(new) => new.len(),
        };
        if count > MAX_LINES {
            return Err(ValidationError::new(
                "lines",
                format!("must have at most {MAX_LINES} entries"),
            ));
        }
        Ok(ReissueRequest { lines, reason })
    }

    /// What the new draft holds.
    pub fn lines(&self) -> &ReissueLines {
        &self.lines
    }

    /// Why.
    pub fn reason(&self) -> Option<&Reason> {
        self.reason.as_ref()
    }
}
