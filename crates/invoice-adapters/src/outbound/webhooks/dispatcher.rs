//! [`Dispatcher`]: the outbox relay. One coordinator thread fans new events
//! out into deliveries and claims due ones; a few worker threads send them
//! with a blocking client. None of it runs on the HTTP server's executor.
//!
//! ## Fan-out without losing events committed out of order
//!
//! Each tenant has a cursor: every event at or below it has been fanned out.
//! On SQLite events commit in sequence order (one writer), so the cursor
//! follows the newest event. On PostgreSQL a sequence value is drawn before
//! its transaction commits, so event 11 can become visible before event 10.
//! The dispatcher therefore fans out every visible event after the cursor
//! at once (a unique key makes doing it twice harmless), but moves the
//! cursor only up to the newest event it saw at least `settle` ago: an event
//! below that whose transaction had not committed by then would have to stay
//! uncommitted for `settle` after drawing its number — the store commits
//! right after writing events, so that does not happen in practice.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender as SignalSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;
use invoice_domain::RepositoryError;

use super::policy::RetryPolicy;
use super::sender::{FailureClass, Sender, SignedRequest};
use super::signing;
use super::stats::{AttemptCounter, AttemptOutcome};
use super::store::{self, Claim, Outcome};
use crate::outbound::db::{Backend, Database};
use crate::outbound::secrets::{endpoint_context, SecretBox};
use crate::representation::EventObject;

/// Everything a dispatcher can be tuned with.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Retry schedule and endpoint-disabling thresholds.
    pub policy: RetryPolicy,
    /// Allow loopback, private and link-local targets (development, tests).
    pub allow_private: bool,
    /// Threads sending deliveries (a slow endpoint holds one for up to `request_timeout`).
    pub workers: usize,
    /// How often to look for new events and due deliveries when idle.
    pub poll_interval: Duration,
    /// Timeout of one HTTP attempt, connection included.
    pub request_timeout: Duration,
    /// How long a claimed delivery stays locked; after a crash it is sent
    /// again once this has passed. Must exceed `request_timeout`.
    pub lease: Duration,
    /// PostgreSQL only: how long an event must have been visible before the
    /// fan-out cursor moves past it (see the module docs).
    pub settle: Duration,
    /// Most events fanned out per tenant per transaction.
    pub batch: i64,
    /// Opens the endpoints' signing secrets when they are stored sealed.
    pub secrets: SecretBox,
    /// Where to count attempts by outcome (the `/metrics` registry).
    pub attempts: Option<AttemptCounter>,
}

impl DispatcherConfig {
    /// The production defaults with this policy.
    pub fn new(policy: RetryPolicy, allow_private: bool) -> Self {
        DispatcherConfig {
            policy,
            allow_private,
            workers: 4,
            poll_interval: Duration::from_millis(200),
            request_timeout: Duration::from_secs(10),
            lease: Duration::from_secs(60),
            settle: Duration::from_secs(10),
            batch: 500,
            secrets: SecretBox::plaintext(),
            attempts: None,
        }
    }
}

/// Starts dispatchers.
#[derive(Debug)]
pub struct Dispatcher;

impl Dispatcher {
    /// Starts a dispatcher with the default tuning and `policy`.
    pub fn start(db: Database, policy: RetryPolicy, allow_private: bool) -> DispatcherHandle {
        Self::start_with(db, DispatcherConfig::new(policy, allow_private))
    }

    /// Starts a dispatcher: one coordinator and `config.workers` senders.
    pub fn start_with(db: Database, config: DispatcherConfig) -> DispatcherHandle {
        let workers = config.workers.max(1);
        let (signal_tx, signal_rx) = mpsc::channel();
        let (job_tx, job_rx) = mpsc::channel::<Claim>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let busy = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::with_capacity(workers + 1);
        for i in 0..workers {
            let worker = Worker {
                db: db.clone(),
                sender: Sender::new(config.request_timeout, config.allow_private),
                policy: config.policy.clone(),
                secrets: config.secrets.clone(),
                jobs: job_rx.clone(),
                signals: signal_tx.clone(),
                busy: busy.clone(),
                attempts: config.attempts.clone(),
            };
            threads.push(
                std::thread::Builder::new()
                    .name(format!("webhook-sender-{i}"))
                    .spawn(move || worker.run())
                    .expect("spawn webhook sender"),
            );
        }
        let coordinator = Coordinator {
            settle: match db.backend() {
                Backend::Postgres(_) => config.settle,
                Backend::Sqlite(_) => Duration::ZERO,
            },
            db,
            config: DispatcherConfig { workers, ..config },
            jobs: job_tx,
            signals: signal_rx,
            busy,
            tenants: HashMap::new(),
        };
        threads.push(
            std::thread::Builder::new()
                .name("webhook-dispatcher".into())
                .spawn(move || coordinator.run())
                .expect("spawn webhook dispatcher"),
        );
        tracing::info!(workers, "webhook dispatcher started");
        DispatcherHandle {
            signals: signal_tx,
            threads,
        }
    }
}

/// What wakes the coordinator.
enum Signal {
    /// Shut down.
    Stop,
    /// A worker finished a delivery and can take another.
    Free,
}

/// A running dispatcher; stopping (or dropping) it waits for in-flight sends.
#[derive(Debug)]
pub struct DispatcherHandle {
    signals: SignalSender<Signal>,
    threads: Vec<JoinHandle<()>>,
}

impl DispatcherHandle {
    /// Stops claiming work, lets in-flight sends finish and joins the threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        let _ = self.signals.send(Signal::Stop);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        tracing::info!("webhook dispatcher stopped");
    }
}

impl Drop for DispatcherHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Stop => "Stop",
            Signal::Free => "Free",
        })
    }
}

/// What this process remembers about one tenant's fan-out.
#[derive(Debug, Default)]
struct TenantFanOut {
    /// (when, newest event seen then), oldest first, not yet settled.
    seen: VecDeque<(Instant, i64)>,
    /// The newest event seen at least `settle` ago: the cursor may move up to it.
    settled: i64,
    /// Events above the cursor already fanned out by this process.
    fanned: BTreeSet<i64>,
    /// When a failure of this tenant's fan-out was last logged: a failure
    /// that lasts (bad stored data) is logged when it starts and then once
    /// per [`FAILURE_LOG_INTERVAL`], not on every pass.
    failure_logged: Option<Instant>,
}

/// How often a lasting fan-out failure of one tenant is logged again.
const FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Fans out, claims, and hands claims to the workers.
struct Coordinator {
    db: Database,
    config: DispatcherConfig,
    settle: Duration,
    jobs: mpsc::Sender<Claim>,
    signals: Receiver<Signal>,
    busy: Arc<AtomicUsize>,
    tenants: HashMap<i64, TenantFanOut>,
}

impl Coordinator {
    fn run(mut self) {
        let mut next_fan_out = Instant::now();
        loop {
            if Instant::now() >= next_fan_out {
                if let Err(e) = self.fan_out() {
                    tracing::warn!(error = %e, "webhook fan-out failed");
                }
                next_fan_out = Instant::now() + self.config.poll_interval;
            }
            let free = self.config.workers.saturating_sub(self.busy.load(Ordering::SeqCst));
            if free > 0 {
                if let Err(e) = self.claim(free) {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                }
            }
            match self.signals.recv_timeout(self.config.poll_interval) {
                Ok(Signal::Free) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        // Dropping `jobs` ends the workers once they finish what they hold.
    }

    fn claim(&mut self, free: usize) -> Result<(), RepositoryError> {
        let now = store::now();
        if !self.db.read_conn(|c| store::any_due(c, now))? {
            return Ok(());
        }
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(60));
        let claims = self
            .db
            .write_conn(|c| store::claim_due(c, now, free as i64, now + lease))?;
        for claim in claims {
            self.busy.fetch_add(1, Ordering::SeqCst);
            if self.jobs.send(claim).is_err() {
                self.busy.fetch_sub(1, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    fn fan_out(&mut self) -> Result<(), RepositoryError> {
        let targets = self.db.read_conn(store::fan_out_targets)?;
        self.tenants
            .retain(|tenant, _| targets.iter().any(|t| t.tenant_id == *tenant));
        let now = Instant::now();
        for target in targets {
            match self.fan_out_tenant(&target, now) {
                Ok(()) => {
                    if let Some(st) = self.tenants.get_mut(&target.tenant_id) {
                        st.failure_logged = None;
                    }
                }
                // Nothing else would get through either.
                Err(e @ RepositoryError::Unavailable(_)) => return Err(e),
                // One tenant's bad data must not hold up the others. Its
                // cursor stays put, so its events are fanned out once the
                // data is repaired; until then this is said now and again.
                Err(e) => {
                    let st = self.tenants.entry(target.tenant_id).or_default();
                    if st
                        .failure_logged
                        .is_none_or(|at| now.duration_since(at) >= FAILURE_LOG_INTERVAL)
                    {
                        st.failure_logged = Some(now);
                        tracing::error!(
                            tenant = target.tenant_id,
                            error = %e,
                            "webhook fan-out of a tenant failed; its events wait until it succeeds"
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn fan_out_tenant(&mut self, target: &store::FanOutTarget, now: Instant) -> Result<(), RepositoryError> {
        let tenant = target.tenant_id;
        let st = self.tenants.entry(tenant).or_default();
        st.settled = st.settled.max(target.last_seq);
        st.seen.push_back((now, target.latest_seq));
        while let Some(&(at, seq)) = st.seen.front() {
            if now.duration_since(at) < self.settle {
                break;
            }
            st.settled = st.settled.max(seq);
            st.seen.pop_front();
        }
        if target.latest_seq <= target.last_seq {
            return Ok(());
        }
        let batch = self.config.batch;
        let settled = st.settled;
        let fanned = &st.fanned;
        // Nothing new to fan out and the cursor cannot move yet: skip
        // the write transaction (PostgreSQL re-checks here until events settle).
        let visible = self
            .db
            .read_conn(|c| store::event_seqs_after(c, tenant, target.last_seq, batch))?;
        if settled <= target.last_seq && visible.iter().all(|seq| fanned.contains(seq)) {
            return Ok(());
        }
        let db_now = store::now();
        let done = self.db.write_conn(|c| {
            let Some(cursor) = store::lock_cursor(c, tenant)? else {
                return Ok::<_, RepositoryError>(None);
            };
            let events = store::events_after(c, tenant, cursor, batch)?;
            let subscribers = store::subscribers(c, tenant)?;
            for event in events.iter().filter(|e| !fanned.contains(&e.seq)) {
                store::fan_out_event(c, tenant, event, &subscribers, db_now)?;
            }
            let scanned_to = match events.last() {
                Some(last) if events.len() as i64 >= batch => last.seq,
                _ => i64::MAX,
            };
            let new_cursor = scanned_to.min(settled).max(cursor);
            store::advance_cursor(c, tenant, new_cursor, db_now)?;
            Ok(Some((
                events.into_iter().map(|e| e.seq).collect::<Vec<_>>(),
                new_cursor,
            )))
        })?;
        if let Some((seqs, cursor)) = done {
            st.fanned.extend(seqs);
            st.fanned.retain(|seq| *seq > cursor);
        }
        Ok(())
    }
}

/// Sends claimed deliveries, one at a time.
struct Worker {
    db: Database,
    sender: Sender,
    policy: RetryPolicy,
    secrets: SecretBox,
    jobs: Arc<Mutex<Receiver<Claim>>>,
    signals: SignalSender<Signal>,
    busy: Arc<AtomicUsize>,
    attempts: Option<AttemptCounter>,
}

impl Worker {
    fn run(self) {
        loop {
            let claim = {
                let Ok(jobs) = self.jobs.lock() else { return };
                match jobs.recv() {
                    Ok(claim) => claim,
                    Err(_) => return,
                }
            };
            if let Err(e) = self.deliver(&claim) {
                // The lease runs out and the delivery is tried again.
                tracing::warn!(delivery = %claim.delivery_id, error = %e, "webhook delivery not recorded");
            }
            self.busy.fetch_sub(1, Ordering::SeqCst);
            let _ = self.signals.send(Signal::Free);
        }
    }

    fn deliver(&self, claim: &Claim) -> Result<(), RepositoryError> {
        let Some(job) = self
            .db
            .read_conn(|c| store::load_job(c, claim.tenant_id, &claim.delivery_id))?
        else {
            return Ok(());
        };
        let attempted_at = store::now();
        let outcome = match render(&job, &self.secrets) {
            Ok(request) => self.sender.send(&request, attempted_at),
            Err(e) => {
                tracing::warn!(delivery = %claim.delivery_id, error = %e, "webhook event not rendered");
                Outcome {
                    attempted_at,
                    duration_ms: 0,
                    status_code: None,
                    error: Some(FailureClass::NotRendered.message().to_string()),
                    response_body: None,
                }
            }
        };
        tracing::info!(
            delivery = %claim.delivery_id,
            event = %job.event.event.id,
            endpoint = %job.endpoint.id,
            status = outcome.status_code,
            error = outcome.error.as_deref().unwrap_or(""),
            duration_ms = outcome.duration_ms,
            "webhook attempt"
        );
        if let Some(counter) = &self.attempts {
            counter.record(AttemptOutcome::of(&outcome));
        }
        self.db
            .write_conn(|c| store::record_attempt(c, claim, &outcome, &self.policy, store::now()))
    }
}

/// The signed request for a job: the event object as JSON, signed with the
/// endpoint's secret (and with its previous one while that is still valid),
/// each opened with `secrets` when stored sealed.
fn render(job: &store::Job, secrets: &SecretBox) -> Result<SignedRequest, RepositoryError> {
    let body =
        serde_json::to_vec(&EventObject::from_row(&job.event)?).map_err(|e| RepositoryError::Other(e.to_string()))?;
    let timestamp = Utc::now().timestamp();
    let id = job.event.event.id.clone();
    let context = endpoint_context(job.endpoint.tenant_id, &job.endpoint.id);
    let open = |stored: &str| {
        secrets
            .open(&context, stored)
            .map_err(|e| RepositoryError::Other(e.to_string()))
    };
    let mut signatures = vec![signing::sign(&open(&job.endpoint.secret)?, &id, timestamp, &body)
        .ok_or_else(|| RepositoryError::Other("the endpoint's signing secret is malformed".into()))?];
    let previous_valid = job
        .endpoint
        .previous_secret_expires_at
        .is_some_and(|until| until > store::now());
    if let (true, Some(previous)) = (previous_valid, &job.endpoint.previous_secret) {
        signatures.extend(signing::sign(&open(previous)?, &id, timestamp, &body));
    }
    Ok(SignedRequest {
        url: job.endpoint.url.clone(),
        id,
        timestamp,
        signature: signatures.join(" "),
        body,
    })
}
