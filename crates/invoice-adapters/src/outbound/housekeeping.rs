//! Housekeeping: deleting records that are only kept for a while, so their
//! tables stop growing — expired idempotency records and finished webhook
//! deliveries past their retention. Events and invoices (the audit trail)
//! are never deleted.
//!
//! It runs on its own thread beside the HTTP server, never on a request,
//! tenant by tenant in short transactions of at most `batch` rows, pausing
//! between them so request writes (on SQLite: the one writer) get their
//! turn. Several instances may run it at once: the deletes are idempotent
//! and, on PostgreSQL, skip rows another instance is deleting.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};
use invoice_domain::RepositoryError;

use super::db::{admin, idempotency, Database};
use super::webhooks::store;
use crate::ports::DEFAULT_IDEMPOTENCY_RETENTION;

/// How long each kind of record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Idempotency records (and so how long a key replays): 48 hours by default.
    pub idempotency: Duration,
    /// Finished webhook deliveries and their attempts: 30 days by default.
    pub webhook_deliveries: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            idempotency: DEFAULT_IDEMPOTENCY_RETENTION,
            webhook_deliveries: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired idempotency records.
    pub idempotency_records: usize,
    /// Finished webhook deliveries past their retention.
    pub webhook_deliveries: usize,
    /// The attempts of those deliveries.
    pub webhook_attempts: usize,
}

impl Purged {
    /// True when nothing was deleted.
    pub fn is_empty(&self) -> bool {
        *self == Purged::default()
    }
}

/// Everything the housekeeper can be tuned with.
#[derive(Debug, Clone, Copy)]
pub struct HousekeepingConfig {
    /// How long records are kept.
    pub retention: Retention,
    /// Time between two purges (the first runs at start).
    pub interval: Duration,
    /// Most rows deleted per transaction.
    pub batch: i64,
    /// Pause between two batches.
    pub pause: Duration,
}

impl Default for HousekeepingConfig {
    fn default() -> Self {
        HousekeepingConfig {
            retention: Retention::default(),
            interval: Duration::from_secs(600),
            batch: 500,
            pause: Duration::from_millis(20),
        }
    }
}

/// `now - retention`, saturating for absurdly long windows.
fn cutoff(now: DateTime<Utc>, retention: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(retention)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Deletes everything past its retention at `now`, batch by batch, until
/// nothing is left or `keep_going` says stop (checked between batches).
pub fn purge(
    db: &Database,
    config: &HousekeepingConfig,
    now: DateTime<Utc>,
    keep_going: &dyn Fn() -> bool,
) -> Result<Purged, RepositoryError> {
    let batch = config.batch.max(1);
    let full = |n: usize| i64::try_from(n).is_ok_and(|n| n >= batch);
    let mut purged = Purged::default();
    let idempotency_cutoff = cutoff(now, config.retention.idempotency);
    let delivery_cutoff = cutoff(now, config.retention.webhook_deliveries).naive_utc();
    for tenant in db.read_conn(admin::tenant_ids)? {
        loop {
            let n = db.write_conn(|c| idempotency::purge_expired(c, tenant, idempotency_cutoff, batch))?;
            purged.idempotency_records += n;
            if !full(n) || !keep_going() {
                break;
            }
            std::thread::sleep(config.pause);
        }
        loop {
            let (deliveries, attempts) = db.write_conn(|c| store::prune_finished(c, tenant, delivery_cutoff, batch))?;
            purged.webhook_deliveries += deliveries;
            purged.webhook_attempts += attempts;
            if !full(deliveries) || !keep_going() {
                break;
            }
            std::thread::sleep(config.pause);
        }
        if !keep_going() {
            break;
        }
    }
    Ok(purged)
}

/// Starts the housekeeper thread.
#[derive(Debug)]
pub struct Housekeeper;

impl Housekeeper {
    /// Purges now, then every `config.interval`, until stopped.
    pub fn start(db: Database, config: HousekeepingConfig) -> HousekeeperHandle {
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("housekeeping".into())
            .spawn(move || loop {
                let stopped = || !matches!(stop_rx.try_recv(), Err(mpsc::TryRecvError::Empty));
                match purge(&db, &config, Utc::now(), &|| !stopped()) {
                    Ok(p) if p.is_empty() => tracing::debug!("housekeeping: nothing to purge"),
                    Ok(p) => tracing::info!(
                        idempotency_records = p.idempotency_records,
                        webhook_deliveries = p.webhook_deliveries,
                        webhook_attempts = p.webhook_attempts,
                        "housekeeping purged expired records"
                    ),
                    Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying at the next interval"),
                }
                match stop_rx.recv_timeout(config.interval) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                }
            })
            .expect("spawn housekeeping thread");
        HousekeeperHandle {
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

/// A running housekeeper; stopping (or dropping) it ends the thread after
/// the batch in progress.
#[derive(Debug)]
pub struct HousekeeperHandle {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HousekeeperHandle {
    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HousekeeperHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}
