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
    /// WAL written by a run: (what, profile, requests).
    wal: Vec<(String, WalProfile, u64)>,
    sweep: Vec<(usize, f64, f64)>,
    peak_clients: usize,
    pg_ceiling: Option<RunStats>,
    pg_at_rate: Option<(f64, RunStats)>,
    statements: Vec<(String, Vec<capture::Logged>)>,
    script: String,
    read_script: String,
    pg_lean: Option<RunStats>,
    pg_read: Option<RunStats>,
    script_check: String,
    pg_version: String,
    pg_seed_seconds: f64,
    sqlite_seed_seconds: f64,
    pg_settings: Vec<(&'static str, &'static str)>,
    pg_pool: u32,
    sqlite_pool: u32,
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
        && v["number"] == seed::invoice_number(n)
        && v["serial"] == n
        && v["external_reference"] == format!("SUP-{n}")
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

/// The printed numbers a cancel leaves: the invoice's, as seeded, on its
/// credit note, and the credit note's own in the default format.
const NUMBERS: &str = "i.number = 'INV-' || lpad(i.number_seq::text, greatest(6, length(i.number_seq::text)), '0'), \
     (SELECT string_agg((c.invoice_number = i.number)::text || '/' || (c.number ~ '^CN-[0-9]{6,}$')::text, ',') \
      FROM credit_notes c WHERE c.tenant_id = i.tenant_id AND c.invoice_id = i.id)";

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
                 (SELECT string_agg(event_type || '/' || invoice_version, ',' ORDER BY seq) FROM events e WHERE e.tenant_id = i.tenant_id AND e.invoice_id = i.id), \
                 (SELECT string_agg(v.version || ':' || v.format, ',' ORDER BY v.version) FROM invoice_versions v WHERE v.tenant_id = i.tenant_id AND v.invoice_id = i.id), \
                 (SELECT bool_and(strpos(v.body, '\"number\":\"' || i.number || '\"') > 0 AND strpos(v.body, '\"serial\":' || i.serial || ',') > 0) FROM invoice_versions v WHERE v.tenant_id = i.tenant_id AND v.invoice_id = i.id AND v.version >= 2), \
                 {NUMBERS} \
                 FROM invoices i WHERE i.tenant_id = {t} AND i.id = '{id}'"
            ),
        )
        .map(|s| s.trim().to_string())
        .map_err(|e| e.to_string())
}

/// What the lean reference must leave too: the cancel's effect on the
/// invoice, its lines, credit note and events (not version rows, which the
/// lean reference does not keep).
fn lean_signature(cluster: &PgCluster, seeded: &Seeded, n: u64) -> Result<String, String> {
    let (t, id) = (seeded.tenant_of(n), invoice_id(n));
    cluster
        .psql(
            "bench",
            &format!(
                "SELECT i.status, i.version, i.collection_halted, i.cancellation IS NOT NULL, \
                 (SELECT string_agg(status || ':' || credited_gross, ',' ORDER BY position) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id), \
                 (SELECT count(*) || ':' || sum(total) FROM credit_notes c WHERE c.tenant_id = i.tenant_id AND c.invoice_id = i.id), \
                 (SELECT count(*) || ':' || sum(cl.gross) FROM credit_note_lines cl JOIN credit_notes c ON c.tenant_id = cl.tenant_id AND c.id = cl.credit_note_id WHERE c.tenant_id = i.tenant_id AND c.invoice_id = i.id), \
                 (SELECT string_agg(event_type || '/' || invoice_version, ',' ORDER BY event_type) FROM events e WHERE e.tenant_id = i.tenant_id AND e.invoice_id = i.id AND e.invoice_version = i.version), \
                 {NUMBERS} \
                 FROM invoices i WHERE i.tenant_id = {t} AND i.id = '{id}'"
            ),
        )
        .map(|s| s.trim().to_string())
        .map_err(|e| e.to_string())
}

/// The current WAL position, as text (`0/1A2B3C4`).
fn wal_lsn(cluster: &PgCluster) -> Result<String, String> {
    cluster
        .psql("bench", "SELECT pg_current_wal_lsn()")
        .map(|s| s.trim().to_string())
        .map_err(|e| e.to_string())
}

/// What PostgreSQL wrote to the WAL between two positions, by
/// `pg_waldump --stats`: all of it, the full-page images in it, and both
/// per resource manager (Heap, Btree, …), in bytes.
#[derive(Debug, Clone, Default)]
pub struct WalProfile {
    total: f64,
    fpi: f64,
    by_rmgr: Vec<(String, f64, f64)>,
}

impl WalProfile {
    /// `WAL 9.1 KiB/request, full-page images 5.0 KiB (Heap 6.0/3.9, …)`.
    fn describe(&self, requests: u64) -> String {
        let per = |b: f64| b / (requests.max(1) as f64) / 1024.0;
        let mut top = self.by_rmgr.clone();
        top.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top: Vec<String> = top
            .iter()
            .take(3)
            .map(|(name, all, fpi)| format!("{name} {:.1}/{:.1}", per(*all), per(*fpi)))
            .collect();
        format!(
            "WAL {:.1} KiB/request, of which full-page images {:.1} KiB (by kind, all/images: {})",
            per(self.total),
            per(self.fpi),
            top.join(", ")
        )
    }
}

fn wal_profile(cluster: &PgCluster, from: &str, to: &str) -> Result<WalProfile, String> {
    let dir = cluster
        .psql("bench", "SHOW data_directory")
        .map_err(|e| e.to_string())?
        .trim()
        .to_string();
    let out = std::process::Command::new(cluster.bin_dir().join("pg_waldump"))
        .args(["--stats", "-p", &format!("{dir}/pg_wal"), "-s", from, "-e", to])
        .output()
        .map_err(|e| format!("pg_waldump: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut profile = WalProfile::default();
    let mut total_seen = false;
    for line in text.lines() {
        // Drop the percentages in (…) and […], keep the name and the counts.
        let mut kept = String::new();
        let mut depth = 0;
        for ch in line.chars() {
            match ch {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                _ if depth == 0 => kept.push(ch),
                _ => {}
            }
        }
        let mut words = kept.split_whitespace();
        let Some(name) = words.next() else { continue };
        let numbers: Vec<f64> = words.filter_map(|w| w.parse().ok()).collect();
        // N, record size, [FPI count,] FPI size, combined size.
        if numbers.len() < 4 {
            continue;
        }
        let (fpi, all) = (numbers[numbers.len() - 2], numbers[numbers.len() - 1]);
        if name == "Total" {
            profile.total = all;
            profile.fpi = fpi;
            total_seen = true;
        } else if all > 0.0 {
            profile.by_rmgr.push((name.to_string(), all, fpi));
        }
    }
    if !total_seen {
        return Err(format!(
            "pg_waldump gave no totals: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(profile)
}

/// Puts the WAL profile into the note of the max-throughput row of `scenario`.
/// Runs `script`, says its throughput and records it as a pgbench row with
/// the WAL it wrote; the labels are what the run is called, its name in the
/// WAL table, its scenario and its note's start.
fn wal_run(
    results: &mut Results,
    cluster: &PgCluster,
    script: &pgbench::PgBench,
    run: pgbench::Run,
    (what, name, scenario, note): (&str, &str, &str, &str),
) -> Result<RunStats, String> {
    let lsn0 = wal_lsn(cluster)?;
    let stats = script.run(run)?;
    let wal = wal_profile(cluster, &lsn0, &wal_lsn(cluster)?)?;
    say(format!("{what} c={}: {:.0} tps", run.clients, stats.throughput()));
    results.wal.push((name.into(), wal.clone(), stats.ok));
    results.rows.push(Row {
        backend: "pgbench".into(),
        scenario: scenario.into(),
        clients: run.clients,
        pace: "max".into(),
        stats: stats.clone(),
        rss_kib: None,
        note: format!("{note}; {}", wal.describe(stats.ok)),
    });
    Ok(stats)
}

fn note_wal(results: &mut Results, scenario: &str, wal: &WalProfile, requests: u64) {
    if let Some(row) = results
        .rows
        .iter_mut()
        .rev()
        .find(|r| r.backend == "postgres" && r.scenario == scenario && r.pace == "max")
    {
        row.note = format!("{}; {}", wal.describe(requests), row.note)
            .trim_end_matches("; ")
            .to_string();
    }
}

/// The hand-written lean reference script (kept in the repository).
const LEAN_SCRIPT: &str = include_str!("../sql/lean-full-cancel.pgbench");

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
    psql(capture::BENCH_NUMBER_FUNCTION)?;
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
        for (what, request) in [
            (
                "GET",
                Request::get(format!("/v1/invoices/{}", invoice_id(n_get)), Some(k(n_get))),
            ),
            ("full cancel", load::cancel_request(&seeded, n_full)),
            (
                "line cancel",
                Request::post(
                    format!("/v1/invoices/{}/cancel", invoice_id(n_line)),
                    k(n_line),
                    load::LINE_CANCEL_BODY,
                ),
            ),
            (
                "void",
                Request::post(
                    format!("/v1/invoices/{}/void", invoice_id(n_void)),
                    k(n_void),
                    load::VOID_BODY,
                ),
            ),
        ] {
            check(c.send(&request), what)?;
        }
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
    let read_script = capture::pgbench_read_script(
        &Captured {
            n: n_get,
            statements: get_tx,
        },
        seed::TENANTS,
        seeded.first_tenant,
    );
    // What the three scripts share; each gets its own file by with_script.
    let setup = pgbench::PgBench {
        cluster: &cluster,
        dbname: "bench",
        script: PathBuf::new(),
        work: work.to_path_buf(),
        first_tenant: seeded.first_tenant,
    };
    let bench = setup.with_script("full-cancel.pgbench", &script)?;
    let lean = setup.with_script("lean-full-cancel.pgbench", LEAN_SCRIPT)?;
    let reads = setup.with_script("get.pgbench", &read_script)?;
    results.script = script;
    results.read_script = read_script;

    // 2. Check the script: one transaction must leave an invoice exactly as the server left its own.
    // Runs one transaction of `script` on a fresh invoice: what `sign` says of
    // the server's invoice, and of the script's.
    let run_once = |script: &pgbench::PgBench, sign: fn(&PgCluster, &Seeded, u64) -> Result<String, String>| {
        let n = supply.take().ok_or("no invoices")?;
        script.run(pgbench::Run::once(n))?;
        Ok::<_, String>((sign(&cluster, &seeded, n_full)?, sign(&cluster, &seeded, n)?))
    };
    let (a, b) = run_once(&bench, signature)?;
    if a != b {
        return Err(format!(
            "the pgbench script does not do what the server does:\nserver:  {a}\npgbench: {b}"
        ));
    }
    results.script_check = a;
    say("pgbench script reproduces the server's full cancel");
    let (a, b) = run_once(&lean, lean_signature)?;
    if a != b {
        return Err(format!(
            "the lean reference does not cancel like the server:\nserver: {a}\nlean:   {b}"
        ));
    }
    say("the lean reference cancels like the server");

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
        let s = bench.run(pgbench::Run::flat_out(c, plan.sweep_duration, range))?;
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
    // At the peak: the server's SQL, then the lean reference, which runs
    // faster and so reserves twice the invoices.
    let mut full = Vec::with_capacity(2);
    for (script, headroom, labels) in [
        (
            &bench,
            1.0,
            (
                "pgbench ceiling",
                "server's SQL (pgbench, seeded invoices)",
                "full cancel (server's SQL)",
                "PostgreSQL's ceiling",
            ),
        ),
        (
            &lean,
            2.0,
            (
                "lean reference",
                "lean reference (pgbench)",
                "full cancel (lean reference)",
                "hand-written minimum",
            ),
        ),
    ] {
        let count = reserve_for(peak, plan.duration.as_secs_f64(), guess * headroom);
        let range = supply
            .reserve(count)
            .ok_or_else(|| format!("not enough invoices for the {} run", labels.0))?;
        let run = pgbench::Run::flat_out(peak, plan.duration, range);
        full.push(wal_run(results, &cluster, script, run, labels)?);
    }
    let mut full = full.into_iter();
    results.pg_ceiling = full.next();
    results.pg_lean = full.next();
    let read_stats = reads.run(pgbench::Run::flat_out(peak, plan.duration, 1..=seeded.invoices))?;
    say(format!("pgbench GET c={peak}: {:.0} tps", read_stats.throughput()));
    results.rows.push(Row {
        backend: "pgbench".into(),
        scenario: "GET invoice (server's SQL)".into(),
        clients: peak,
        pace: "max".into(),
        stats: read_stats.clone(),
        rss_kib: None,
        note: "PostgreSQL's read ceiling".into(),
    });
    results.pg_read = Some(read_stats);

    // 4. The server at the same concurrency.
    // Durable commits wait for the WAL flush: only as many transactions can
    // share one flush (group commit) as the pool lets run, so the pool gets
    // PostgreSQL's peak concurrency unless told otherwise.
    let pool = plan.pool_size.unwrap_or(peak as u32);
    results.pg_pool = pool;
    let server = Server::start(bin, &url, pool, &work.join("server-pg.log"))?;
    // Users' invoices: made through the API (create, finalize), then a
    // checkpoint, as the seeded ones had; cancelled beside the seeded ones.
    let made_count = (plan.duration.as_secs_f64() * 1_500.0) as u64;
    say(format!("making {made_count} invoices through the API"));
    let made = load::make_through_api(server.addr, &seeded, made_count, peak)?;
    psql("VACUUM ANALYZE")?;
    psql("CHECKPOINT")?;
    let target = Arc::new(Target {
        addr: server.addr,
        seeded: seeded.clone(),
        supply: Arc::clone(&supply),
        made: Arc::new(load::Made::new(made)),
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
    // Users' invoices first, then seeded ones, the same request at the same
    // concurrency; what each writes to the WAL (and how much of it are
    // full-page images) tells the two apart.
    let lsn0 = wal_lsn(&cluster)?;
    let made_max = scenario(
        results,
        be,
        &server,
        &target,
        Op::FullCancelMade,
        peak,
        plan.duration,
        Pace::Max,
        None,
    );
    let made_wal = wal_profile(&cluster, &lsn0, &wal_lsn(&cluster)?)?;
    results
        .wal
        .push(("users' invoices".into(), made_wal.clone(), made_max.ok));
    note_wal(
        results,
        "full cancel (invoices made through the API)",
        &made_wal,
        made_max.ok,
    );
    let lsn0 = wal_lsn(&cluster)?;
    let full_max = scenario(
        results,
        be,
        &server,
        &target,
        Op::FullCancel,
        peak,
        plan.duration,
        Pace::Max,
        None,
    );
    let full_wal = wal_profile(&cluster, &lsn0, &wal_lsn(&cluster)?)?;
    results
        .wal
        .push(("seeded invoices".into(), full_wal.clone(), full_max.ok));
    note_wal(results, "full cancel", &full_wal, full_max.ok);
    let half = (full_max.throughput() / 2.0).max(1.0);
    scenario(
        results,
        be,
        &server,
        &target,
        Op::FullCancel,
        peak,
        plan.rate_duration,
        Pace::Rate(half),
        None,
    );
    // pgbench at the same fixed rate as the server's half-max run.
    let rate = (full_max.throughput() / 2.0).max(1.0);
    let count = reserve_for(peak, plan.rate_duration.as_secs_f64(), rate);
    if let Some(range) = supply.reserve(count) {
        let s = bench.run(pgbench::Run {
            rate: Some(rate),
            ..pgbench::Run::flat_out(peak, plan.rate_duration, range)
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

/// "met" or the gap to a target that a figure must reach.
fn met(value: f64, goal: f64) -> String {
    if value >= goal {
        "met".into()
    } else {
        format!("not met, {:.0} % short", (1.0 - value / goal) * 100.0)
    }
}

/// The SQLite full cancel without the group commit.
const SQLITE_ALONE: &str = "full cancel, each write its own transaction (`--sqlite-write-batch 1`)";

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
    let c = plan.sqlite_clients;
    let be = "sqlite";
    // The reference for the group commit, in the same run: every write its
    // own transaction, as before batching.
    {
        let alone = Server::start_with(
            bin,
            &url,
            pool,
            &work.join("server-sqlite-alone.log"),
            &[("INVOICE_SQLITE_WRITE_BATCH", "1")],
        )?;
        validate_seed(alone.addr, &seeded, &supply)?;
        let target = Arc::new(Target {
            addr: alone.addr,
            seeded: seeded.clone(),
            supply: Arc::clone(&supply),
            made: Arc::new(load::Made::default()),
        });
        load::run(&target, Op::Get, c, Duration::from_secs(1), Pace::Max);
        scenario(
            results,
            be,
            &alone,
            &target,
            Op::FullCancel,
            c,
            plan.duration,
            Pace::Max,
            Some(SQLITE_ALONE.into()),
        );
    }
    let server = Server::start(bin, &url, pool, &work.join("server-sqlite.log"))?;
    validate_seed(server.addr, &seeded, &supply)?;
    let target = Arc::new(Target {
        addr: server.addr,
        seeded,
        supply,
        made: Arc::new(load::Made::default()),
    });
    load::run(&target, Op::Get, c, Duration::from_secs(1), Pace::Max);
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
    let made = find("postgres", "full cancel (invoices made through the API)", true);
    if let (Some(lean), Some(full)) = (&r.pg_lean, made) {
        let _ = writeln!(
            s,
            "* **R_lean** = full-cancel rps (invoices made through the API) ÷ lean reference tps at {} clients = \
             {:.0} ÷ {:.0} = **{:.2}** (target ≥ 0.7: {}).",
            r.peak_clients,
            full.stats.throughput(),
            lean.throughput(),
            full.stats.throughput() / lean.throughput().max(1e-9),
            met(full.stats.throughput() / lean.throughput().max(1e-9), 0.7)
        );
    }
    if let (Some(ceiling), Some(full)) = (&r.pg_ceiling, find("postgres", "full cancel", true)) {
        let ratio = full.stats.throughput() / ceiling.throughput().max(1e-9);
        let _ = writeln!(
            s,
            "* **R_db** = full-cancel rps (seeded invoices, as the script) ÷ pgbench tps on the server's SQL at {} clients = \
             {:.0} ÷ {:.0} = **{ratio:.2}** (target ≥ 0.85: {}).",
            r.peak_clients,
            full.stats.throughput(),
            ceiling.throughput(),
            met(ratio, 0.85)
        );
    }
    if let (Some(made), Some(full)) = (made, find("postgres", "full cancel", true)) {
        let _ = writeln!(
            s,
            "* **Users' invoices**: full cancels of invoices made through the API {:.0}/s vs seeded {:.0}/s = **{:.2}×**.",
            made.stats.throughput(),
            full.stats.throughput(),
            made.stats.throughput() / full.stats.throughput().max(1e-9)
        );
    }
    for (what, wal, requests) in &r.wal {
        let _ = writeln!(s, "* **WAL, full cancel, {what}**: {}.", wal.describe(*requests));
    }
    if let (Some(read), Some(get)) = (&r.pg_read, find("postgres", "GET invoice", true)) {
        let _ = writeln!(
            s,
            "* **R_read** = GET rps ÷ pgbench tps on the server's GET SQL at {} clients = {:.0} ÷ {:.0} = **{:.2}** \
             (target ≥ 0.7: {}).",
            r.peak_clients,
            get.stats.throughput(),
            read.throughput(),
            get.stats.throughput() / read.throughput().max(1e-9),
            met(get.stats.throughput() / read.throughput().max(1e-9), 0.7)
        );
    }
    for l in r
        .rows
        .iter()
        .filter(|x| x.backend == "postgres" && x.scenario.starts_with("GET /v1/invoices?limit=50") && x.pace == "max")
    {
        let _ = writeln!(
            s,
            "* **Listing** {}: **{:.0}/s** (target ≥ 1,500/s: {}).",
            l.scenario.trim_start_matches("GET /v1/invoices?limit=50 "),
            l.stats.throughput(),
            met(l.stats.throughput(), 1500.0)
        );
    }
    if let (Some(get), Some(health)) = (
        find("postgres", "GET invoice", true),
        find("postgres", "GET /healthz", true),
    ) {
        let _ = writeln!(
            s,
            "* **R_http** = GET rps ÷ `/healthz` rps = {:.0} ÷ {:.0} = **{:.2}** (target ≥ 0.5).",
            get.stats.throughput(),
            health.stats.throughput(),
            get.stats.throughput() / health.stats.throughput().max(1e-9)
        );
    }
    if let (Some((rate, pgb)), Some(full)) = (&r.pg_at_rate, find("postgres", "full cancel", false)) {
        let _ = writeln!(
            s,
            "* **p99 at half max** ({rate:.0}/s): server {:.2} ms vs pgbench {:.2} ms = **{:.2}×** (target ≤ 2×).",
            full.stats.ms(0.99),
            pgb.ms(0.99),
            full.stats.ms(0.99) / pgb.ms(0.99).max(1e-9)
        );
    }
    if let Some(peak) = r.rows.iter().filter_map(|x| x.rss_kib).max() {
        let _ = writeln!(
            s,
            "* **Peak server RSS** over all scenarios: **{:.1} MiB** (target ≤ 64 MiB: {}).",
            peak as f64 / 1024.0,
            if peak <= 64 * 1024 { "met" } else { "not met" }
        );
    }
    let lists: Vec<&Row> = r
        .rows
        .iter()
        .filter(|x| x.backend == "postgres" && x.scenario.starts_with("GET /v1/invoices?limit=50") && x.pace != "max")
        .collect();
    if let [small, large] = lists.as_slice() {
        let _ = writeln!(
            s,
            "* **Listing p99** at a fixed rate: {:.2} ms with {} invoices in the tenant, {:.2} ms with {} = **{:.2}×** \
             (target ≤ 1.5×; {} was the largest tenant seeded within the time budget).",
            small.stats.ms(0.99),
            plan.list_small,
            large.stats.ms(0.99),
            plan.list_large,
            large.stats.ms(0.99) / small.stats.ms(0.99).max(1e-9),
            plan.list_large
        );
    }
    if let Some(sq) = find("sqlite", "full cancel", true) {
        let _ = writeln!(
            s,
            "* **SQLite** full cancels at {} clients: **{:.0}/s** (target ≥ 3,000/s: {}).",
            sq.clients,
            sq.stats.throughput(),
            met(sq.stats.throughput(), 3000.0)
        );
        if let Some(alone) = find("sqlite", SQLITE_ALONE, true) {
            let _ = writeln!(
                s,
                "* **SQLite group commit**: full cancels with queued writes sharing a transaction {:.0}/s vs \
                 each write its own transaction {:.0}/s = **{:.2}×**.",
                sq.stats.throughput(),
                alone.stats.throughput(),
                sq.stats.throughput() / alone.stats.throughput().max(1e-9)
            );
        }
    }
    for h in r.rows.iter().filter(|x| x.scenario.starts_with("hot spot")) {
        let _ = writeln!(s, "* **Hot spot** on {}: {}.", h.backend, h.note);
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
    if !r.read_script.is_empty() {
        let _ = writeln!(
            s,
            "#### The lean reference and the GET script\n\n\
             The lean reference is `crates/invoice-bench/sql/lean-full-cancel.pgbench`, written by hand and \
             checked the same way (it must leave the invoice, its lines, credit note and events as the server does). \
             The GET script is generated from the captured GET:\n\n```sql\n{}```\n",
            r.read_script
        );
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
