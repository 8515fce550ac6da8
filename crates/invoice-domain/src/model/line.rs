//! Invoice lines and the references callers use to pick them for cancellation.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::ids::{LineId, ProductId, VariationId};
use crate::model::money::{Amount, LineAmounts, TaxRate, MAX_LINE_AMOUNT};
use crate::model::text::required_text;

/// Largest quantity accepted on one line.
pub const MAX_QUANTITY: u32 = 1_000_000;

/// Whether a line still counts towards the invoice totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Counts towards the totals.
    Active,
    /// Cancelled: kept for the record, excluded from the totals.
    Cancelled,
}

impl LineStatus {
    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Active => "active",
            LineStatus::Cancelled => "cancelled",
        }
    }
}

/// A validated line as requested by a caller, before it gets an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    /// The caller's product id, used to reference the line later.
    pub product_id: Option<ProductId>,
    /// The caller's variation id, used to reference the line later.
    pub variation_id: Option<VariationId>,
    /// What was sold.
    pub description: String,
    /// How many units, at least 1.
    pub quantity: u32,
    /// Price of one unit in minor units (gross if `tax_inclusive`).
    pub unit_amount: Amount,
    /// Tax rate in percent.
    pub tax_rate: TaxRate,
    /// True when `unit_amount` already includes tax.
    pub tax_inclusive: bool,
}

impl NewLine {
    /// Parses a line, refusing a zero or huge quantity and amounts that could overflow.
    pub fn parse(
        product_id: Option<&str>,
        variation_id: Option<&str>,
        description: &str,
        quantity: i64,
        unit_amount: i64,
        tax_rate: &str,
        tax_inclusive: bool,
    ) -> Result<Self, ValidationError> {
        if quantity < 1 || quantity > i64::from(MAX_QUANTITY) {
            return Err(ValidationError::new(
                "quantity",
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        let quantity = quantity as u32;
        let unit_amount = Amount::non_negative(unit_amount, "unit_amount")?;
        let tax_rate = TaxRate::parse(tax_rate)?;
        let line = NewLine {
            product_id: product_id.map(ProductId::parse).transpose()?,
            variation_id: variation_id.map(VariationId::parse).transpose()?,
            description: required_text(description, "description", 500)?,
            quantity,
            unit_amount,
            tax_rate,
            tax_inclusive,
        };
        let gross = i128::from(quantity) * i128::from(unit_amount.minor()) * 11;
        if gross > i128::from(MAX_LINE_AMOUNT) {
            return Err(ValidationError::new(
                "unit_amount",
                "quantity × unit_amount is too large",
            ));
        }
        Ok(line)
    }
}

/// One line of an invoice with its rounded amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Stable id of the line.
    pub id: LineId,
    /// The caller's product id.
    pub product_id: Option<ProductId>,
    /// The caller's variation id.
    pub variation_id: Option<VariationId>,
    /// What was sold.
    pub description: String,
    /// How many units.
    pub quantity: u32,
    /// Price of one unit in minor units.
    pub unit_amount: Amount,
    /// Tax rate in percent.
    pub tax_rate: TaxRate,
    /// True when `unit_amount` includes tax.
    pub tax_inclusive: bool,
    /// Active or cancelled.
    pub status: LineStatus,
    /// Net, tax and gross, rounded per line.
    pub amounts: LineAmounts,
}

impl Line {
    /// Turns a requested line into an invoice line with the given id.
    pub fn from_new(id: LineId, new: NewLine) -> Self {
        let amounts = LineAmounts::compute(new.quantity, new.unit_amount, new.tax_rate, new.tax_inclusive);
        Line {
            id,
            product_id: new.product_id,
            variation_id: new.variation_id,
            description: new.description,
            quantity: new.quantity,
            unit_amount: new.unit_amount,
            tax_rate: new.tax_rate,
            tax_inclusive: new.tax_inclusive,
            status: LineStatus::Active,
            amounts,
        }
    }

    /// True while the line counts towards the totals.
    pub fn is_active(&self) -> bool {
        self.status == LineStatus::Active
    }
}

/// How a caller points at a line to cancel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineRef {
    /// By the line's own id.
    LineId(LineId),
    /// By the caller's product id.
    ProductId(ProductId),
    /// By the caller's variation id.
    VariationId(VariationId),
}

impl std::fmt::Display for LineRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineRef::LineId(id) => write!(f, "line_id {id}"),
            LineRef::ProductId(id) => write!(f, "product_id {id}"),
            LineRef::VariationId(id) => write!(f, "variation_id {id}"),
        }
    }
}
