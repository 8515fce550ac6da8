//! A throwaway PostgreSQL cluster (initdb + pg_ctl in a temp dir, Unix socket only) for tests and benchmarks.
//!
//! The cluster listens on a Unix socket only (`listen_addresses=''`), so the
//! "port" merely names the socket file and never collides with real servers.
//! When the process runs as root (common in containers), `initdb` and
//! `postgres` refuse to run, so the server commands are executed as the
//! `postgres` OS user via `runuser` (or `su` if `runuser` is missing).
//! Unix only; uses nothing but std, `tempfile` and the PostgreSQL binaries.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Settings applied before the caller's, so callers (e.g. benchmarks) can override them.
const DEFAULT_SETTINGS: &[(&str, &str)] = &[("fsync", "off"), ("synchronous_commit", "off")];

/// How many ports to try before giving up on `pg_ctl start`.
const START_ATTEMPTS: u32 = 3;

/// Name of the OS user the server runs as when we are root.
const PG_OS_USER: &str = "postgres";

/// Env var that turns "binaries missing" from a skip into a hard failure.
const REQUIRE_ENV: &str = "INVOICE_REQUIRE_POSTGRES";

/// Finds a directory holding both `initdb` and `pg_ctl`, so tests can run without configuration.
///
/// Looks on `PATH` first (resolving symlinks so that `psql`/`postgres` of the
/// same installation are found next to them), then the highest version under
/// `/usr/lib/postgresql/*/bin`.
pub fn find_pg_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_pg_tools(&dir) {
                // e.g. /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl
                let resolved = std::fs::canonicalize(dir.join("pg_ctl"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|d| has_pg_tools(d));
                return Some(resolved.unwrap_or(dir));
            }
        }
    }
    let mut versioned: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            let bin = entry.path().join("bin");
            has_pg_tools(&bin).then_some((version, bin))
        })
        .collect();
    versioned.sort();
    versioned.pop().map(|(_, bin)| bin)
}

/// Parses "15" or "9.6" into comparable numeric parts.
fn parse_version(name: &str) -> Option<Vec<u64>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// True if `dir` contains executable `initdb` and `pg_ctl`.
fn has_pg_tools(dir: &Path) -> bool {
    ["initdb", "pg_ctl"].iter().all(|tool| is_executable(&dir.join(tool)))
}

/// True if `path` is a regular file (after symlinks) with an execute bit.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Finds an executable by name on `PATH`, then in the usual sbin/bin dirs.
fn find_program(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let fallback = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    path_dirs
        .into_iter()
        .chain(fallback)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// How server-side commands are launched.
#[derive(Debug, Clone)]
enum Runner {
    /// Not root: run the binaries directly.
    Direct,
    /// Root: `runuser -u postgres -- prog args…`.
    Runuser(PathBuf),
    /// Root without runuser: `su postgres -s /bin/sh -c 'prog args…'`.
    Su(PathBuf),
}

/// Decides once per process whether (and how) to drop privileges to `postgres`.
fn runner() -> io::Result<Runner> {
    static RUNNER: OnceLock<Result<Runner, String>> = OnceLock::new();
    RUNNER
        .get_or_init(|| {
            if !running_as_root() {
                return Ok(Runner::Direct);
            }
            let user_exists = Command::new("id")
                .args(["-u", PG_OS_USER])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !user_exists {
                return Err(format!(
                    "running as root, but PostgreSQL refuses to run as root and there is no \
                     '{PG_OS_USER}' OS user to run it as"
                ));
            }
            if let Some(runuser) = find_program("runuser") {
                Ok(Runner::Runuser(runuser))
            } else if let Some(su) = find_program("su") {
                Ok(Runner::Su(su))
            } else {
                Err("running as root, but neither `runuser` nor `su` was found to drop privileges".to_owned())
            }
        })
        .clone()
        .map_err(io::Error::other)
}

/// True if the effective user is root (`id -u` == 0; falls back to `$USER`).
fn running_as_root() -> bool {
    match Command::new("id").arg("-u").stderr(Stdio::null()).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim() == "0",
        _ => std::env::var("USER").is_ok_and(|u| u == "root"),
    }
}

/// Quotes one word for POSIX `sh`.
fn sh_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Joins words into a `sh` command line.
fn sh_join(words: &[String]) -> String {
    words.iter().map(|w| sh_quote(w)).collect::<Vec<_>>().join(" ")
}

/// Borrows a path as UTF-8, which we need to build shell command lines.
fn path_str(path: &Path) -> io::Result<&str> {
    path.to_str().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("non-UTF-8 path: {}", path.display()),
        )
    })
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Quotes an SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Picks a socket "port" from pid + a process-wide counter (only names the socket file).
fn pick_port() -> u16 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = std::process::id()
        .wrapping_mul(7919)
        .wrapping_add(n.wrapping_mul(104_729));
    // 20000..=59999: clear of well-known ports and of the common ephemeral range start.
    u16::try_from(20_000 + mixed % 40_000).unwrap_or(54_321)
}

/// True if a `pg_ctl start` error looks like the chosen port/socket was taken.
fn looks_like_port_clash(err: &io::Error) -> bool {
    let msg = err.to_string();
    [
        "lock file",
        "already in use",
        "could not bind",
        "could not create Unix",
        "shared memory",
    ]
    .iter()
    .any(|needle| msg.contains(needle))
}

/// Turns a finished command into an error carrying its output, if it failed.
fn check_output(what: &str, out: &Output) -> io::Result<()> {
    if out.status.success() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "{what} failed ({}):\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim_end(),
        String::from_utf8_lossy(&out.stderr).trim_end(),
    )))
}

/// A throwaway PostgreSQL cluster in a temp dir, so tests and benchmarks need no external server.
///
/// Dropping it stops the server (`pg_ctl stop -m immediate`) and deletes the directory.
#[derive(Debug)]
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    socket_dir: PathBuf,
    port: u16,
}

impl PgCluster {
    /// Creates and starts a fresh cluster, so a test gets an isolated server; `settings` become `-c key=value` after the defaults.
    ///
    /// Defaults are `fsync=off` and `synchronous_commit=off` (fast tests);
    /// benchmarks override them with e.g. `[("fsync", "on"), ("synchronous_commit", "on")]`.
    pub fn start(settings: &[(&str, &str)]) -> io::Result<PgCluster> {
        let bin = find_pg_bin_dir().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "PostgreSQL binaries (initdb, pg_ctl) not found",
            )
        })?;
        let runner = runner()?;

        // Short path under /tmp: Unix socket paths are limited to ~107 bytes, and
        // /tmp is traversable by the postgres user when we run as root.
        let base = Path::new("/tmp");
        let base = if base.is_dir() {
            base.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new().prefix("pgkit-").tempdir_in(&base)?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        if !matches!(runner, Runner::Direct) {
            let out = Command::new("chown")
                .args(["-R", PG_OS_USER])
                .arg(dir.path())
                .output()?;
            check_output("chown of the cluster directory", &out)?;
        }

        let mut cluster = PgCluster {
            socket_dir: dir.path().to_path_buf(),
            dir,
            bin,
            port: pick_port(),
        };
        cluster.initdb()?;

        let mut attempt = 1;
        loop {
            match cluster.pg_ctl_start(settings) {
                Ok(()) => return Ok(cluster),
                // Only a clash on the socket/lock file/shared memory is worth another port;
                // anything else (e.g. a bad setting) fails the same way every time.
                Err(e) if attempt < START_ATTEMPTS && looks_like_port_clash(&e) => {
                    attempt += 1;
                    cluster.port = pick_port();
                }
                // `cluster` drops here: stop (in case it half-started) and remove the dir.
                Err(e) => return Err(e),
            }
        }
    }

    /// Creates and starts a fresh cluster that also listens on TCP
    /// (`127.0.0.1`, the cluster's port) with TLS on, presenting the PEM
    /// certificate chain `cert_pem` with private key `key_pem`, so tests can
    /// connect with `sslmode=require` or `verify-full`.
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> io::Result<PgCluster> {
        let mut cluster = PgCluster::start(&[])?;
        cluster.stop()?;
        cluster.install_file("server.crt", cert_pem, 0o600)?;
        cluster.install_file("server.key", key_pem, 0o600)?;
        let cert = path_str(&cluster.dir.path().join("server.crt"))?.to_owned();
        let key = path_str(&cluster.dir.path().join("server.key"))?.to_owned();
        let settings = [
            ("listen_addresses", "127.0.0.1"),
            ("ssl", "on"),
            ("ssl_cert_file", cert.as_str()),
            ("ssl_key_file", key.as_str()),
        ];
        let mut attempt = 1;
        loop {
            match cluster.pg_ctl_start(&settings) {
                Ok(()) => return Ok(cluster),
                // A TCP port, unlike a socket name, can be taken by anyone.
                Err(e) if attempt < START_ATTEMPTS && looks_like_port_clash(&e) => {
                    attempt += 1;
                    cluster.port = pick_port();
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes `contents` to `name` in the cluster directory with `mode`,
    /// owned by the OS user the server runs as (PostgreSQL refuses a key
    /// file anyone else can read).
    fn install_file(&self, name: &str, contents: &str, mode: u32) -> io::Result<()> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        if !matches!(runner()?, Runner::Direct) {
            let out = Command::new("chown").arg(PG_OS_USER).arg(&path).output()?;
            check_output("chown of a cluster file", &out)?;
        }
        Ok(())
    }

    /// A libpq URL over TCP to `host` (which must resolve to 127.0.0.1), with
    /// extra libpq parameters such as `sslmode=verify-full&sslrootcert=…`.
    #[must_use]
    pub fn tcp_url(&self, host: &str, dbname: &str, params: &str) -> String {
        let sep = if params.is_empty() { "" } else { "?" };
        format!(
            "postgres://postgres@{host}:{}/{}{sep}{params}",
            self.port,
            percent_encode(dbname)
        )
    }

    /// Builds a command that runs `program args…` as the right OS user.
    fn server_command(&self, program: &str, args: &[String]) -> io::Result<Command> {
        let argv = server_argv(&runner()?, &self.bin, program, args)?;
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).current_dir(self.dir.path()).stdin(Stdio::null());
        Ok(cmd)
    }

    /// Path of the data directory inside the temp dir.
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Path of the server log file.
    fn log_file(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// Runs `initdb` quietly, reporting its output on failure.
    fn initdb(&self) -> io::Result<()> {
        let args = [
            "-D",
            path_str(&self.data_dir())?,
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ]
        .map(str::to_owned);
        let out = self.server_command("initdb", &args)?.output()?;
        check_output("initdb", &out)
    }

    /// Runs `pg_ctl start -w` on the current port, including the server log on failure.
    fn pg_ctl_start(&self, settings: &[(&str, &str)]) -> io::Result<()> {
        // pg_ctl hands `-o` to /bin/sh, so every word is shell-quoted.
        let mut opts = vec![
            "-k".to_owned(),
            path_str(&self.socket_dir)?.to_owned(),
            "-c".to_owned(),
            "listen_addresses=".to_owned(),
            "-p".to_owned(),
            self.port.to_string(),
        ];
        for (key, value) in DEFAULT_SETTINGS.iter().chain(settings) {
            opts.push("-c".to_owned());
            opts.push(format!("{key}={value}"));
        }
        let args = vec![
            "-D".to_owned(),
            path_str(&self.data_dir())?.to_owned(),
            "-l".to_owned(),
            path_str(&self.log_file())?.to_owned(),
            "-w".to_owned(),
            "-t".to_owned(),
            "60".to_owned(),
            "-o".to_owned(),
            sh_join(&opts),
            "start".to_owned(),
        ];
        let out = self.server_command("pg_ctl", &args)?.output()?;
        check_output("pg_ctl start", &out).map_err(|e| {
            let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
            io::Error::other(format!("{e}\n--- server log ---\n{}", log.trim_end()))
        })
    }

    /// Spawns a detached `sh` that stops the server and removes its dir once this process exits.
    fn spawn_exit_watchdog(&self) -> io::Result<()> {
        let stop = server_argv(
            &runner()?,
            &self.bin,
            "pg_ctl",
            &[
                "-D".to_owned(),
                path_str(&self.data_dir())?.to_owned(),
                "stop".to_owned(),
                "-m".to_owned(),
                "immediate".to_owned(),
                "-w".to_owned(),
            ],
        )?;
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            stop = sh_join(&stop),
            dir = sh_quote(path_str(self.dir.path())?),
        );
        Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Own process group: a Ctrl-C aimed at the test run must not kill the watchdog.
            .process_group(0)
            .spawn()
            .map(drop)
    }

    /// Returns a libpq URL that connects over the Unix socket, for Diesel / `PQconnectdb`.
    #[must_use]
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "postgres://postgres@localhost/{}?host={}&port={}",
            percent_encode(dbname),
            percent_encode(&self.socket_dir.to_string_lossy()),
            self.port
        )
    }

    /// Runs SQL through `psql` as superuser, for setup/inspection; returns unaligned, tuples-only stdout.
    pub fn psql(&self, dbname: &str, sql: &str) -> io::Result<String> {
        let local = self.bin.join("psql");
        let program: OsString = if is_executable(&local) {
            local.into_os_string()
        } else {
            "psql".into()
        };
        let out = Command::new(program)
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", "postgres", "-d", dbname, "-c", sql])
            .stdin(Stdio::null())
            .output()?;
        check_output(&format!("psql -d {dbname} -c {sql:?}"), &out)?;
        String::from_utf8(out.stdout).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Creates a database (optionally from a template), so each test can get its own.
    pub fn create_database(&self, name: &str, template: Option<&str>) -> io::Result<()> {
        let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
        if let Some(template) = template {
            let _ = write!(sql, " TEMPLATE {}", quote_ident(template));
        }
        self.psql("postgres", &sql).map(drop)
    }

    /// Directory of the PostgreSQL binaries in use, for running other client tools.
    #[must_use]
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// Directory holding the server's Unix socket, i.e. the libpq `host`.
    #[must_use]
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Port number naming the socket file (`.s.PGSQL.<port>`), i.e. the libpq `port`.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server now (`pg_ctl stop -m fast`), keeping its data, to simulate an outage.
    pub fn stop(&self) -> io::Result<()> {
        let args = [
            "-D".to_owned(),
            path_str(&self.data_dir())?.to_owned(),
            "stop".into(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
        ];
        let out = self.server_command("pg_ctl", &args)?.output()?;
        check_output("pg_ctl stop", &out)
    }

    /// Stops the server the way a crash would (`pg_ctl stop -m immediate`:
    /// no checkpoint, connections cut), keeping its data, so a restart has to
    /// recover from the write-ahead log.
    pub fn crash(&self) -> io::Result<()> {
        let args = [
            "-D".to_owned(),
            path_str(&self.data_dir())?.to_owned(),
            "stop".into(),
            "-m".into(),
            "immediate".into(),
            "-w".into(),
        ];
        let out = self.server_command("pg_ctl", &args)?.output()?;
        check_output("pg_ctl stop -m immediate", &out)
    }

    /// Starts a stopped server again on the same socket, with `settings`.
    pub fn restart(&self, settings: &[(&str, &str)]) -> io::Result<()> {
        self.pg_ctl_start(settings)
    }
}

/// Full argv running `<bin>/<program> args…`, wrapped for the postgres user when root.
fn server_argv(runner: &Runner, bin: &Path, program: &str, args: &[String]) -> io::Result<Vec<String>> {
    let program = path_str(&bin.join(program))?.to_owned();
    let mut inner = vec![program];
    inner.extend(args.iter().cloned());
    Ok(match runner {
        Runner::Direct => inner,
        Runner::Runuser(runuser) => {
            let mut argv = vec![
                path_str(runuser)?.to_owned(),
                "-u".into(),
                PG_OS_USER.into(),
                "--".into(),
            ];
            argv.extend(inner);
            argv
        }
        Runner::Su(su) => vec![
            path_str(su)?.to_owned(),
            PG_OS_USER.into(),
            "-s".into(),
            "/bin/sh".into(),
            "-c".into(),
            sh_join(&inner),
        ],
    })
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let Ok(data) = path_str(&self.data_dir()).map(str::to_owned) else {
            return;
        };
        let args = [
            "-D".to_owned(),
            data,
            "stop".into(),
            "-m".into(),
            "immediate".into(),
            "-w".into(),
        ];
        if let Ok(mut cmd) = self.server_command("pg_ctl", &args) {
            let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        // `self.dir` (TempDir) removes the files after this.
    }
}

/// Returns the process-wide test cluster (started once), or `None` when PostgreSQL is not installed so tests can skip.
///
/// Prints a loud `SKIPPED:` line (straight to stderr, bypassing test output
/// capture) when the binaries are missing.
///
/// # Panics
///
/// If `INVOICE_REQUIRE_POSTGRES=1` and the binaries are missing, or if the
/// cluster fails to start (every call panics with the same error).
///
/// The cluster lives in a `static`, which is never dropped, so its `TempDir`
/// is never auto-deleted; instead a detached watchdog `sh` process stops the
/// server and removes the directory after this process exits.
pub fn shared() -> Option<&'static PgCluster> {
    static SHARED: OnceLock<Result<Option<PgCluster>, String>> = OnceLock::new();
    match SHARED.get_or_init(init_shared) {
        Ok(cluster) => cluster.as_ref(),
        Err(msg) => panic!("{msg}"),
    }
}

/// Starts the shared cluster, or explains why not.
fn init_shared() -> Result<Option<PgCluster>, String> {
    let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1");
    if find_pg_bin_dir().is_none() {
        if required {
            return Err(format!(
                "{REQUIRE_ENV}=1 but PostgreSQL binaries (initdb, pg_ctl) were not found on PATH \
                 or under /usr/lib/postgresql/*/bin"
            ));
        }
        let _ = writeln!(
            io::stderr().lock(),
            "SKIPPED: PostgreSQL binaries (initdb, pg_ctl) not found; PostgreSQL tests did not run"
        );
        return Ok(None);
    }
    let cluster =
        PgCluster::start(&[]).map_err(|e| format!("failed to start the shared PostgreSQL test cluster: {e}"))?;
    if let Err(e) = cluster.spawn_exit_watchdog() {
        let _ = writeln!(
            io::stderr().lock(),
            "WARNING: could not spawn cleanup watchdog for {}: {e}; stop it with `pg_ctl -D {} stop`",
            cluster.dir.path().display(),
            cluster.data_dir().display()
        );
    }
    Ok(Some(cluster))
}
