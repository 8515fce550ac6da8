//! Figures about the outbox for operators: the backlog read from the
//! database, and the attempts this process's dispatcher made.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Timestamp};
use invoice_domain::RepositoryError;
use prometheus::{IntCounterVec, Opts};

use super::rows::sql_name;
use super::store::{self, Outcome};
use crate::outbound::db::schema::events;
use crate::outbound::db::Database;
use crate::outbound::db::{idempotency, repository_error, DbConnection};
use crate::ports::{DeliveryStatus, EndpointStatus, OutboxGauge, OutboxStats};

#[derive(QueryableByName)]
struct Backlog {
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = Nullable<Timestamp>)]
    oldest: Option<NaiveDateTime>,
}

/// Reads the figures at `now` on one connection (see [`OutboxGauge`]).
fn outbox_stats(conn: &mut DbConnection, now: NaiveDateTime) -> Result<OutboxStats, RepositoryError> {
    let backlog: Backlog = diesel::sql_query(format!(
        "SELECT COUNT(*) AS pending, MIN(e.occurred_at) AS oldest FROM webhook_deliveries d \
         JOIN webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id \
         JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id \
         WHERE d.status = {pending} AND w.status = {enabled}",
        pending = sql_name(DeliveryStatus::Pending),
        enabled = sql_name(EndpointStatus::Enabled),
    ))
    .get_result(conn)
    .map_err(repository_error)?;
    let mut oldest = backlog.oldest;
    for target in store::fan_out_targets(conn)? {
        if target.latest_seq <= target.last_seq {
            continue;
        }
        let first: Option<NaiveDateTime> = events::table
            .filter(events::tenant_id.eq(target.tenant_id))
            .filter(events::seq.gt(target.last_seq))
            .order(events::seq)
            .select(events::occurred_at)
            .first(conn)
            .optional()
            .map_err(repository_error)?;
        oldest = match (oldest, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let age = oldest.map_or(0.0, |at| (now - at).to_std().map_or(0.0, |d| d.as_secs_f64()));
    Ok(OutboxStats {
        pending_deliveries: backlog.pending,
        oldest_undelivered_age_seconds: age,
        idempotency_records: idempotency::count(conn)?,
    })
}

impl OutboxGauge for Database {
    fn outbox_stats(&self, now: NaiveDateTime) -> Result<OutboxStats, RepositoryError> {
        self.read_conn(|c| outbox_stats(c, now))
    }
}

/// How one delivery attempt ended, as counted in `webhook_attempts_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered 2xx.
    Succeeded,
    /// The endpoint answered, but not 2xx.
    Failed,
    /// No answer: a refused target, a connection error or a timeout.
    Error,
}

impl AttemptOutcome {
    /// Every outcome, in label order.
    pub const ALL: [AttemptOutcome; 3] = [AttemptOutcome::Succeeded, AttemptOutcome::Failed, AttemptOutcome::Error];

    /// Classifies a recorded attempt.
    pub fn of(outcome: &Outcome) -> Self {
        match outcome.status_code {
            _ if outcome.succeeded() => AttemptOutcome::Succeeded,
            Some(_) => AttemptOutcome::Failed,
            None => AttemptOutcome::Error,
        }
    }

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            AttemptOutcome::Succeeded => "succeeded",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Error => "error",
        }
    }
}

/// Counts this process's delivery attempts by outcome; cheap to clone and
/// shared between the dispatcher and the metrics registry.
#[derive(Debug, Clone)]
pub struct AttemptCounter(IntCounterVec);

impl AttemptCounter {
    /// A counter with every outcome present from the start (at zero), so
    /// rates and alerts work before the first attempt.
    pub fn new() -> Self {
        let counter = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook delivery attempts made by this process, by outcome",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        for o in AttemptOutcome::ALL {
            counter.with_label_values(&[o.label()]);
        }
        AttemptCounter(counter)
    }

    /// Counts one attempt.
    pub fn record(&self, outcome: AttemptOutcome) {
        self.0.with_label_values(&[outcome.label()]).inc();
    }

    /// The Prometheus collector, to register.
    pub fn collector(&self) -> Box<dyn prometheus::core::Collector> {
        Box::new(self.0.clone())
    }

    /// The count so far for `outcome`.
    pub fn get(&self, outcome: AttemptOutcome) -> u64 {
        self.0.with_label_values(&[outcome.label()]).get()
    }
}

impl Default for AttemptCounter {
    fn default() -> Self {
        AttemptCounter::new()
    }
}
