//! `POST /v1/invoices/{reference}/approve`: approve the pending approval level.

use super::invoice_command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Approve the pending approval level.
#[utoipa::path(post, path = "/v1/invoices/{reference}/approve", tag = "invoices",
    request_body(content = Option<EmptyBody>, description = "Nothing, or `{}`"),
    params(("reference" = String, Path, description = "Invoice UUID, number (e.g. `INV-000052`) or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"),
        ("If-Match" = Option<String>, Header, description = "Expected version, e.g. `\"3\"`, or `*`", nullable = false, pattern = r#"^(?:\*|(?:W/)?"[0-9]{1,19}")$"#),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: 1 to 255 visible ASCII characters, unique per request", nullable = false, min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$")),
    responses(
        (status = 200, description = "The invoice after the change", body = InvoiceView, headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"` (not on idempotent replays)"))),
        (status = 400, description = "Malformed JSON, JSON nested too deep, an empty, over-long or control-character reference or a bad `If-Match`/`Idempotency-Key` header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by a rule (the code says which), a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body that is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn approve_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let reference = path.into_inner();
    invoice_command(
        req,
        state,
        principal,
        "invoices:write",
        &reference,
        payload,
        |r, b| parse_optional_json::<EmptyBody>(r, b).map(drop),
        |svc, store, target, ()| svc.approve(store, target),
    )
    .await
}
