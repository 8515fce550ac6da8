//! Runs the README quickstart, exactly as written, against a real server
//! process, and checks the admin CLI and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_invoice-server");

/// A server process in a temp dir, killed on drop.
struct Server {
    child: Child,
    key: String,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
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

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("INVOICE_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start invoice-server");
    // Keep draining stdout, so the server never writes into a closed pipe.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(k) = line.split_whitespace().find(|w| w.starts_with("sk_")) {
                let _ = tx.send(k.to_string());
            }
        }
    });
    let key = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server printed a key");
    let deadline = Instant::now() + Duration::from_secs(20);
    // Wait for a real answer: the socket is bound before the server runs.
    while !healthy(port) {
        assert!(Instant::now() < deadline, "server did not start serving");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        key,
        port,
        _dir: dir,
    }
}

fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200")
}

fn readme_quickstart() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let block = readme
        .split("<!-- quickstart:begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- quickstart:end -->").next())
        .expect("README has a quickstart block");
    block
        .lines()
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_quickstart_works_as_written() {
    let server = start();
    // The only change: the port, since tests must not depend on 8080 being free.
    let script = readme_quickstart().replace("localhost:8080", &format!("localhost:{}", server.port));
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -euo pipefail\n{script}"))
        .env("KEY", &server.key)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "quickstart failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"number\":\"INV-000001\""), "{stdout}");
    assert!(stdout.contains("\"number\":\"CN-000001\""), "{stdout}");
    assert!(stdout.contains("\"status\":\"void\""), "{stdout}");
    assert!(stdout.contains("\"type\":\"invoice.voided\""), "{stdout}");
    assert!(!stdout.contains("problem"), "no call failed: {stdout}");
}

#[test]
fn the_admin_cli_creates_tenants_and_keys_that_work() {
    let server = start();
    let url = format!("sqlite://{}/invoice.db", server._dir.path().display());
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).env("DATABASE_URL", &url).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        )
    };
    let (ok, id) = run(&["tenants", "create", "globex", "--name", "Globex"]);
    assert!(ok && id.parse::<i64>().is_ok(), "{id}");
    let (ok, dup) = run(&["tenants", "create", "globex"]);
    assert!(!ok, "a duplicate slug is refused: {dup}");
    let (ok, key) = run(&["keys", "create", "--tenant", "globex", "--scopes", "invoices:read"]);
    assert!(
        ok && key.starts_with("sk_") && !key.contains(char::is_whitespace),
        "{key}"
    );
    let (ok, _) = run(&["keys", "create", "--tenant", "globex", "--scopes", "invoices:admin"]);
    assert!(!ok, "unknown scopes are refused");
    let (ok, _) = run(&["keys", "create", "--tenant", "nobody", "--scopes", "invoices:read"]);
    assert!(!ok, "unknown tenants are refused");
    let (ok, _) = run(&["migrate"]);
    assert!(ok);
    let (ok, doc) = run(&["openapi"]);
    assert!(
        ok && doc.contains("\"openapi\": \"3.1"),
        "{}",
        &doc[..doc.len().min(200)]
    );
    // The new key authenticates against the running server, in its own tenant.
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{}/v1/invoices", server.port))
        .args(["-H", &format!("Authorization: Bearer {key}"), "-H", "X-Tenant: globex"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200");

    // The tenant's credit-note series is a setting; the next credit note draws from it.
    let (ok, shown) = run(&["tenants", "update", "globex", "--credit-note-series", "GS"]);
    assert!(ok && shown.contains("\"credit_note_series\": \"GS\""), "{shown}");
    let (ok, _) = run(&["tenants", "update", "globex", "--credit-note-series", "gs"]);
    assert!(!ok, "a bad series is refused");
    let (ok, _) = run(&["tenants", "update", "nobody", "--credit-note-series", "GS"]);
    assert!(!ok, "unknown tenants are refused");
    let (ok, writer) = run(&[
        "keys",
        "create",
        "--tenant",
        "globex",
        "--scopes",
        "invoices:write,invoices:cancel",
    ]);
    assert!(ok);
    let call = |method: &str, path: &str, body: &str| {
        let out = Command::new("curl")
            .args(["-s", "-X", method, "-H", &format!("Authorization: Bearer {writer}")])
            .args(["-H", "Content-Type: application/json", "-d", body])
            .arg(format!("http://127.0.0.1:{}{path}", server.port))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let created = call(
        "POST",
        "/v1/invoices",
        r#"{"currency": "EUR", "customer": {"id": "c", "name": "C"},
            "lines": [{"description": "x", "quantity": 1, "unit_amount": 100, "tax_rate": "19"}]}"#,
    );
    let id = created.split('"').nth(3).unwrap().to_string();
    call("POST", &format!("/v1/invoices/{id}/finalize"), "");
    let cancelled = call(
        "POST",
        &format!("/v1/invoices/{id}/cancel"),
        r#"{"reason": "duplicate"}"#,
    );
    assert!(cancelled.contains("\"number\":\"GS-000001\""), "{cancelled}");
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = start();
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(code) = server.child.try_wait().unwrap() {
            assert!(code.success(), "exit status {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}
