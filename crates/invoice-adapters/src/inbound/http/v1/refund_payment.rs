//! `POST /v1/invoices/{reference}/payments/{payment_id}/refunds`: refund (part of) a payment.

use crate::inbound::http::contract::{
    ChangeErrors, Guarded, IdempotencyHeader, IfMatchHeader, InvoiceChanged, InvoicePath, Refused,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::PaymentId;

use super::invoice_command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_json;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;

/// Refund (part of) a payment.
#[utoipa::path(post, path = "/v1/invoices/{reference}/payments/{payment_id}/refunds", tag = "invoices",
    request_body = RefundBody,
    params(InvoicePath,
        ("payment_id" = uuid::Uuid, Path, description = "Payment id"),
        IfMatchHeader,
        IdempotencyHeader),
    responses(InvoiceChanged, Refused, ChangeErrors, Guarded),
    security(("bearer" = []), ("basic" = [])))]
pub async fn refund_payment(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (reference, payment) = path.into_inner();
    let payment_id: PaymentId = payment.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPathParameter,
            "payment_id must be a UUID",
        )
    })?;
    invoice_command(
        req,
        state,
        principal,
        KeyScope::InvoicesWrite,
        &reference,
        payload,
        move |r, b| Ok(parse_json::<RefundBody>(r, b)?.into_domain(payment_id)?),
        |svc, store, target, request| svc.refund(store, target, request),
    )
    .await
}
