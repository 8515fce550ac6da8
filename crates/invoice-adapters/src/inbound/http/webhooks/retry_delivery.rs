//! `POST /v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry`: send a delivery again now.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{delivery_not_found, managed_endpoint, path_id, write_once, DeliveryView};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::{DeliveryPath, IdempotencyHeader, KeyRefused, WebhookAccess};
use crate::inbound::http::exec::{idempotency_key, Reply};
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;

/// Makes a delivery due now, whatever its status: one more attempt, with the
/// same `webhook-id`. Refused while the endpoint is disabled (enable it first).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    params(DeliveryPath, IdempotencyHeader),
    responses(
        (status = 202, description = "The delivery, due now", body = DeliveryView),
        (status = 404, description = "No such endpoint or delivery in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled, or the idempotency key is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        KeyRefused,
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn retry_delivery(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, delivery) = path.into_inner();
    let (tenant, endpoint) = managed_endpoint(&principal, &endpoint)?;
    let delivery = path_id(&delivery, delivery_not_found)?;
    let idem = idempotency_key(&req, &principal, b"")?;
    Ok(write_once(&state, idem, move |hooks| {
        let retried = hooks.retry_delivery(tenant, &endpoint, &delivery)?;
        Ok(Reply::json(StatusCode::ACCEPTED, &DeliveryView::from(retried)))
    })
    .await)
}
