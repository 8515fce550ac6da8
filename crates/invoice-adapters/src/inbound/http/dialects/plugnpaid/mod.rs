//! The plug&paid accounting dialect: `POST /v2/invoices/cancel/{id}` cancels
//! a whole invoice or only some of its items, and answers with the
//! plug&paid invoice object. Errors are `{"status", "error": {"code", "message"}}`.

pub mod invoice;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::{CancelRequest, LineId, LineRef, ProductId, Reason, ReasonCode, ValidationError, VariationId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use super::common::{self, Command};
use crate::inbound::http::contract::IdempotencyHeader;
use crate::inbound::http::exec::Reply;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, FieldError};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::one_of_three_keys;

/// The channel recorded on events made through this dialect.
pub const CHANNEL: &str = "plugnpaid";

/// Mounts the plug&paid routes; anything else under `/v2` gets a plug&paid 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(common::scope("/v2", render).service(common::post("/invoices/cancel/{id}", cancel_invoice, render)));
}

/// The OpenAPI document of the plug&paid dialect.
#[derive(OpenApi)]
#[openapi(
    paths(cancel_invoice),
    components(schemas(PlugnpaidCancelBody, PlugnpaidItemRef, PlugnpaidReply, PlugnpaidError, PlugnpaidErrorBody, invoice::PlugnpaidInvoice)),
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
    pub invoice: invoice::PlugnpaidInvoice,
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
                code: e.code.as_str().to_string(),
                message: e.detail.clone(),
                errors: e.errors.clone(),
            },
        },
    )
}

/// Cancel an invoice, or only the listed items, and stop collecting payment.
#[utoipa::path(post, path = "/v2/invoices/cancel/{id}", operation_id = "plugnpaid_cancel_invoice", tag = "dialect: plugnpaid",
    request_body(content = Option<PlugnpaidCancelBody>, description = "Optional: the items to cancel; empty or absent cancels the whole invoice"),
    params(("id" = String, Path, description = "The invoice's UUID, document number or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"),
        IdempotencyHeader),
    responses(
        (status = 200, description = "The invoice after the cancellation", body = PlugnpaidReply),
        (status = 400, description = "Malformed JSON (`malformed_json`), an empty, over-long or control-character id (`invalid_invoice_id`) or a bad `Idempotency-Key` (`invalid_idempotency_key`)", body = PlugnpaidError),
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
    let principal = common::authenticate(&req, KeyScope::InvoicesCancel).await?;
    let id = req.match_info().get("id").unwrap_or_default();
    let reference = common::parse_reference(id)?;
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
    Command::new(&req, &state, principal, &body, reference, render, CHANNEL)
        .run(
            move |svc, store, target| svc.cancel(store, target, &request),
            |invoice| {
                Reply::json(
                    StatusCode::OK,
                    &PlugnpaidReply {
                        status: 200,
                        invoice: invoice::invoice_object(invoice),
                    },
                )
            },
        )
        .await
}
