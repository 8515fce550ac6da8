//! Runs the release `invoice-server` binary as a child process on a free
//! loopback port, and reads its peak memory from `/proc`.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::{Client, Request};

/// A running server.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `bin` on `database_url` and waits until `/healthz` answers.
    pub fn start(bin: &Path, database_url: &str, pool_size: u32, log: &Path) -> Result<Server, String> {
        Server::start_with(bin, database_url, pool_size, log, &[])
    }

    /// [`Server::start`] with extra environment variables (server settings).
    pub fn start_with(
        bin: &Path,
        database_url: &str,
        pool_size: u32,
        log: &Path,
        env: &[(&str, &str)],
    ) -> Result<Server, String> {
        // Ask the kernel for a free port, then hand it over (loopback only).
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_file = std::fs::File::create(log).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .args(["--database-url", database_url])
            .args(["--bind", &addr.to_string()])
            .args(["--pool-size", &pool_size.to_string()])
            .args(["--log-format", "json"])
            .env("RUST_LOG", "warn")
            // Measure the server, not its per-key rate limiter (0 disables it).
            .env("INVOICE_RATE_LIMIT", "0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut client = Client::new(addr);
        loop {
            if let Ok(r) = client.send(&Request::get("/healthz".into(), None)) {
                if r.status == 200 {
                    return Ok(server);
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!("server exited with {status}: {text}"));
            }
            if Instant::now() > deadline {
                server.stop();
                return Err("server did not become healthy within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resets the kernel's peak-RSS mark so the next reading covers one scenario.
    pub fn reset_peak_rss(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// Peak resident set size (VmHWM) in KiB since start or the last reset.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Stops the server (it was started by us; SIGKILL is fine for a benchmark).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
