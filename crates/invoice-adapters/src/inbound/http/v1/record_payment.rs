//! `POST /v1/invoices/{reference}/payments`: record a payment against an open invoice.

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

/// Record a payment against an open invoice.
#[utoipa::path(post, path = "/v1/invoices/{reference}/payments", tag = "invoices",
    request_body = PaymentBody,
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(InvoiceChanged, Refused, ChangeErrors, Guarded),
    security(("bearer" = []), ("basic" = [])))]
pub async fn record_payment(
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
        |r, b| Ok(parse_json::<PaymentBody>(r, b)?.into_domain()?),
        |svc, store, target, payment| svc.record_payment(store, target, payment),
    )
    .await
}
