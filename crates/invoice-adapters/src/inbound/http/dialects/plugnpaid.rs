//! The plug&paid accounting dialect: `POST /v2/invoices/cancel/{id}` cancels
//! a whole invoice or only some of its items, and answers with the
//! plug&paid invoice object. Errors are `{"status", "error": {"code", "message"}}`.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::{
    Amount, CancelRequest, Invoice, InvoiceId, InvoiceRef, InvoiceStatus, Line, LineId, LineRef, Party, ProductId,
    Reason, ReasonCode, TaxRate, ValidationError, VariationId,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use super::common::{self, Command};
use crate::inbound::http::exec::Reply;
use crate::inbound::http::problem::{ApiError, FieldError};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::one_of_three_keys;

/// The channel recorded on events made through this dialect.
pub const CHANNEL: &str = "plugnpaid";

/// Mounts the plug&paid routes; anything else under `/v2` gets a plug&paid 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v2")
            .service(
                web::resource("/invoices/cancel/{id}")
                    .route(web::post().to(cancel_invoice))
                    .default_service(common::method_not_allowed(render, "POST")),
            )
            .default_service(web::to(not_found)),
    );
}

/// The OpenAPI document of the plug&paid dialect.
#[derive(OpenApi)]
#[openapi(
    paths(cancel_invoice),
    components(schemas(PlugnpaidCancelBody, PlugnpaidItemRef, PlugnpaidReply, PlugnpaidError, PlugnpaidErrorBody)),
    tags((name = "dialect: plugnpaid", description = "The plug&paid accounting API: cancel an invoice, or only some of its items."))
)]
pub struct PlugnpaidDoc;

/// The optional body of a cancel: the items to cancel.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlugnpaidCancelBody {
    /// Items to cancel; absent or empty cancels the whole invoice.
    pub products: Option<Vec<PlugnpaidItemRef>>,
}

/// One item to cancel: exactly one of the three keys.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlugnpaidItemRef {
    /// The item's product id (must match exactly one active item).
    pub id: Option<String>,
    /// The invoice item id (a UUID, `invoice_item_id` of `products[]`).
    pub invoice_item_id: Option<String>,
    /// The item's variation id (must match exactly one active item).
    pub variation_id: Option<String>,
}

/// Exactly one of the three keys is a string; the others are absent or null.
impl PartialSchema for PlugnpaidItemRef {
    fn schema() -> RefOr<Schema> {
        one_of_three_keys(
            "One item to cancel: exactly one of the three keys.",
            "invoice_item_id",
            [
                ("id", "By product id (must match exactly one active item)."),
                (
                    "invoice_item_id",
                    "By invoice item id (`products[].invoice_item_id` of the reply).",
                ),
                ("variation_id", "By variation id (must match exactly one active item)."),
            ],
        )
    }
}

impl ToSchema for PlugnpaidItemRef {}

impl PlugnpaidItemRef {
    /// Turns the item into a domain line reference.
    fn into_domain(self, field: &str) -> Result<LineRef, ValidationError> {
        match (self.id, self.invoice_item_id, self.variation_id) {
            (Some(p), None, None) => Ok(LineRef::ProductId(
                ProductId::parse(&p).map_err(|e| ValidationError::new(format!("{field}.id"), e.message))?,
            )),
            (None, Some(id), None) => id
                .parse::<LineId>()
                .map(LineRef::LineId)
                .map_err(|_| ValidationError::new(format!("{field}.invoice_item_id"), "is not a UUID")),
            (None, None, Some(v)) => {
                Ok(LineRef::VariationId(VariationId::parse(&v).map_err(|e| {
                    ValidationError::new(format!("{field}.variation_id"), e.message)
                })?))
            }
            _ => Err(ValidationError::new(
                field,
                "must have exactly one of id, invoice_item_id or variation_id",
            )),
        }
    }
}

/// The success envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlugnpaidReply {
    /// Always 200.
    pub status: u16,
    /// The plug&paid invoice object.
    #[schema(value_type = Object)]
    pub invoice: Value,
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlugnpaidError {
    /// The HTTP status.
    pub status: u16,
    /// What went wrong.
    pub error: PlugnpaidErrorBody,
}

/// The `error` of the error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlugnpaidErrorBody {
    /// A stable snake_case code (the domain's code for refusals).
    pub code: String,
    /// What went wrong, in words.
    pub message: String,
    /// Invalid fields, for validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Renders an error in the plug&paid envelope.
pub fn render(e: &ApiError) -> Reply {
    Reply::json(
        e.status,
        &PlugnpaidError {
            status: e.status.as_u16(),
            error: PlugnpaidErrorBody {
                code: e.code.to_string(),
                message: e.detail.clone(),
                errors: e.errors.clone(),
            },
        },
    )
}

/// Any other path under the dialect's prefix.
async fn not_found() -> HttpResponse {
    render(&common::route_not_found()).into_response()
}

/// Cancel an invoice, or only the listed items, and stop collecting payment.
#[utoipa::path(post, path = "/v2/invoices/cancel/{id}", operation_id = "plugnpaid_cancel_invoice", tag = "dialect: plugnpaid",
    request_body(content = Option<PlugnpaidCancelBody>, description = "Optional: the items to cancel; empty or absent cancels the whole invoice"),
    params(("id" = uuid::Uuid, Path, description = "The invoice's UUID"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: 1 to 255 visible ASCII characters, unique per request", nullable = false, min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$")),
    responses(
        (status = 200, description = "The invoice after the cancellation", body = PlugnpaidReply),
        (status = 400, description = "Malformed JSON (`malformed_json`), an id that is not a UUID (`invalid_invoice_id`) or a bad `Idempotency-Key` (`invalid_idempotency_key`)", body = PlugnpaidError),
        (status = 401, description = "Missing or invalid API key", body = PlugnpaidError),
        (status = 403, description = "Missing scope, or an invoice the key's party did not issue (`invoice_not_owned`)", body = PlugnpaidError),
        (status = 404, description = "No such invoice in this tenant", body = PlugnpaidError),
        (status = 409, description = "Refused by a rule; the code is the domain code, e.g. `invoice_already_cancelled`", body = PlugnpaidError),
        (status = 422, description = "Invalid items or a reused idempotency key", body = PlugnpaidError),
        (status = 413, description = "A body over 64 KiB", body = PlugnpaidError),
        (status = 429, description = "Too many requests for this key (`Retry-After`)", body = PlugnpaidError),
        (status = 503, description = "The database is unavailable (`Retry-After`)", body = PlugnpaidError),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn cancel_invoice(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> HttpResponse {
    common::respond(render, cancel(req, state, payload).await)
}

/// The handler's work; errors are rendered by the caller.
async fn cancel(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let principal = common::authenticate(&req, "invoices:cancel").await?;
    let id = req.match_info().get("id").unwrap_or_default();
    let reference = id
        .parse::<InvoiceId>()
        .map(InvoiceRef::Id)
        .map_err(|_| common::invalid_invoice_id("the invoice id must be a UUID"))?;
    let body = common::read_body(&req, payload).await?;
    let input: PlugnpaidCancelBody = common::parse_optional_json(&body)?.unwrap_or_default();
    let lines = input
        .products
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.into_domain(&format!("products[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let reason = Some(Reason::new(ReasonCode::Other, None)?);
    let request = if lines.is_empty() {
        CancelRequest::whole(reason)
    } else {
        CancelRequest::lines(lines, reason)?
    };
    Command {
        req: &req,
        state: &state,
        principal,
        body: &body,
        render,
        channel: CHANNEL,
        reference,
    }
    .run(
        move |svc, store, target| svc.cancel(store, target, &request),
        |invoice| {
            Reply::json(
                StatusCode::OK,
                &PlugnpaidReply {
                    status: 200,
                    invoice: invoice_object(invoice),
                },
            )
        },
    )
    .await
}

/// The plug&paid `status`: `new` while open and unpaid, `partially_paid`
/// once some money arrived, else our own status name.
pub fn status(invoice: &Invoice) -> &'static str {
    match invoice.status {
        InvoiceStatus::Open if invoice.amount_paid().is_zero() => "new",
        InvoiceStatus::Open => "partially_paid",
        other => other.as_str(),
    }
}

/// A party as a plug&paid `merchant`.
fn merchant(p: &Party) -> Value {
    let a = p.address.clone().unwrap_or_default();
    json!({
        "address": a.street,
        "city": a.city,
        "country": a.country.map(|c| c.to_string()),
        "email": p.email,
        "name": p.name,
        "postcode": a.postcode,
        "state": a.region,
        "telephone": p.phone,
        "vat": p.tax_number,
    })
}

/// The customer as plug&paid `customer_information`.
fn customer_information(p: &Party) -> Value {
    let a = p.address.clone().unwrap_or_default();
    let country = a.country.map(|c| c.to_string());
    json!({
        "billing_information": {
            "address": a.street,
            "city": a.city,
            "country": country,
            "email": p.email,
            "id": null,
            "ip": null,
            "is_company": p.tax_number.is_some(),
            "locale": null,
            "name": p.name,
            "object": "address",
            "phone": p.phone,
            "postcode": a.postcode,
            "representative": null,
            "shipping_address": false,
            "state": a.region,
        },
        "country": country,
        "email": p.email,
        "id": p.id.to_string(),
        "locale": null,
        "name": p.name,
        "shipping_information": null,
        "stripe_customer_id": null,
    })
}

/// One tax rate entry; `applies_to` is set on invoice-level entries.
fn tax_rate(rate: TaxRate, inclusive: bool, tax: u64, applies_to: Option<Vec<String>>) -> Value {
    let mut v = json!({
        "id": null,
        "inclusive": inclusive,
        "jurisdiction": null,
        "label": null,
        "moss": false,
        "rate_amount": null,
        "rate_percent": common::rate_number(&rate),
        "tax": tax,
        "vat_tax": true,
    });
    if let (Some(list), Some(obj)) = (applies_to, v.as_object_mut()) {
        obj.insert("applies_to".into(), json!(list));
    }
    v
}

/// What `applies_to` names a line by: its product id, else its line id.
fn line_key(l: &Line) -> String {
    l.product_id
        .as_ref()
        .map_or_else(|| l.id.to_string(), ToString::to_string)
}

/// `quantity × unit_amount` as entered: the gross of an inclusive line,
/// the net of an exclusive one.
fn item_total(l: &Line) -> u64 {
    if l.tax_inclusive {
        l.amounts.gross.minor()
    } else {
        l.amounts.net.minor()
    }
}

/// One line as a plug&paid product; cancelled lines are listed with `status: cancelled`.
fn product(invoice: &Invoice, l: &Line) -> Value {
    let taxes = json!({
        "inclusive": l.tax_inclusive,
        "shipping_tax_rates": [],
        "tax_rates": [tax_rate(l.tax.rate(), l.tax_inclusive, l.amounts.tax.minor(), None)],
    });
    let totals = json!({
        "discount": 0,
        "exchange_rate": null,
        "item_total": item_total(l),
        "item_total_with_tax": l.amounts.gross.minor(),
        "moss_tax_total": 0,
        "moss_taxable_amount": 0,
        "price_conversion": false,
        "shipping": 0,
        "shipping_discount": 0,
        "shipping_subtotal": 0,
        "shipping_tax": 0,
        "shipping_total": 0,
        "subtotal": l.amounts.net.minor(),
        "tax": l.amounts.tax.minor(),
        "total": l.amounts.gross.minor(),
        "unit_price": l.unit_amount.minor(),
    });
    json!({
        "classification": null,
        "currency": invoice.currency.code().to_ascii_lowercase(),
        "discount_allowed": false,
        "discounts": [],
        "ean": null,
        "has_shipping": false,
        "id": l.product_id.as_ref().map(ToString::to_string),
        "invoice_item_id": l.id.to_string(),
        "is_moss_product": false,
        "is_variant": l.variation_id.is_some(),
        "name": l.description,
        "pack": null,
        "quantity": l.quantity,
        "reservations": [],
        "sku": null,
        "status": l.status.as_str(),
        "taxes": taxes,
        "totals": totals,
        "type": null,
        "variation_id": l.variation_id.as_ref().map(ToString::to_string),
    })
}

/// The invoice-level tax rates: the document's lines grouped by rate and
/// inclusiveness.
fn invoice_tax_rates(invoice: &Invoice) -> Vec<Value> {
    let mut groups: BTreeMap<(TaxRate, bool), (Amount, Vec<String>)> = BTreeMap::new();
    for l in &invoice.lines {
        let entry = groups.entry((l.tax.rate(), l.tax_inclusive)).or_default();
        entry.0 = Amount::checked_sum([entry.0, l.amounts.tax]).unwrap_or(entry.0);
        entry.1.push(line_key(l));
    }
    groups
        .into_iter()
        .map(|((rate, inclusive), (tax, applies_to))| tax_rate(rate, inclusive, tax.minor(), Some(applies_to)))
        .collect()
}

/// The whole plug&paid invoice object. Amounts are integers in minor units.
pub fn invoice_object(invoice: &Invoice) -> Value {
    let t = invoice.totals();
    let lines = &invoice.lines;
    let refunds: Vec<Value> = invoice
        .payments
        .iter()
        .flat_map(|p| {
            p.refunds.iter().map(move |r| {
                json!({
                    "id": r.id.to_string(),
                    "payment_id": p.id.to_string(),
                    "amount": r.amount.minor(),
                    "reason": r.reason,
                    "date": r.refunded_at.timestamp(),
                })
            })
        })
        .collect();
    let tax_rates = invoice_tax_rates(invoice);
    let totals = json!({
        "discount": 0,
        "item_count": lines.len(),
        "item_total": Amount::checked_sum(lines.iter().map(|l| Amount::from_minor(item_total(l)))).map(Amount::minor),
        "item_total_with_tax": t.total.minor(),
        "moss_tax_total": 0,
        "moss_taxable_amount": 0,
        "price_conversion": false,
        "shipping": 0,
        "shipping_discount": 0,
        "shipping_subtotal": 0,
        "shipping_tax": 0,
        "shipping_total": 0,
        "subtotal": t.subtotal.minor(),
        "tax": t.tax.minor(),
        "total": t.total.minor(),
        "trial_deductions": 0,
        "gateway_fees": 0,
        "affiliate_revenue": 0,
        "amount_due": t.amount_due.minor(),
        "refunded_total": invoice.amount_refunded().minor(),
    });
    let taxes = json!({
        "has_vat": lines.iter().any(|l| !l.amounts.tax.is_zero()),
        "shipping_tax_rates": [],
        "tax_rates": tax_rates,
    });
    let shipping = json!({
        "method": null,
        "tracking": null,
        "has_shipping": false,
        "shipped": false,
    });
    json!({
        "version": invoice.version,
        "id": invoice.id.to_string(),
        "currency": invoice.currency.code().to_ascii_lowercase(),
        "paid": invoice.status == InvoiceStatus::Paid,
        "object": "invoice",
        "type": "custom",
        "prefix": invoice.series.as_str(),
        "number": invoice.number.as_ref().map(|n| n.sequence),
        "total": t.total.minor(),
        "payment": invoice.payments.last().and_then(|p| p.method.clone()),
        "date": invoice.issued_at.map(|d| d.timestamp()),
        "status": status(invoice),
        "subscription": null,
        "is_instalment": false,
        "merchant": invoice.issuer.as_ref().map(merchant),
        "locale": null,
        "customer_information": customer_information(&invoice.customer),
        "products": invoice.lines.iter().map(|l| product(invoice, l)).collect::<Vec<_>>(),
        "discounts": [],
        "licenses": [],
        "start_date": null,
        "end_date": null,
        "totals": totals,
        "taxes": taxes,
        "shipping": shipping,
        "affiliate_program": null,
        "affiliate_partner": null,
        "due_date": invoice.due_date.map(|d| common::midnight(d).timestamp()),
        "refunds": if refunds.is_empty() { Value::Null } else { Value::Array(refunds) },
        "consents": null,
        "appendix": null,
    })
}
