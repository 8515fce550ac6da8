//! Stored outcomes of requests sent with an `Idempotency-Key`.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use invoice_domain::RepositoryError;

use super::connection::DbConnection;
use super::errors::repository_error;
use super::rows::ts;
use super::schema::idempotency_keys;

/// How long a claimed key is protected before it counts as abandoned (a
/// crashed request); after that a retry may claim it again.
pub const LOCK_SECONDS: i64 = 60;
/// How long a completed key is kept: at least 24 hours.
pub const RETENTION_HOURS: i64 = 48;

/// What happened when a request tried to claim its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or abandoned): go ahead and run the request.
    Claimed,
    /// The same request already finished: replay this response.
    Replay {
        /// Stored HTTP status.
        status: u16,
        /// Stored body.
        body: String,
        /// Stored content type.
        content_type: String,
    },
    /// The key was used with a different request.
    Mismatch,
    /// The same key is being processed by another request right now.
    InUse,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct Stored {
    request_hash: String,
    state: String,
    response_status: Option<i32>,
    response_body: Option<String>,
    content_type: Option<String>,
    created_at: chrono::NaiveDateTime,
    locked_until: chrono::NaiveDateTime,
}

/// Claims `key` for a request whose fingerprint is `request_hash`.
/// Run it in its own short write transaction.
pub fn claim(
    conn: &mut DbConnection,
    tenant: i64,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> Result<Claim, RepositoryError> {
    let stored: Option<Stored> = idempotency_keys::table
        .filter(idempotency_keys::tenant_id.eq(tenant))
        .filter(idempotency_keys::key.eq(key))
        .select(Stored::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)?;
    let expired = |s: &Stored| s.created_at < ts(now - Duration::hours(RETENTION_HOURS));
    match stored {
        Some(s) if !expired(&s) => {
            if s.request_hash != request_hash {
                return Ok(Claim::Mismatch);
            }
            if s.state == "done" {
                return Ok(Claim::Replay {
                    status: s.response_status.unwrap_or(200) as u16,
                    body: s.response_body.unwrap_or_default(),
                    content_type: s.content_type.unwrap_or_else(|| "application/json".into()),
                });
            }
            if s.locked_until > ts(now) {
                return Ok(Claim::InUse);
            }
            diesel::update(
                idempotency_keys::table
                    .filter(idempotency_keys::tenant_id.eq(tenant))
                    .filter(idempotency_keys::key.eq(key)),
            )
            .set(idempotency_keys::locked_until.eq(ts(now + Duration::seconds(LOCK_SECONDS))))
            .execute(conn)
            .map_err(repository_error)?;
            Ok(Claim::Claimed)
        }
        existing => {
            if existing.is_some() {
                release(conn, tenant, key)?;
            }
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::tenant_id.eq(tenant),
                    idempotency_keys::key.eq(key),
                    idempotency_keys::request_hash.eq(request_hash),
                    idempotency_keys::state.eq("in_progress"),
                    idempotency_keys::created_at.eq(ts(now)),
                    idempotency_keys::locked_until.eq(ts(now + Duration::seconds(LOCK_SECONDS))),
                ))
                .execute(conn)
                .map_err(repository_error)?;
            Ok(Claim::Claimed)
        }
    }
}

/// Stores the final response of a claimed key.
pub fn complete(
    conn: &mut DbConnection,
    tenant: i64,
    key: &str,
    status: u16,
    body: &str,
    content_type: &str,
) -> Result<(), RepositoryError> {
    diesel::update(
        idempotency_keys::table
            .filter(idempotency_keys::tenant_id.eq(tenant))
            .filter(idempotency_keys::key.eq(key)),
    )
    .set((
        idempotency_keys::state.eq("done"),
        idempotency_keys::response_status.eq(i32::from(status)),
        idempotency_keys::response_body.eq(body),
        idempotency_keys::content_type.eq(content_type),
    ))
    .execute(conn)
    .map_err(repository_error)?;
    Ok(())
}

/// Forgets a claimed key (the request failed in a way worth retrying).
pub fn release(conn: &mut DbConnection, tenant: i64, key: &str) -> Result<(), RepositoryError> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::tenant_id.eq(tenant))
            .filter(idempotency_keys::key.eq(key)),
    )
    .execute(conn)
    .map_err(repository_error)?;
    Ok(())
}

/// Deletes keys older than the retention window; returns how many.
pub fn purge_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, RepositoryError> {
    diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(ts(now - Duration::hours(RETENTION_HOURS)))),
    )
    .execute(conn)
    .map_err(repository_error)
}
