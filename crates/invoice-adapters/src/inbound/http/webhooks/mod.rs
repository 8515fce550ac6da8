//! `/v1/webhook-endpoints` and `/v1/events`: managing webhook endpoints and
//! their delivery log, and the event log for clients that poll instead.
//! One handler per file; the views and helpers they share live here.

mod create_endpoint;
mod delete_endpoint;
mod enable_endpoint;
mod get_endpoint;
mod list_deliveries;
mod list_endpoints;
mod retry_delivery;
mod rotate_secret;

pub use create_endpoint::*;
pub use delete_endpoint::*;
pub use enable_endpoint::*;
pub use get_endpoint::*;
pub use list_deliveries::*;
pub use list_endpoints::*;
pub use retry_delivery::*;
pub use rotate_secret::*;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use invoice_domain::{EventKind, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, ToSchema};
use validator::Validate;

use super::auth::Principal;
use super::exec::{self, problem_reply, IdempotencyKey, Reply};
use super::problem::{method_not_allowed, ApiError, ErrorCode, FieldError, Problem};
use super::state::AppState;
use super::views::optional_integer;
use crate::inbound::http::principal::KeyScope;
use crate::outbound::webhooks::EndpointStore;
use crate::ports::{Attempt, Delivery, Endpoint, EndpointWithSecret, WebhookEndpoints, WebhookError};

/// Mounts the routes. Register before the `/v1` scope, which would
/// otherwise answer these paths with 404. A method a route does not serve
/// answers 405 with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let allow = |methods: &'static str| web::to(move || async move { method_not_allowed(methods) });
    cfg.service(
        web::resource("/v1/webhook-endpoints")
            .route(web::post().to(create_endpoint))
            .route(web::get().to(list_endpoints))
            .default_service(allow("GET, POST")),
    )
    .service(
        web::resource("/v1/webhook-endpoints/{id}")
            .route(web::get().to(get_endpoint))
            .route(web::delete().to(delete_endpoint))
            .default_service(allow("GET, DELETE")),
    )
    .service(
        web::resource("/v1/webhook-endpoints/{id}/rotate-secret")
            .route(web::post().to(rotate_secret))
            .default_service(allow("POST")),
    )
    .service(
        web::resource("/v1/webhook-endpoints/{id}/enable")
            .route(web::post().to(enable_endpoint))
            .default_service(allow("POST")),
    )
    .service(
        web::resource("/v1/webhook-endpoints/{id}/deliveries")
            .route(web::get().to(list_deliveries))
            .default_service(allow("GET")),
    )
    .service(
        web::resource("/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry")
            .route(web::post().to(retry_delivery))
            .default_service(allow("POST")),
    );
}

/// Links every reply carrying an endpoint to the operations on that
/// endpoint, so clients (and stateful test tools) can follow it.
struct EndpointLinks;

/// Operations answering with one endpoint, by operation id.
const ENDPOINT_REPLIES: [&str; 4] = ["create_endpoint", "get_endpoint", "enable_endpoint", "rotate_secret"];

impl Modify for EndpointLinks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut links = serde_json::Map::new();
        for (name, target) in [
            ("GetEndpoint", "get_endpoint"),
            ("ListDeliveries", "list_deliveries"),
            ("RotateSecret", "rotate_secret"),
            ("Enable", "enable_endpoint"),
            ("Delete", "delete_endpoint"),
        ] {
            links.insert(
                name.into(),
                serde_json::json!({"operationId": target, "parameters": {"id": "$response.body#/id"}}),
            );
        }
        // As in the `/v1` document: utoipa 5's `Link` serializes in snake
        // case, so the links go in as JSON through the extensions.
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                if !op
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| ENDPOINT_REPLIES.contains(&id))
                {
                    continue;
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                        response
                            .extensions
                            .get_or_insert_with(Default::default)
                            .insert("links".into(), serde_json::Value::Object(links.clone()));
                    }
                }
            }
        }
    }
}

/// The OpenAPI paths and schemas of webhooks.
#[derive(OpenApi)]
#[openapi(
    modifiers(&EndpointLinks),
    paths(
        create_endpoint,
        list_endpoints,
        get_endpoint,
        delete_endpoint,
        rotate_secret,
        enable_endpoint,
        list_deliveries,
        retry_delivery,
    ),
    components(schemas(
        Problem,
        FieldError,
        EndpointView,
        EndpointList,
        DeliveryView,
        AttemptView,
        DeliveryList,
        CreateEndpointBody,
        RotateSecretBody,
    )),
    tags(
        (name = "webhooks", description = "Signed, retried delivery of events to your HTTPS endpoints"),
    )
)]
pub struct WebhooksDoc;

/// Most endpoints a tenant may have.
pub const MAX_ENDPOINTS: usize = 50;

/// `POST /v1/webhook-endpoints`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpointBody {
    /// Where to POST events: an `https://` (or `http://`) URL with a host
    /// name, IPv4 or `[IPv6]` address, optional port, path and query; no
    /// credentials, no fragment.
    #[validate(length(min = 1, max = 2048))]
    #[schema(
        example = "https://billing.example.com/storno/webhooks",
        max_length = 2048,
        pattern = r"^https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|::(?:[0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?::[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?::[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?::)\])(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$"
    )]
    pub url: String,
    /// Event types to receive (`invoice.cancelled`, `credit_note.issued`…), or `["*"]` for all.
    #[validate(length(min = 1, max = 20))]
    #[schema(schema_with = event_types_schema)]
    pub events: Vec<String>,
    /// A note for yourself (blank means none).
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// `POST /v1/webhook-endpoints/{id}/rotate-secret` (the body is optional).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretBody {
    /// Keep signing with the old secret too (a second `v1,` signature) for
    /// this many seconds, up to 7 days; 0 (the default) drops it at once.
    #[validate(range(max = 604800))]
    #[schema(minimum = 0, maximum = 604800)]
    #[serde(default, deserialize_with = "optional_integer")]
    pub previous_secret_expires_in: Option<u32>,
}

/// `events`: 1 to 20 known event types, or `*`.
fn event_types_schema() -> Array {
    let mut names = vec!["*"];
    names.extend(EventKind::TYPE_NAMES.iter().copied());
    ArrayBuilder::new()
        .description(Some(
            "Event types to receive (`invoice.cancelled`, `credit_note.issued`…), or `[\"*\"]` for all; duplicates are dropped.",
        ))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(names)),
        )
        .min_items(Some(1))
        .max_items(Some(20))
        .build()
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

impl From<Endpoint> for EndpointView {
    /// The endpoint without its secret.
    fn from(e: Endpoint) -> Self {
        EndpointView {
            id: e.id,
            object: "webhook_endpoint",
            url: e.url,
            events: e.events,
            description: e.description,
            status: e.status.as_str().to_string(),
            disabled_reason: e.disabled_reason,
            disabled_at: e.disabled_at,
            failed_deliveries: e.failed_deliveries,
            failing_since: e.failing_since,
            secret: None,
            previous_secret_expires_at: e.previous_secret_expires_at,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl From<EndpointWithSecret> for EndpointView {
    /// The endpoint with its new secret, in the one answer that shows it.
    fn from(e: EndpointWithSecret) -> Self {
        EndpointView {
            secret: Some(e.secret),
            ..EndpointView::from(e.endpoint)
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

impl From<Attempt> for AttemptView {
    fn from(a: Attempt) -> Self {
        AttemptView {
            attempt: a.attempt,
            attempted_at: a.attempted_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            response_body: a.response_body,
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

impl From<Delivery> for DeliveryView {
    /// Renders a delivery with its attempts.
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            object: "webhook_delivery",
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().to_string(),
            attempt_count: d.attempt_count,
            next_attempt_at: d.next_attempt_at,
            last_attempt_at: d.last_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            attempts: d.attempts.into_iter().map(AttemptView::from).collect(),
            created_at: d.created_at,
            updated_at: d.updated_at,
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

/// Refuses keys without `webhooks:manage`, and party-restricted keys (an
/// endpoint receives every event of the tenant); the tenant whose endpoints
/// the key manages otherwise.
pub fn require_manage(principal: &Principal) -> Result<TenantId, ApiError> {
    principal.require(KeyScope::WebhooksManage)?;
    if principal.party.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::PartyRestrictedKey,
            "webhook endpoints receive every event of the tenant; use a key without a party restriction",
        ));
    }
    Ok(principal.tenant)
}

/// The tenant and endpoint id of a route on one endpoint, after the checks
/// each such route makes first, in the same order: the key, then the path.
pub fn managed_endpoint(principal: &Principal, path: &str) -> Result<(TenantId, String), ApiError> {
    let tenant = require_manage(principal)?;
    Ok((tenant, path_id(path, endpoint_not_found)?))
}

/// 404 for an endpoint that does not exist in the caller's tenant.
pub fn endpoint_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::WebhookEndpointNotFound,
        "no such webhook endpoint",
    )
}

/// 404 for a delivery that the endpoint does not have.
pub fn delivery_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::WebhookDeliveryNotFound,
        "no such delivery for this endpoint",
    )
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::EndpointNotFound => endpoint_not_found(),
            WebhookError::DeliveryNotFound => delivery_not_found(),
            WebhookError::TooManyEndpoints { cap } => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::TooManyWebhookEndpoints,
                format!("a tenant may have at most {cap} webhook endpoints"),
            ),
            WebhookError::EndpointDisabled => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::WebhookEndpointDisabled,
                "the endpoint is disabled; enable it with POST /v1/webhook-endpoints/{id}/enable first",
            ),
            WebhookError::Repository(e) => e.into(),
        }
    }
}

/// A UUID in the hyphenated form that the contract's `format: uuid` allows
/// (`0193a5c4-7d1e-7c2a-9f43-8e2d1b6a0c55`, either case), in canonical form;
/// other spellings (braces, `urn:uuid:`, no hyphens) are `None`.
pub fn hyphenated_uuid(text: &str) -> Option<String> {
    if text.len() != 36 {
        return None;
    }
    text.parse::<uuid::Uuid>().ok().map(|u| u.to_string())
}

/// A path id in canonical form; anything but a UUID names nothing.
pub fn path_id(text: &str, not_found: fn() -> ApiError) -> Result<String, ApiError> {
    hyphenated_uuid(text).ok_or_else(not_found)
}

/// Runs `work` on the webhook endpoints inside one read transaction, off the executor.
pub async fn read<T, F>(state: &web::Data<AppState>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn WebhookEndpoints) -> Result<T, WebhookError> + Send + 'static,
{
    in_transaction(state, false, work).await
}

/// Runs `work` on the webhook endpoints inside one write transaction, off
/// the executor, for a change that takes no idempotency key.
pub async fn write<T, F>(state: &web::Data<AppState>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn WebhookEndpoints) -> Result<T, WebhookError> + Send + 'static,
{
    in_transaction(state, true, work).await
}

/// `read` and `write` in one: the two differ only in the transaction asked for.
async fn in_transaction<T, F>(state: &web::Data<AppState>, writes: bool, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn WebhookEndpoints) -> Result<T, WebhookError> + Send + 'static,
{
    let st = state.clone();
    let done = exec::blocking(move || {
        if writes {
            st.db.write(|store| work(&mut EndpointStore::new(store, &st.secrets)))
        } else {
            st.db.read(|store| work(&mut EndpointStore::new(store, &st.secrets)))
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(done?)
}

/// Runs `work` on the webhook endpoints in the write transaction of
/// `exec::write`, which stores the reply under the idempotency key in that
/// same transaction.
pub async fn write_once<F>(state: &web::Data<AppState>, idem: Option<IdempotencyKey>, work: F) -> HttpResponse
where
    F: FnOnce(&mut dyn WebhookEndpoints) -> Result<Reply, WebhookError> + Send + 'static,
{
    exec::write(state, idem, problem_reply, move |st, db| {
        Ok(work(&mut EndpointStore::new(db, &st.secrets))?)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::webhooks::guard::URL_PATTERN;
    use utoipa::PartialSchema;

    #[test]
    fn the_url_schema_states_the_guard_grammar() {
        let schema = serde_json::to_value(CreateEndpointBody::schema()).unwrap();
        assert_eq!(schema["properties"]["url"]["pattern"], URL_PATTERN);
    }

    #[test]
    fn only_hyphenated_uuids_name_something() {
        let id = "0193A5C4-7D1E-7C2A-9F43-8E2D1B6A0C55";
        assert_eq!(
            hyphenated_uuid(id).as_deref(),
            Some("0193a5c4-7d1e-7c2a-9f43-8e2d1b6a0c55")
        );
        for other in [
            "0193a5c47d1e7c2a9f438e2d1b6a0c55",
            "{0193a5c4-7d1e-7c2a-9f43-8e2d1b6a0c55}",
            "urn:uuid:0193a5c4-7d1e-7c2a-9f43-8e2d1b6a0c55",
            "0193a5c4-7d1e-7c2a-9f43-8e2d1b6a0c5",
        ] {
            assert_eq!(hyphenated_uuid(other), None, "{other}");
        }
    }

    #[test]
    fn previous_secret_expires_in_may_be_an_integral_float() {
        let body: RotateSecretBody = serde_json::from_str(r#"{"previous_secret_expires_in": 41324.0}"#).unwrap();
        assert_eq!(body.previous_secret_expires_in, Some(41324));
        let null: RotateSecretBody = serde_json::from_str(r#"{"previous_secret_expires_in": null}"#).unwrap();
        assert_eq!(null.previous_secret_expires_in, None);
        let absent: RotateSecretBody = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.previous_secret_expires_in, None);
        assert!(serde_json::from_str::<RotateSecretBody>(r#"{"previous_secret_expires_in": 1.5}"#).is_err());
        assert!(serde_json::from_str::<RotateSecretBody>(r#"{"previous_secret_expires_in": -1}"#).is_err());
    }
}
