//! `POST /v1/invoices/{reference}/payments/{payment_id}/refunds`: refund (part of) a payment.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::usecases::RefundRequest;
use invoice_domain::{Amount, PaymentId};

use super::invoice_command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_json;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;

/// Refund (part of) a payment.
#[utoipa::path(post, path = "/v1/invoices/{reference}/payments/{payment_id}/refunds", tag = "invoices",
    request_body = RefundBody,
    params(("reference" = String, Path, description = "Invoice UUID or number"),
        ("payment_id" = String, Path, description = "Payment id"),
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
            "invalid_path_parameter",
            "payment_id must be a UUID",
        )
    })?;
    invoice_command(
        req,
        state,
        principal,
        "invoices:write",
        &reference,
        payload,
        move |r, b| {
            let body = parse_json::<RefundBody>(r, b)?;
            Ok(RefundRequest {
                payment_id,
                amount: Amount::positive(body.amount, "amount")?,
                reason: invoice_domain::model::text::optional_text(body.reason.as_deref(), "reason", 500)?,
            })
        },
        |svc, store, target, request| svc.refund(store, target, request),
    )
    .await
}
