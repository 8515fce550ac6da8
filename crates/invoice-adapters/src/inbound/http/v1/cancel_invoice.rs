//! `POST /v1/invoices/{reference}/cancel`: cancel the whole invoice, or only the listed lines.

use super::invoice_command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_json;
use crate::inbound::http::contract::{
    ChangeErrors, Guarded, IdempotencyHeader, IfMatchHeader, InvoiceChanged, InvoicePath, Refused,
};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Cancel the whole invoice, or only the listed lines.
#[utoipa::path(post, path = "/v1/invoices/{reference}/cancel", tag = "invoices",
    request_body = CancelBody,
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(InvoiceChanged, Refused, ChangeErrors, Guarded),
    security(("bearer" = []), ("basic" = [])))]
pub async fn cancel_invoice(
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
        |r, b| Ok(parse_json::<CancelBody>(r, b)?.into_domain()?),
        |svc, store, target, request| svc.cancel(store, target, &request),
    )
    .await
}
