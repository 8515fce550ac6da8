//! The ChargeOver billing dialect: `POST /api/v3/invoice/{invoice_id}/_action/void`
//! with HTTP Basic auth, answering `{"code", "status", "message", "details", "response"}`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::{Reason, ReasonCode};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::common::{self, Command};
use crate::inbound::http::auth::{self, Credentials};
use crate::inbound::http::exec::Reply;
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::state::AppState;

/// The channel recorded on events made through this dialect.
pub const CHANNEL: &str = "chargeover";

/// The documented 401 message for a request without HTTP Basic credentials.
pub const MISSING_BASIC: &str = "Invalid or incorrect authorization [Missing (basic) authorization header.]";

/// The documented 400 message.
pub const INVALID_PARAMETER: &str = "Missing or invalid parameter.";

/// Mounts the ChargeOver routes; anything else under `/api/v3` gets a ChargeOver 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v3")
            .service(
                web::resource("/invoice/{invoice_id}/_action/void")
                    .route(web::post().to(void_invoice))
                    .default_service(common::method_not_allowed(render, "POST")),
            )
            .default_service(web::to(not_found)),
    );
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

/// The ChargeOver message for an error: 400 and 401 follow the documented
/// `<generic> [<specific>]` wording.
fn message(e: &ApiError) -> String {
    match e.status {
        StatusCode::BAD_REQUEST if !e.detail.starts_with(INVALID_PARAMETER) => {
            format!("{INVALID_PARAMETER} [{}]", e.detail)
        }
        StatusCode::UNAUTHORIZED if !e.detail.starts_with("Invalid or incorrect authorization") => {
            format!("Invalid or incorrect authorization [{}]", e.detail)
        }
        _ => e.detail.clone(),
    }
}

/// Renders an error in the ChargeOver envelope.
pub fn render(e: &ApiError) -> Reply {
    Reply::json(
        e.status,
        &ChargeOverReply {
            code: e.status.as_u16(),
            status: "Error",
            message: message(e),
            details: serde_json::Map::new(),
            response: false,
        },
    )
}

/// Any other path under the dialect's prefix.
async fn not_found() -> HttpResponse {
    render(&common::route_not_found()).into_response()
}

/// Void an invoice: the balance due becomes zero and dunning and payments halt.
#[utoipa::path(post, path = "/api/v3/invoice/{invoice_id}/_action/void", operation_id = "chargeover_void_invoice", tag = "dialect: chargeover",
    request_body(content = Option<Object>, description = "`{}` or nothing; any fields are ignored"),
    params(("invoice_id" = String, Path, description = "The invoice's sequence number in the series INV (52 for INV-000052), its UUID or its printed number", pattern = r"^(?:(?=[0-9]{1,19}$)0*[1-9][0-9]*|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[A-Z0-9_]{1,16}-(?=[0-9]{1,19}$)0*[1-9][0-9]*)$"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: 1 to 255 visible ASCII characters, unique per request", nullable = false, min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$")),
    responses(
        (status = 200, description = "Action completed successfully", body = ChargeOverReply,
            example = json!({"code": 200, "status": "OK", "message": "", "details": {}, "response": true})),
        (status = 400, description = "Bad request: an unusable invoice id, a body that is not a JSON object, or a bad `Idempotency-Key`", body = ChargeOverReply,
            example = json!({"code": 400, "status": "Error", "message": "Missing or invalid parameter.", "details": {}, "response": false})),
        (status = 401, description = "Authentication error", body = ChargeOverReply,
            example = json!({"code": 401, "status": "Error", "message": "Invalid or incorrect authorization [Missing (basic) authorization header.]", "details": {}, "response": false})),
        (status = 403, description = "Missing scope, or an invoice the key's party did not issue", body = ChargeOverReply),
        (status = 404, description = "No such invoice in this tenant", body = ChargeOverReply),
        (status = 409, description = "Refused by a rule (a draft, already void or cancelled, paid, approved, or holding payments)", body = ChargeOverReply),
        (status = 422, description = "A reused idempotency key", body = ChargeOverReply),
        (status = 413, description = "A body over 64 KiB", body = ChargeOverReply),
        (status = 429, description = "Too many requests for this key (`Retry-After`)", body = ChargeOverReply),
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
    let principal = common::authenticate(&req, "invoices:cancel").await?;
    let reference = common::parse_sequence_or_ref(req.match_info().get("invoice_id").unwrap_or_default())
        .ok_or_else(|| common::invalid_invoice_id(INVALID_PARAMETER))?;
    let body = common::read_body(&req, payload).await?;
    // ChargeOver answers every bad input with 400.
    common::parse_optional_json::<ChargeOverVoidBody>(&body).map_err(|e| ApiError {
        status: StatusCode::BAD_REQUEST,
        ..e
    })?;
    let reason = Reason::new(ReasonCode::Other, None)?;
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
        let bad_id = common::invalid_invoice_id(INVALID_PARAMETER);
        assert_eq!(message(&bad_id), INVALID_PARAMETER);
    }
}
