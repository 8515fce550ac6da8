//! `POST /v1/invoices/{reference}/void`: void an open invoice: balance zero, collection halted.

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

/// Void an open invoice: balance zero, collection halted.
#[utoipa::path(post, path = "/v1/invoices/{reference}/void", tag = "invoices",
    request_body(content = Option<ReasonBody>, description = "Optional"),
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(InvoiceChanged, Refused, ChangeErrors, Guarded),
    security(("bearer" = []), ("basic" = [])))]
pub async fn void_invoice(
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
        KeyScope::InvoicesCancel,
        &reference,
        payload,
        |r, b| Ok(parse_optional_json::<ReasonBody>(r, b)?.into_domain()?),
        |svc, store, target, reason| svc.void(store, target, reason),
    )
    .await
}
