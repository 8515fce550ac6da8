//! The ChargeOver billing dialect: `POST /api/v3/invoice/{invoice_id}/_action/void`
//! with HTTP Basic auth, answering `{"code", "status", "message", "details", "response"}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::{Reason, ReasonCode, RefusalCode};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::common::{self, Command};
use crate::inbound::http::auth::{self, Credentials};
use crate::inbound::http::contract::IdempotencyHeader;
use crate::inbound::http::exec::Reply;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode};
use crate::inbound::http::state::AppState;

/// The channel recorded on events made through this dialect.
pub const CHANNEL: &str = "chargeover";

/// The documented 401 message for a request without HTTP Basic credentials.
pub const MISSING_BASIC: &str = "Invalid or incorrect authorization [Missing (basic) authorization header.]";

/// The documented 400 message.
pub const INVALID_PARAMETER: &str = "Missing or invalid parameter.";

/// Mounts the ChargeOver routes; anything else under `/api/v3` gets a ChargeOver 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(common::scope("/api/v3", render).service(common::post(
        "/invoice/{invoice_id}/_action/void",
        void_invoice,
        render,
    )));
}

/// The OpenAPI document of the ChargeOver dialect.
#[derive(OpenApi)]
#[openapi(
    paths(void_invoice),
    components(schemas(ChargeOverReply)),
    tags((name = "dialect: chargeover", description = "The ChargeOver billing API: void an invoice (balance zero, dunning and payments halted)."))
)]
pub struct ChargeOverDoc;

/// The body of a void: a JSON object whose fields are not used (the document
/// sends `{}`); optional.
pub type ChargeOverVoidBody = serde_json::Map<String, serde_json::Value>;

/// Every ChargeOver reply, success or error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargeOverReply {
    /// The HTTP status.
    pub code: u16,
    /// `OK` or `Error`.
    pub status: &'static str,
    /// Empty on success, else what went wrong.
    pub message: String,
    /// Always `{}`.
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, serde_json::Value>,
    /// True on success.
    pub response: bool,
}

/// What a refusal of a void means, in ChargeOver's words.
fn refusal_message(e: &ApiError) -> Option<&'static str> {
    Some(match e.code {
        ErrorCode::InvoiceNotFound => "Invoice not found.",
        ErrorCode::Refused(RefusalCode::InvoicePaid) => "Invoice is already paid.",
        ErrorCode::Refused(RefusalCode::InvoiceAlreadyVoid) => "Invoice is already void.",
        ErrorCode::Refused(RefusalCode::InvoiceAlreadyCancelled) => "Invoice is already cancelled.",
        ErrorCode::Refused(RefusalCode::InvoiceIsDraft) => "Invoice is a draft; only issued invoices can be voided.",
        ErrorCode::Refused(RefusalCode::InvoiceHasPayments) => {
            "Invoice has payments applied; refund them before voiding."
        }
        ErrorCode::Refused(RefusalCode::InvoiceApproved) => {
            "Invoice is approved by the customer and can no longer be voided."
        }
        ErrorCode::InvoiceNotOwned => "Invoice belongs to another party.",
        ErrorCode::InsufficientScope => "This API key may not void invoices.",
        ErrorCode::TenantMismatch => "This API key belongs to another tenant.",
        ErrorCode::IdempotencyKeyReused => "Idempotency-Key was already used with a different request.",
        _ => return None,
    })
}

/// ChargeOver documents 200, 400 and 401: every other application
/// outcome (a refusal, an unknown or foreign invoice, a missing scope) is
/// a 400 whose message says why. The infrastructure answers (404 for an
/// unknown route, 405, 413, 415, 429, 500, 503) stay, and a lost race or a
/// request still running under the same key is a 503 to retry.
fn status(e: &ApiError) -> StatusCode {
    match e.status {
        StatusCode::UNAUTHORIZED => StatusCode::UNAUTHORIZED,
        StatusCode::CONFLICT
            if matches!(
                e.code,
                ErrorCode::VersionMismatch | ErrorCode::ConcurrentConflict | ErrorCode::IdempotencyKeyInUse
            ) =>
        {
            StatusCode::SERVICE_UNAVAILABLE
        }
        StatusCode::NOT_FOUND if e.code == ErrorCode::RouteNotFound => StatusCode::NOT_FOUND,
        StatusCode::FORBIDDEN
        | StatusCode::NOT_FOUND
        | StatusCode::CONFLICT
        | StatusCode::UNPROCESSABLE_ENTITY
        | StatusCode::PRECONDITION_FAILED => StatusCode::BAD_REQUEST,
        other => other,
    }
}

/// The ChargeOver message: the documented wording for bad input and
/// authentication, a sentence naming the reason for a refusal.
fn message(e: &ApiError) -> String {
    if let Some(sentence) = refusal_message(e) {
        return sentence.to_string();
    }
    match (e.status, status(e)) {
        (StatusCode::UNAUTHORIZED, _) if !e.detail.starts_with("Invalid or incorrect authorization") => {
            format!("Invalid or incorrect authorization [{}]", e.detail)
        }
        (StatusCode::CONFLICT, _) => {
            let mut sentence = e.detail.clone();
            if let Some(first) = sentence.get(..1) {
                sentence.replace_range(..1, &first.to_ascii_uppercase());
            }
            format!("Invoice cannot be voided: {sentence}.")
        }
        (_, StatusCode::BAD_REQUEST) => INVALID_PARAMETER.to_string(),
        _ => e.detail.clone(),
    }
}

/// What went wrong beyond the message: the stable code, the detail and any
/// invalid fields, for a 400 whose message is the documented generic one.
fn details(e: &ApiError) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    if status(e) == StatusCode::OK || e.status == StatusCode::UNAUTHORIZED {
        return map;
    }
    map.insert("code".into(), e.code.as_str().into());
    map.insert("detail".into(), e.detail.clone().into());
    if !e.errors.is_empty() {
        map.insert(
            "errors".into(),
            serde_json::to_value(&e.errors).unwrap_or(serde_json::Value::Null),
        );
    }
    map
}

/// Renders an error in the ChargeOver envelope.
pub fn render(e: &ApiError) -> Reply {
    let code = status(e);
    Reply::json(
        code,
        &ChargeOverReply {
            code: code.as_u16(),
            status: "Error",
            message: message(e),
            details: details(e),
            response: false,
        },
    )
}

/// Void an invoice: the balance due becomes zero and dunning and payments halt.
#[utoipa::path(post, path = "/api/v3/invoice/{invoice_id}/_action/void", operation_id = "chargeover_void_invoice", tag = "dialect: chargeover",
    request_body(content = Option<Object>, description = "`{}` or nothing; any fields are ignored"),
    params(("invoice_id" = String, Path, description = "The invoice's integer id (its serial), or its UUID, document number or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"),
        IdempotencyHeader),
    responses(
        (status = 200, description = "Action completed successfully", body = ChargeOverReply,
            example = json!({"code": 200, "status": "OK", "message": "", "details": {}, "response": true})),
        (status = 400, description = "Bad request: an unusable invoice id or body, a bad `Idempotency-Key` (message `Missing or invalid parameter.`, the reason in `details`); or a void refused, an unknown or another party's invoice, a missing scope, with a message naming the reason (e.g. `Invoice is already paid.`)", body = ChargeOverReply,
            example = json!({"code": 400, "status": "Error", "message": "Missing or invalid parameter.", "details": {}, "response": false})),
        (status = 401, description = "Authentication error", body = ChargeOverReply,
            example = json!({"code": 401, "status": "Error", "message": "Invalid or incorrect authorization [Missing (basic) authorization header.]", "details": {}, "response": false})),
        (status = 413, description = "A body over 64 KiB", body = ChargeOverReply),
        (status = 429, description = "Too many requests for this key (`Retry-After`)", body = ChargeOverReply),
        (status = 500, description = "An unexpected failure", body = ChargeOverReply),
        (status = 503, description = "The database is unavailable (`Retry-After`)", body = ChargeOverReply),
    ),
    security(("basic" = [])))]
pub async fn void_invoice(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> HttpResponse {
    common::respond(render, void(req, state, payload).await)
}

/// The handler's work; errors are rendered by the caller.
async fn void(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    if !matches!(
        auth::credentials(&req),
        Credentials::Basic(_) | Credentials::BasicWithPassword
    ) {
        auth::limit_client(&state, &req)?;
        return Err(ApiError::unauthorized(MISSING_BASIC));
    }
    let principal = common::authenticate(&req, KeyScope::InvoicesCancel).await?;
    let reference = common::parse_integer_reference(req.match_info().get("invoice_id").unwrap_or_default())?;
    let body = common::read_body(&req, payload).await?;
    // ChargeOver answers every bad input with 400.
    common::parse_optional_json::<ChargeOverVoidBody>(&body).map_err(|e| ApiError {
        status: StatusCode::BAD_REQUEST,
        ..e
    })?;
    let reason = Reason::new(ReasonCode::Other, None)?;
    Command::new(&req, &state, principal, &body, reference, render, CHANNEL)
        .run(
            move |svc, store, target| svc.void(store, target, Some(reason)),
            |_| {
                Reply::json(
                    StatusCode::OK,
                    &ChargeOverReply {
                        code: 200,
                        status: "OK",
                        message: String::new(),
                        details: serde_json::Map::new(),
                        response: true,
                    },
                )
            },
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_follow_the_documented_wording() {
        let missing = ApiError::unauthorized(MISSING_BASIC);
        assert_eq!(message(&missing), MISSING_BASIC);
        let bad_key = ApiError::unauthorized("the API key is not valid");
        assert_eq!(
            message(&bad_key),
            "Invalid or incorrect authorization [the API key is not valid]"
        );
        let bad_id = common::invalid_invoice_id("the invoice id must not be empty");
        assert_eq!(
            (status(&bad_id), message(&bad_id).as_str()),
            (StatusCode::BAD_REQUEST, INVALID_PARAMETER)
        );
        assert_eq!(details(&bad_id)["detail"], "the invoice id must not be empty");
        let paid = ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Refused(RefusalCode::InvoicePaid),
            "the invoice is paid",
        );
        assert_eq!(
            (status(&paid), message(&paid).as_str()),
            (StatusCode::BAD_REQUEST, "Invoice is already paid.")
        );
        let other = ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Refused(RefusalCode::CreditExceedsTotal),
            "the credits would exceed the total",
        );
        assert_eq!(
            message(&other),
            "Invoice cannot be voided: The credits would exceed the total."
        );
        let unknown = ApiError::new(StatusCode::NOT_FOUND, ErrorCode::InvoiceNotFound, "no such invoice");
        assert_eq!(
            (status(&unknown), message(&unknown).as_str()),
            (StatusCode::BAD_REQUEST, "Invoice not found.")
        );
        let route = common::route_not_found();
        assert_eq!(status(&route), StatusCode::NOT_FOUND);
        let busy = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::DatabaseUnavailable, "down");
        assert_eq!(status(&busy), StatusCode::SERVICE_UNAVAILABLE);
    }
}
