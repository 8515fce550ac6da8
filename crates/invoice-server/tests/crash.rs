//! Crash safety with the real binary. A storm of concurrent writes, every
//! one with an idempotency key; the crash comes once enough writes were
//! acknowledged and while the database shows writes in flight, never after
//! a guessed sleep:
//!
//! * `SIGKILL` of the server, on SQLite and on a PostgreSQL cluster with
//!   durable commits (`fsync=on`);
//! * PostgreSQL itself stopped the way a crash would (`pg_ctl stop -m
//!   immediate`) under load, then started again.
//!
//! Afterwards every acknowledged write must be there (its event at the
//! version the reply gave), nothing half-written may remain (status and
//! events agree, every credit note has its event, numbers are gapless), a
//! request whose reply was lost is replayed or refused as in flight but never
//! run twice, and the server carries on. Also checks that no secret reaches
//! the logs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use invoice_adapters::outbound::db::schema::{events as ev, idempotency_keys as keys};
use invoice_adapters::outbound::db::{idempotency, repository_error, Database, PoolConfig};
use invoice_adapters::testkit::PgCluster;
use invoice_domain::{EventKind, InvoiceRepository, InvoiceStatus, ListQuery, TenantId};

const BIN: &str = env!("CARGO_BIN_EXE_invoice-server");

/// Acknowledged writes required before the crash.
const MIN_ACKNOWLEDGED: usize = 60;
/// Writes in flight (claimed idempotency keys not yet committed) at the crash.
const MIN_IN_FLIGHT: i64 = 2;
/// Settings of a PostgreSQL cluster whose commits survive a crash.
const DURABLE: &[(&str, &str)] = &[
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
];

struct Proc {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server on `url`; returns it and the first-start key, if printed.
fn spawn(url: &str, extra_env: &[(&str, &str)]) -> (Proc, Option<String>) {
    let port = free_port();
    let mut cmd = Command::new(BIN);
    cmd.env("DATABASE_URL", url)
        .env("INVOICE_BIND", format!("127.0.0.1:{port}"))
        .env("INVOICE_RATE_LIMIT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start server");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(k) = line.split_whitespace().find(|w| w.starts_with("sk_")) {
                let _ = tx.send(k.to_string());
            }
        }
    });
    let stderr_buf = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = stderr_buf.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let proc = Proc {
        child,
        port,
        stderr: stderr_buf,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while call(proc.port, "GET", "/healthz", "", None, None).status != 200 {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let key = rx.recv_timeout(Duration::from_millis(500)).ok();
    (proc, key)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// A reply: status (0 when the server was unreachable), body, and whether
/// it was replayed from an idempotency key.
struct Answer {
    status: u16,
    body: String,
    replayed: bool,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// One HTTP call.
fn call(port: u16, method: &str, path: &str, key: &str, body: Option<&str>, idem: Option<&str>) -> Answer {
    let mut b = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{path}"))
        .header("Authorization", format!("Bearer {key}"));
    if let Some(k) = idem {
        b = b.header("Idempotency-Key", k);
    }
    let result = match body {
        Some(json) => agent().run(
            b.header("Content-Type", "application/json")
                .body(json.as_bytes().to_vec())
                .unwrap(),
        ),
        None => agent().run(b.body(()).unwrap()),
    };
    match result {
        Ok(mut r) => Answer {
            status: r.status().as_u16(),
            replayed: r.headers().get("idempotent-replayed").is_some(),
            body: r.body_mut().read_to_string().unwrap_or_default(),
        },
        Err(_) => Answer {
            status: 0,
            body: String::new(),
            replayed: false,
        },
    }
}

/// A webhook receiver on loopback that answers 200 and records `webhook-id`s.
fn receiver() -> (u16, Arc<Mutex<BTreeSet<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let sink = sink.clone();
            std::thread::spawn(move || {
                use std::io::Write;
                let mut reader = BufReader::new(&stream);
                let (mut length, mut id) = (0usize, None);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    let l = line.trim_end().to_ascii_lowercase();
                    if l.is_empty() {
                        break;
                    }
                    if let Some(v) = l.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if let Some(v) = l.strip_prefix("webhook-id:") {
                        id = Some(v.trim().to_string());
                    }
                    line.clear();
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                if let Some(id) = id {
                    sink.lock().unwrap().insert(id);
                }
                let _ = (&stream).write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            });
        }
    });
    (port, seen)
}

const WEBHOOK_ENV: [(&str, &str); 2] = [
    ("INVOICE_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("INVOICE_WEBHOOK_LEASE_SECS", "12"),
];

const INVOICE: &str = r#"{"currency": "EUR", "customer": {"id": "c1", "name": "C"},
  "lines": [{"product_id": "a", "description": "A", "quantity": 1, "unit_amount": 10000, "tax_rate": "19"},
            {"product_id": "b", "description": "B", "quantity": 2, "unit_amount": 1250, "tax_rate": "7"}]}"#;

/// A write the server acknowledged: the invoice, the version its reply
/// gave, and the event types one of which that version must carry.
#[derive(Debug, Clone)]
struct Ack {
    invoice: String,
    version: u64,
    expect: &'static [&'static str],
}

/// A write whose reply never came: to be sent again with the same key.
#[derive(Debug, Clone)]
struct Unanswered {
    key: String,
    path: String,
    body: Option<&'static str>,
}

/// What the storm saw.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    acks: Vec<Ack>,
    unanswered: Vec<Unanswered>,
    statuses: BTreeMap<u16, usize>,
}

/// Eight writers, each write with an idempotency key: creates, finalizes,
/// line cancels, cancels, voids and payments on a growing set of invoices.
struct Storm {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    tally: Arc<Mutex<Tally>>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Storm {
    fn start(port: u16, key: &str, ids: Vec<String>, tag: &'static str) -> Storm {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let tally = Arc::new(Mutex::new(Tally::default()));
        let ids = Arc::new(Mutex::new(ids));
        let workers = (0..8)
            .map(|worker| {
                let (key, ids, stop, ack, tally) = (
                    key.to_string(),
                    ids.clone(),
                    stop.clone(),
                    acknowledged.clone(),
                    tally.clone(),
                );
                std::thread::spawn(move || {
                    let mut n = 0usize;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let idem = format!("{tag}-w{worker}-{n}");
                        let target = {
                            let ids = ids.lock().unwrap();
                            ids[(worker * 7 + n * 13) % ids.len()].clone()
                        };
                        let (path, body, expect): (String, Option<&'static str>, &'static [&'static str]) = match n % 6
                        {
                            0 => ("/v1/invoices".into(), Some(INVOICE), &["invoice.created"]),
                            1 => (
                                format!("/v1/invoices/{target}/cancel"),
                                Some(r#"{"reason": "storm", "lines": [{"product_id": "b"}]}"#),
                                &["invoice.lines_cancelled", "invoice.lines_removed", "invoice.cancelled"],
                            ),
                            2 => (
                                format!("/v1/invoices/{target}/cancel"),
                                Some(r#"{"reason": "storm"}"#),
                                &["invoice.cancelled"],
                            ),
                            3 => (format!("/v1/invoices/{target}/void"), None, &["invoice.voided"]),
                            4 => (
                                format!("/v1/invoices/{target}/payments"),
                                Some(r#"{"amount": 100}"#),
                                &["invoice.payment_recorded"],
                            ),
                            _ => (format!("/v1/invoices/{target}/finalize"), None, &["invoice.finalized"]),
                        };
                        let answer = call(port, "POST", &path, &key, body, Some(&idem));
                        let mut t = tally.lock().unwrap();
                        t.sent += 1;
                        *t.statuses.entry(answer.status).or_default() += 1;
                        match answer.status {
                            200 | 201 => {
                                let json = answer.json();
                                let id = json["id"].as_str().expect("reply names the invoice").to_string();
                                let version = json["version"].as_u64().expect("reply gives the version");
                                if answer.status == 201 {
                                    ids.lock().unwrap().push(id.clone());
                                }
                                t.acks.push(Ack {
                                    invoice: id,
                                    version,
                                    expect,
                                });
                                ack.fetch_add(1, Ordering::SeqCst);
                            }
                            0 => t.unanswered.push(Unanswered { key: idem, path, body }),
                            _ => {}
                        }
                    }
                })
            })
            .collect();
        Storm {
            stop,
            acknowledged,
            tally,
            workers,
        }
    }

    fn acknowledged(&self) -> usize {
        self.acknowledged.load(Ordering::SeqCst)
    }

    fn finish(self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.join().unwrap();
        }
        Arc::try_unwrap(self.tally).unwrap().into_inner().unwrap()
    }
}

/// Idempotency keys claimed but not completed: writes in flight.
fn in_flight(db: &Database) -> i64 {
    db.read_conn(|c| {
        keys::table
            .filter(keys::state.eq("in_progress"))
            .count()
            .get_result(c)
            .map_err(repository_error)
    })
    .unwrap_or(0)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Open transactions of other sessions on a PostgreSQL database.
fn open_transactions(db: &Database) -> i64 {
    db.read_conn(|c| {
        diesel::sql_query(
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND backend_type = 'client backend'",
        )
        .get_result::<Count>(c)
        .map_err(repository_error)
    })
    .map_or(0, |c| c.n)
}

/// Waits until at least [`MIN_ACKNOWLEDGED`] writes were acknowledged and
/// `in_flight` says writes are under way; returns what it said.
fn wait_for_writes_in_flight(storm: &Storm, in_flight: impl Fn() -> i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if storm.acknowledged() >= MIN_ACKNOWLEDGED {
            let n = in_flight();
            if n >= MIN_IN_FLIGHT {
                return n;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the storm never had {MIN_ACKNOWLEDGED} acknowledged writes and {MIN_IN_FLIGHT} in flight \
             (acknowledged {})",
            storm.acknowledged()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Every stored invoice of `tenant`.
fn all_invoices(db: &Database, tenant: TenantId) -> Vec<invoice_domain::Invoice> {
    let mut invoices = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .read(|s| {
                s.list(
                    tenant,
                    &ListQuery {
                        limit: 100,
                        starting_after: after,
                        ..Default::default()
                    },
                )
            })
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        invoices.extend(page);
    }
    invoices
}

/// Checks every stored invoice against its events, and the series for
/// gaps; returns how many invoices were checked.
fn verify(db: &Database, tenant: TenantId) -> usize {
    let invoices = all_invoices(db, tenant);
    let (mut numbers, mut notes) = (BTreeSet::new(), BTreeSet::new());
    for inv in &invoices {
        let events = db.read(|s| s.events(tenant, inv.id)).unwrap();
        let replayed = events.iter().fold(InvoiceStatus::Draft, |st, e| match e.kind {
            EventKind::Finalized { .. } => InvoiceStatus::Open,
            EventKind::MarkedUncollectible { .. } => InvoiceStatus::Uncollectible,
            EventKind::Paid => InvoiceStatus::Paid,
            EventKind::Cancelled { .. } => InvoiceStatus::Cancelled,
            EventKind::Voided { .. } => InvoiceStatus::Void,
            _ => st,
        });
        assert_eq!(replayed, inv.status, "status agrees with events for {}", inv.id);
        assert_eq!(
            events.last().unwrap().invoice_version,
            inv.version,
            "no half-written transition"
        );
        let t = inv.totals();
        assert_eq!(t.subtotal.checked_add(t.tax), Some(t.total));
        let credited: u64 = inv.credit_notes.iter().map(|c| c.total().minor()).sum();
        let issued_events = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::CreditNoteIssued { .. }))
            .count();
        assert_eq!(
            issued_events,
            inv.credit_notes.len(),
            "every credit note has its event and vice versa"
        );
        assert_eq!(credited, t.amount_credited.minor());
        assert!(credited <= t.total.minor(), "never credited beyond the total");
        if let Some(n) = &inv.number {
            numbers.insert(n.sequence);
        }
        notes.extend(inv.credit_notes.iter().map(|c| c.number.sequence));
    }
    let gapless = |set: &BTreeSet<u64>| set.iter().copied().eq(1..=u64::try_from(set.len()).unwrap());
    assert!(gapless(&numbers), "invoice numbers are gapless: {numbers:?}");
    assert!(gapless(&notes), "credit note numbers are gapless: {notes:?}");
    invoices.len()
}

/// Every acknowledged write is stored: its invoice has an event of the
/// expected kind at the version the reply gave.
/// Returns how many were found, which is all of them or the test failed.
fn acknowledged_writes_are_stored(db: &Database, tenant: TenantId, acks: &[Ack]) -> usize {
    let mut found = 0;
    for ack in acks {
        let at: Vec<String> = db
            .read_conn(|c| {
                ev::table
                    .filter(ev::tenant_id.eq(tenant.get()))
                    .filter(ev::invoice_id.eq(&ack.invoice))
                    .filter(ev::invoice_version.eq(i64::try_from(ack.version).unwrap()))
                    .select(ev::event_type)
                    .load(c)
                    .map_err(repository_error)
            })
            .unwrap();
        assert!(
            at.iter().any(|t| ack.expect.contains(&t.as_str())),
            "an acknowledged write is lost: {ack:?} found {at:?}"
        );
        found += 1;
    }
    found
}

/// Sends every unanswered write again with its key. What the database
/// holds for the key decides the only right answer: a completed key
/// replays its reply, a key still in progress is refused as in use, and a
/// key never claimed runs for the first time. No write runs twice.
fn unanswered_writes_are_never_run_twice(db: &Database, port: u16, key: &str, unanswered: &[Unanswered]) -> String {
    let (mut replayed, mut in_use, mut fresh) = (0, 0, 0);
    for u in unanswered {
        let state: Option<String> = db
            .read_conn(|c| {
                keys::table
                    .filter(keys::key.eq(&u.key))
                    .select(keys::state)
                    .first(c)
                    .optional()
                    .map_err(repository_error)
            })
            .unwrap();
        let again = call(port, "POST", &u.path, key, u.body, Some(&u.key));
        match state.as_deref() {
            Some("in_progress") => {
                assert_eq!(again.status, 409, "{u:?}: {}", again.body);
                assert_eq!(again.json()["code"], "idempotency_key_in_use", "{u:?}");
                in_use += 1;
            }
            Some(_) => {
                assert!(
                    again.replayed,
                    "{u:?}: a completed key replays: {} {}",
                    again.status, again.body
                );
                replayed += 1;
            }
            None => {
                assert!(!again.replayed, "{u:?}");
                fresh += 1;
            }
        }
    }
    format!("{replayed} replayed, {in_use} refused as in flight, {fresh} never claimed and run once")
}

/// Keys left in flight by the crash expire within the lock window; returns how many there were.
fn in_flight_keys_expire(db: &Database) -> usize {
    let in_flight: Vec<(String, chrono::NaiveDateTime)> = db
        .read_conn(|c| {
            keys::table
                .filter(keys::state.eq("in_progress"))
                .select((keys::key, keys::locked_until))
                .load(c)
                .map_err(repository_error)
        })
        .unwrap();
    let bound = (chrono::Utc::now() + chrono::Duration::seconds(idempotency::LOCK_SECONDS + 5)).naive_utc();
    for (k, until) in &in_flight {
        assert!(
            *until <= bound,
            "key {k} is locked until {until}, beyond the lock window"
        );
    }
    in_flight.len()
}

/// Opens a webhook endpoint and 24 finalized invoices; returns their ids.
fn prepare(port: u16, key: &str, hook_port: u16) -> Vec<String> {
    let endpoint = format!(r#"{{"url": "http://127.0.0.1:{hook_port}/hook", "events": ["*"]}}"#);
    let created = call(port, "POST", "/v1/webhook-endpoints", key, Some(&endpoint), None);
    assert_eq!(created.status, 201, "{}", created.body);
    (0..24)
        .map(|_| {
            let a = call(port, "POST", "/v1/invoices", key, Some(INVOICE), None);
            assert_eq!(a.status, 201, "{}", a.body);
            let id = a.json()["id"].as_str().unwrap().to_string();
            let f = call(port, "POST", &format!("/v1/invoices/{id}/finalize"), key, None, None);
            assert_eq!(f.status, 200, "{}", f.body);
            id
        })
        .collect()
}

fn kill_the_server_in_a_write_storm(url: &str, backend: &str) {
    let (server, key) = spawn(url, &WEBHOOK_ENV);
    let key = key.expect("first start prints a key");
    let (hook_port, delivered) = receiver();
    let ids = prepare(server.port, &key, hook_port);
    let probe = Database::connect(url, PoolConfig::default()).unwrap();
    let storm = Storm::start(server.port, &key, ids.clone(), "kill9");
    let seen_in_flight = wait_for_writes_in_flight(&storm, || in_flight(&probe));
    drop(server); // SIGKILL, writes in flight
    let tally = storm.finish();
    let odd: Vec<(&u16, &usize)> = tally
        .statuses
        .iter()
        .filter(|(s, _)| !matches!(s, 0 | 200 | 201 | 409))
        .collect();
    assert!(
        odd.is_empty(),
        "{backend}: the storm gets success, a refusal, or no answer once the server is gone: {odd:?}"
    );
    let db = Database::open(url, PoolConfig::default()).unwrap();
    let tenant = TenantId::new(1);
    let left_in_flight = in_flight_keys_expire(&db);
    assert!(
        left_in_flight > 0,
        "{backend}: the kill came while writes were in flight, so some key is still in progress"
    );
    let found = acknowledged_writes_are_stored(&db, tenant, &tally.acks);
    let checked = verify(&db, tenant);
    assert!(checked > ids.len(), "{backend}: the storm created invoices");

    // The restarted server carries on, and lost replies are answered right.
    let (again, second_key) = spawn(url, &WEBHOOK_ENV);
    assert!(second_key.is_none(), "no new key on a non-empty database");
    let retried = unanswered_writes_are_never_run_twice(&db, again.port, &key, &tally.unanswered);
    assert_eq!(
        call(again.port, "GET", &format!("/v1/invoices/{}", ids[0]), &key, None, None).status,
        200
    );
    let created = call(again.port, "POST", "/v1/invoices", &key, Some(INVOICE), None);
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let finalized = call(
        again.port,
        "POST",
        &format!("/v1/invoices/{id}/finalize"),
        &key,
        None,
        None,
    );
    assert_eq!(finalized.status, 200, "{}", finalized.body);
    let checked = verify(&db, tenant);

    // Every committed event is still delivered, including those in flight
    // when the server died (sent again once their lease expires).
    let committed: BTreeSet<String> = db
        .read_conn(|c| ev::table.select(ev::id).load::<String>(c).map_err(repository_error))
        .unwrap()
        .into_iter()
        .collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    let arrived = loop {
        let arrived = committed.intersection(&delivered.lock().unwrap()).count();
        let missing = committed.len() - arrived;
        if missing == 0 {
            break arrived;
        }
        assert!(
            Instant::now() < deadline,
            "{missing} of {} committed events were never delivered",
            committed.len()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!(
        "figure: crash | {backend} | SIGKILL of the server after {} acknowledged writes ({} sent), {seen_in_flight} in flight \
         at the kill and {left_in_flight} keys left in progress; {found} of {} acknowledged writes found after the restart; \
         {checked} invoices verified; lost replies: {retried}; {arrived} of {} committed events delivered",
        tally.acks.len(),
        tally.sent,
        tally.acks.len(),
        committed.len()
    );
    drop(again);
}

/// A dedicated PostgreSQL cluster with durable commits, and the check that
/// it really has them.
fn durable_cluster(db: &str) -> (PgCluster, String) {
    let cluster = PgCluster::start(DURABLE).expect("start a PostgreSQL cluster");
    for (name, value) in DURABLE {
        let shown = cluster.psql("postgres", &format!("SHOW {name}")).unwrap();
        assert_eq!(shown.trim(), *value, "the cluster runs with {name}={value}");
    }
    cluster.create_database(db, None).unwrap();
    let url = cluster.url(db);
    (cluster, url)
}

#[test]
fn kill_9_during_a_write_storm_leaves_nothing_half_written_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_the_server_in_a_write_storm(&format!("sqlite://{}/crash.db", dir.path().display()), "sqlite");
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn kill_9_during_a_write_storm_leaves_nothing_half_written_on_postgres() {
    let (_cluster, url) = durable_cluster("crash_storm");
    kill_the_server_in_a_write_storm(&url, "postgres (fsync=on)");
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_postgres_crash_under_load_loses_no_committed_write_and_leaves_nothing_half_written() {
    let (cluster, url) = durable_cluster("crash_pg");
    let (server, key) = spawn(&url, &WEBHOOK_ENV);
    let key = key.expect("first start prints a key");
    let (hook_port, _) = receiver();
    let ids = prepare(server.port, &key, hook_port);
    let probe = Database::connect(&url, PoolConfig::default()).unwrap();
    let storm = Storm::start(server.port, &key, ids.clone(), "pgcrash");
    let seen = wait_for_writes_in_flight(&storm, || in_flight(&probe).min(open_transactions(&probe)));
    cluster.crash().expect("pg_ctl stop -m immediate");
    let acknowledged_before = storm.acknowledged();

    // The server answers 503 while the database is gone...
    let deadline = Instant::now() + Duration::from_secs(60);
    while storm.tally.lock().unwrap().statuses.get(&503).copied().unwrap_or(0) < 20 {
        assert!(Instant::now() < deadline, "no 503 while PostgreSQL was down");
        std::thread::sleep(Duration::from_millis(10));
    }
    // ...and heals once it is back, with the data recovered from the WAL.
    cluster.restart(DURABLE).expect("start PostgreSQL again");
    let deadline = Instant::now() + Duration::from_secs(60);
    let healed = loop {
        let now = storm.acknowledged();
        if now >= acknowledged_before + 40 {
            break now;
        }
        assert!(Instant::now() < deadline, "the server did not heal");
        std::thread::sleep(Duration::from_millis(10));
    };
    let tally = storm.finish();
    drop(server);

    let db = Database::open(&url, PoolConfig::default()).unwrap();
    let tenant = TenantId::new(1);
    let found = acknowledged_writes_are_stored(&db, tenant, &tally.acks);
    let checked = verify(&db, tenant);
    in_flight_keys_expire(&db);
    let others: BTreeMap<u16, usize> = tally
        .statuses
        .iter()
        .filter(|(s, _)| !matches!(s, 200 | 201 | 409 | 503))
        .map(|(s, n)| (*s, *n))
        .collect();
    assert!(
        others.is_empty(),
        "only success, refusal or 503 under a database crash: {others:?}"
    );
    eprintln!(
        "figure: crash | postgres (fsync=on) | pg_ctl stop -m immediate after {acknowledged_before} acknowledged writes, \
         {seen} in flight at the crash; {} answered 503 while it was down; {} acknowledged before and after, {found} \
         of them found after recovery ({} at the heal); {checked} invoices verified",
        tally.statuses.get(&503).copied().unwrap_or(0),
        tally.acks.len(),
        healed
    );
}

#[test]
fn no_secret_ever_reaches_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/logs.db", dir.path().display());
    let (server, key) = spawn(&url, &[("RUST_LOG", "trace"), ("INVOICE_LOG_FORMAT", "json")]);
    let key = key.unwrap();
    call(server.port, "POST", "/v1/invoices", &key, Some(INVOICE), None);
    call(server.port, "GET", "/v1/invoices", &key, None, None);
    call(server.port, "GET", "/v1/invoices", &format!("{key}x"), None, None);
    call(server.port, "POST", "/v1/invoices", &key, Some("{broken"), None);
    let endpoint = call(
        server.port,
        "POST",
        "/v1/webhook-endpoints",
        &key,
        Some(r#"{"url": "https://hooks.example.com/storno", "events": ["*"]}"#),
        None,
    );
    assert_eq!(endpoint.status, 201, "{}", endpoint.body);
    let secret = endpoint
        .body
        .split('"')
        .find(|s| s.starts_with("whsec_"))
        .map(str::to_string)
        .expect("the reply carries the new endpoint's secret");
    // The log line of each request, at the end of it, is the proof that
    // the logs were captured: wait for the last one.
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = server.stderr.lock().unwrap().clone();
        let requests: Vec<serde_json::Value> = logs
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|l| l["fields"]["message"] == "request")
            .collect();
        if requests.iter().any(|r| r["fields"]["route"] == "/v1/webhook-endpoints") {
            assert!(requests.len() >= 5, "one log line per request: {logs}");
            break logs;
        }
        assert!(Instant::now() < deadline, "no request log line: {logs}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!logs.contains(&key), "the API key leaked into the logs");
    assert!(!logs.contains(&key[3..]), "part of the API key leaked into the logs");
    assert!(!logs.contains(&secret), "the webhook secret leaked into the logs");
    assert!(
        !logs.contains(&secret[6..]),
        "part of the webhook secret leaked into the logs"
    );
}
