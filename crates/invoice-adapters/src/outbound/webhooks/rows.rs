//! Row types of the webhook tables; fields mirror the columns in `schema.rs`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::outbound::db::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};

/// Endpoint status while deliveries are made.
pub const ENABLED: &str = "enabled";
/// Endpoint status after repeated failures; nothing is sent until it is enabled again.
pub const DISABLED: &str = "disabled";
/// Delivery status while attempts remain.
pub const PENDING: &str = "pending";
/// Delivery status after a 2xx answer.
pub const SUCCEEDED: &str = "succeeded";
/// Delivery status after the last attempt failed.
pub const FAILED: &str = "failed";

/// The `webhook_endpoints` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub tenant_id: i64,
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of event type names, or `["*"]`.
    pub event_types: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<NaiveDateTime>,
    /// Only events that happened since then are delivered to it.
    pub active_since: NaiveDateTime,
    /// Deliveries in a row that failed for good.
    pub failed_deliveries: i64,
    /// First failed attempt since the last success.
    pub failing_since: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl EndpointRow {
    /// The subscribed event types.
    pub fn events(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }

    /// True when the endpoint subscribes to `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.events().iter().any(|e| e == "*" || e == event_type)
    }
}

/// The `webhook_deliveries` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub tenant_id: i64,
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempt_count: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    /// While a dispatcher sends it, nobody else claims it.
    pub locked_until: Option<NaiveDateTime>,
    /// Which claim holds the lock.
    pub claim_token: Option<String>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The `webhook_attempts` row.
#[allow(missing_docs)] // fields mirror the columns in schema.rs
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub tenant_id: i64,
    pub delivery_id: String,
    pub id: String,
    pub attempt: i32,
    pub attempted_at: NaiveDateTime,
    pub duration_ms: i64,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// The start of the response body, at most 4 KiB.
    pub response_body: Option<String>,
}
