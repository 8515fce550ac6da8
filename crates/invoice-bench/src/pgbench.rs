//! Runs `pgbench` with the generated script and reads its per-transaction
//! log, so PostgreSQL's own ceiling gets the same percentiles as the server.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use invoice_adapters::testkit::PgCluster;

use crate::load::{new_hist, RunStats};

/// Where pgbench runs and what it runs.
#[derive(Clone)]
pub struct PgBench<'a> {
    /// The cluster.
    pub cluster: &'a PgCluster,
    /// Database name.
    pub dbname: &'a str,
    /// The script file.
    pub script: PathBuf,
    /// Scratch directory for transaction logs.
    pub work: PathBuf,
    /// The first bench tenant (`:first_tenant` in hand-written scripts).
    pub first_tenant: i64,
}

impl PgBench<'_> {
    /// The same setup running `text`, written to `name` in the scratch
    /// directory, since pgbench reads its script from a file.
    pub fn with_script(&self, name: &str, text: &str) -> Result<Self, String> {
        let script = self.work.join(name);
        std::fs::write(&script, text).map_err(|e| e.to_string())?;
        Ok(PgBench { script, ..self.clone() })
    }
}

/// One pgbench run.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Concurrent clients.
    pub clients: usize,
    /// Duration (ignored when `transactions` is set).
    pub duration: Duration,
    /// Fixed total rate (`-R`), if any.
    pub rate: Option<f64>,
    /// Exactly this many transactions per client (`-t`), if set.
    pub transactions: Option<u64>,
    /// First invoice `n`.
    pub base: u64,
    /// Last invoice `n` the run may touch.
    pub last: u64,
}

impl Run {
    /// `clients` running as fast as they can for `duration` on the invoices
    /// `invoices`, the shape of every measured run.
    pub fn flat_out(clients: usize, duration: Duration, invoices: RangeInclusive<u64>) -> Run {
        Run {
            clients,
            duration,
            rate: None,
            transactions: None,
            base: *invoices.start(),
            last: *invoices.end(),
        }
    }

    /// One transaction by one client on invoice `n`, to check what a script
    /// does to a single invoice.
    pub fn once(n: u64) -> Run {
        Run {
            transactions: Some(1),
            ..Run::flat_out(1, Duration::from_secs(1), n..=n)
        }
    }
}

fn pgbench_program(cluster: &PgCluster) -> PathBuf {
    let local = cluster.bin_dir().join("pgbench");
    if local.exists() {
        local
    } else {
        PathBuf::from("pgbench")
    }
}

impl PgBench<'_> {
    /// Runs pgbench and returns committed transactions, errors and latency.
    pub fn run(&self, r: Run) -> Result<RunStats, String> {
        let logs = tempfile::tempdir_in(&self.work).map_err(|e| e.to_string())?;
        let threads = r.clients.clamp(1, 2);
        let mut cmd = Command::new(pgbench_program(self.cluster));
        cmd.arg("-n")
            .args(["-M", "prepared"])
            .arg("-f")
            .arg(&self.script)
            .args(["-c", &r.clients.to_string()])
            .args(["-j", &threads.to_string()])
            .args(["-D", &format!("base={}", r.base)])
            .args(["-D", &format!("clients={}", r.clients)])
            .args(["-D", &format!("last={}", r.last)])
            .args(["-D", "i=0"])
            .args(["-D", &format!("first_tenant={}", self.first_tenant)])
            .arg("-l")
            .arg(format!("--log-prefix={}", logs.path().join("tx").display()))
            .arg("-h")
            .arg(self.cluster.socket_dir())
            .args(["-p", &self.cluster.port().to_string()])
            .args(["-U", "postgres", self.dbname]);
        match r.transactions {
            Some(t) => cmd.args(["-t", &t.to_string()]),
            None => cmd.args(["-T", &r.duration.as_secs().max(1).to_string()]),
        };
        if let Some(rate) = r.rate {
            cmd.args(["-R", &format!("{rate:.0}")]);
        }
        let out = cmd.output().map_err(|e| format!("cannot run pgbench: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("pgbench failed ({}):\n{stdout}\n{stderr}", out.status));
        }
        let field = |name: &str| -> Option<f64> {
            stdout
                .lines()
                .find_map(|l| l.trim().strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        };
        let processed = field("number of transactions actually processed:")
            .map(|v| v as u64)
            .or_else(|| {
                stdout
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("number of transactions actually processed: "))
                    .and_then(|v| v.split('/').next())
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0);
        let failed = field("number of failed transactions:").unwrap_or(0.0) as u64;
        let tps = field("tps =").unwrap_or(0.0);
        let mut hist = new_hist();
        read_logs(logs.path(), &mut hist)?;
        let seconds = if tps > 0.0 { processed as f64 / tps } else { 0.0 };
        Ok(RunStats {
            ok: processed,
            errors: failed,
            error_statuses: Default::default(),
            seconds,
            hist,
            exhausted: false,
        })
    }
}

/// Reads `client tx latency_us script epoch epoch_us [lag]` lines.
fn read_logs(dir: &Path, hist: &mut hdrhistogram::Histogram<u64>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let text = std::fs::read_to_string(entry.map_err(|e| e.to_string())?.path()).map_err(|e| e.to_string())?;
        for line in text.lines() {
            if let Some(us) = line.split_whitespace().nth(2).and_then(|v| v.parse::<u64>().ok()) {
                hist.saturating_record(us.max(1));
            }
        }
    }
    Ok(())
}
