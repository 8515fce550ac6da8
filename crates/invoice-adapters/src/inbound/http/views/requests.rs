//! Request bodies: checked with `validator`, then turned into domain values.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use invoice_domain::rules::{CancelRequest, NewInvoice, NewPayment, Rejection};
use invoice_domain::{
    Amount, CollectionMethod, Currency, LineId, LineRef, NewLine, Party, ProductId, Reason, ReasonCode, SeriesPrefix,
    ValidationError, VariationId,
};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

/// An issuer or customer in a request.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    /// Your id for the party.
    #[validate(length(min = 1, max = 128))]
    pub id: String,
    /// Name.
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    /// E-mail.
    #[validate(email)]
    pub email: Option<String>,
    /// Tax number.
    #[validate(length(max = 64))]
    pub tax_number: Option<String>,
    /// Address.
    #[validate(length(max = 500))]
    pub address: Option<String>,
}

impl PartyBody {
    fn into_domain(self, field: &str) -> Result<Party, ValidationError> {
        Party::parse(
            &self.id,
            &self.name,
            self.email.as_deref(),
            self.tax_number.as_deref(),
            self.address.as_deref(),
        )
        .map_err(|e| e.within(field))
    }
}

/// A line in a create request.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    /// Your product id.
    #[validate(length(min = 1, max = 128))]
    pub product_id: Option<String>,
    /// Your variation id.
    #[validate(length(min = 1, max = 128))]
    pub variation_id: Option<String>,
    /// Description.
    #[validate(length(min = 1, max = 500))]
    pub description: String,
    /// Quantity, at least 1.
    #[validate(range(min = 1, max = 1_000_000))]
    pub quantity: i64,
    /// Unit amount in minor units.
    #[validate(range(min = 0))]
    pub unit_amount: i64,
    /// Tax rate in percent as a decimal string (`"19"`, `"7.5"`).
    #[schema(example = "19")]
    pub tax_rate: String,
    /// True when `unit_amount` includes tax (default false).
    #[serde(default)]
    pub tax_inclusive: bool,
}

/// `POST /v1/invoices`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoiceBody {
    /// ISO 4217 currency code.
    #[schema(example = "EUR")]
    pub currency: String,
    /// Who owes it.
    #[validate(nested)]
    pub customer: PartyBody,
    /// Who issues it.
    #[validate(nested)]
    pub issuer: Option<PartyBody>,
    /// Lines.
    #[validate(nested)]
    #[serde(default)]
    pub lines: Vec<LineBody>,
    /// Due date (`YYYY-MM-DD`).
    pub due_date: Option<NaiveDate>,
    /// Number series prefix (default `INV`).
    pub series: Option<String>,
    /// Your own invoice number.
    #[validate(length(max = 200))]
    pub external_reference: Option<String>,
    /// Payer approval levels required (0–10).
    #[validate(range(max = 10))]
    #[serde(default)]
    pub approval_levels: u8,
    /// `automatic` (default) or `manual`.
    pub collection_method: Option<String>,
    /// Up to 50 string pairs.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl CreateInvoiceBody {
    /// Parses into the domain request.
    pub fn into_domain(self) -> Result<NewInvoice, ValidationError> {
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                NewLine::parse(
                    l.product_id.as_deref(),
                    l.variation_id.as_deref(),
                    &l.description,
                    l.quantity,
                    l.unit_amount,
                    &l.tax_rate,
                    l.tax_inclusive,
                )
                .map_err(|e| e.within(format!("lines[{i}]")))
            })
            .collect::<Result<_, _>>()?;
        let collection_method = match self.collection_method.as_deref() {
            None | Some("automatic") => CollectionMethod::Automatic,
            Some("manual") => CollectionMethod::Manual,
            Some(_) => return Err(ValidationError::new("collection_method", "must be automatic or manual")),
        };
        Ok(NewInvoice {
            currency: Currency::parse(&self.currency)?,
            customer: self.customer.into_domain("customer")?,
            issuer: self.issuer.map(|p| p.into_domain("issuer")).transpose()?,
            lines,
            due_date: self.due_date,
            series: self.series.as_deref().map(SeriesPrefix::parse).transpose()?,
            external_reference: invoice_domain::model::text::optional_text(
                self.external_reference.as_deref(),
                "external_reference",
                200,
            )?,
            approval_levels: self.approval_levels,
            collection_method,
            metadata: invoice_domain::model::text::parse_metadata(self.metadata)?,
        })
    }
}

/// `POST /v1/invoices/{ref}/payments`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// Amount in minor units, positive.
    #[validate(range(min = 1))]
    pub amount: i64,
    /// How it was paid.
    #[validate(length(max = 64))]
    pub method: Option<String>,
    /// Your reference.
    #[validate(length(max = 200))]
    pub reference: Option<String>,
}

impl PaymentBody {
    /// Parses into the domain payment.
    pub fn into_domain(self) -> Result<NewPayment, ValidationError> {
        Ok(NewPayment {
            amount: Amount::positive(self.amount, "amount")?,
            method: invoice_domain::model::text::optional_text(self.method.as_deref(), "method", 64)?,
            reference: invoice_domain::model::text::optional_text(self.reference.as_deref(), "reference", 200)?,
        })
    }
}

/// `POST /v1/invoices/{ref}/payments/{payment_id}/refunds`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Amount in minor units, positive.
    #[validate(range(min = 1))]
    pub amount: i64,
    /// Why.
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

/// Names one line to cancel: exactly one of the three fields.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRefBody {
    /// The line id.
    pub line_id: Option<String>,
    /// Your product id (must match exactly one active line).
    pub product_id: Option<String>,
    /// Your variation id (must match exactly one active line).
    pub variation_id: Option<String>,
}

impl LineRefBody {
    /// Parses into a domain line reference.
    pub fn into_domain(self, field: &str) -> Result<LineRef, ValidationError> {
        match (self.line_id, self.product_id, self.variation_id) {
            (Some(id), None, None) => id
                .parse::<LineId>()
                .map(LineRef::LineId)
                .map_err(|_| ValidationError::new(format!("{field}.line_id"), "is not a UUID")),
            (None, Some(p), None) => Ok(LineRef::ProductId(ProductId::parse(&p).map_err(|e| e.within(field))?)),
            (None, None, Some(v)) => Ok(LineRef::VariationId(
                VariationId::parse(&v).map_err(|e| e.within(field))?,
            )),
            _ => Err(ValidationError::new(
                field,
                "must have exactly one of line_id, product_id or variation_id",
            )),
        }
    }
}

/// Parses an optional reason code and text into a domain reason.
pub fn reason(code: Option<&str>, text: Option<&str>) -> Result<Option<Reason>, ValidationError> {
    if code.is_none() && text.is_none() {
        return Ok(None);
    }
    let code = code
        .map(str::parse::<ReasonCode>)
        .transpose()?
        .unwrap_or(ReasonCode::Other);
    Reason::new(code, text).map(Some)
}

/// `POST /v1/invoices/{ref}/cancel`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why (required, at most 500 characters).
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
    /// `customer_request`, `duplicate`, `fraudulent`, `order_change`, `issued_in_error` or `other` (default).
    pub reason_code: Option<String>,
    /// Lines to cancel; absent or empty cancels the whole invoice.
    #[serde(default)]
    pub lines: Vec<LineRefBody>,
}

impl CancelBody {
    /// Parses into the domain request.
    pub fn into_domain(self) -> Result<CancelRequest, ValidationError> {
        Ok(CancelRequest {
            lines: self
                .lines
                .into_iter()
                .enumerate()
                .map(|(i, l)| l.into_domain(&format!("lines[{i}]")))
                .collect::<Result<_, _>>()?,
            reason: reason(self.reason_code.as_deref(), Some(&self.reason))?,
        })
    }
}

/// `POST /v1/invoices/{ref}/void` (the body is optional).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidBody {
    /// Why.
    #[validate(length(max = 500))]
    pub reason: Option<String>,
    /// Reason code (default `other` when a reason is given).
    pub reason_code: Option<String>,
}

/// `POST /v1/invoices/{ref}/reject`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Reasons.
    #[serde(default)]
    #[validate(length(max = 20))]
    pub reasons: Vec<String>,
    /// Free remark.
    #[validate(length(max = 500))]
    pub remark: Option<String>,
}

impl RejectBody {
    /// Parses into the domain rejection.
    pub fn into_domain(self) -> Result<Rejection, ValidationError> {
        Rejection::parse(self.reasons, self.remark)
    }
}

/// An empty body (approve, finalize).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}
