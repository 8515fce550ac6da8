//! `/v1/webhook-endpoints` and `/v1/events`: managing webhook endpoints and
//! their delivery log, and the event log for clients that poll instead.
//! One handler per file; the views and helpers they share live here.

mod create_endpoint;
mod delete_endpoint;
mod enable_endpoint;
mod get_endpoint;
mod list_deliveries;
mod list_endpoints;
mod list_events;
mod retry_delivery;
mod rotate_secret;

pub use create_endpoint::*;
pub use delete_endpoint::*;
pub use enable_endpoint::*;
pub use get_endpoint::*;
pub use list_deliveries::*;
pub use list_endpoints::*;
pub use list_events::*;
pub use retry_delivery::*;
pub use rotate_secret::*;

use actix_web::http::StatusCode;
use actix_web::web;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use validator::Validate;

use super::auth::Principal;
use super::problem::{ApiError, FieldError, Problem};
use super::state::AppState;
use crate::outbound::db::rows::utc;
use crate::outbound::db::DbConnection;
use crate::outbound::webhooks::rows::{AttemptRow, DeliveryRow, EndpointRow};
use crate::outbound::webhooks::{EventData, EventObject};

/// Mounts the routes. Register before the `/v1` scope, which would
/// otherwise answer these paths with 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let one = "/v1/webhook-endpoints/{id}";
    cfg.route("/v1/webhook-endpoints", web::post().to(create_endpoint))
        .route("/v1/webhook-endpoints", web::get().to(list_endpoints))
        .route(one, web::get().to(get_endpoint))
        .route(one, web::delete().to(delete_endpoint))
        .route(
            "/v1/webhook-endpoints/{id}/rotate-secret",
            web::post().to(rotate_secret),
        )
        .route("/v1/webhook-endpoints/{id}/enable", web::post().to(enable_endpoint))
        .route("/v1/webhook-endpoints/{id}/deliveries", web::get().to(list_deliveries))
        .route(
            "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry",
            web::post().to(retry_delivery),
        )
        .route("/v1/events", web::get().to(list_events));
}

/// The OpenAPI paths and schemas of webhooks and the event log.
#[derive(OpenApi)]
#[openapi(
    paths(
        create_endpoint,
        list_endpoints,
        get_endpoint,
        delete_endpoint,
        rotate_secret,
        enable_endpoint,
        list_deliveries,
        retry_delivery,
        list_events,
    ),
    components(schemas(
        Problem,
        FieldError,
        EndpointView,
        EndpointList,
        DeliveryView,
        AttemptView,
        DeliveryList,
        EventObject,
        EventData,
        EventPage,
        CreateEndpointBody,
        RotateSecretBody,
    )),
    tags(
        (name = "webhooks", description = "Signed, retried delivery of events to your HTTPS endpoints"),
        (name = "events", description = "The event log, for clients that poll instead of receiving webhooks"),
    )
)]
pub struct WebhooksDoc;

/// Most endpoints a tenant may have.
pub const MAX_ENDPOINTS: usize = 50;

/// `POST /v1/webhook-endpoints`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointBody {
    /// Where to POST events: an `https://` (or `http://`) URL.
    #[validate(length(min = 1, max = 2048))]
    #[schema(example = "https://billing.example.com/storno/webhooks")]
    pub url: String,
    /// Event types to receive (`invoice.cancelled`, `credit_note.issued`…), or `["*"]` for all.
    #[validate(length(min = 1, max = 20))]
    pub events: Vec<String>,
    /// A note for yourself.
    #[validate(length(max = 500))]
    pub description: Option<String>,
}

/// `POST /v1/webhook-endpoints/{id}/rotate-secret` (the body is optional).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretBody {
    /// Keep signing with the old secret too (a second `v1,` signature) for
    /// this many seconds, up to 7 days; 0 (the default) drops it at once.
    #[validate(range(max = 604800))]
    pub previous_secret_expires_in: Option<u32>,
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointView {
    /// Endpoint id.
    pub id: String,
    /// Always `webhook_endpoint`.
    pub object: &'static str,
    /// Where events are POSTed.
    pub url: String,
    /// Subscribed event types, or `["*"]`.
    pub events: Vec<String>,
    /// Your note.
    pub description: Option<String>,
    /// `enabled`, or `disabled` after repeated failures.
    pub status: String,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Deliveries in a row that failed after every retry.
    pub failed_deliveries: i64,
    /// The first failed attempt since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    /// The signing secret: only in the responses of create and rotate-secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Until when the previous secret also signs, after a rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl EndpointView {
    /// The endpoint without its secret.
    pub fn from_row(row: &EndpointRow) -> Self {
        EndpointView {
            id: row.id.clone(),
            object: "webhook_endpoint",
            url: row.url.clone(),
            events: row.events(),
            description: row.description.clone(),
            status: row.status.clone(),
            disabled_reason: row.disabled_reason.clone(),
            disabled_at: row.disabled_at.map(utc),
            failed_deliveries: row.failed_deliveries,
            failing_since: row.failing_since.map(utc),
            secret: None,
            previous_secret_expires_at: row.previous_secret_expires_at.map(utc),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }

    /// The endpoint with its secret, shown once.
    pub fn with_secret(row: &EndpointRow) -> Self {
        EndpointView {
            secret: Some(row.secret.clone()),
            ..Self::from_row(row)
        }
    }
}

/// The tenant's endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    /// Always `list`.
    pub object: &'static str,
    /// Endpoints, oldest first.
    pub data: Vec<EndpointView>,
    /// Always false: every endpoint is listed.
    pub has_more: bool,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// 1 for the first attempt.
    pub attempt: i32,
    /// When it started.
    pub attempted_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: i64,
    /// The response status, if a response came.
    pub status_code: Option<i32>,
    /// Why it failed without a usable response (timeout, connection, refused target).
    pub error: Option<String>,
    /// The start of the response body (at most 4 KiB).
    pub response_body: Option<String>,
}

impl From<&AttemptRow> for AttemptView {
    fn from(a: &AttemptRow) -> Self {
        AttemptView {
            attempt: a.attempt,
            attempted_at: utc(a.attempted_at),
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error.clone(),
            response_body: a.response_body.clone(),
        }
    }
}

/// One event's delivery to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Delivery id.
    pub id: String,
    /// Always `webhook_delivery`.
    pub object: &'static str,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event (also the `webhook-id` header).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// `pending` (attempts remain), `succeeded` or `failed` (retries used up).
    pub status: String,
    /// Attempts made so far.
    pub attempt_count: i32,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last response status.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptView>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl DeliveryView {
    /// Renders a delivery with its attempts.
    pub fn new(d: &DeliveryRow, attempts: &[AttemptRow]) -> Self {
        DeliveryView {
            id: d.id.clone(),
            object: "webhook_delivery",
            endpoint_id: d.endpoint_id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.clone(),
            attempt_count: d.attempt_count,
            next_attempt_at: d.next_attempt_at.map(utc),
            last_attempt_at: d.last_attempt_at.map(utc),
            last_status_code: d.last_status_code,
            last_error: d.last_error.clone(),
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .map(AttemptView::from)
                .collect(),
            created_at: utc(d.created_at),
            updated_at: utc(d.updated_at),
        }
    }
}

/// A page of deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Always `list`.
    pub object: &'static str,
    /// Deliveries, newest first.
    pub data: Vec<DeliveryView>,
    /// True when another page follows; pass the last id as `starting_after`.
    pub has_more: bool,
}

/// A page of the event log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Always `list`.
    pub object: &'static str,
    /// Events, oldest first.
    pub data: Vec<EventObject>,
    /// True when another page follows; pass the last id as `starting_after`.
    pub has_more: bool,
}

/// Refuses keys without `webhooks:manage`, and party-restricted keys (an
/// endpoint receives every event of the tenant).
pub fn require_manage(principal: &Principal) -> Result<(), ApiError> {
    principal.require("webhooks:manage")?;
    if principal.party.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "party_restricted_key",
            "webhook endpoints receive every event of the tenant; use a key without a party restriction",
        ));
    }
    Ok(())
}

/// 404 for an endpoint that does not exist in the caller's tenant.
pub fn endpoint_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "webhook_endpoint_not_found",
        "no such webhook endpoint",
    )
}

/// A path id in canonical form; anything but a UUID names nothing.
pub fn path_id(text: &str, not_found: fn() -> ApiError) -> Result<String, ApiError> {
    text.parse::<uuid::Uuid>()
        .map(|u| u.to_string())
        .map_err(|_| not_found())
}

/// Runs `work` on a connection inside one read transaction, off the executor.
pub async fn read<T, F>(state: &web::Data<AppState>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    let st = state.clone();
    web::block(move || st.db.read(|store| work(store.connection())))
        .await
        .map_err(|e| ApiError::internal(&e))?
}
