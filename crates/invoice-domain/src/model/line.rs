//! Invoice lines and the references callers use to pick them for cancellation.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::ids::{LineId, ProductId, VariationId};
use crate::model::money::{Amount, LineAmounts, TaxRate};
use crate::model::tax::{ExemptionReason, LineTax, TaxCategory};
use crate::model::text::required_text;

/// Largest quantity accepted on one line.
pub const MAX_QUANTITY: u32 = 1_000_000;

/// Whether a line of an issued invoice still stands or has been credited in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Not (or only partly) credited.
    Active,
    /// Credited in full by credit notes (or, on a discarded draft, discarded
    /// with it). The line stays on the document, which never changes.
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
///
/// Built only through [`NewLine::builder`], so every value in it has been
/// checked: quantity, amount, the tax treatment and their product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    product_id: Option<ProductId>,
    variation_id: Option<VariationId>,
    description: String,
    quantity: u32,
    unit_amount: Amount,
    tax: LineTax,
    tax_inclusive: bool,
    amounts: LineAmounts,
    kind: Option<LineKind>,
}

impl NewLine {
    /// Starts a line with its description; every other value is named by a
    /// builder method, so two arguments can never be swapped silently.
    ///
    /// ```
    /// use invoice_domain::NewLine;
    /// let line = NewLine::builder("Freight Berlin-Hamburg")
    ///     .product_id("freight")
    ///     .quantity(2)
    ///     .unit_amount(60_000)
    ///     .tax_rate("19")
    ///     .build()?;
    /// assert_eq!(line.amounts().gross.minor(), 142_800);
    /// # Ok::<(), invoice_domain::ValidationError>(())
    /// ```
    pub fn builder(description: &str) -> NewLineBuilder {
        NewLineBuilder {
            description: description.to_string(),
            product_id: None,
            variation_id: None,
            quantity: 1,
            unit_amount: 0,
            tax_rate: "0".to_string(),
            tax_category: None,
            exemption_code: None,
            exemption_text: None,
            tax_inclusive: false,
            kind: None,
        }
    }

    /// The caller's product id, used to reference the line later.
    pub fn product_id(&self) -> Option<&ProductId> {
        self.product_id.as_ref()
    }

    /// The caller's variation id, used to reference the line later.
    pub fn variation_id(&self) -> Option<&VariationId> {
        self.variation_id.as_ref()
    }

    /// What was sold.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// How many units, 1 to [`MAX_QUANTITY`].
    pub fn quantity(&self) -> u32 {
        self.quantity
    }

    /// Price of one unit in minor units (gross if tax-inclusive).
    pub fn unit_amount(&self) -> Amount {
        self.unit_amount
    }

    /// The VAT treatment.
    pub fn tax(&self) -> &LineTax {
        &self.tax
    }

    /// True when `unit_amount` already includes tax.
    pub fn tax_inclusive(&self) -> bool {
        self.tax_inclusive
    }

    /// Net, tax and gross as the line will carry them.
    pub fn amounts(&self) -> LineAmounts {
        self.amounts
    }

    /// What kind of thing the line sells, when the caller said.
    pub fn kind(&self) -> Option<LineKind> {
        self.kind
    }
}

/// Collects a line's values by name; [`NewLineBuilder::build`] checks them all.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct NewLineBuilder {
    description: String,
    product_id: Option<String>,
    variation_id: Option<String>,
    quantity: i64,
    unit_amount: i64,
    tax_rate: String,
    tax_category: Option<String>,
    exemption_code: Option<String>,
    exemption_text: Option<String>,
    tax_inclusive: bool,
    kind: Option<LineKind>,
}

impl NewLineBuilder {
    /// The caller's product id (at most 128 characters).
    pub fn product_id(mut self, id: &str) -> Self {
        self.product_id = Some(id.to_string());
        self
    }

    /// The caller's variation id (at most 128 characters).
    pub fn variation_id(mut self, id: &str) -> Self {
        self.variation_id = Some(id.to_string());
        self
    }

    /// How many units, 1 to [`MAX_QUANTITY`] (default 1).
    pub fn quantity(mut self, quantity: i64) -> Self {
        self.quantity = quantity;
        self
    }

    /// Price of one unit in minor units, at least 0 (default 0).
    pub fn unit_amount(mut self, minor: i64) -> Self {
        self.unit_amount = minor;
        self
    }

    /// Tax rate in percent as a decimal string, `"19"` or `"7.5"` (default `"0"`).
    pub fn tax_rate(mut self, rate: &str) -> Self {
        self.tax_rate = rate.to_string();
        self
    }

    /// The VAT category code (`S`, `Z`, `E`, `AE`, `K`, `G`, `O`); by
    /// default `S` above a zero rate and `Z` at zero.
    pub fn tax_category(mut self, code: &str) -> Self {
        self.tax_category = Some(code.to_string());
        self
    }

    /// Why no VAT is charged: a VATEX code, a text, or both (required for
    /// `E`, `AE`, `K`, `G` and `O`).
    pub fn exemption_reason(mut self, code: Option<&str>, text: Option<&str>) -> Self {
        self.exemption_code = code.map(str::to_string);
        self.exemption_text = text.map(str::to_string);
        self
    }

    /// Whether the unit amount already includes tax (default false).
    pub fn tax_inclusive(mut self, inclusive: bool) -> Self {
        self.tax_inclusive = inclusive;
        self
    }

    /// What kind of thing the line sells (default: not said).
    pub fn kind(mut self, kind: LineKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Checks every value and their combination.
    pub fn build(self) -> Result<NewLine, ValidationError> {
        let quantity = u32::try_from(self.quantity)
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| ValidationError::new("quantity", format!("must be between 1 and {MAX_QUANTITY}")))?;
        let unit_amount = Amount::non_negative(self.unit_amount, "unit_amount")?;
        let rate = TaxRate::parse(&self.tax_rate)?;
        let category = self
            .tax_category
            .as_deref()
            .map(str::parse::<TaxCategory>)
            .transpose()?;
        let exemption = if self.exemption_code.is_some() || self.exemption_text.is_some() {
            Some(ExemptionReason::parse(
                self.exemption_code.as_deref(),
                self.exemption_text.as_deref(),
            )?)
        } else {
            None
        };
        let tax = LineTax::new(rate, category, exemption)?;
        let amounts = LineAmounts::compute(quantity, unit_amount, rate, self.tax_inclusive)?;
        Ok(NewLine {
            product_id: self.product_id.as_deref().map(ProductId::parse).transpose()?,
            variation_id: self.variation_id.as_deref().map(VariationId::parse).transpose()?,
            description: required_text(&self.description, "description", 500)?,
            quantity,
            unit_amount,
            tax,
            tax_inclusive: self.tax_inclusive,
            amounts,
            kind: self.kind,
        })
    }
}

/// How much of a line credit notes have credited so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineCredit {
    /// Units credited.
    pub quantity: u32,
    /// Net, tax and gross credited.
    pub amounts: LineAmounts,
}

/// One line of an invoice with its rounded amounts. On an issued invoice the
/// line is part of the document and never changes; only `status` and
/// `credited` follow its credit notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredLine", into = "StoredLine")]
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
    /// Rate, category and exemption reason.
    pub tax: LineTax,
    /// True when `unit_amount` includes tax.
    pub tax_inclusive: bool,
    /// Active, or credited in full.
    pub status: LineStatus,
    /// Net, tax and gross, rounded per line, as issued.
    pub amounts: LineAmounts,
    /// What credit notes have credited of it so far.
    pub credited: LineCredit,
    /// What kind of thing it sells, when the caller said.
    pub kind: Option<LineKind>,
}

impl Line {
    /// Turns a requested line into an invoice line with the given id.
    pub fn from_new(id: LineId, new: NewLine) -> Self {
        Line {
            id,
            product_id: new.product_id,
            variation_id: new.variation_id,
            description: new.description,
            quantity: new.quantity,
            unit_amount: new.unit_amount,
            tax: new.tax,
            tax_inclusive: new.tax_inclusive,
            status: LineStatus::Active,
            amounts: new.amounts,
            credited: LineCredit::default(),
            kind: new.kind,
        }
    }

    /// True while the line has not been credited in full.
    pub fn is_active(&self) -> bool {
        self.status == LineStatus::Active
    }

    /// What is left to credit of the line: its amounts less what was credited.
    pub fn uncredited(&self) -> LineAmounts {
        self.amounts.checked_sub(self.credited.amounts).unwrap_or_default()
    }

    /// Units not yet credited.
    pub fn uncredited_quantity(&self) -> u32 {
        self.quantity.saturating_sub(self.credited.quantity)
    }
}

/// The serialized shape of a [`Line`]: its tax treatment flattened into
/// three fields, with defaults that read lines written before tax categories
/// and credited amounts existed.
#[derive(Serialize, Deserialize)]
struct StoredLine {
    id: LineId,
    product_id: Option<ProductId>,
    variation_id: Option<VariationId>,
    description: String,
    quantity: u32,
    unit_amount: Amount,
    tax_rate: TaxRate,
    #[serde(default)]
    tax_category: Option<TaxCategory>,
    #[serde(default)]
    exemption_reason: Option<ExemptionReason>,
    tax_inclusive: bool,
    status: LineStatus,
    amounts: LineAmounts,
    #[serde(default)]
    credited: Option<LineCredit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<LineKind>,
}

impl TryFrom<StoredLine> for Line {
    type Error = ValidationError;
    fn try_from(s: StoredLine) -> Result<Self, Self::Error> {
        let credited = s.credited.unwrap_or(match s.status {
            // Before credited amounts were kept, a cancelled line was credited whole.
            LineStatus::Cancelled => LineCredit {
                quantity: s.quantity,
                amounts: s.amounts,
            },
            LineStatus::Active => LineCredit::default(),
        });
        Ok(Line {
            id: s.id,
            product_id: s.product_id,
            variation_id: s.variation_id,
            description: s.description,
            quantity: s.quantity,
            unit_amount: s.unit_amount,
            tax: LineTax::new(s.tax_rate, s.tax_category, s.exemption_reason)?,
            tax_inclusive: s.tax_inclusive,
            status: s.status,
            amounts: s.amounts,
            credited,
            kind: s.kind,
        })
    }
}

impl From<Line> for StoredLine {
    fn from(l: Line) -> Self {
        StoredLine {
            id: l.id,
            product_id: l.product_id,
            variation_id: l.variation_id,
            description: l.description,
            quantity: l.quantity,
            unit_amount: l.unit_amount,
            tax_rate: l.tax.rate(),
            tax_category: Some(l.tax.category()),
            exemption_reason: l.tax.exemption().cloned(),
            tax_inclusive: l.tax_inclusive,
            status: l.status,
            amounts: l.amounts,
            credited: Some(l.credited),
            kind: l.kind,
        }
    }
}

/// What kind of thing a line sells. Tax rules and shop systems treat them
/// apart: shipping follows the goods it ships, digital services are taxed
/// where the customer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Goods that are shipped or handed over.
    Physical,
    /// Work done or a service rendered (freight included).
    Service,
    /// Digital goods or services delivered electronically.
    Digital,
    /// Shipping of other lines' goods.
    Shipping,
}

impl LineKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [LineKind; 4] = [
        LineKind::Physical,
        LineKind::Service,
        LineKind::Digital,
        LineKind::Shipping,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Physical => "physical",
            LineKind::Service => "service",
            LineKind::Digital => "digital",
            LineKind::Shipping => "shipping",
        }
    }

    /// Parses the name; anything else names the accepted ones.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        LineKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| ValidationError::new("kind", "must be physical, service, digital or shipping"))
    }
}

/// How a caller points at a line to cancel or credit.
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
