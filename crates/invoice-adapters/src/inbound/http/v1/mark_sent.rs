//! `POST /v1/invoices/{reference}/mark-sent`: record that an issued invoice was sent to its customer.

use super::invoice_command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::contract::{
    ChangeErrors, Guarded, IdempotencyHeader, IfMatchHeader, InvoiceChanged, InvoicePath,
};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Record that an issued invoice was sent to its customer (again, too): `sent_at` is set and `invoice.sent` is recorded.
#[utoipa::path(post, path = "/v1/invoices/{reference}/mark-sent", tag = "invoices",
    request_body(content = Option<EmptyBody>, description = "Nothing, or `{}`"),
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(
        (status = 409, description = "A draft, which is not a document yet (`invoice_is_draft`), a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        InvoiceChanged, ChangeErrors, Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn mark_sent(
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
        KeyScope::InvoicesWrite,
        &reference,
        payload,
        |r, b| parse_optional_json::<EmptyBody>(r, b).map(drop),
        |svc, store, target, ()| svc.mark_sent(store, target),
    )
    .await
}
