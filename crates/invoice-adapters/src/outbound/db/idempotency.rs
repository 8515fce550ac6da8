//! Stored outcomes of requests sent with an `Idempotency-Key`.
//!
//! A record belongs to the API key that made the request: the same
//! `Idempotency-Key` sent by another key of the tenant is a different record,
//! so a stored reply can never reach a caller who could not have read it.
//!
//! Every step is race-free on both backends. The first claim is one
//! `INSERT … ON CONFLICT DO NOTHING`, so of two requests that arrive at once
//! exactly one inserts and the other reads the winner's record; taking over
//! an abandoned or expired record is a compare-and-set `UPDATE` that only one
//! of several racers can win. A lost race is never an error: the loser gets
//! the winner's stored reply or `InUse`.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use invoice_domain::RepositoryError;

use super::connection::DbConnection;
use super::errors::repository_error;
use super::rows::ts;
use super::schema::idempotency_keys;

/// How long a claimed key is protected before it counts as abandoned (a
/// crashed request); after that a retry may claim it again.
pub const LOCK_SECONDS: i64 = 60;
/// How long a completed key is kept by default: 48 hours (at least 24 is
/// what clients may rely on). After it the key may be used afresh and the
/// housekeeper deletes the record.
pub const RETENTION_HOURS: i64 = 48;

/// The default retention window as a duration.
pub fn default_retention() -> std::time::Duration {
    std::time::Duration::from_secs(u64::try_from(RETENTION_HOURS).unwrap_or(48) * 3600)
}

/// `retention` as a chrono duration (saturating, for absurdly long windows).
fn window(retention: std::time::Duration) -> Duration {
    Duration::from_std(retention).unwrap_or(Duration::MAX)
}

/// The state of a record whose request is still running.
const IN_PROGRESS: &str = "in_progress";
/// The state of a record that holds its final reply.
const DONE: &str = "done";

/// Who owns a record: the tenant and the id of the calling API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The caller's tenant.
    pub tenant: i64,
    /// The caller's API key id (`key_…`).
    pub api_key_id: String,
}

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
    created_at: NaiveDateTime,
    locked_until: NaiveDateTime,
}

/// Filters the one record of `owner` and `key`.
macro_rules! record {
    ($owner:expr, $key:expr) => {
        idempotency_keys::table
            .filter(idempotency_keys::tenant_id.eq($owner.tenant))
            .filter(idempotency_keys::api_key_id.eq(&$owner.api_key_id))
            .filter(idempotency_keys::key.eq($key))
    };
}

/// Claims `key` for a request whose fingerprint is `request_hash`; a
/// record older than `retention` counts as expired. Run it in its own short
/// write transaction.
pub fn claim(
    conn: &mut DbConnection,
    owner: &Owner,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    retention: std::time::Duration,
) -> Result<Claim, RepositoryError> {
    let locked_until = ts(now + Duration::seconds(LOCK_SECONDS));
    let inserted = diesel::sql_query(
        "INSERT INTO idempotency_keys \
         (tenant_id, api_key_id, key, request_hash, state, created_at, locked_until) \
         VALUES ($1, $2, $3, $4, 'in_progress', $5, $6) \
         ON CONFLICT (tenant_id, api_key_id, key) DO NOTHING",
    )
    .bind::<BigInt, _>(owner.tenant)
    .bind::<Text, _>(&owner.api_key_id)
    .bind::<Text, _>(key)
    .bind::<Text, _>(request_hash)
    .bind::<Timestamp, _>(ts(now))
    .bind::<Timestamp, _>(locked_until)
    .execute(conn)
    .map_err(repository_error)?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    // Someone holds (or held) this key: read what they left.
    let Some(stored) = record!(owner, key)
        .select(Stored::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)?
    else {
        // Purged between the two statements: the caller may simply retry.
        return Ok(Claim::InUse);
    };
    if stored.created_at < ts(now - window(retention)) {
        // Expired: whoever rewrites the record from exactly this state owns it.
        let taken = diesel::update(record!(owner, key).filter(idempotency_keys::created_at.eq(stored.created_at)))
            .set((
                idempotency_keys::request_hash.eq(request_hash),
                idempotency_keys::state.eq(IN_PROGRESS),
                idempotency_keys::response_status.eq(None::<i32>),
                idempotency_keys::response_body.eq(None::<String>),
                idempotency_keys::content_type.eq(None::<String>),
                idempotency_keys::created_at.eq(ts(now)),
                idempotency_keys::locked_until.eq(locked_until),
            ))
            .execute(conn)
            .map_err(repository_error)?;
        return Ok(if taken == 1 { Claim::Claimed } else { Claim::InUse });
    }
    if stored.request_hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    if stored.state == DONE {
        return Ok(Claim::Replay {
            status: stored
                .response_status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            body: stored.response_body.unwrap_or_default(),
            content_type: stored.content_type.unwrap_or_else(|| "application/json".into()),
        });
    }
    if stored.locked_until > ts(now) {
        return Ok(Claim::InUse);
    }
    // Abandoned by a crashed request: take it over unless a racer did first.
    let taken = diesel::update(
        record!(owner, key)
            .filter(idempotency_keys::state.eq(IN_PROGRESS))
            .filter(idempotency_keys::locked_until.eq(stored.locked_until)),
    )
    .set(idempotency_keys::locked_until.eq(locked_until))
    .execute(conn)
    .map_err(repository_error)?;
    Ok(if taken == 1 { Claim::Claimed } else { Claim::InUse })
}

/// Stores the final response of a claimed key.
pub fn complete(
    conn: &mut DbConnection,
    owner: &Owner,
    key: &str,
    status: u16,
    body: &str,
    content_type: &str,
) -> Result<(), RepositoryError> {
    diesel::update(record!(owner, key))
        .set((
            idempotency_keys::state.eq(DONE),
            idempotency_keys::response_status.eq(i32::from(status)),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::content_type.eq(content_type),
        ))
        .execute(conn)
        .map_err(repository_error)?;
    Ok(())
}

/// Forgets a claimed key (the request failed in a way worth retrying, or
/// was refused before it ran).
pub fn release(conn: &mut DbConnection, owner: &Owner, key: &str) -> Result<(), RepositoryError> {
    diesel::delete(record!(owner, key).filter(idempotency_keys::state.eq(IN_PROGRESS)))
        .execute(conn)
        .map_err(repository_error)?;
    Ok(())
}

/// Deletes up to `batch` of `tenant`'s records created before `cutoff`;
/// returns how many. The caller repeats it until it returns less than
/// `batch`, one short transaction each, so purging never holds locks long.
pub fn purge_expired(
    conn: &mut DbConnection,
    tenant: i64,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> Result<usize, RepositoryError> {
    // PostgreSQL skips rows another instance's purge holds, so concurrent
    // purges never wait on (or deadlock with) each other.
    let lock = match conn {
        DbConnection::Pg(_) => " FOR UPDATE SKIP LOCKED",
        DbConnection::Sqlite(_) => "",
    };
    diesel::sql_query(format!(
        "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND (api_key_id, key) IN \
         (SELECT api_key_id, key FROM idempotency_keys \
          WHERE tenant_id = $1 AND created_at < $2 LIMIT $3{lock})"
    ))
    .bind::<BigInt, _>(tenant)
    .bind::<Timestamp, _>(ts(cutoff))
    .bind::<BigInt, _>(batch)
    .execute(conn)
    .map_err(repository_error)
}

/// How many records the table holds (all tenants), for the metrics.
pub fn count(conn: &mut DbConnection) -> Result<i64, RepositoryError> {
    idempotency_keys::table
        .count()
        .get_result(conn)
        .map_err(repository_error)
}
