//! Running several instances and operating them, with the real binary:
//! instances starting at once on an empty PostgreSQL database, key
//! revocation and expiry seen by two instances, the admin CLI under
//! concurrency, `check`, `purge` and scheduled housekeeping, TLS to
//! PostgreSQL, and what the logs carry.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use invoice_adapters::outbound::db::{repository_error, Database, PoolConfig};
use invoice_adapters::testkit::{self, PgCluster};

const BIN: &str = env!("CARGO_BIN_EXE_invoice-server");

// ------------------------------------------------------------------ helpers

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed on drop; its stdout and stderr are collected.
struct Server {
    child: Child,
    port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collects everything `stream` writes.
fn drain(mut stream: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let sink = Arc::new(Mutex::new(String::new()));
    let out = sink.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    sink
}

impl Server {
    /// Starts `invoice-server` on `url` without waiting for it.
    fn spawn(url: &str, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.env("DATABASE_URL", url)
            .env("INVOICE_BIND", format!("127.0.0.1:{port}"))
            .env("INVOICE_NO_WEBHOOK_DELIVERY", "true")
            .env("INVOICE_WORKERS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start invoice-server");
        let stdout = drain(child.stdout.take().unwrap());
        let stderr = drain(child.stderr.take().unwrap());
        Server {
            child,
            port,
            stdout,
            stderr,
        }
    }

    /// Starts it and waits until `/healthz` answers.
    fn start(url: &str, env: &[(&str, &str)]) -> Server {
        let mut s = Server::spawn(url, env);
        s.wait_healthy();
        s
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while get(self.port, "/healthz", None).0 != 200 {
            let exited = self.child.try_wait().ok().flatten();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "the server did not come up ({exited:?}):\n{}",
                self.stderr.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first-start key, if this instance printed one.
    fn printed_key(&self) -> Option<String> {
        let out = self.stdout.lock().unwrap();
        out.split_whitespace()
            .find(|w| w.starts_with("sk_"))
            .map(str::to_string)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// GET `path`: (status, body, X-Request-Id); status 0 when unreachable.
fn get(port: u16, path: &str, key: Option<&str>) -> (u16, String, String) {
    let mut b = ureq::http::Request::builder().uri(format!("http://127.0.0.1:{port}{path}"));
    if let Some(k) = key {
        b = b.header("Authorization", format!("Bearer {k}"));
    }
    match agent().run(b.body(()).unwrap()) {
        Ok(mut r) => {
            let id = r
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
                id,
            )
        }
        Err(_) => (0, String::new(), String::new()),
    }
}

/// Runs `invoice-server ARGS` on `url`.
fn cli(url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run invoice-server")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A new, empty PostgreSQL database (not migrated). Without PostgreSQL it
/// panics: tests that need it carry `#[cfg_attr(postgres_missing, ignore)]`,
/// so they are reported as skipped there, never passed.
fn empty_postgres(name: &str) -> (&'static PgCluster, String) {
    let cluster = testkit::shared().expect("PostgreSQL is installed (tests needing it are ignored otherwise)");
    let name = format!("{name}_{}", std::process::id());
    cluster.create_database(&name, None).expect("create database");
    (cluster, cluster.url(&name))
}

/// A path for a new SQLite file in `dir`.
fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

/// An empty database of each backend, SQLite and PostgreSQL.
fn empty_databases(name: &str, dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("sqlite", sqlite_url(dir, &format!("{name}.db"))),
        ("postgres", empty_postgres(name).1),
    ]
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs one SQL statement against `url`.
fn sql(url: &str, statement: &str) {
    let db = Database::connect(url, PoolConfig::default()).expect("connect");
    db.write_conn(|c| diesel::sql_query(statement).execute(c).map_err(repository_error))
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}

/// Rows in `table` at `url`.
fn rows(url: &str, table: &str) -> i64 {
    let db = Database::connect(url, PoolConfig::default()).expect("connect");
    db.read_conn(|c| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(c)
            .map_err(repository_error)
    })
    .expect("count")
    .n
}

// -------------------------------------------------------- several instances

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn three_instances_started_at_once_on_an_empty_postgres_database_all_come_up() {
    const ROUNDS: usize = 2;
    let mut tally = Vec::new();
    for round in 0..ROUNDS {
        let (_, url) = empty_postgres(&format!("three_{round}"));
        let barrier = Arc::new(Barrier::new(3));
        let mut servers: Vec<Server> = (0..3)
            .map(|_| {
                let (barrier, url) = (barrier.clone(), url.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Server::spawn(&url, &[])
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let mut ready = 0;
        for s in &mut servers {
            s.wait_healthy();
            assert_eq!(get(s.port, "/readyz", None).0, 200);
            ready += 1;
        }
        let keys: Vec<String> = servers.iter().filter_map(Server::printed_key).collect();
        assert_eq!(
            keys.len(),
            1,
            "round {round}: exactly one instance bootstraps: {keys:?}"
        );
        for s in &servers {
            assert_eq!(get(s.port, "/v1/invoices", Some(&keys[0])).0, 200);
        }
        let check = cli(&url, &["check"]);
        assert!(check.status.success(), "{}{}", text(&check.stdout), text(&check.stderr));
        let report = text(&check.stdout);
        assert!(report.contains(" 0 pending"), "{report}");
        let pending = report
            .split_whitespace()
            .zip(report.split_whitespace().skip(1))
            .find_map(|(n, word)| (word.trim_end_matches([',', '.', ';', ')']) == "pending").then_some(n))
            .unwrap_or("?")
            .to_string();
        let tenants = rows(&url, "tenants");
        assert_eq!(tenants, 1);
        tally.push(format!(
            "{ready} of {} ready, {} key printed, {tenants} tenant, {pending} migrations pending",
            servers.len(),
            keys.len()
        ));
    }
    eprintln!(
        "figure: instances | postgres | 3 processes started at once on an empty database, {ROUNDS} rounds: {}",
        tally.join("; ")
    );
}

/// The rows of `keys list --tenant TENANT`, split into columns.
fn listed(url: &str, tenant: &str) -> Vec<Vec<String>> {
    let out = cli(url, &["keys", "list", "--tenant", tenant]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("ID\tTENANT\tSCOPES\tPARTY\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
    );
    lines.map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_revoked_or_expired_key_stops_working_on_every_instance_within_the_key_cache_ttl() {
    let (_, url) = empty_postgres("revoke");
    let ttl = Duration::from_secs(2);
    let env = [("INVOICE_KEY_CACHE_TTL", "2s")];
    let a = Server::start(&url, &env);
    let b = Server::start(&url, &env);
    assert!(cli(&url, &["tenants", "create", "acme"]).status.success());
    let create = |extra: &[&str]| {
        let mut args = vec!["keys", "create", "--tenant", "acme", "--scopes", "invoices:read"];
        args.extend_from_slice(extra);
        let out = cli(&url, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    let revocable = create(&[]);
    let expires = chrono::Utc::now() + chrono::Duration::seconds(8);
    let expiring = create(&["--expires-at", &expires.to_rfc3339()]);
    // Bad input is refused and creates nothing.
    for bad in ["yesterday", "2001-01-01T00:00:00Z"] {
        let out = cli(
            &url,
            &[
                "keys",
                "create",
                "--tenant",
                "acme",
                "--scopes",
                "invoices:read",
                "--expires-at",
                bad,
            ],
        );
        assert!(!out.status.success(), "{bad}");
        assert!(text(&out.stderr).contains("--expires-at"), "{}", text(&out.stderr));
    }
    let rows = listed(&url, "acme");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let id = rows.iter().find(|r| r[6] == "-").expect("the key without expiry")[0].clone();
    assert!(rows
        .iter()
        .all(|r| r[1] == "acme" && r[2] == "invoices:read" && r[3] == "-"));

    // Both instances accept (and cache) both keys.
    for s in [&a, &b] {
        assert_eq!(get(s.port, "/v1/invoices", Some(&revocable)).0, 200);
        assert_eq!(get(s.port, "/v1/invoices", Some(&expiring)).0, 200);
    }
    let revoke = cli(&url, &["keys", "revoke", &id]);
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    let revoked_at = Instant::now();
    let mut stopped = [None, None];
    while stopped.iter().any(Option::is_none) {
        for (i, s) in [&a, &b].into_iter().enumerate() {
            if stopped[i].is_none() && get(s.port, "/v1/invoices", Some(&revocable)).0 == 401 {
                stopped[i] = Some(revoked_at.elapsed());
            }
        }
        assert!(
            revoked_at.elapsed() < ttl + Duration::from_secs(1),
            "a revoked key still works after the TTL: {stopped:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The expiring key works on both until it expires, then on neither.
    let margin = chrono::Duration::milliseconds(300);
    assert!(
        chrono::Utc::now() + margin < expires,
        "the test took too long to get here"
    );
    while chrono::Utc::now() + margin < expires {
        for s in [&a, &b] {
            assert_eq!(get(s.port, "/v1/invoices", Some(&expiring)).0, 200);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    while chrono::Utc::now() < expires + chrono::Duration::milliseconds(50) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for s in [&a, &b] {
        assert_eq!(get(s.port, "/v1/invoices", Some(&expiring)).0, 401, "expired");
    }
    // The list shows the revocation and both keys' last use.
    let rows = listed(&url, "acme");
    let row = rows.iter().find(|r| r[0] == id).unwrap();
    assert_ne!(row[7], "-", "revoked: {row:?}");
    assert!(rows.iter().all(|r| r[5] != "-"), "last use recorded: {rows:?}");
    let again = cli(&url, &["keys", "revoke", &id]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("already revoked"),
        "{}",
        text(&again.stdout)
    );
    let unknown = cli(&url, &["keys", "revoke", "key_0000000000000000"]);
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no key"), "{}", text(&unknown.stderr));
    eprintln!(
        "figure: instances | postgres | a key revoked while cached by two instances (TTL {} s): refused after {:?} and {:?}",
        ttl.as_secs(),
        stopped[0].unwrap(),
        stopped[1].unwrap()
    );
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tenants_created_at_once_from_the_cli_give_one_winner_and_clear_errors() {
    const N: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in empty_databases("cli_race", dir.path()) {
        assert!(cli(&url, &["migrate"]).status.success());
        let barrier = Arc::new(Barrier::new(N));
        let outputs: Vec<Output> = (0..N)
            .map(|_| {
                let (barrier, url) = (barrier.clone(), url.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    cli(&url, &["tenants", "create", "globex", "--name", "Globex"])
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        let won = outputs.iter().filter(|o| o.status.success()).count();
        assert_eq!(won, 1, "{backend}");
        for o in outputs.iter().filter(|o| !o.status.success()) {
            let err = text(&o.stderr);
            assert!(
                err.contains("a tenant with slug \"globex\" already exists"),
                "{backend}: {err}"
            );
            assert!(!err.contains("panicked"), "{backend}: {err}");
        }
        // Keys created at once for that tenant all succeed.
        let barrier = Arc::new(Barrier::new(N));
        let created = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..N)
            .map(|_| {
                let (barrier, url, created) = (barrier.clone(), url.clone(), created.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let o = cli(
                        &url,
                        &["keys", "create", "--tenant", "globex", "--scopes", "invoices:read"],
                    );
                    assert!(o.status.success(), "{}", text(&o.stderr));
                    created.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(listed(&url, "globex").len(), N, "{backend}");
        eprintln!(
            "figure: instances | {backend} | CLI: {N} `tenants create globex` at once: {won} success, {} × \"already exists\"; \
             then {N} `keys create` at once: {} keys",
            N - won,
            created.load(Ordering::SeqCst)
        );
    }
}

// ---------------------------------------------------------- check and purge

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn check_validates_the_configuration_connects_and_reports_migrations() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in empty_databases("check", dir.path()) {
        if backend == "sqlite" {
            let missing = cli(&url, &["check"]);
            assert!(!missing.status.success(), "{backend}: a missing file is a problem");
            assert!(
                text(&missing.stderr).contains("does not exist"),
                "{}",
                text(&missing.stderr)
            );
            assert!(!dir.path().join("check.db").exists(), "check created the file");
            Database::connect(&url, PoolConfig::default()).unwrap().ping().unwrap();
        }
        let pending = cli(&url, &["check"]);
        assert!(!pending.status.success(), "{backend}");
        let out = text(&pending.stdout);
        assert!(out.contains("configuration: ok"), "{out}");
        assert!(out.contains("database: connected"), "{out}");
        let all = migration_count();
        assert!(out.contains(&format!("0 applied, {all} pending")), "{backend}: {out}");
        assert!(text(&pending.stderr).contains("migrations are pending"));
        assert_eq!(cli(&url, &["check"]).status.code(), Some(1), "check never migrates");

        assert!(cli(&url, &["migrate"]).status.success());
        let ready = cli(&url, &["check"]);
        assert!(ready.status.success(), "{backend}: {}", text(&ready.stderr));
        let out = text(&ready.stdout);
        assert!(
            out.contains(&format!("{all} applied, 0 pending")) && out.ends_with("ok\n"),
            "{out}"
        );

        for (flag, value) in [
            ("--bind", "not an address"),
            ("--dialects", "soap"),
            ("--pool-size", "0"),
        ] {
            let bad = cli(&url, &["check", flag, value]);
            assert!(!bad.status.success(), "{flag} {value}");
            assert!(text(&bad.stderr).contains(flag), "{}", text(&bad.stderr));
        }
    }
    // Nothing listening: a connection problem, said as such.
    let unreachable = cli(
        &format!("postgres://postgres@127.0.0.1:{}/none?connect_timeout=2", free_port()),
        &["check"],
    );
    assert!(!unreachable.status.success());
    assert!(
        text(&unreachable.stderr).contains("database"),
        "{}",
        text(&unreachable.stderr)
    );
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn purge_now_and_on_schedule_deletes_only_expired_records() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in empty_databases("purge", dir.path()) {
        assert!(cli(&url, &["tenants", "create", "acme"]).status.success());
        for (key, age) in [("a", "3 days"), ("b", "50 hours"), ("c", "49 hours"), ("d", "1 hour")] {
            let created = match backend {
                "postgres" => format!("(NOW() AT TIME ZONE 'UTC') - INTERVAL '{age}'"),
                _ => format!("datetime('now', '-{age}')"),
            };
            sql(
                &url,
                &format!(
                    "INSERT INTO idempotency_keys (tenant_id, api_key_id, key, request_hash, state, created_at, locked_until) \
                     SELECT id, 'key_x', '{key}', 'h', 'done', {created}, {created} FROM tenants"
                ),
            );
        }
        let purge = cli(&url, &["purge"]);
        assert!(purge.status.success(), "{}", text(&purge.stderr));
        assert_eq!(
            text(&purge.stdout).trim(),
            "purged 3 idempotency records, 0 webhook deliveries and 0 attempts",
            "{backend}"
        );
        assert_eq!(rows(&url, "idempotency_keys"), 1, "{backend}");
        let shorter = cli(&url, &["purge", "--idempotency-retention", "30m"]);
        assert!(
            text(&shorter.stdout).starts_with("purged 1 idempotency records"),
            "{backend}"
        );
        assert!(!cli(&url, &["purge", "--idempotency-retention", "0s"]).status.success());

        // The server purges on its own schedule, off the request path.
        let s = Server::start(
            &url,
            &[
                ("INVOICE_IDEMPOTENCY_RETENTION", "1s"),
                ("INVOICE_HOUSEKEEPING_INTERVAL", "1s"),
            ],
        );
        let key = s.printed_key();
        assert!(key.is_none(), "{backend}: not an empty database");
        let now = match backend {
            "postgres" => "(NOW() AT TIME ZONE 'UTC')",
            _ => "datetime('now')",
        };
        sql(
            &url,
            &format!(
                "INSERT INTO idempotency_keys (tenant_id, api_key_id, key, request_hash, state, created_at, locked_until) \
                 SELECT id, 'key_x', 'fresh', 'h', 'done', {now}, {now} FROM tenants"
            ),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while rows(&url, "idempotency_keys") > 0 {
            assert!(Instant::now() < deadline, "{backend}: the scheduled purge did not run");
            assert_eq!(get(s.port, "/healthz", None).0, 200);
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

// ------------------------------------------------------------ TLS to PostgreSQL

/// PEM texts of a CA and of a server certificate it signed.
struct Certs {
    ca: String,
    server_chain: String,
    server_key: String,
}

/// A CA named `ca_name`, and a server certificate for `localhost` signed by it.
fn certs(ca_name: &str) -> Certs {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    server.distinguished_name.push(DnType::CommonName, "localhost");
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key).unwrap();
    Certs {
        ca: ca_cert.pem(),
        server_chain: server_cert.pem(),
        server_key: server_key.serialize_pem(),
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn postgres_over_tls_with_verify_full_works_and_a_wrong_ca_is_refused() {
    let good = certs("Storno test CA");
    // Another CA, and an impostor with the same name as the real one.
    let other = certs("Another CA");
    let impostor = certs("Storno test CA");
    let cluster = PgCluster::start_tls(&good.server_chain, &good.server_key).expect("start a TLS cluster");
    cluster.create_database("storno", None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let wrong = dir.path().join("wrong-ca.pem");
    let same_name = dir.path().join("impostor-ca.pem");
    std::fs::write(&ca, &good.ca).unwrap();
    std::fs::write(&wrong, &other.ca).unwrap();
    std::fs::write(&same_name, &impostor.ca).unwrap();
    let with = |mode: &str, root: Option<&Path>| {
        let mut params = format!("sslmode={mode}&connect_timeout=5");
        if let Some(root) = root {
            params.push_str(&format!("&sslrootcert={}", root.display()));
        }
        cluster.tcp_url("localhost", "storno", &params)
    };
    let verified = with("verify-full", Some(&ca));

    let migrate = cli(&verified, &["migrate"]);
    assert!(migrate.status.success(), "{}", text(&migrate.stderr));
    let check = cli(&verified, &["check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(
        text(&check.stdout).contains("database: connected (TLS TLSv1."),
        "{}",
        text(&check.stdout)
    );
    let tls_line = text(&check.stdout)
        .lines()
        .find(|l| l.starts_with("database:"))
        .unwrap_or_default()
        .to_string();
    let s = Server::start(&verified, &[]);
    assert_eq!(get(s.port, "/readyz", None).0, 200);
    let key = s.printed_key().expect("first start prints a key");
    assert_eq!(get(s.port, "/v1/invoices", Some(&key)).0, 200);

    // A certificate from another CA is refused, and said so.
    let refused = cli(&with("verify-full", Some(&wrong)), &["check"]);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("certificate verify failed"),
        "{}",
        text(&refused.stderr)
    );
    let refused = cli(&with("verify-full", Some(&same_name)), &["check"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("SSL error"), "{}", text(&refused.stderr));
    let mut refused = Server::spawn(&with("verify-full", Some(&wrong)), &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = refused.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server kept running with an untrusted certificate"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        !status.success(),
        "the server must not start with an untrusted certificate"
    );
    // `require` encrypts without verifying; `disable` shows the check tells them apart.
    let require = cli(&with("require", None), &["check"]);
    assert!(
        text(&require.stdout).contains("(TLS TLSv1."),
        "{}",
        text(&require.stdout)
    );
    let plain = cli(&with("disable", None), &["check"]);
    assert!(text(&plain.stdout).contains("(no TLS)"), "{}", text(&plain.stdout));
    eprintln!(
        "figure: tls | postgres | verify-full with the right CA: `check` says \"{tls_line}\"; another CA and an impostor CA \
         of the same name refused"
    );
}

// -------------------------------------------------------------------- logs

#[test]
fn every_log_line_of_a_request_carries_its_request_id_and_logs_have_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path(), "logs.db");
    let s = Server::start(&url, &[("INVOICE_LOG_FORMAT", "json")]);
    let key = s.printed_key().expect("a key");
    // Break the database under the server: this route now fails inside.
    sql(&url, "ALTER TABLE webhook_endpoints RENAME TO gone");
    let (status, body, request_id) = get(s.port, "/v1/webhook-endpoints", Some(&key));
    assert_eq!(status, 500, "{body}");
    assert!(body.contains(&request_id) && !request_id.is_empty(), "{body}");
    let (ok_status, _, ok_id) = get(s.port, "/v1/invoices", Some(&key));
    assert_eq!(ok_status, 200);
    std::thread::sleep(Duration::from_millis(200));
    let logs = s.stderr.lock().unwrap().clone();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of = |id: &str| -> Vec<&serde_json::Value> {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"].as_str() == Some(id))
            .collect()
    };
    let failed = of(&request_id);
    let messages: Vec<&str> = failed.iter().filter_map(|l| l["fields"]["message"].as_str()).collect();
    assert!(messages.contains(&"internal error"), "{messages:?}\n{logs}");
    assert!(messages.contains(&"request"), "{messages:?}");
    assert!(of(&ok_id).iter().any(|l| l["fields"]["message"] == "request"));
    // No line logged while serving a request lacks the request's id.
    for l in &lines {
        if matches!(l["fields"]["message"].as_str(), Some("request" | "internal error")) {
            assert!(l["span"]["request_id"].is_string(), "{l}");
        }
    }
    drop(s);

    // Text logs to a pipe: readable, no escape codes, the id in the span.
    let t = Server::start(&sqlite_url(dir.path(), "text.db"), &[("INVOICE_LOG_FORMAT", "text")]);
    let (_, _, id) = get(t.port, "/healthz", None);
    std::thread::sleep(Duration::from_millis(200));
    let logs = t.stderr.lock().unwrap().clone();
    assert!(!logs.contains('\u{1b}'), "escape codes in piped logs:\n{logs:?}");
    assert!(logs.contains(&format!("request{{request_id={id}}}")), "{logs}");
}

/// How many migrations the release carries (one folder each, per backend).
fn migration_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/sqlite"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
        .count()
}
