//! `POST /v1/webhook-endpoints`: register an endpoint; the answer carries its signing secret, shown only here.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::EventKind;

use super::{require_manage, write_once, CreateEndpointBody, EndpointView, MAX_ENDPOINTS};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::{parse_json, read_body};
use crate::inbound::http::contract::{BodyRefused, IdempotencyHeader, WebhookAccess};
use crate::inbound::http::exec::{idempotency_key, Reply};
use crate::inbound::http::problem::{ApiError, ErrorCode, FieldError, Problem};
use crate::inbound::http::state::AppState;
use crate::outbound::webhooks::guard::{self, UrlRefused};
use crate::ports::NewEndpoint;

/// Checks subscribed event types against the known ones (or `*`), dropping duplicates.
pub fn check_event_types(events: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let e = e.as_str();
        if e != "*" && !EventKind::TYPE_NAMES.contains(&e) {
            return Err(ApiError::invalid_field(
                format!("events[{i}]"),
                format!(
                    "unknown event type {e:?}; use \"*\" or one of: {}",
                    EventKind::TYPE_NAMES.join(", ")
                ),
            ));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    if out.iter().any(|e| e == "*") {
        out = vec!["*".to_string()];
    }
    Ok(out)
}

/// Checks the URL (scheme, and the SSRF guard unless private targets are allowed).
pub async fn check_endpoint_url(url: String, allow_private: bool) -> Result<String, ApiError> {
    let checked = crate::inbound::http::exec::blocking(move || guard::check_url(&url, allow_private).map(|_| url))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    checked.map_err(|e| match e {
        UrlRefused::Invalid(m) => ApiError::invalid_field("url", m),
        UrlRefused::Private(_) | UrlRefused::ResolvesPrivate(_) => ApiError {
            errors: vec![FieldError {
                field: "url".into(),
                message: e.to_string(),
            }],
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::WebhookUrlNotAllowed,
                e.to_string(),
            )
        },
    })
}

/// Registers a webhook endpoint.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks",
    request_body = CreateEndpointBody,
    params(IdempotencyHeader),
    responses(
        (status = 201, description = "The endpoint, with its signing secret (shown only here)", body = EndpointView),
        (status = 400, description = "Malformed JSON, JSON nested too deep, or a bad `Idempotency-Key`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too many endpoints", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, a URL whose host is or resolves to a non-public address (`webhook_url_not_allowed`), or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        BodyRefused,
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn create_endpoint(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let tenant = require_manage(&principal)?;
    let body = read_body(&req, payload).await?;
    let input: CreateEndpointBody = parse_json(&req, &body)?;
    let events = check_event_types(&input.events)?;
    let url = check_endpoint_url(input.url, state.webhooks.allow_private).await?;
    let description = input
        .description
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    let idem = idempotency_key(&req, &principal, &body)?;
    let new = NewEndpoint {
        url,
        events,
        description,
    };
    Ok(write_once(&state, idem, move |hooks| {
        let created = hooks.create_endpoint(tenant, new, MAX_ENDPOINTS)?;
        Ok(Reply::json(StatusCode::CREATED, &EndpointView::from(created)).holding_a_secret())
    })
    .await)
}
