//! Row types of the webhook tables; fields mirror the columns in `schema.rs`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use invoice_domain::RepositoryError;

use crate::outbound::db::named::{stored_by_name, Named, StoredName};
use crate::outbound::db::rows::{from_json, utc};
use crate::outbound::db::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::ports::{Attempt, Delivery, DeliveryStatus, Endpoint, EndpointStatus};

// The statuses are stored by the names the port gives them.
stored_by_name!(EndpointStatus as "webhook endpoint status": Enabled, Disabled);
stored_by_name!(DeliveryStatus as "webhook delivery status": Pending, Succeeded, Failed);

/// A status as an SQL string literal for the raw queries, spelled by its
/// one stored name. A literal rather than a bind parameter, so PostgreSQL
/// plans the due-deliveries query with the partial index on `'pending'`.
pub fn sql_name<T: StoredName>(value: T) -> String {
    format!("'{}'", value.name())
}

/// Reads a stored `event_types` list; one that does not parse is corrupt
/// data, never an endpoint that wants nothing.
pub fn event_types(stored: &str) -> Result<Vec<String>, RepositoryError> {
    from_json("webhook endpoint event types", stored)
}

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
    pub status: Named<EndpointStatus>,
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
    pub fn events(&self) -> Result<Vec<String>, RepositoryError> {
        event_types(&self.event_types)
    }

    /// The endpoint as the port shows it (no secrets).
    pub fn endpoint(&self) -> Result<Endpoint, RepositoryError> {
        Ok(Endpoint {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events()?,
            description: self.description.clone(),
            status: self.status.0,
            disabled_reason: self.disabled_reason.clone(),
            disabled_at: self.disabled_at.map(utc),
            failed_deliveries: self.failed_deliveries,
            failing_since: self.failing_since.map(utc),
            previous_secret_expires_at: self.previous_secret_expires_at.map(utc),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        })
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
    pub status: Named<DeliveryStatus>,
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

impl DeliveryRow {
    /// The delivery as the port shows it, with those of `attempts` that are its own.
    pub fn delivery(&self, attempts: &[AttemptRow]) -> Delivery {
        Delivery {
            id: self.id.clone(),
            endpoint_id: self.endpoint_id.clone(),
            event_id: self.event_id.clone(),
            event_type: self.event_type.clone(),
            status: self.status.0,
            attempt_count: self.attempt_count,
            next_attempt_at: self.next_attempt_at.map(utc),
            last_attempt_at: self.last_attempt_at.map(utc),
            last_status_code: self.last_status_code,
            last_error: self.last_error.clone(),
            attempts: attempts
                .iter()
                .filter(|a| a.delivery_id == self.id)
                .map(AttemptRow::attempt)
                .collect(),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
        }
    }
}

impl AttemptRow {
    /// The attempt as the port shows it.
    pub fn attempt(&self) -> Attempt {
        Attempt {
            attempt: self.attempt,
            attempted_at: utc(self.attempted_at),
            duration_ms: self.duration_ms,
            status_code: self.status_code,
            error: self.error.clone(),
            response_body: self.response_body.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_name_of_its_own_that_reads_back() {
        for s in [EndpointStatus::Enabled, EndpointStatus::Disabled] {
            assert_eq!(EndpointStatus::from_name(s.name()), Some(s));
        }
        for s in [
            DeliveryStatus::Pending,
            DeliveryStatus::Succeeded,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(DeliveryStatus::from_name(s.name()), Some(s));
        }
        assert_eq!(EndpointStatus::from_name("paused"), None);
    }
}
