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
    let (ok, shown) = run(&[
        "tenants",
        "update",
        "globex",
        "--void-credit-note",
        "never",
        "--apply-credit-balance",
        "true",
    ]);
    assert!(
        ok && shown.contains("\"void_credit_note\": \"never\"") && shown.contains("\"apply_credit_balance\": true"),
        "{shown}"
    );
    assert!(
        shown.contains("\"credit_note_series\": \"GS\""),
        "other settings are kept: {shown}"
    );
    let (ok, _) = run(&["tenants", "update", "globex", "--void-credit-note", "sometimes"]);
    assert!(!ok, "an unknown policy is refused");
    let (ok, shown) = run(&[
        "tenants",
        "update",
        "globex",
        "--invoice-number-format",
        "RE-{YYYY}-{SEQ:5}",
        "--credit-note-number-format",
        "GS-{YYYY}{MM}-{SEQ:4}",
    ]);
    assert!(
        ok && shown.contains("\"invoice_number_format\": \"RE-{YYYY}-{SEQ:5}\"")
            && shown.contains("\"credit_note_number_format\": \"GS-{YYYY}{MM}-{SEQ:4}\""),
        "{shown}"
    );
    let (ok, _) = run(&[
        "tenants",
        "update",
        "globex",
        "--invoice-number-format",
        "RE-{DD}-{SEQ}",
    ]);
    assert!(!ok, "a format whose numbers would repeat is refused");
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
    // The credit note is numbered in the GS series, by the month format set above.
    let number = cancelled
        .split("\"credit_notes\":[{")
        .nth(1)
        .and_then(|rest| rest.split("\"number\":\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    let (prefix, month, seq) = (number.get(..3), number.get(3..9), number.get(9..));
    assert_eq!((prefix, seq), (Some("GS-"), Some("-0001")), "{cancelled}");
    assert!(month.is_some_and(|m| m.bytes().all(|b| b.is_ascii_digit())), "{number}");
    // The invoice follows the tenant's invoice format.
    assert!(cancelled.contains("\"number\":\"RE-"), "{cancelled}");
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

/// Runs `invoice-server serve` on `url` with `env` until it answers
/// `/healthz` (then stops it) or exits: `(served, stderr)`.
fn serve_once(url: &str, env: &[(&str, &str)]) -> (bool, String) {
    let port = free_port();
    let mut cmd = Command::new(BIN);
    cmd.env("DATABASE_URL", url)
        .env("INVOICE_BIND", format!("127.0.0.1:{port}"))
        .env("INVOICE_NO_WEBHOOK_DELIVERY", "true")
        .env_remove("INVOICE_SECRET_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start invoice-server");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let served = loop {
        if healthy(port) {
            break true;
        }
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        assert!(Instant::now() < deadline, "the server neither served nor exited");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    (served, reader.join().unwrap())
}

#[test]
fn the_secret_key_seals_stored_webhook_secrets_at_startup_and_a_wrong_one_stops_it() {
    use invoice_adapters::outbound::db::{admin, Database, PoolConfig};
    use invoice_adapters::outbound::secrets::{endpoint_context, SecretBox};
    use invoice_adapters::outbound::webhooks::{store, EndpointStore};
    use invoice_adapters::ports::{NewEndpoint, WebhookEndpoints};
    use invoice_domain::TenantId;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/invoice.db", dir.path().display());
    // A plaintext secret stored before any key was set.
    let db = Database::open(&url, PoolConfig::default()).unwrap();
    let tenant = db.write_conn(|c| admin::create_tenant(c, "acme", "Acme")).unwrap().id;
    let new = NewEndpoint {
        url: "https://hooks.example/storno".into(),
        events: vec!["*".into()],
        description: None,
    };
    let created = db
        .write(|s| EndpointStore::new(s, &SecretBox::plaintext()).create_endpoint(TenantId::new(tenant), new, 50))
        .unwrap();
    let (plain, row) = (created.secret.as_str(), &created.endpoint);
    let stored = || {
        db.read_conn(|c| store::find_endpoint(c, tenant, &row.id))
            .unwrap()
            .unwrap()
            .secret
    };

    // A key that is not 32 bytes: the server refuses to start.
    let (served, stderr) = serve_once(&url, &[("INVOICE_SECRET_KEY", "correct horse battery staple")]);
    assert!(
        !served && stderr.contains("INVOICE_SECRET_KEY must be 32 random bytes"),
        "{stderr}"
    );
    assert_eq!(stored(), plain, "nothing was touched");

    // Without a key it starts as before, and says the secrets are in plaintext.
    let (served, stderr) = serve_once(&url, &[]);
    assert!(served && stderr.contains("stored unencrypted"), "{stderr}");

    // With a key it seals the plaintext secret in place.
    let key = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho=";
    let (served, stderr) = serve_once(&url, &[("INVOICE_SECRET_KEY", key)]);
    assert!(served, "{stderr}");
    let sealed = stored();
    assert!(
        sealed.starts_with("enc:v1:") && !sealed.contains(&plain[6..]),
        "{sealed}"
    );
    let opened = SecretBox::from_key_text(key)
        .unwrap()
        .open(&endpoint_context(tenant, &row.id), &sealed)
        .unwrap();
    assert_eq!(opened, plain);

    // Now neither no key nor another key can sign: the server says so and stops.
    let (served, stderr) = serve_once(&url, &[]);
    assert!(!served && stderr.contains("INVOICE_SECRET_KEY is not set"), "{stderr}");
    let (served, stderr) = serve_once(&url, &[("INVOICE_SECRET_KEY", &"ab".repeat(32))]);
    assert!(!served && stderr.contains("does not decrypt"), "{stderr}");
    assert_eq!(stored(), sealed, "a refused start changes nothing");
}
