//! Queries on the webhook tables, each run by the caller inside one
//! transaction on a [`DbConnection`]: endpoint administration, the fan-out
//! of events into deliveries, claiming due deliveries, and recording attempts.

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::dsl::max;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use invoice_domain::RepositoryError;

use super::policy::RetryPolicy;
use super::rows::*;
use crate::outbound::db::named::Named;
use crate::outbound::db::rows::{EventRow, StoredEvent};
use crate::outbound::db::schema::invoice_versions;
use crate::outbound::db::schema::{events, webhook_attempts, webhook_cursor, webhook_deliveries, webhook_endpoints};
use crate::outbound::db::{on_backend, repository_error, DbConnection};
use crate::ports::{DeliveryStatus, EndpointStatus};

type Result<T> = std::result::Result<T, RepositoryError>;

/// Now, at the microsecond precision both databases store.
pub fn now() -> NaiveDateTime {
    Utc::now().trunc_subsecs(6).naive_utc()
}

/// A new id (UUID v7, so ids sort by creation time).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

// ---------------------------------------------------------------- endpoints

fn count_enabled(conn: &mut DbConnection, tenant: i64) -> Result<i64> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .filter(webhook_endpoints::status.eq(Named(EndpointStatus::Enabled)))
        .count()
        .get_result(conn)
        .map_err(repository_error)
}

/// Makes sure the tenant has a fan-out cursor. When no other endpoint of
/// the tenant is enabled, nobody needs the events before now, so the cursor
/// jumps to the newest event instead of making the dispatcher scan them.
fn start_cursor(conn: &mut DbConnection, tenant: i64, fast_forward: bool, now: NaiveDateTime) -> Result<()> {
    let latest: Option<i64> = events::table
        .filter(events::tenant_id.eq(tenant))
        .select(max(events::seq))
        .first(conn)
        .map_err(repository_error)?;
    let latest = latest.unwrap_or(0);
    let row = (
        webhook_cursor::tenant_id.eq(tenant),
        webhook_cursor::last_seq.eq(latest),
        webhook_cursor::updated_at.eq(now),
    );
    on_backend!(&mut *conn, |c| diesel::insert_into(webhook_cursor::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
    .map_err(repository_error)?;
    if fast_forward {
        advance_cursor(conn, tenant, latest, now)?;
    }
    Ok(())
}

/// Serializes changes to the tenant's set of endpoints for the rest of the
/// transaction, so concurrent creations cannot all pass the per-tenant cap.
/// On PostgreSQL it locks the tenant's row with `FOR NO KEY UPDATE`, which
/// does not block inserts referencing the tenant; on SQLite the write
/// transaction already excludes other writers.
pub fn lock_endpoints(conn: &mut DbConnection, tenant: i64) -> Result<()> {
    if let DbConnection::Pg(_) = conn {
        diesel::sql_query("SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE")
            .bind::<BigInt, _>(tenant)
            .execute(conn)
            .map_err(repository_error)?;
    }
    Ok(())
}

/// How many endpoints the tenant has, whatever their status.
pub fn count_endpoints(conn: &mut DbConnection, tenant: i64) -> Result<i64> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .count()
        .get_result(conn)
        .map_err(repository_error)
}

/// Stores a new endpoint and starts its tenant's fan-out cursor.
pub fn insert_endpoint(conn: &mut DbConnection, row: &EndpointRow) -> Result<()> {
    let others = count_enabled(conn, row.tenant_id)?;
    diesel::insert_into(webhook_endpoints::table)
        .values(row)
        .execute(conn)
        .map_err(repository_error)?;
    start_cursor(conn, row.tenant_id, others == 0, row.created_at)
}

/// The tenant's endpoints, oldest first.
pub fn list_endpoints(conn: &mut DbConnection, tenant: i64) -> Result<Vec<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id)
        .load(conn)
        .map_err(repository_error)
}

/// One endpoint of the tenant.
pub fn find_endpoint(conn: &mut DbConnection, tenant: i64, id: &str) -> Result<Option<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .filter(webhook_endpoints::id.eq(id))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)
}

/// Deletes an endpoint with its deliveries and their attempts; false when
/// the tenant has no such endpoint.
pub fn delete_endpoint(conn: &mut DbConnection, tenant: i64, id: &str) -> Result<bool> {
    let deliveries = webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(tenant))
        .filter(webhook_deliveries::endpoint_id.eq(id))
        .select(webhook_deliveries::id);
    diesel::delete(
        webhook_attempts::table
            .filter(webhook_attempts::tenant_id.eq(tenant))
            .filter(webhook_attempts::delivery_id.eq_any(deliveries)),
    )
    .execute(conn)
    .map_err(repository_error)?;
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(tenant))
            .filter(webhook_deliveries::endpoint_id.eq(id)),
    )
    .execute(conn)
    .map_err(repository_error)?;
    let deleted = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::tenant_id.eq(tenant))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .execute(conn)
    .map_err(repository_error)?;
    Ok(deleted > 0)
}

/// Replaces the signing secret. With `previous_until`, the old secret also
/// signs every delivery until then (a second `v1,` signature), so receivers
/// can switch over without rejecting anything.
pub fn rotate_secret(
    conn: &mut DbConnection,
    tenant: i64,
    id: &str,
    new_secret: &str,
    previous_until: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Result<Option<EndpointRow>> {
    let Some(ep) = find_endpoint(conn, tenant, id)? else {
        return Ok(None);
    };
    diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::tenant_id.eq(tenant))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .set((
        webhook_endpoints::secret.eq(new_secret),
        webhook_endpoints::previous_secret.eq(previous_until.map(|_| ep.secret)),
        webhook_endpoints::previous_secret_expires_at.eq(previous_until),
        webhook_endpoints::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(repository_error)?;
    find_endpoint(conn, tenant, id)
}

/// Enables a disabled endpoint again: failure counters reset, paused
/// deliveries resume, and events from now on are delivered to it.
pub fn enable_endpoint(
    conn: &mut DbConnection,
    tenant: i64,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<EndpointRow>> {
    let Some(ep) = find_endpoint(conn, tenant, id)? else {
        return Ok(None);
    };
    if ep.status.0 == EndpointStatus::Enabled {
        return Ok(Some(ep));
    }
    let others = count_enabled(conn, tenant)?;
    diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::tenant_id.eq(tenant))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .set((
        webhook_endpoints::status.eq(Named(EndpointStatus::Enabled)),
        webhook_endpoints::disabled_reason.eq(None::<String>),
        webhook_endpoints::disabled_at.eq(None::<NaiveDateTime>),
        webhook_endpoints::failed_deliveries.eq(0),
        webhook_endpoints::failing_since.eq(None::<NaiveDateTime>),
        webhook_endpoints::active_since.eq(now),
        webhook_endpoints::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(repository_error)?;
    start_cursor(conn, tenant, others == 0, now)?;
    find_endpoint(conn, tenant, id)
}

// --------------------------------------------------------------- deliveries

/// An endpoint's deliveries, newest first, after the cursor `starting_after`.
pub fn list_deliveries(
    conn: &mut DbConnection,
    tenant: i64,
    endpoint: &str,
    limit: i64,
    starting_after: Option<&str>,
) -> Result<Vec<DeliveryRow>> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(tenant))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint.to_string()))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = starting_after {
        q = q.filter(webhook_deliveries::id.lt(after.to_string()));
    }
    q.load(conn).map_err(repository_error)
}

/// The attempts of these deliveries, oldest first.
pub fn attempts_of(conn: &mut DbConnection, tenant: i64, deliveries: &[String]) -> Result<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::tenant_id.eq(tenant))
        .filter(webhook_attempts::delivery_id.eq_any(deliveries))
        .select(AttemptRow::as_select())
        .order((webhook_attempts::delivery_id, webhook_attempts::id))
        .load(conn)
        .map_err(repository_error)
}

/// One delivery of one endpoint of the tenant.
pub fn find_delivery(conn: &mut DbConnection, tenant: i64, endpoint: &str, id: &str) -> Result<Option<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(tenant))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)
}

/// Makes a delivery due now (whatever its status); one more attempt is
/// made, and if it fails after the schedule is used up, it fails again.
pub fn schedule_retry(
    conn: &mut DbConnection,
    tenant: i64,
    endpoint: &str,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<DeliveryRow>> {
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(tenant))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint))
            .filter(webhook_deliveries::id.eq(id)),
    )
    .set((
        webhook_deliveries::status.eq(Named(DeliveryStatus::Pending)),
        webhook_deliveries::next_attempt_at.eq(Some(now)),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(repository_error)?;
    if updated == 0 {
        return Ok(None);
    }
    find_delivery(conn, tenant, endpoint, id)
}

// ------------------------------------------------------------------ fan-out

/// A tenant with enabled endpoints: its fan-out cursor and newest event.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct FanOutTarget {
    /// The tenant.
    #[diesel(sql_type = BigInt)]
    pub tenant_id: i64,
    /// Every event up to this sequence has been fanned out.
    #[diesel(sql_type = BigInt)]
    pub last_seq: i64,
    /// The tenant's newest visible event.
    #[diesel(sql_type = BigInt)]
    pub latest_seq: i64,
}

/// Every tenant that has an enabled endpoint, with its cursor and newest event.
pub fn fan_out_targets(conn: &mut DbConnection) -> Result<Vec<FanOutTarget>> {
    diesel::sql_query(format!(
        "SELECT c.tenant_id, c.last_seq, \
         COALESCE((SELECT MAX(e.seq) FROM events e WHERE e.tenant_id = c.tenant_id), 0) AS latest_seq \
         FROM webhook_cursor c WHERE EXISTS (SELECT 1 FROM webhook_endpoints w \
         WHERE w.tenant_id = c.tenant_id AND w.status = {enabled}) ORDER BY c.tenant_id",
        enabled = sql_name(EndpointStatus::Enabled),
    ))
    .load(conn)
    .map_err(repository_error)
}

#[derive(QueryableByName)]
struct CursorValue {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

/// Locks the tenant's cursor for this transaction and reads it; `None` when
/// another dispatcher holds it (PostgreSQL) or there is none.
pub fn lock_cursor(conn: &mut DbConnection, tenant: i64) -> Result<Option<i64>> {
    let sql = match conn {
        DbConnection::Pg(_) => "SELECT last_seq FROM webhook_cursor WHERE tenant_id = $1 FOR UPDATE SKIP LOCKED",
        // SQLite: the write transaction (BEGIN IMMEDIATE) already excludes other writers.
        DbConnection::Sqlite(_) => "SELECT last_seq FROM webhook_cursor WHERE tenant_id = $1",
    };
    let row: Option<CursorValue> = diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant)
        .get_result(conn)
        .optional()
        .map_err(repository_error)?;
    Ok(row.map(|r| r.last_seq))
}

/// Moves the tenant's cursor forward to `seq` (never back).
pub fn advance_cursor(conn: &mut DbConnection, tenant: i64, seq: i64, now: NaiveDateTime) -> Result<()> {
    diesel::update(
        webhook_cursor::table
            .filter(webhook_cursor::tenant_id.eq(tenant))
            .filter(webhook_cursor::last_seq.lt(seq)),
    )
    .set((webhook_cursor::last_seq.eq(seq), webhook_cursor::updated_at.eq(now)))
    .execute(conn)
    .map(drop)
    .map_err(repository_error)
}

/// What the fan-out needs of an event (not its snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct EventHead {
    /// Sequence.
    pub seq: i64,
    /// Event id.
    pub id: String,
    /// Dotted type.
    pub event_type: String,
    /// When it happened.
    pub occurred_at: NaiveDateTime,
}

/// The tenant's events after `after_seq`, oldest first.
pub fn events_after(conn: &mut DbConnection, tenant: i64, after_seq: i64, limit: i64) -> Result<Vec<EventHead>> {
    events::table
        .filter(events::tenant_id.eq(tenant))
        .filter(events::seq.gt(after_seq))
        .order(events::seq)
        .limit(limit)
        .select((events::seq, events::id, events::event_type, events::occurred_at))
        .load(conn)
        .map_err(repository_error)
}

/// The sequences of the tenant's events after `after_seq`, oldest first: a
/// cheap read to tell whether a fan-out transaction has anything to do.
pub fn event_seqs_after(conn: &mut DbConnection, tenant: i64, after_seq: i64, limit: i64) -> Result<Vec<i64>> {
    events::table
        .filter(events::tenant_id.eq(tenant))
        .filter(events::seq.gt(after_seq))
        .order(events::seq)
        .limit(limit)
        .select(events::seq)
        .load(conn)
        .map_err(repository_error)
}

/// An enabled endpoint as the fan-out sees it: the events it wants, and
/// since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// The endpoint.
    pub id: String,
    /// Subscribed event types, or `["*"]`.
    pub events: Vec<String>,
    /// Only events that happened since then are delivered to it.
    pub active_since: NaiveDateTime,
}

impl Subscriber {
    /// True when the endpoint wants `event` delivered.
    pub fn wants(&self, event: &EventHead) -> bool {
        event.occurred_at >= self.active_since && self.events.iter().any(|e| e == "*" || *e == event.event_type)
    }
}

/// The tenant's enabled endpoints with the events each wants. A stored
/// event list that does not parse fails the read, so the fan-out stops
/// there and retries instead of passing events by that endpoint unseen.
pub fn subscribers(conn: &mut DbConnection, tenant: i64) -> Result<Vec<Subscriber>> {
    let rows: Vec<(String, String, NaiveDateTime)> = webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant))
        .filter(webhook_endpoints::status.eq(Named(EndpointStatus::Enabled)))
        .select((
            webhook_endpoints::id,
            webhook_endpoints::event_types,
            webhook_endpoints::active_since,
        ))
        .load(conn)
        .map_err(repository_error)?;
    rows.into_iter()
        .map(|(id, stored, active_since)| {
            Ok(Subscriber {
                events: event_types(&stored)?,
                id,
                active_since,
            })
        })
        .collect()
}

/// Creates one pending delivery per endpoint that wants the event and was
/// enabled when it happened; a delivery that already exists is left alone,
/// so fanning an event out twice is harmless. Returns how many were new.
pub fn fan_out_event(
    conn: &mut DbConnection,
    tenant: i64,
    event: &EventHead,
    endpoints: &[Subscriber],
    now: NaiveDateTime,
) -> Result<usize> {
    let mut created = 0;
    for ep in endpoints.iter().filter(|ep| ep.wants(event)) {
        let row = DeliveryRow {
            tenant_id: tenant,
            id: new_id(),
            endpoint_id: ep.id.clone(),
            event_id: event.id.clone(),
            event_type: event.event_type.clone(),
            status: Named(DeliveryStatus::Pending),
            attempt_count: 0,
            next_attempt_at: Some(now),
            locked_until: None,
            claim_token: None,
            last_attempt_at: None,
            last_status_code: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        };
        created += on_backend!(&mut *conn, |c| diesel::insert_into(webhook_deliveries::table)
            .values(&row)
            .on_conflict((
                webhook_deliveries::tenant_id,
                webhook_deliveries::endpoint_id,
                webhook_deliveries::event_id,
            ))
            .do_nothing()
            .execute(c))
        .map_err(repository_error)?;
    }
    Ok(created)
}

// ---------------------------------------------------------------- claiming

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = BigInt)]
    tenant_id: i64,
    #[diesel(sql_type = Text)]
    id: String,
}

/// A delivery claimed by one dispatcher until its lease ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The tenant.
    pub tenant_id: i64,
    /// The delivery.
    pub delivery_id: String,
    /// Proves the claim is still this dispatcher's when the result is recorded.
    pub token: String,
}

/// True when some delivery of an enabled endpoint is due: a cheap read
/// that spares an idle dispatcher a write transaction per poll.
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> Result<bool> {
    let due: Vec<Due> = diesel::sql_query(format!("{} LIMIT 1", due_query()))
        .bind::<Timestamp, _>(now)
        .load(conn)
        .map_err(repository_error)?;
    Ok(!due.is_empty())
}

/// Due deliveries of enabled endpoints, oldest due first (`$1`: now).
fn due_query() -> String {
    format!(
        "SELECT d.tenant_id, d.id FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id \
         WHERE d.status = {pending} AND d.next_attempt_at <= $1 \
         AND (d.locked_until IS NULL OR d.locked_until <= $1) AND e.status = {enabled} \
         ORDER BY d.next_attempt_at",
        pending = sql_name(DeliveryStatus::Pending),
        enabled = sql_name(EndpointStatus::Enabled),
    )
}

/// Claims up to `limit` due deliveries of enabled endpoints until
/// `lease_until`. On PostgreSQL the rows are locked with `FOR UPDATE SKIP
/// LOCKED`, so concurrent dispatchers claim disjoint deliveries.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    limit: i64,
    lease_until: NaiveDateTime,
) -> Result<Vec<Claim>> {
    let sql = match conn {
        DbConnection::Pg(_) => format!("{} LIMIT $2 FOR UPDATE OF d SKIP LOCKED", due_query()),
        DbConnection::Sqlite(_) => format!("{} LIMIT $2", due_query()),
    };
    let due: Vec<Due> = diesel::sql_query(sql)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load(conn)
        .map_err(repository_error)?;
    let mut claims = Vec::with_capacity(due.len());
    for d in due {
        let token = new_id();
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::tenant_id.eq(d.tenant_id))
                .filter(webhook_deliveries::id.eq(&d.id)),
        )
        .set((
            webhook_deliveries::locked_until.eq(Some(lease_until)),
            webhook_deliveries::claim_token.eq(Some(&token)),
        ))
        .execute(conn)
        .map_err(repository_error)?;
        claims.push(Claim {
            tenant_id: d.tenant_id,
            delivery_id: d.id,
            token,
        });
    }
    Ok(claims)
}

/// Everything needed to send one delivery.
#[derive(Debug, Clone)]
pub struct Job {
    /// Where it goes and how it is signed.
    pub endpoint: EndpointRow,
    /// What is sent: the event and the invoice version it left.
    pub event: StoredEvent,
}

/// Loads a claimed delivery with its endpoint and event; `None` when it was
/// deleted meanwhile.
pub fn load_job(conn: &mut DbConnection, tenant: i64, delivery_id: &str) -> Result<Option<Job>> {
    let Some(delivery) = webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(tenant))
        .filter(webhook_deliveries::id.eq(delivery_id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)?
    else {
        return Ok(None);
    };
    let Some(endpoint) = find_endpoint(conn, tenant, &delivery.endpoint_id)? else {
        return Ok(None);
    };
    let event: (EventRow, i32, String) = events::table
        .inner_join(
            invoice_versions::table.on(invoice_versions::tenant_id
                .eq(events::tenant_id)
                .and(invoice_versions::invoice_id.eq(events::invoice_id))
                .and(invoice_versions::version.eq(events::invoice_version))),
        )
        .filter(events::tenant_id.eq(tenant))
        .filter(events::id.eq(&delivery.event_id))
        .select((EventRow::as_select(), invoice_versions::format, invoice_versions::body))
        .first(conn)
        .map_err(repository_error)?;
    Ok(Some(Job {
        endpoint,
        event: event.into(),
    }))
}

/// What one HTTP attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// When it started.
    pub attempted_at: NaiveDateTime,
    /// How long it took.
    pub duration_ms: i64,
    /// The response status, if a response came.
    pub status_code: Option<u16>,
    /// Why no usable response came (timeout, connection error, refused target).
    pub error: Option<String>,
    /// The start of the response body.
    pub response_body: Option<String>,
}

impl Outcome {
    /// True for a 2xx response.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an attempt, then moves the delivery on: succeeded, due again
/// after the policy's delay, or failed after its last attempt. Endpoint
/// health follows: a success clears its failure counters; failures may
/// disable it. If the claim was lost (the lease ran out and another
/// dispatcher took the delivery), only the attempt is recorded.
pub fn record_attempt(
    conn: &mut DbConnection,
    claim: &Claim,
    outcome: &Outcome,
    policy: &RetryPolicy,
    now: NaiveDateTime,
) -> Result<()> {
    let Some(d) = webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(claim.tenant_id))
        .filter(webhook_deliveries::id.eq(&claim.delivery_id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)?
    else {
        return Ok(());
    };
    let attempt = d.attempt_count + 1;
    let status_code = outcome.status_code.map(i32::from);
    diesel::insert_into(webhook_attempts::table)
        .values(AttemptRow {
            tenant_id: d.tenant_id,
            delivery_id: d.id.clone(),
            id: new_id(),
            attempt,
            attempted_at: outcome.attempted_at,
            duration_ms: outcome.duration_ms,
            status_code,
            error: outcome.error.clone(),
            response_body: outcome.response_body.clone(),
        })
        .execute(conn)
        .map_err(repository_error)?;
    let succeeded = outcome.succeeded();
    let next = if succeeded {
        None
    } else {
        policy
            .delay_after(attempt as u32)
            .and_then(|delay| chrono::Duration::from_std(delay).ok())
            .map(|delay| now + delay)
    };
    let status = match (succeeded, next) {
        (true, _) => DeliveryStatus::Succeeded,
        (false, Some(_)) => DeliveryStatus::Pending,
        (false, None) => DeliveryStatus::Failed,
    };
    let last_error = match (&outcome.error, outcome.status_code) {
        (Some(e), _) => Some(e.clone()),
        (None, Some(s)) if !succeeded => Some(format!("the endpoint answered HTTP {s}")),
        _ => None,
    };
    // Only while the claim is still ours: if the lease ran out and another
    // dispatcher took the delivery, its own result decides.
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(d.tenant_id))
            .filter(webhook_deliveries::id.eq(&d.id))
            .filter(webhook_deliveries::claim_token.eq(&claim.token)),
    )
    .set((
        webhook_deliveries::status.eq(Named(status)),
        webhook_deliveries::attempt_count.eq(attempt),
        webhook_deliveries::next_attempt_at.eq(next),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::claim_token.eq(None::<String>),
        webhook_deliveries::last_attempt_at.eq(Some(outcome.attempted_at)),
        webhook_deliveries::last_status_code.eq(status_code),
        webhook_deliveries::last_error.eq(last_error),
        webhook_deliveries::updated_at.eq(now),
    ))
    .execute(conn)
    .map_err(repository_error)?;
    if updated == 0 {
        return Ok(());
    }
    update_endpoint_health(conn, &d, status, outcome, policy, now)
}

fn update_endpoint_health(
    conn: &mut DbConnection,
    d: &DeliveryRow,
    status: DeliveryStatus,
    outcome: &Outcome,
    policy: &RetryPolicy,
    now: NaiveDateTime,
) -> Result<()> {
    let target = webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(d.tenant_id))
        .filter(webhook_endpoints::id.eq(&d.endpoint_id));
    if status == DeliveryStatus::Succeeded {
        return diesel::update(target)
            .filter(
                webhook_endpoints::failed_deliveries
                    .ne(0)
                    .or(webhook_endpoints::failing_since.is_not_null()),
            )
            .set((
                webhook_endpoints::failed_deliveries.eq(0),
                webhook_endpoints::failing_since.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
            .map(drop)
            .map_err(repository_error);
    }
    // Count atomically first: the update locks the row, so concurrent
    // workers recording failures of the same endpoint do not lose counts.
    let counted = diesel::update(target)
        .set((
            webhook_endpoints::failed_deliveries
                .eq(webhook_endpoints::failed_deliveries + i64::from(status == DeliveryStatus::Failed)),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)
        .map_err(repository_error)?;
    if counted == 0 {
        return Ok(());
    }
    let Some(ep) = find_endpoint(conn, d.tenant_id, &d.endpoint_id)? else {
        return Ok(());
    };
    let since = ep.failing_since.unwrap_or(outcome.attempted_at);
    let failing_for = (now - since).to_std().unwrap_or_default();
    let failed = ep.failed_deliveries;
    let reason =
        if policy.disable_after_failed_deliveries > 0 && failed >= i64::from(policy.disable_after_failed_deliveries) {
            Some(format!("{failed} deliveries in a row failed after every retry"))
        } else if failing_for >= policy.disable_after_failing_for {
            Some(format!(
                "every delivery attempt has failed for {} hours",
                failing_for.as_secs() / 3600
            ))
        } else {
            None
        };
    let disable = reason.is_some() && ep.status.0 == EndpointStatus::Enabled;
    diesel::update(target)
        .set((
            webhook_endpoints::failing_since.eq(Some(since)),
            webhook_endpoints::status.eq(if disable {
                Named(EndpointStatus::Disabled)
            } else {
                ep.status
            }),
            webhook_endpoints::disabled_reason.eq(if disable { reason } else { ep.disabled_reason.clone() }),
            webhook_endpoints::disabled_at.eq(if disable { Some(now) } else { ep.disabled_at }),
        ))
        .execute(conn)
        .map(drop)
        .map_err(repository_error)
}

// --------------------------------------------------------------- retention

/// The smallest UUID v7 (as stored text) of an id created at `at`: every id
/// created earlier sorts below it, so a time bound becomes a key range.
fn first_id_at(at: NaiveDateTime) -> String {
    let ms = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    format!("{:08x}-{:04x}-7000-8000-000000000000", ms >> 16, ms & 0xffff)
}

/// Deletes up to `batch` of `tenant`'s finished deliveries (succeeded, or
/// failed after every retry) last changed before `cutoff`, with all their
/// attempts; returns (deliveries, attempts) deleted. Pending deliveries are
/// kept however old, and events are never touched.
pub fn prune_finished(
    conn: &mut DbConnection,
    tenant: i64,
    cutoff: NaiveDateTime,
    batch: i64,
) -> Result<(usize, usize)> {
    let old = || {
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(tenant))
            // Created before the cutoff (an index range on the UUID v7 key)…
            .filter(webhook_deliveries::id.lt(first_id_at(cutoff)))
            // …finished, and untouched since.
            .filter(
                webhook_deliveries::status.eq_any([Named(DeliveryStatus::Succeeded), Named(DeliveryStatus::Failed)]),
            )
            .filter(webhook_deliveries::updated_at.lt(cutoff))
            .select(webhook_deliveries::id)
            .order(webhook_deliveries::id)
            .limit(batch)
    };
    // On PostgreSQL the rows are locked, so a manual retry racing with the
    // purge either waits and finds the delivery gone, or wins and keeps it.
    let ids: Vec<String> = match &mut *conn {
        DbConnection::Pg(c) => old().for_update().skip_locked().load(c),
        DbConnection::Sqlite(c) => old().load(c),
    }
    .map_err(repository_error)?;
    if ids.is_empty() {
        return Ok((0, 0));
    }
    let attempts = diesel::delete(
        webhook_attempts::table
            .filter(webhook_attempts::tenant_id.eq(tenant))
            .filter(webhook_attempts::delivery_id.eq_any(&ids)),
    )
    .execute(conn)
    .map_err(repository_error)?;
    let deliveries = diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::tenant_id.eq(tenant))
            .filter(webhook_deliveries::id.eq_any(&ids)),
    )
    .execute(conn)
    .map_err(repository_error)?;
    Ok((deliveries, attempts))
}
