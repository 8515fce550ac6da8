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
    params(("reference" = String, Path, description = "Invoice UUID or number"),
        ("If-Match" = Option<String>, Header, description = "Expected version, e.g. \"3\""),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses(
        (status = 200, description = "The invoice after the change", body = InvoiceView),
        (status = 400, description = "Malformed JSON or bad reference", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope or another party's invoice", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by a rule (the code says which) or a concurrent change", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or reused idempotency key", body = Problem, content_type = "application/problem+json"),
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
