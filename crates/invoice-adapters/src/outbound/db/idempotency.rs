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

use super::connection::{Database, DbConnection};
use super::errors::repository_error;
use super::named::{stored_enum, Named};
use super::rows::ts;
use super::schema::idempotency_keys;
use super::DieselStore;
use crate::ports::{Claim, IdempotencyRecords, Owner, ReplyRecorder, StoredReply};

/// How long a claimed key is protected before it counts as abandoned (a
/// crashed request); after that a retry may claim it again.
pub const LOCK_SECONDS: i64 = 60;

/// `retention` as a chrono duration (saturating, for absurdly long windows).
fn window(retention: std::time::Duration) -> Duration {
    Duration::from_std(retention).unwrap_or(Duration::MAX)
}

stored_enum! {
    /// Where a record's request is; the claim and the replay decide by it.
    enum RecordState as "idempotency record state" {
        /// The request is still running (or crashed while running).
        InProgress = "in_progress",
        /// The record holds the request's final reply.
        Done = "done",
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct Stored {
    request_hash: String,
    state: Named<RecordState>,
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
            .filter(idempotency_keys::tenant_id.eq($owner.tenant.get()))
            .filter(idempotency_keys::api_key_id.eq(&$owner.api_key_id))
            .filter(idempotency_keys::key.eq($key))
    };
}

/// Stores the final reply of a claimed key.
fn complete(conn: &mut DbConnection, owner: &Owner, key: &str, reply: &StoredReply) -> Result<(), RepositoryError> {
    diesel::update(record!(owner, key))
        .set((
            idempotency_keys::state.eq(Named(RecordState::Done)),
            idempotency_keys::response_status.eq(i32::from(reply.status)),
            idempotency_keys::response_body.eq(&reply.body),
            idempotency_keys::content_type.eq(&reply.content_type),
        ))
        .execute(conn)
        .map_err(repository_error)?;
    Ok(())
}

/// Forgets a claimed key (the request failed in a way worth retrying, or
/// was refused before it ran).
fn release(conn: &mut DbConnection, owner: &Owner, key: &str) -> Result<(), RepositoryError> {
    diesel::delete(record!(owner, key).filter(idempotency_keys::state.eq(Named(RecordState::InProgress))))
        .execute(conn)
        .map_err(repository_error)?;
    Ok(())
}

/// Each step in its own short write transaction (on SQLite a savepoint of
/// the shared one), never inside a caller's write.
impl IdempotencyRecords for Database {
    fn claim(
        &self,
        owner: &Owner,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        retention: std::time::Duration,
    ) -> Result<Claim, RepositoryError> {
        // A record older than `retention` counts as expired.
        self.write_conn(|conn| {
            let locked_until = ts(now + Duration::seconds(LOCK_SECONDS));
            let inserted = diesel::sql_query(
                "INSERT INTO idempotency_keys \
                 (tenant_id, api_key_id, key, request_hash, state, created_at, locked_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (tenant_id, api_key_id, key) DO NOTHING",
            )
            .bind::<BigInt, _>(owner.tenant.get())
            .bind::<Text, _>(&owner.api_key_id)
            .bind::<Text, _>(key)
            .bind::<Text, _>(request_hash)
            .bind::<Text, _>(Named(RecordState::InProgress))
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
                let taken =
                    diesel::update(record!(owner, key).filter(idempotency_keys::created_at.eq(stored.created_at)))
                        .set((
                            idempotency_keys::request_hash.eq(request_hash),
                            idempotency_keys::state.eq(Named(RecordState::InProgress)),
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
            if stored.state.0 == RecordState::Done {
                return Ok(Claim::Replay(StoredReply {
                    status: stored
                        .response_status
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(200),
                    body: stored.response_body.unwrap_or_default(),
                    content_type: stored.content_type.unwrap_or_else(|| "application/json".into()),
                }));
            }
            if stored.locked_until > ts(now) {
                return Ok(Claim::InUse);
            }
            // Abandoned by a crashed request: take it over unless a racer did first.
            let taken = diesel::update(
                record!(owner, key)
                    .filter(idempotency_keys::state.eq(Named(RecordState::InProgress)))
                    .filter(idempotency_keys::locked_until.eq(stored.locked_until)),
            )
            .set(idempotency_keys::locked_until.eq(locked_until))
            .execute(conn)
            .map_err(repository_error)?;
            Ok(if taken == 1 { Claim::Claimed } else { Claim::InUse })
        })
    }

    fn release(&self, owner: &Owner, key: &str) -> Result<(), RepositoryError> {
        self.write_conn(|c| release(c, owner, key))
    }

    fn complete(&self, owner: &Owner, key: &str, reply: &StoredReply) -> Result<(), RepositoryError> {
        self.write_conn(|c| complete(c, owner, key, reply))
    }
}

/// The reply joins the write the store is bound to, so both commit together.
impl ReplyRecorder for DieselStore<'_> {
    fn record_reply(&mut self, owner: &Owner, key: &str, reply: &StoredReply) -> Result<(), RepositoryError> {
        complete(self.connection(), owner, key, reply)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_states_keep_the_names_existing_rows_hold() {
        let names: Vec<&str> = RecordState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["in_progress", "done"]);
    }
}
