//! `POST /v1/webhook-endpoints/{id}/rotate-secret`: a new signing secret, shown once; new deliveries are signed with it.

use chrono::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{managed_endpoint, write_once, EndpointView, RotateSecretBody};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::{parse_optional_json, read_body};
use crate::inbound::http::contract::{
    BodyRefused, EndpointMissing, EndpointPath, IdempotencyHeader, KeyInUse, WebhookAccess,
};
use crate::inbound::http::exec::{idempotency_key, Reply};
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;

/// Replaces an endpoint's signing secret.
#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks",
    request_body(content = Option<RotateSecretBody>, description = "Optional"),
    params(EndpointPath, IdempotencyHeader),
    responses(
        (status = 200, description = "The endpoint with its new secret (shown only here)", body = EndpointView),
        (status = 400, description = "Malformed JSON (`malformed_json`), JSON nested too deep, or a bad `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        EndpointMissing,
        KeyInUse,
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn rotate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = managed_endpoint(&principal, &path)?;
    let body = read_body(&req, payload).await?;
    let input: RotateSecretBody = parse_optional_json(&req, &body)?;
    let keep = Duration::seconds(i64::from(input.previous_secret_expires_in.unwrap_or(0)));
    let idem = idempotency_key(&req, &principal, &body)?;
    Ok(write_once(&state, idem, move |hooks| {
        let rotated = hooks.rotate_secret(tenant, &id, keep)?;
        Ok(Reply::json(StatusCode::OK, &EndpointView::from(rotated)).holding_a_secret())
    })
    .await)
}
