//! `POST /v1/invoices/{reference}/approve`: approve the pending approval level.

use super::invoice_command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::contract::{
    ChangeErrors, Guarded, IdempotencyHeader, IfMatchHeader, InvoiceChanged, InvoicePath, Refused,
};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Approve the pending approval level.
#[utoipa::path(post, path = "/v1/invoices/{reference}/approve", tag = "invoices",
    request_body(content = Option<EmptyBody>, description = "Nothing, or `{}`"),
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(InvoiceChanged, Refused, ChangeErrors, Guarded),
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
        KeyScope::InvoicesWrite,
        &reference,
        payload,
        |r, b| parse_optional_json::<EmptyBody>(r, b).map(drop),
        |svc, store, target, ()| svc.approve(store, target),
    )
    .await
}
