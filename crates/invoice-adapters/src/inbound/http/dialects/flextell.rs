//! The Flextell e-invoicing dialect: `POST /api/v1/invoices/{id}/cancel` with
//! a required `X-Tenant` header and `{"id": n}`, answering
//! `{"success", "data": {"message", "invoice"}}` with decimal-string amounts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use invoice_domain::{
    Amount, CancelRequest, DocumentType, Invoice, InvoiceStatus, Profile, Reason, ReasonCode, UseCaseError,
    ValidationError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::common::{self, Command};
use crate::inbound::http::auth;
use crate::inbound::http::contract::IdempotencyHeader;
use crate::inbound::http::exec::Reply;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::integer;

/// The channel recorded on events made through this dialect.
pub const CHANNEL: &str = "flextell";

/// Mounts the Flextell routes; anything else under `/api/v1` gets a Flextell 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(common::scope("/api/v1", render).service(common::post(
        "/invoices/{id}/cancel",
        cancel_invoice,
        render,
    )));
}

/// Adds the `tenant` security scheme: the `X-Tenant` header, required
/// together with the bearer key.
struct TenantHeader;

impl Modify for TenantHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "tenant",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Tenant",
                "The API key's tenant, by id or slug (Flextell sends it with every request)",
            ))),
        );
    }
}

/// The OpenAPI document of the Flextell dialect.
#[derive(OpenApi)]
#[openapi(
    modifiers(&TenantHeader),
    paths(cancel_invoice),
    components(schemas(FlextellCancelBody, FlextellReply, FlextellData, FlextellError)),
    tags((name = "dialect: flextell", description = "The Flextell e-invoicing API: cancel an invoice, scoped by the X-Tenant header."))
)]
pub struct FlextellDoc;

/// The body of a cancel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlextellCancelBody {
    /// The invoice's integer id again (at least 1): the same invoice as the path names.
    #[schema(minimum = 1, maximum = 9_223_372_036_854_775_807_i64, example = 2)]
    #[serde(deserialize_with = "integer")]
    pub id: i64,
}

/// The success envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlextellReply {
    /// `"true"` (a string, as the document types it).
    pub success: &'static str,
    /// The message and the invoice.
    pub data: FlextellData,
}

/// The `data` of the success envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlextellData {
    /// What happened.
    pub message: &'static str,
    /// The Flextell invoice object.
    #[schema(value_type = Object)]
    pub invoice: Value,
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlextellError {
    /// Always `"false"`: a string, as in every reply, so `success` has one type.
    pub success: &'static str,
    /// What went wrong.
    pub message: String,
    /// A stable snake_case code (the domain's code for refusals).
    pub code: String,
    /// Invalid fields: field name → messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub errors: Option<serde_json::Map<String, Value>>,
}

/// Renders an error in the Flextell envelope.
pub fn render(e: &ApiError) -> Reply {
    let errors = (!e.errors.is_empty()).then(|| {
        let mut map = serde_json::Map::new();
        for f in &e.errors {
            let entry = map.entry(f.field.clone()).or_insert_with(|| json!([]));
            if let Some(list) = entry.as_array_mut() {
                list.push(Value::String(f.message.clone()));
            }
        }
        map
    });
    Reply::json(
        e.status,
        &FlextellError {
            success: "false",
            message: e.detail.clone(),
            code: e.code.as_str().to_string(),
            errors,
        },
    )
}

/// Cancel an invoice.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/cancel", operation_id = "flextell_cancel_invoice", tag = "dialect: flextell",
    request_body = FlextellCancelBody,
    params(("id" = String, Path, description = "The invoice's integer id (its serial), or its UUID, document number or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"),
        IdempotencyHeader),
    responses(
        (status = 200, description = "The cancelled invoice", body = FlextellReply),
        (status = 400, description = "No `X-Tenant` (`missing_tenant`), malformed JSON (`malformed_json`), an empty, over-long or control-character path id (`invalid_invoice_id`) or a bad `Idempotency-Key` (`invalid_idempotency_key`)", body = FlextellError),
        (status = 401, description = "Missing or invalid API key", body = FlextellError),
        (status = 403, description = "Missing scope, X-Tenant naming another tenant, or an invoice the key's party did not issue (`invoice_not_owned`)", body = FlextellError),
        (status = 404, description = "No such invoice in this tenant", body = FlextellError),
        (status = 409, description = "Refused by a rule; the code is the domain code", body = FlextellError),
        (status = 422, description = "A missing or invalid body id, one naming another invoice than the path, or a reused idempotency key", body = FlextellError),
        (status = 413, description = "A body over 64 KiB", body = FlextellError),
        (status = 429, description = "Too many requests for this key (`Retry-After`)", body = FlextellError),
        (status = 503, description = "The database is unavailable (`Retry-After`)", body = FlextellError),
    ),
    security(("bearer" = [], "tenant" = []), ("basic" = [], "tenant" = [])))]
pub async fn cancel_invoice(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> HttpResponse {
    common::respond(render, cancel(req, state, payload).await)
}

/// The handler's work; errors are rendered by the caller.
async fn cancel(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let principal = auth::authenticate_request(&req).await?;
    // A present X-Tenant was checked against the key by `authenticate_request`.
    if req.headers().get("x-tenant").is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::MissingTenant,
            "the X-Tenant header is required",
        ));
    }
    principal.require(KeyScope::InvoicesCancel)?;
    let path_id = req.match_info().get("id").unwrap_or_default();
    let reference = common::parse_integer_reference(path_id)?;
    let body = common::read_body(&req, payload).await?;
    let input: FlextellCancelBody = common::parse_optional_json(&body)?
        .ok_or_else(|| common::invalid("id", "the body {\"id\": <invoice id>} is required"))?;
    if input.id < 1 {
        return Err(common::invalid("id", "must be at least 1"));
    }
    // The body repeats the invoice's integer id; when the path names it
    // otherwise, the invoice it names must have that id.
    let check_serial = (path_id != input.id.to_string()).then_some(input.id);
    let request = CancelRequest::whole(Some(Reason::new(ReasonCode::Other, None)?));
    let tenant = principal.tenant.get();
    Command::new(&req, &state, principal, &body, reference, render, CHANNEL)
        .run(
            move |svc, store, target| {
                if let Some(id) = check_serial {
                    let invoice = svc.get(store, target.scope, target.reference)?;
                    if i64::try_from(invoice.serial).ok() != Some(id) {
                        return Err(UseCaseError::Invalid(ValidationError::new(
                            "id",
                            "must be the integer id of the invoice the path names",
                        )));
                    }
                }
                svc.cancel(store, target, &request)
            },
            move |invoice| {
                Reply::json(
                    StatusCode::OK,
                    &FlextellReply {
                        success: "true",
                        data: FlextellData {
                            message: "Invoice cancelled successfully",
                            invoice: invoice_object(invoice, tenant),
                        },
                    },
                )
            },
        )
        .await
}

/// An RFC 3339 timestamp to the second, as in the document.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The English label of a status.
pub fn status_label(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Draft => "Draft",
        InvoiceStatus::Open => "Open",
        InvoiceStatus::Uncollectible => "Uncollectible",
        InvoiceStatus::Paid => "Paid",
        InvoiceStatus::Cancelled => "Cancelled",
        InvoiceStatus::Void => "Void",
    }
}

/// A party id as the integer the document shows, when it is one.
fn integer_id(text: &str) -> Value {
    text.parse::<i64>().map_or(Value::Null, Value::from)
}

/// The Flextell invoice object; amounts are decimal strings.
pub fn invoice_object(invoice: &Invoice, tenant: i64) -> Value {
    let t = invoice.totals();
    let money = |a: Amount| a.to_decimal_string(invoice.currency);
    let c = &invoice.customer;
    let currency = invoice.currency;
    // A person's names when known apart, else the whole name as the first.
    let (first_name, last_name) = match (&c.given_name, &c.family_name) {
        (None, None) => (Some(c.name.clone()), None),
        (given, family) => (given.clone(), family.clone()),
    };
    let customer = json!({
        "id": integer_id(c.id.as_str()),
        "tenant_id": tenant,
        "first_name": first_name,
        "last_name": last_name,
        "phone_number": c.phone,
        "email": c.email,
        "date_of_birth": null,
        "country_id": null,
        "identity_number": c.tax_number,
        "job": null,
        "address": c.address.as_ref().map(invoice_domain::PostalAddress::one_line),
        "deleted_at": null,
        "created_at": null,
        "updated_at": null,
        "avatar_url": null,
        "avatar_updated_at": null,
        "user_id": null,
        "city_id": null,
        "district_id": null,
        "import_source_id": null,
        "passport_number": null,
        "search_vector": null,
        "is_intake_completed": null,
        "default_channel_id": null,
    });
    let currency_object = json!({
        "id": currency.numeric(),
        "name": currency.name(),
        "code": currency.code(),
        "symbol": currency.symbol(),
        "is_active": "true",
        "deleted_at": null,
        "created_at": null,
        "updated_at": null,
        "locale": c.locale,
        "search_vector": null,
    });
    let sender_tax_number = invoice.issuer.as_ref().and_then(|p| p.tax_number.clone()).or_else(|| {
        invoice
            .seller
            .as_ref()
            .and_then(|s| s.vat_id.as_ref().map(ToString::to_string))
    });
    let metadata_or = |key: &str, fallback: Option<&str>| {
        invoice
            .metadata
            .get(key)
            .map(String::as_str)
            .or(fallback)
            .map_or(Value::Null, |v| Value::String(v.to_string()))
    };
    let issued = invoice.status != InvoiceStatus::Draft;
    json!({
        "id": invoice.serial,
        "document_number": invoice.number_text(),
        "document_class": common::metadata_string(invoice, "document_class"),
        // The type code and specification id the invoice's EN 16931 e-invoice carries.
        "document_type": metadata_or("document_type", issued.then_some(DocumentType::Invoice.code())),
        "profile_id": metadata_or("profile_id", issued.then_some(Profile::En16931.customization_id())),
        "issue_date": invoice.issued_at.map(timestamp),
        "sent_at": invoice.sent_at.map(timestamp),
        "sender_tax_number": sender_tax_number,
        "receiver_name": c.name,
        "receiver_tax_number": c.tax_number,
        "receiver_email": c.email,
        "exchange_rate": common::metadata_string(invoice, "exchange_rate"),
        "amount_tax_exclusive": money(t.subtotal),
        "amount_tax_total": money(t.tax),
        "amount_payable": money(t.amount_due),
        "invoice_amount": money(t.total),
        "status": invoice.status.as_str(),
        "status_label": status_label(invoice.status),
        "is_printed": false,
        "is_cancelled": invoice.status == InvoiceStatus::Cancelled,
        "is_read": false,
        "is_draft": invoice.status == InvoiceStatus::Draft,
        "is_archived": false,
        "series_name": invoice.series.as_str(),
        "notes": common::metadata_string(invoice, "notes"),
        "created_at": timestamp(invoice.created_at),
        "updated_at": timestamp(invoice.updated_at),
        "customer": customer,
        "currency": currency_object,
    })
}
