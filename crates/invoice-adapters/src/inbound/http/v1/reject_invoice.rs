//! `POST /v1/invoices/{reference}/reject`: reject the invoice with reasons and a remark.

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

/// Reject the invoice with reasons and a remark.
#[utoipa::path(post, path = "/v1/invoices/{reference}/reject", tag = "invoices",
    request_body(content = Option<RejectBody>, description = "Optional"),
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(InvoiceChanged, Refused, ChangeErrors, Guarded),
    security(("bearer" = []), ("basic" = [])))]
pub async fn reject_invoice(
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
        |r, b| Ok(parse_optional_json::<RejectBody>(r, b)?.into_domain()?),
        |svc, store, target, rejection| svc.reject(store, target, rejection),
    )
    .await
}
