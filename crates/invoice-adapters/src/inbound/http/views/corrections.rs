//! Request bodies of the corrections after issue: a credit note
//! (`POST /v1/invoices/{ref}/credit-notes`) and a cancel-and-reissue
//! (`POST /v1/invoices/{ref}/reissue`).
//!
//! Their schemas state the rules that tie fields together (`quantity` or
//! `amount`, never both; a credit names lines or an extra; a reissue takes
//! replacement lines or edits, never both) as JSON Schema keywords, so that
//! every body the contract allows is one the parser accepts.

use invoice_domain::{
    Amount, CreditPortion, CreditRequest, ExemptionReason, ExtraCredit, LineCreditRequest, LineEdit, LineId, LineRef,
    LineTax, ProductId, ReissueLines, ReissueRequest, Settlement, TaxCategory, TaxRate, ValidationError, VariationId,
};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use validator::Validate;

use super::requests::{
    integer, one_of_three_keys_and, optional_integer, reason, reason_code_schema, string_enum, tax_category_schema,
    LineBody, REQUIRED_TEXT_PATTERN,
};

/// Reads the one line reference out of the three keys.
fn line_ref(
    field: &str,
    line_id: Option<String>,
    product_id: Option<String>,
    variation_id: Option<String>,
) -> Result<LineRef, ValidationError> {
    match (line_id, product_id, variation_id) {
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

/// A nullable positive integer property of at most `max`.
fn positive(description: &str, max: i64) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .description(Some(description))
        .minimum(Some(1))
        .maximum(Some(max))
        .into()
}

/// The three keys a line is named by, as every schema here writes them.
const LINE_KEYS: [(&str, &str); 3] = [
    ("line_id", "By line id."),
    ("product_id", "By your product id (must match exactly one active line)."),
    (
        "variation_id",
        "By your variation id (must match exactly one active line).",
    ),
];

/// One line to credit: named by exactly one key, with an optional `quantity`
/// or `amount` (never both); neither credits all that is left of it.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreditLineBody {
    /// The line id.
    pub line_id: Option<String>,
    /// Your product id.
    pub product_id: Option<String>,
    /// Your variation id.
    pub variation_id: Option<String>,
    /// Units to credit, at most those not yet credited.
    #[serde(default, deserialize_with = "optional_integer")]
    pub quantity: Option<u32>,
    /// Net amount to credit in minor units, at most the line's uncredited net.
    #[serde(default, deserialize_with = "optional_integer")]
    pub amount: Option<i64>,
}

impl PartialSchema for CreditLineBody {
    fn schema() -> RefOr<Schema> {
        one_of_three_keys_and(
            "One line to credit: named by exactly one key; with `quantity` (units) or `amount` (net, minor \
             units), never both; with neither, all that is left of it.",
            "line_id",
            LINE_KEYS,
            &[
                (
                    "quantity",
                    positive("Units to credit, at most those not yet credited.", 1_000_000),
                ),
                (
                    "amount",
                    positive(
                        "Net amount to credit in minor units, at most the line's uncredited net.",
                        1_000_000_000_000_000,
                    ),
                ),
            ],
            Some(&[(
                "not",
                json!({"properties": {"quantity": {"type": "integer"}, "amount": {"type": "integer"}},
                       "required": ["quantity", "amount"]}),
            )]),
        )
    }
}

impl ToSchema for CreditLineBody {}

impl CreditLineBody {
    fn into_domain(self, field: &str) -> Result<LineCreditRequest, ValidationError> {
        let portion = match (self.quantity, self.amount) {
            (None, None) => CreditPortion::Rest,
            (Some(q), None) => CreditPortion::Quantity(q),
            (None, Some(a)) => CreditPortion::Net(Amount::positive(a, &format!("{field}.amount"))?),
            (Some(_), Some(_)) => {
                return Err(ValidationError::new(field, "takes quantity or amount, not both"));
            }
        };
        let line = line_ref(field, self.line_id, self.product_id, self.variation_id)?;
        LineCreditRequest::new(line, portion).map_err(|e| e.within(field))
    }
}

/// A goodwill credit tied to no line: a net amount and the tax treatment of
/// the goods it refers to (the same rules as a line's).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraCreditBody {
    /// What it is for.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 500))]
    pub description: String,
    /// Net amount in minor units.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    #[validate(range(min = 1))]
    #[serde(deserialize_with = "integer")]
    pub amount: i64,
    /// Tax rate in percent as a decimal string.
    #[schema(
        example = "19",
        pattern = r"^(?:(?:[0-9]{1,3}|0[0-9]{3})(?:\.[0-9]{1,4})?|1000(?:\.0{1,4})?)$"
    )]
    pub tax_rate: String,
    /// VAT category, as on a line.
    #[schema(schema_with = tax_category_schema)]
    pub tax_category: Option<String>,
    /// VATEX code of the exemption reason, as on a line.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$"
    )]
    #[validate(length(min = 1, max = 64))]
    pub exemption_reason_code: Option<String>,
    /// Text of the exemption reason, as on a line.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 500))]
    pub exemption_reason: Option<String>,
}

impl ExtraCreditBody {
    fn into_domain(self) -> Result<ExtraCredit, ValidationError> {
        let within = |e: ValidationError| e.within("extra");
        let rate = TaxRate::parse(&self.tax_rate).map_err(within)?;
        let category = self
            .tax_category
            .as_deref()
            .map(str::parse::<TaxCategory>)
            .transpose()
            .map_err(within)?;
        let exemption = if self.exemption_reason_code.is_some() || self.exemption_reason.is_some() {
            Some(
                ExemptionReason::parse(self.exemption_reason_code.as_deref(), self.exemption_reason.as_deref())
                    .map_err(within)?,
            )
        } else {
            None
        };
        let tax = LineTax::new(rate, category, exemption).map_err(within)?;
        let net = Amount::positive(self.amount, "extra.amount")?;
        ExtraCredit::new(&self.description, net, tax).map_err(within)
    }
}

fn settle_schema() -> Schema {
    let mut schema = string_enum(
        "How the credit is settled: `reduce_due` (only while the amount due covers it), `refund` (against the \
         invoice's payments, newest first; at most the net paid) or `credit_balance` (paid money moves onto the \
         customer's credit balance; at most the net paid).",
        &["reduce_due", "refund", "credit_balance"],
        false,
    );
    if let Schema::Object(o) = &mut schema {
        o.examples = vec![Value::from("refund")];
    }
    schema
}

/// `POST /v1/invoices/{ref}/credit-notes`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteBody {
    /// Lines to credit (at most 5,000); may be empty when `extra` is given.
    #[schema(max_items = 5000)]
    #[serde(default)]
    pub lines: Vec<CreditLineBody>,
    /// A goodwill credit tied to no line.
    #[validate(nested)]
    pub extra: Option<ExtraCreditBody>,
    /// Why (at most 500 characters).
    #[schema(max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 500))]
    pub reason: Option<String>,
    /// `customer_request`, `duplicate`, `fraudulent`, `order_change`, `issued_in_error` or `other` (default).
    #[schema(schema_with = reason_code_schema)]
    pub reason_code: Option<String>,
    /// How the credit is settled.
    #[schema(schema_with = settle_schema)]
    pub settle: String,
}

impl CreditNoteBody {
    /// Parses into the domain request.
    pub fn into_domain(self) -> Result<CreditRequest, ValidationError> {
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| l.into_domain(&format!("lines[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let extra = self.extra.map(ExtraCreditBody::into_domain).transpose()?;
        let settle = Settlement::parse(&self.settle)?;
        CreditRequest::new(
            lines,
            extra,
            reason(self.reason_code.as_deref(), self.reason.as_deref())?,
            settle,
        )
    }
}

/// A change to one line of the invoice being reissued: named by exactly one
/// key; `remove: true` leaves it off, else the given values replace its own.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LineEditBody {
    /// The line id.
    pub line_id: Option<String>,
    /// Your product id.
    pub product_id: Option<String>,
    /// Your variation id.
    pub variation_id: Option<String>,
    /// Leave the line off the new draft.
    #[serde(default)]
    pub remove: Option<bool>,
    /// New quantity.
    #[serde(default, deserialize_with = "optional_integer")]
    pub quantity: Option<i64>,
    /// New unit amount in minor units.
    #[serde(default, deserialize_with = "optional_integer")]
    pub unit_amount: Option<i64>,
    /// New description.
    pub description: Option<String>,
}

impl PartialSchema for LineEditBody {
    fn schema() -> RefOr<Schema> {
        let description = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(Some("New description."))
            .min_length(Some(1))
            .max_length(Some(500))
            .pattern(Some(REQUIRED_TEXT_PATTERN))
            .into();
        let remove = ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
            .description(Some("Leave the line off the new draft; takes no other value."))
            .into();
        one_of_three_keys_and(
            "A change to one line of the reissued invoice, named by exactly one key: `remove: true` leaves it \
             off the new draft, else the given values replace the line's own.",
            "line_id",
            LINE_KEYS,
            &[
                ("remove", remove),
                ("quantity", positive("New quantity.", 1_000_000)),
                (
                    "unit_amount",
                    ObjectBuilder::new()
                        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                        .description(Some("New unit amount in minor units."))
                        .minimum(Some(0))
                        .maximum(Some(1_000_000_000_000_000_i64))
                        .into(),
                ),
                ("description", description),
            ],
            Some(&[
                (
                    "if",
                    json!({"properties": {"remove": {"const": true}}, "required": ["remove"]}),
                ),
                (
                    "then",
                    json!({"properties": {"quantity": {"type": "null"}, "unit_amount": {"type": "null"},
                                      "description": {"type": "null"}}}),
                ),
            ]),
        )
    }
}

impl ToSchema for LineEditBody {}

impl LineEditBody {
    fn into_domain(self, field: &str) -> Result<LineEdit, ValidationError> {
        let line = line_ref(field, self.line_id, self.product_id, self.variation_id)?;
        if self.remove == Some(true) {
            if self.quantity.is_some() || self.unit_amount.is_some() || self.description.is_some() {
                return Err(ValidationError::new(field, "remove takes no other value"));
            }
            return Ok(LineEdit::Remove(line));
        }
        Ok(LineEdit::Change {
            line,
            quantity: self.quantity,
            unit_amount: self.unit_amount,
            description: self.description,
        })
    }
}

/// `POST /v1/invoices/{ref}/reissue` (the body is optional).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReissueBody {
    /// Why (at most 500 characters).
    #[schema(max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 500))]
    pub reason: Option<String>,
    /// Reason code (default `other` when a reason is given).
    #[schema(schema_with = reason_code_schema)]
    pub reason_code: Option<String>,
    /// Lines for the new draft instead of the invoice's (at most 5,000).
    #[schema(max_items = 5000)]
    #[validate(nested)]
    pub lines: Option<Vec<LineBody>>,
    /// Changes to the invoice's lines for the new draft (at most 5,000).
    #[schema(max_items = 5000)]
    pub edits: Option<Vec<LineEditBody>>,
}

impl ReissueBody {
    /// Parses into the domain request.
    pub fn into_domain(self) -> Result<ReissueRequest, ValidationError> {
        let lines = match (self.lines, self.edits) {
            (Some(_), Some(_)) => return Err(ValidationError::new("lines", "give lines or edits, not both")),
            (Some(lines), None) => ReissueLines::Replaced(
                lines
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| l.into_domain(&format!("lines[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            (None, Some(edits)) => ReissueLines::Edited(
                edits
                    .into_iter()
                    .enumerate()
                    .map(|(i, e)| e.into_domain(&format!("edits[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            (None, None) => ReissueLines::Copy,
        };
        ReissueRequest::new(lines, reason(self.reason_code.as_deref(), self.reason.as_deref())?)
    }
}

/// The keywords tying `CreditNoteBody` and `ReissueBody` fields together,
/// added to their component schemas by the OpenAPI document.
pub fn cross_field_rules() -> [(&'static str, Value); 2] {
    [
        (
            "CreditNoteBody",
            json!({"anyOf": [
                {"properties": {"lines": {"minItems": 1}}, "required": ["lines"]},
                {"properties": {"extra": {"type": "object"}}, "required": ["extra"]}
            ]}),
        ),
        (
            "ReissueBody",
            json!({"not": {"properties": {"lines": {"type": "array"}, "edits": {"type": "array"}},
                           "required": ["lines", "edits"]}}),
        ),
    ]
}
