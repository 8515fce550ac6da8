//! `POST /v1/webhook-endpoints/{id}/enable`: resume a disabled endpoint once it is fixed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{managed_endpoint, write_once, EndpointView};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::{
    EndpointMissing, EndpointPath, IdempotencyHeader, KeyInUse, KeyRefused, WebhookAccess,
};
use crate::inbound::http::exec::{idempotency_key, Reply};
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::state::AppState;

/// Enables a disabled endpoint: its failure counters reset, its pending
/// deliveries resume, and events from now on are delivered to it (events
/// that happened while it was disabled are not; read them from `/v1/events`).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/enable", tag = "webhooks",
    params(EndpointPath, IdempotencyHeader),
    responses(
        (status = 200, description = "The endpoint, enabled", body = EndpointView),
        EndpointMissing,
        KeyInUse,
        KeyRefused,
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn enable_endpoint(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = managed_endpoint(&principal, &path)?;
    let idem = idempotency_key(&req, &principal, b"")?;
    Ok(write_once(&state, idem, move |hooks| {
        let endpoint = hooks.enable_endpoint(tenant, &id)?;
        Ok(Reply::json(StatusCode::OK, &EndpointView::from(endpoint)))
    })
    .await)
}
