//! `load`: the load benchmark of Storno (`just bench-load`).
//!
//! It measures PostgreSQL's own ceiling with pgbench running the very
//! statements the server issues for a full cancel, then drives the release
//! server at the same concurrency over real HTTP, repeats the writes on
//! SQLite, and writes the figures to `docs/performance.md`.

mod capture;
mod http;
mod load;
mod pgbench;
mod report;
mod seed;
mod server;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use invoice_adapters::outbound::db::{Database, PoolConfig};
use invoice_adapters::testkit::PgCluster;

use crate::capture::Captured;
use crate::http::{Client, Request};
use crate::load::{Op, Pace, RunStats, Supply, Target};
use crate::report::Row;
use crate::seed::{invoice_id, Seeded, LIST_LARGE_BASE, LIST_SMALL_BASE};
use crate::server::Server;

/// Command line; every option also reads an environment variable.
#[derive(Debug, Parser)]
#[command(about = "Load benchmark: the server against PostgreSQL's own ceiling, and on SQLite")]
struct Opts {
    /// Smoke mode: small data set and 2-second runs (overrides the sizes below unless given).
    #[arg(long, env = "BENCH_QUICK")]
    quick: bool,
    /// Seconds of each maximum-throughput run.
    #[arg(long, env = "BENCH_DURATION")]
    duration: Option<u64>,
    /// Seconds of each fixed-rate run.
    #[arg(long, env = "BENCH_RATE_DURATION")]
    rate_duration: Option<u64>,
    /// Seconds of each point of the pgbench client sweep.
    #[arg(long, env = "BENCH_SWEEP_DURATION")]
    sweep_duration: Option<u64>,
    /// Open invoices seeded over 10 tenants (5 lines each).
    #[arg(long, env = "BENCH_INVOICES")]
    invoices: Option<u64>,
    /// Invoices of the small listing tenant.
    #[arg(long, env = "BENCH_LIST_SMALL")]
    list_small: Option<u64>,
    /// Invoices of the large listing tenant.
    #[arg(long, env = "BENCH_LIST_LARGE")]
    list_large: Option<u64>,
    /// pgbench client counts to find PostgreSQL's peak.
    #[arg(long, env = "BENCH_SWEEP", value_delimiter = ',')]
    sweep: Option<Vec<usize>>,
    /// Clients of the SQLite runs.
    #[arg(long, env = "BENCH_SQLITE_CLIENTS", default_value_t = 16)]
    sqlite_clients: usize,
    /// Rounds of the hot-spot run (32 clients, 10 invoices per round).
    #[arg(long, env = "BENCH_HOT_ROUNDS")]
    hot_rounds: Option<u64>,
    /// Server database pool size (default: PostgreSQL's peak client count on
    /// PostgreSQL, the number of cores on SQLite).
    #[arg(long, env = "BENCH_POOL_SIZE")]
    pool_size: Option<u32>,
    /// The server binary (default: target/release/invoice-server).
    #[arg(long, env = "BENCH_SERVER_BIN")]
    server_bin: Option<PathBuf>,
    /// Where to write the results section (default: docs/performance.md, none in quick mode).
    #[arg(long, env = "BENCH_REPORT")]
    report: Option<PathBuf>,
    /// Skip the PostgreSQL part.
    #[arg(long)]
    skip_postgres: bool,
    /// Skip the SQLite part.
    #[arg(long)]
    skip_sqlite: bool,
}

/// Resolved sizes and durations.
#[derive(Debug, Clone)]
struct Plan {
    duration: Duration,
    rate_duration: Duration,
    sweep_duration: Duration,
    invoices: u64,
    list_small: u64,
    list_large: u64,
    sweep: Vec<usize>,
    hot_rounds: u64,
    pool_size: Option<u32>,
    sqlite_clients: usize,
    cores: usize,
}

impl Plan {
    fn from(o: &Opts) -> Plan {
        let q = o.quick;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Plan {
            duration: Duration::from_secs(o.duration.unwrap_or(if q { 2 } else { 8 })),
            rate_duration: Duration::from_secs(o.rate_duration.unwrap_or(if q { 2 } else { 8 })),
            sweep_duration: Duration::from_secs(o.sweep_duration.unwrap_or(if q { 1 } else { 4 })),
            invoices: o.invoices.unwrap_or(if q { 30_000 } else { 200_000 }),
            list_small: o.list_small.unwrap_or(if q { 2_000 } else { 10_000 }),
            list_large: o.list_large.unwrap_or(if q { 20_000 } else { 1_000_000 }),
            sweep: o
                .sweep
                .clone()
                .unwrap_or_else(|| if q { vec![4, 16] } else { vec![2, 4, 8, 16, 32] }),
            hot_rounds: o.hot_rounds.unwrap_or(if q { 3 } else { 20 }),
            pool_size: o.pool_size,
            sqlite_clients: o.sqlite_clients,
            cores,
        }
    }
}

/// The workspace root (two levels above this crate).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() {
    let opts = Opts::parse();
    if let Err(e) = run(&opts) {
        eprintln!("bench-load failed: {e}");
        std::process::exit(1);
    }
}

/// Prints progress to stderr.
fn say(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}

/// Everything measured, for the report.
#[derive(Default)]
struct Results {
    rows: Vec<Row>,
    sweep: Vec<(usize, f64, f64)>,
    peak_clients: usize,
    pg_ceiling: Option<RunStats>,
    pg_at_rate: Option<(f64, RunStats)>,
    statements: Vec<(String, Vec<capture::Logged>)>,
    script: String,
    script_check: String,
    pg_version: String,
    pg_seed_seconds: f64,
    sqlite_seed_seconds: f64,
    pg_settings: Vec<(&'static str, &'static str)>,
    pg_pool: u32,
    sqlite_pool: u32,
    /// Hot-spot runs with a round that had other than one winner per invoice.
    hot_spot_failures: Vec<String>,
}

/// PostgreSQL settings of the benchmark cluster: durable commits, and room
/// for the seed so checkpoints do not land in the middle of a run.
const PG_SETTINGS: &[(&str, &str)] = &[
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
    ("shared_buffers", "512MB"),
    ("max_connections", "200"),
    ("max_wal_size", "8GB"),
    ("checkpoint_timeout", "30min"),
    ("log_line_prefix", "%m [%p] "),
];

fn run(opts: &Opts) -> Result<(), String> {
    let plan = Plan::from(opts);
    let bin = opts
        .server_bin
        .clone()
        .unwrap_or_else(|| workspace().join("target/release/invoice-server"));
    if !bin.exists() {
        return Err(format!(
            "{} not found: build it first with `cargo build --release -p invoice-server`",
            bin.display()
        ));
    }
    say(format!("plan: {plan:?}"));
    let started = Instant::now();
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut results = Results {
        pg_settings: PG_SETTINGS.to_vec(),
        ..Results::default()
    };
    if !opts.skip_postgres {
        postgres(&plan, &bin, work.path(), &mut results)?;
    }
    if !opts.skip_sqlite {
        sqlite(&plan, &bin, work.path(), &mut results)?;
    }
    let section = render(&plan, opts, &results, started.elapsed());
    println!("{section}");
    // A hot spot with two winners (or none) for an invoice is a lost update:
    // the run fails, and writes no report.
    if !results.hot_spot_failures.is_empty() {
        return Err(format!(
            "the hot spot did not give exactly one winner per invoice in every round: {}",
            results.hot_spot_failures.join("; ")
        ));
    }
    let target = opts
        .report
        .clone()
        .or_else(|| (!opts.quick).then(|| workspace().join("docs/performance.md")));
    if let Some(path) = target {
        let doc = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Performance\n".into());
        std::fs::write(&path, report::splice(&doc, &section)).map_err(|e| e.to_string())?;
        say(format!("wrote {}", path.display()));
    }
    say(format!("done in {:.0} s", started.elapsed().as_secs_f64()));
    Ok(())
}

/// Runs one HTTP scenario and records its row.
#[allow(clippy::too_many_arguments)]
fn scenario(
    results: &mut Results,
    backend: &str,
    server: &Server,
    target: &Arc<Target>,
    op: Op,
    clients: usize,
    duration: Duration,
    pace: Pace,
    label: Option<String>,
) -> RunStats {
    server.reset_peak_rss();
    let stats = load::run(target, op, clients, duration, pace);
    let pace_text = match pace {
        Pace::Max => "max".to_string(),
        Pace::Rate(r) => format!("@ {r:.0}/s"),
    };
    let mut note = String::new();
    if stats.exhausted {
        note.push_str("ran out of invoices; ");
    }
    for (status, count) in &stats.error_statuses {
        let what = if *status == 0 {
            "transport".to_string()
        } else {
            status.to_string()
        };
        let _ = write!(note, "{count} × {what}; ");
    }
    let note = note.trim_end_matches("; ").to_string();
    let scenario = label.unwrap_or_else(|| op.name());
    say(format!(
        "{backend} {scenario} c={clients} {pace_text}: {:.0}/s p50 {:.2} ms p99 {:.2} ms p99.9 {:.2} ms errors {}",
        stats.throughput(),
        stats.ms(0.5),
        stats.ms(0.99),
        stats.ms(0.999),
        stats.errors
    ));
    results.rows.push(Row {
        backend: backend.into(),
        scenario,
        clients,
        pace: pace_text,
        stats: stats.clone(),
        rss_kib: server.peak_rss_kib(),
        note,
    });
    stats
}

/// Max run, then a fixed-rate run at half of it.
#[allow(clippy::too_many_arguments)]
fn max_and_half(
    results: &mut Results,
    backend: &str,
    server: &Server,
    target: &Arc<Target>,
    op: Op,
    clients: usize,
    plan: &Plan,
    label: Option<String>,
) -> (RunStats, RunStats) {
    let max = scenario(
        results,
        backend,
        server,
        target,
        op,
        clients,
        plan.duration,
        Pace::Max,
        label.clone(),
    );
    if max.exhausted {
        return (max.clone(), max);
    }
    let rate = (max.throughput() / 2.0).max(1.0);
    let half = scenario(
        results,
        backend,
        server,
        target,
        op,
        clients,
        plan.rate_duration,
        Pace::Rate(rate),
        label,
    );
    (max, half)
}

/// Checks a seeded invoice through the server: GET it, then cancel another.
fn validate_seed(addr: std::net::SocketAddr, seeded: &Seeded, supply: &Supply) -> Result<(), String> {
    let mut c = Client::new(addr);
    let n = supply.take().ok_or("no invoices")?;
    let r = c
        .send(&Request::get(
            format!("/v1/invoices/{}", invoice_id(n)),
            Some(seeded.key_for(n)),
        ))
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&r.body).map_err(|e| format!("GET body: {e}: {}", r.body))?;
    let ok = r.status == 200
        && v["status"] == "open"
        && v["number"] == format!("INV-{n:06}")
        && v["lines"].as_array().is_some_and(|l| l.len() == seed::LINES);
    if !ok {
        return Err(format!(
            "seeded invoice {n} does not read back as open: {} {}",
            r.status, r.body
        ));
    }
    let n = supply.take().ok_or("no invoices")?;
    let r = c.send(&load::cancel_request(seeded, n)).map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&r.body).map_err(|e| format!("cancel body: {e}: {}", r.body))?;
    if r.status != 200 || v["status"] != "cancelled" || v["credit_notes"].as_array().is_none_or(|c| c.len() != 1) {
        return Err(format!("seeded invoice {n} does not cancel: {} {}", r.status, r.body));
    }
    Ok(())
}

/// What an invoice looks like after a write, for comparing pgbench's effect with the server's.
fn signature(cluster: &PgCluster, seeded: &Seeded, n: u64) -> Result<String, String> {
    let (t, id) = (seeded.tenant_of(n), invoice_id(n));
    cluster
        .psql(
            "bench",
            &format!(
                "SELECT i.status, i.version, i.subtotal, i.tax, i.total, i.amount_paid, i.collection_halted, \
                 i.cancellation IS NOT NULL, length(i.cancellation), \
                 (SELECT string_agg(status, ',' ORDER BY position) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id), \
                 (SELECT count(*) || ':' || sum(total) FROM credit_notes c WHERE c.tenant_id = i.tenant_id AND c.invoice_id = i.id), \
                 (SELECT count(*) FROM credit_note_lines cl JOIN credit_notes c ON c.tenant_id = cl.tenant_id AND c.id = cl.credit_note_id WHERE c.tenant_id = i.tenant_id AND c.invoice_id = i.id), \
                 (SELECT string_agg(event_type || '/' || invoice_version || '/' || length(snapshot), ',' ORDER BY seq) FROM events e WHERE e.tenant_id = i.tenant_id AND e.invoice_id = i.id) \
                 FROM invoices i WHERE i.tenant_id = {t} AND i.id = '{id}'"
            ),
        )
        .map(|s| s.trim().to_string())
        .map_err(|e| e.to_string())
}

fn postgres(plan: &Plan, bin: &Path, work: &Path, results: &mut Results) -> Result<(), String> {
    say("starting a PostgreSQL cluster (durable commits)");
    let cluster = PgCluster::start(PG_SETTINGS).map_err(|e| e.to_string())?;
    cluster.create_database("bench", None).map_err(|e| e.to_string())?;
    results.pg_version = cluster
        .psql("bench", "SHOW server_version")
        .map_err(|e| e.to_string())?
        .trim()
        .to_string();
    let url = cluster.url("bench");
    let db = Database::open(&url, PoolConfig::default()).map_err(|e| e.to_string())?;
    say(format!(
        "seeding {} invoices, listing tenants of {} and {}",
        plan.invoices, plan.list_small, plan.list_large
    ));
    let seeded = seed::seed(
        &db,
        plan.invoices,
        &[
            ("small", LIST_SMALL_BASE, plan.list_small),
            ("large", LIST_LARGE_BASE, plan.list_large),
        ],
    )
    .map_err(|e| e.to_string())?;
    drop(db);
    let psql = |sql: &str| cluster.psql("bench", sql).map(drop).map_err(|e| e.to_string());
    psql(capture::BENCH_ID_FUNCTION)?;
    psql("VACUUM ANALYZE")?;
    psql("CHECKPOINT")?;
    results.pg_seed_seconds = seeded.seconds;
    say(format!("seeded in {:.0} s", seeded.seconds));
    let supply = Arc::new(Supply::new(seeded.invoices));
    let hot = reserve_hot_spot(&supply, plan);

    // 1. Capture the statements of one request of each kind.
    say("capturing the server's SQL (log_statement = all)");
    psql("ALTER DATABASE bench SET log_statement = 'all'")?;
    let log_path = cluster.socket_dir().join("postgres.log");
    let log_start = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
    let (n_get, n_full, n_line, n_void);
    {
        let server = Server::start(bin, &url, plan.cores as u32, &work.join("server-capture.log"))?;
        validate_seed(server.addr, &seeded, &supply)?;
        let mut c = Client::new(server.addr);
        let take = || supply.take().ok_or("no invoices");
        n_get = take()?;
        n_full = take()?;
        n_line = take()?;
        n_void = take()?;
        let k = |n| seeded.key_for(n);
        let check = |r: std::io::Result<http::Response>, what: &str| match r {
            Ok(r) if r.status == 200 => Ok(()),
            Ok(r) => Err(format!("{what}: {} {}", r.status, r.body)),
            Err(e) => Err(format!("{what}: {e}")),
        };
        check(
            c.send(&Request::get(
                format!("/v1/invoices/{}", invoice_id(n_get)),
                Some(k(n_get)),
            )),
            "GET",
        )?;
        check(c.send(&load::cancel_request(&seeded, n_full)), "full cancel")?;
        check(
            c.send(&Request::post(
                format!("/v1/invoices/{}/cancel", invoice_id(n_line)),
                k(n_line),
                load::LINE_CANCEL_BODY,
            )),
            "line cancel",
        )?;
        check(
            c.send(&Request::post(
                format!("/v1/invoices/{}/void", invoice_id(n_void)),
                k(n_void),
                load::VOID_BODY,
            )),
            "void",
        )?;
    }
    psql("ALTER DATABASE bench RESET log_statement")?;
    let log = std::fs::read(&log_path).map_err(|e| e.to_string())?;
    let log = String::from_utf8_lossy(&log[log_start as usize..]).into_owned();
    let txs = capture::transactions(&capture::parse_log(&log));
    let get_tx = capture::find_read(&txs, &invoice_id(n_get)).ok_or("GET transaction not found in the log")?;
    let full_tx = capture::find_write(&txs, &invoice_id(n_full)).ok_or("full cancel not found in the log")?;
    let line_tx = capture::find_write(&txs, &invoice_id(n_line)).ok_or("line cancel not found in the log")?;
    let void_tx = capture::find_write(&txs, &invoice_id(n_void)).ok_or("void not found in the log")?;
    results.statements = vec![
        ("GET invoice".into(), get_tx.clone()),
        ("full cancel".into(), full_tx.clone()),
        ("line cancel".into(), line_tx.clone()),
        ("void".into(), void_tx.clone()),
    ];
    let script = capture::pgbench_script(
        &Captured {
            n: n_full,
            statements: full_tx,
        },
        seed::TENANTS,
        seeded.first_tenant,
    );
    let script_path = work.join("full-cancel.pgbench");
    std::fs::write(&script_path, &script).map_err(|e| e.to_string())?;
    results.script = script;
    let bench = pgbench::PgBench {
        cluster: &cluster,
        dbname: "bench",
        script: script_path,
        work: work.to_path_buf(),
    };

    // 2. Check the script: one transaction must leave an invoice exactly as the server left its own.
    let n_chk = supply.take().ok_or("no invoices")?;
    bench.run(pgbench::Run {
        clients: 1,
        duration: Duration::from_secs(1),
        rate: None,
        transactions: Some(1),
        base: n_chk,
        last: n_chk,
    })?;
    let (a, b) = (
        signature(&cluster, &seeded, n_full)?,
        signature(&cluster, &seeded, n_chk)?,
    );
    if a != b {
        return Err(format!(
            "the pgbench script does not do what the server does:\nserver:  {a}\npgbench: {b}"
        ));
    }
    results.script_check = a;
    say("pgbench script reproduces the server's full cancel");

    // 3. The ceiling: sweep pgbench clients, then a full run at the peak.
    let mut guess = 3000.0_f64;
    let mut best = 0.0_f64;
    let reserve_for = |clients: usize, secs: f64, rate: f64| -> u64 {
        let per_client = ((rate * secs * 2.0) / clients as f64).ceil() as u64 + 50;
        per_client * clients as u64
    };
    for &c in &plan.sweep {
        let count = reserve_for(c, plan.sweep_duration.as_secs_f64(), guess);
        let Some(range) = supply.reserve(count) else {
            say("not enough invoices left for the sweep");
            break;
        };
        let s = bench.run(pgbench::Run {
            clients: c,
            duration: plan.sweep_duration,
            rate: None,
            transactions: None,
            base: *range.start(),
            last: *range.end(),
        })?;
        say(format!(
            "pgbench c={c}: {:.0} tps p99 {:.2} ms",
            s.throughput(),
            s.ms(0.99)
        ));
        // Later runs reserve for what PostgreSQL actually managed, with headroom.
        best = best.max(s.throughput());
        guess = (best * 1.5).max(200.0);
        results.sweep.push((c, s.throughput(), s.ms(0.99)));
    }
    let peak = results
        .sweep
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(16, |s| s.0);
    results.peak_clients = peak;
    let count = reserve_for(peak, plan.duration.as_secs_f64(), guess);
    let range = supply
        .reserve(count)
        .ok_or("not enough invoices for the pgbench ceiling run")?;
    let ceiling = bench.run(pgbench::Run {
        clients: peak,
        duration: plan.duration,
        rate: None,
        transactions: None,
        base: *range.start(),
        last: *range.end(),
    })?;
    say(format!("pgbench ceiling c={peak}: {:.0} tps", ceiling.throughput()));
    results.rows.push(Row {
        backend: "pgbench".into(),
        scenario: "full cancel (server's SQL)".into(),
        clients: peak,
        pace: "max".into(),
        stats: ceiling.clone(),
        rss_kib: None,
        note: "PostgreSQL's ceiling".into(),
    });
    results.pg_ceiling = Some(ceiling);

    // 4. The server at the same concurrency.
    // Durable commits wait for the WAL flush: only as many transactions can
    // share one flush (group commit) as the pool lets run, so the pool gets
    // PostgreSQL's peak concurrency unless told otherwise.
    let pool = plan.pool_size.unwrap_or(peak as u32);
    results.pg_pool = pool;
    let server = Server::start(bin, &url, pool, &work.join("server-pg.log"))?;
    let target = Arc::new(Target {
        addr: server.addr,
        seeded: seeded.clone(),
        supply: Arc::clone(&supply),
    });
    // Warm up connections and caches (reads only).
    load::run(&target, Op::Get, peak, Duration::from_secs(1), Pace::Max);
    let be = "postgres";
    scenario(
        results,
        be,
        &server,
        &target,
        Op::Healthz,
        peak,
        plan.duration,
        Pace::Max,
        None,
    );
    max_and_half(results, be, &server, &target, Op::Get, peak, plan, None);
    let (full_max, _) = max_and_half(results, be, &server, &target, Op::FullCancel, peak, plan, None);
    // pgbench at the same fixed rate as the server's half-max run.
    let rate = (full_max.throughput() / 2.0).max(1.0);
    let count = reserve_for(peak, plan.rate_duration.as_secs_f64(), rate);
    if let Some(range) = supply.reserve(count) {
        let s = bench.run(pgbench::Run {
            clients: peak,
            duration: plan.rate_duration,
            rate: Some(rate),
            transactions: None,
            base: *range.start(),
            last: *range.end(),
        })?;
        say(format!("pgbench @ {rate:.0}/s: p99 {:.2} ms", s.ms(0.99)));
        results.rows.push(Row {
            backend: "pgbench".into(),
            scenario: "full cancel (server's SQL)".into(),
            clients: peak,
            pace: format!("@ {rate:.0}/s"),
            stats: s.clone(),
            rss_kib: None,
            note: "same rate as the server's half-max run".into(),
        });
        results.pg_at_rate = Some((rate, s));
    }
    max_and_half(results, be, &server, &target, Op::LineCancel, peak, plan, None);
    max_and_half(results, be, &server, &target, Op::Void, peak, plan, None);
    max_and_half(results, be, &server, &target, Op::Mix, peak, plan, None);
    for (i, (label, size, _)) in seeded.listing.iter().enumerate() {
        max_and_half(
            results,
            be,
            &server,
            &target,
            Op::List(i),
            peak,
            plan,
            Some(format!("GET /v1/invoices?limit=50 ({size} in tenant, {label})")),
        );
    }
    hot_spot(results, be, &server, &target, &hot);
    Ok(())
}

/// Takes the hot spot's invoices before anything else can use them up.
fn reserve_hot_spot(supply: &Supply, plan: &Plan) -> Vec<u64> {
    (0..plan.hot_rounds * 10).map_while(|_| supply.take()).collect()
}

fn hot_spot(results: &mut Results, backend: &str, server: &Server, target: &Arc<Target>, reserved: &[u64]) {
    server.reset_peak_rss();
    let h = load::hot_spot(target, 32, 10, reserved);
    let note = format!(
        "{} rounds: {} × 200 (expected {}), {} × 409, {} rounds without exactly one winner per invoice",
        h.rounds,
        h.winners,
        10 * h.rounds,
        h.refusals,
        h.bad_rounds
    );
    say(format!("{backend} hot spot: {note}"));
    if h.bad_rounds > 0 || h.winners != 10 * h.rounds {
        results.hot_spot_failures.push(format!("{backend}: {note}"));
    }
    results.rows.push(Row {
        backend: backend.into(),
        scenario: "hot spot: 32 clients cancel the same 10 invoices".into(),
        clients: 32,
        pace: "max".into(),
        stats: h.stats,
        rss_kib: server.peak_rss_kib(),
        note,
    });
}

fn sqlite(plan: &Plan, bin: &Path, work: &Path, results: &mut Results) -> Result<(), String> {
    let path = work.join("bench.db");
    let url = format!("sqlite://{}", path.display());
    say(format!("seeding SQLite with {} invoices", plan.invoices));
    let db = Database::open(
        &url,
        PoolConfig {
            max_size: 1,
            ..PoolConfig::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let seeded = seed::seed(&db, plan.invoices, &[]).map_err(|e| e.to_string())?;
    drop(db);
    results.sqlite_seed_seconds = seeded.seconds;
    say(format!("seeded in {:.0} s", seeded.seconds));
    let supply = Arc::new(Supply::new(seeded.invoices));
    let hot = reserve_hot_spot(&supply, plan);
    let pool = plan.pool_size.unwrap_or(plan.cores as u32);
    results.sqlite_pool = pool;
    let server = Server::start(bin, &url, pool, &work.join("server-sqlite.log"))?;
    validate_seed(server.addr, &seeded, &supply)?;
    let target = Arc::new(Target {
        addr: server.addr,
        seeded,
        supply,
    });
    let c = plan.sqlite_clients;
    load::run(&target, Op::Get, c, Duration::from_secs(1), Pace::Max);
    let be = "sqlite";
    for op in [Op::FullCancel, Op::LineCancel, Op::Void, Op::Mix] {
        max_and_half(results, be, &server, &target, op, c, plan, None);
    }
    hot_spot(results, be, &server, &target, &hot);
    Ok(())
}

/// The generated section of `docs/performance.md`.
fn render(plan: &Plan, opts: &Opts, r: &Results, elapsed: Duration) -> String {
    let mut s = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    let _ = writeln!(
        s,
        "### Latest run\n\n{} run on {}: {} cores ({cpu}), {mem} memory; took {:.0} s.\n",
        if opts.quick { "Quick (smoke)" } else { "Full" },
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        plan.cores,
        elapsed.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "Data: {} open invoices with {} lines each over {} tenants; listing tenants of {} and {} invoices. \
         Seeding took {:.0} s on PostgreSQL and {:.0} s on SQLite.\n\n\
         Runs: {} s at maximum throughput (closed loop), then {} s at half that rate (open loop, \
         Poisson arrivals like pgbench `-R`, latency from the intended send time); pgbench sweep points of {} s. \
         Server: release build, `--pool-size {}` on PostgreSQL and {} on SQLite, one HTTP worker per core, \
         rate limit off, `RUST_LOG=warn`, JSON logs.\n",
        plan.invoices,
        seed::LINES,
        seed::TENANTS,
        plan.list_small,
        plan.list_large,
        r.pg_seed_seconds,
        r.sqlite_seed_seconds,
        plan.duration.as_secs(),
        plan.rate_duration.as_secs(),
        plan.sweep_duration.as_secs(),
        r.pg_pool,
        r.sqlite_pool
    );
    if !r.pg_version.is_empty() {
        let settings: Vec<String> = r
            .pg_settings
            .iter()
            .map(|(k, v)| format!("`{k}={}`", v.trim()))
            .collect();
        let _ = writeln!(
            s,
            "PostgreSQL {} on a Unix socket, settings: {}; everything else default. \
             SQLite: WAL, `synchronous=NORMAL`, one writer connection.\n",
            r.pg_version,
            settings.join(", ")
        );
    }
    let _ = writeln!(s, "{}", report::table(&r.rows));
    // Ratios and targets.
    let find = |backend: &str, scenario: &str, pace_max: bool| {
        r.rows
            .iter()
            .find(|x| x.backend == backend && x.scenario == scenario && (x.pace == "max") == pace_max)
    };
    let _ = writeln!(s, "#### Against the targets\n");
    let _ = writeln!(s, "| target | goal | measured | met? |\n|---|---|---|---|");
    let mut target = |name: &str, goal: &str, measured: String, met: bool| {
        let _ = writeln!(
            s,
            "| {name} | {goal} | {measured} | {} |",
            if met { "yes" } else { "no" }
        );
    };
    if let (Some(ceiling), Some(full)) = (&r.pg_ceiling, find("postgres", "full cancel", true)) {
        let ratio = full.stats.throughput() / ceiling.throughput().max(1e-9);
        target(
            &format!(
                "R_db: full cancel vs pgbench at its peak ({} clients), durable commits",
                r.peak_clients
            ),
            "≥ 0.8",
            format!(
                "{:.0} ÷ {:.0} = **{ratio:.2}**",
                full.stats.throughput(),
                ceiling.throughput()
            ),
            ratio >= 0.8,
        );
    }
    if let (Some(get), Some(health)) = (
        find("postgres", "GET invoice", true),
        find("postgres", "GET /healthz", true),
    ) {
        let ratio = get.stats.throughput() / health.stats.throughput().max(1e-9);
        target(
            "R_http: GET invoice vs `GET /healthz`",
            "≥ 0.5",
            format!(
                "{:.0} ÷ {:.0} = **{ratio:.2}**",
                get.stats.throughput(),
                health.stats.throughput()
            ),
            ratio >= 0.5,
        );
    }
    if let (Some((rate, pgb)), Some(full)) = (&r.pg_at_rate, find("postgres", "full cancel", false)) {
        let ratio = full.stats.ms(0.99) / pgb.ms(0.99).max(1e-9);
        target(
            &format!("p99 at half the maximum rate ({rate:.0}/s), server vs pgbench at the same rate"),
            "≤ 2×",
            format!(
                "{:.2} ms vs {:.2} ms = **{ratio:.2}×**",
                full.stats.ms(0.99),
                pgb.ms(0.99)
            ),
            ratio <= 2.0,
        );
    }
    if let Some(peak) = r.rows.iter().filter_map(|x| x.rss_kib).max() {
        let mib = peak as f64 / 1024.0;
        target(
            "peak server RSS over all scenarios",
            "≤ 64 MiB",
            format!("**{mib:.1} MiB**"),
            mib <= 64.0,
        );
    }
    let lists: Vec<&Row> = r
        .rows
        .iter()
        .filter(|x| x.backend == "postgres" && x.scenario.starts_with("GET /v1/invoices?limit=50") && x.pace != "max")
        .collect();
    if let [small, large] = lists.as_slice() {
        let ratio = large.stats.ms(0.99) / small.stats.ms(0.99).max(1e-9);
        target(
            &format!(
                "`GET /v1/invoices?limit=50` p99 at a fixed rate, {} vs {} invoices in the tenant (the largest seeded in the time budget)",
                plan.list_large, plan.list_small
            ),
            "≤ 1.5×",
            format!("{:.2} ms vs {:.2} ms = **{ratio:.2}×**", large.stats.ms(0.99), small.stats.ms(0.99)),
            ratio <= 1.5,
        );
    }
    if let Some(sq) = find("sqlite", "full cancel", true) {
        target(
            &format!("SQLite full cancels at {} clients", sq.clients),
            "≥ 3,000/s",
            format!("**{:.0}/s**", sq.stats.throughput()),
            sq.stats.throughput() >= 3000.0,
        );
    }
    for h in r.rows.iter().filter(|x| x.scenario.starts_with("hot spot")) {
        let failed = r
            .hot_spot_failures
            .iter()
            .any(|f| f.starts_with(&format!("{}:", h.backend)));
        target(
            &format!(
                "hot spot on {}: exactly one winner per invoice in every round",
                h.backend
            ),
            "every round",
            h.note.clone(),
            !failed,
        );
    }
    if !r.sweep.is_empty() {
        let _ = writeln!(s, "\n#### pgbench client sweep (finding PostgreSQL's peak)\n");
        let _ = writeln!(s, "| clients | tps | p99 ms |\n|---:|---:|---:|");
        for (c, tps, p99) in &r.sweep {
            let _ = writeln!(s, "| {c} | {tps:.0} | {p99:.2} |");
        }
    }
    if !r.statements.is_empty() {
        let _ = writeln!(
            s,
            "\n#### What the server sends PostgreSQL per request (captured with `log_statement=all`)\n"
        );
        for (what, stmts) in &r.statements {
            let _ = writeln!(s, "**{what}**: {} statements.\n\n```text", stmts.len());
            for st in stmts {
                let sql: String = st.sql.chars().take(110).collect();
                let ell = if st.sql.chars().count() > 110 { " …" } else { "" };
                let _ = writeln!(s, "{:<18} {sql}{ell}", st.kind);
            }
            let _ = writeln!(s, "```\n");
        }
    }
    if !r.script.is_empty() {
        let _ = writeln!(
            s,
            "#### The generated pgbench script\n\n\
             Generated at run time from the captured full cancel above and checked: one pgbench transaction \
             leaves its invoice exactly as the server left its own (`{}`).\n\n```sql\n{}```",
            r.script_check.replace('|', "/"),
            r.script
        );
    }
    s
}
