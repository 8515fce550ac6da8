//! Webhook endpoints and their delivery log, as tenants manage them.

use chrono::{DateTime, Duration, Utc};
use invoice_domain::{RepositoryError, TenantId};

/// Whether events are delivered to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointStatus {
    /// Deliveries are made.
    Enabled,
    /// Disabled after repeated failures; nothing is sent until it is enabled again.
    Disabled,
}

impl EndpointStatus {
    /// The name the API shows and the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointStatus::Enabled => "enabled",
            EndpointStatus::Disabled => "disabled",
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Attempts remain.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// The last scheduled attempt failed.
    Failed,
}

impl DeliveryStatus {
    /// The name the API shows and the database stores.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// An endpoint to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    /// Where events are POSTed, already checked by the caller.
    pub url: String,
    /// Subscribed event types, or `["*"]`, already checked by the caller.
    pub events: Vec<String>,
    /// The tenant's note.
    pub description: Option<String>,
}

/// A webhook endpoint, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Subscribed event types, or `["*"]`.
    pub events: Vec<String>,
    /// The tenant's note.
    pub description: Option<String>,
    /// Whether deliveries are made.
    pub status: EndpointStatus,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Deliveries in a row that failed after every retry.
    pub failed_deliveries: i64,
    /// The first failed attempt since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret also signs, after a rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// An endpoint with the signing secret just made for it, in plaintext:
/// the one answer that shows it, since only a sealed copy is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointWithSecret {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Its new signing secret (`whsec_…`).
    pub secret: String,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub attempt: i32,
    /// When it started.
    pub attempted_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: i64,
    /// The response status, if a response came.
    pub status_code: Option<i32>,
    /// Why it failed without a usable response.
    pub error: Option<String>,
    /// The start of the response body.
    pub response_body: Option<String>,
}

/// One event's delivery to one endpoint, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Its id.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event.
    pub event_id: String,
    /// The event's dotted type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
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
    pub attempts: Vec<Attempt>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPage {
    /// Deliveries, newest first.
    pub deliveries: Vec<Delivery>,
    /// True when older deliveries follow the last one.
    pub has_more: bool,
}

/// Why a webhook operation did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// The tenant has no such endpoint.
    EndpointNotFound,
    /// The endpoint has no such delivery.
    DeliveryNotFound,
    /// The tenant already has the most endpoints it may have.
    TooManyEndpoints {
        /// That most.
        cap: usize,
    },
    /// The endpoint is disabled, so nothing may be sent to it.
    EndpointDisabled,
    /// Storage failed, or a stored value no longer reads (`Other`).
    Repository(RepositoryError),
}

impl From<RepositoryError> for WebhookError {
    fn from(e: RepositoryError) -> Self {
        WebhookError::Repository(e)
    }
}

/// A tenant's webhook endpoints and their delivery log.
///
/// Every method runs in the transaction of whoever holds the store, as the
/// domain's ports do: the HTTP layer opens one per request, which for a
/// write also keeps its idempotency record, so the two commit together.
/// Secrets are sealed at rest inside the implementation; callers only ever
/// see a new secret in plaintext, once.
pub trait WebhookEndpoints {
    /// Registers an endpoint with a new signing secret, unless the tenant
    /// already has `cap` endpoints; the check holds against concurrent
    /// creations. Events from now on are delivered to it.
    /// Errors: `TooManyEndpoints`, `Repository`.
    fn create_endpoint(
        &mut self,
        tenant: TenantId,
        new: NewEndpoint,
        cap: usize,
    ) -> Result<EndpointWithSecret, WebhookError>;

    /// Every endpoint of the tenant, oldest first.
    /// Errors: `Repository` (`Other` for a stored endpoint that no longer reads).
    fn endpoints(&mut self, tenant: TenantId) -> Result<Vec<Endpoint>, WebhookError>;

    /// One endpoint of the tenant. Errors: `EndpointNotFound`, `Repository`.
    fn endpoint(&mut self, tenant: TenantId, id: &str) -> Result<Endpoint, WebhookError>;

    /// Deletes an endpoint with its deliveries and their attempts.
    /// Errors: `EndpointNotFound`, `Repository`.
    fn delete_endpoint(&mut self, tenant: TenantId, id: &str) -> Result<(), WebhookError>;

    /// Gives the endpoint a new signing secret. For `keep_previous` (when
    /// positive) the old one also signs, so receivers can switch over.
    /// Errors: `EndpointNotFound`, `Repository`.
    fn rotate_secret(
        &mut self,
        tenant: TenantId,
        id: &str,
        keep_previous: Duration,
    ) -> Result<EndpointWithSecret, WebhookError>;

    /// Enables the endpoint (an enabled one is left as it is): its failure
    /// counters reset, its pending deliveries resume, and events from now
    /// on are delivered to it. Errors: `EndpointNotFound`, `Repository`.
    fn enable_endpoint(&mut self, tenant: TenantId, id: &str) -> Result<Endpoint, WebhookError>;

    /// Up to `limit` of the endpoint's deliveries, newest first, older than
    /// the delivery `starting_after` when given.
    /// Errors: `EndpointNotFound`, `Repository`.
    fn deliveries(
        &mut self,
        tenant: TenantId,
        endpoint: &str,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<DeliveryPage, WebhookError>;

    /// Makes a delivery due now, whatever its status, for one more attempt.
    /// Errors: `EndpointNotFound`, `EndpointDisabled`, `DeliveryNotFound`,
    /// `Repository`.
    fn retry_delivery(&mut self, tenant: TenantId, endpoint: &str, delivery: &str) -> Result<Delivery, WebhookError>;
}
