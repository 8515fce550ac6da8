//! `POST /v1/webhook-endpoints/{id}/enable`: resume a disabled endpoint once it is fixed.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{endpoint_not_found, path_id, require_manage, write_once, EndpointView};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec::{idempotency_key, Reply};
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;

/// Enables a disabled endpoint: its failure counters reset, its pending
/// deliveries resume, and events from now on are delivered to it (events
/// that happened while it was disabled are not; read them from `/v1/events`).
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/enable", tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: 1 to 255 visible ASCII characters, unique per request", nullable = false, min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$")),
    responses(
        (status = 200, description = "The endpoint, enabled", body = EndpointView),
        (status = 400, description = "A bad `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing webhooks:manage scope, or a party-restricted key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The idempotency key is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn enable_endpoint(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_manage(&principal)?;
    let id = path_id(&path, endpoint_not_found)?;
    let idem = idempotency_key(&req, &principal, b"")?;
    let tenant = principal.tenant;
    Ok(write_once(&state, idem, move |hooks| {
        let endpoint = hooks.enable_endpoint(tenant, &id)?;
        Ok(Reply::json(StatusCode::OK, &EndpointView::from(endpoint)))
    })
    .await)
}
