//! Figures operators scrape from `/metrics`, read from the stores.

use chrono::NaiveDateTime;
use invoice_domain::RepositoryError;

/// The outbox backlog and the idempotency table, as of one read.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OutboxStats {
    /// Deliveries to enabled endpoints not yet delivered (due now or
    /// waiting for a retry).
    pub pending_deliveries: i64,
    /// Seconds since the oldest event that some enabled endpoint still has
    /// to receive happened: either it has a pending delivery, or it has not
    /// been fanned out yet. Zero when nothing is waiting.
    pub oldest_undelivered_age_seconds: f64,
    /// Rows in the idempotency table (every tenant).
    pub idempotency_records: i64,
}

/// Reads the outbox figures, so the metrics handler needs no connection.
pub trait OutboxGauge {
    /// The figures as of `now`: a few indexed queries, plus one per tenant
    /// that has an enabled endpoint. Errors: `Unavailable`, `Other`.
    fn outbox_stats(&self, now: NaiveDateTime) -> Result<OutboxStats, RepositoryError>;
}
