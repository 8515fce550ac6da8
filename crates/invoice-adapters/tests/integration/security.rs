//! Security tests: tenant isolation on every route, scopes, stored secrets,
//! hostile text stored byte-for-byte, and abuse limits.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http_support::*;
use crate::support::{backends, sqlite};

/// Every `/v1` route that takes an invoice reference, with a body where needed.
fn invoice_routes(reference: &str) -> Vec<(&'static str, String, Option<serde_json::Value>)> {
    let p = format!("/v1/invoices/{reference}");
    vec![
        ("GET", p.clone(), None),
        ("GET", format!("{p}/events"), None),
        ("POST", format!("{p}/finalize"), None),
        ("POST", format!("{p}/payments"), Some(json!({"amount": 1}))),
        (
            "POST",
            format!("{p}/payments/0196a4c2-0000-7000-8000-000000000001/refunds"),
            Some(json!({"amount": 1})),
        ),
        ("POST", format!("{p}/cancel"), Some(json!({"reason": "x"}))),
        ("POST", format!("{p}/void"), None),
        ("POST", format!("{p}/approve"), None),
        ("POST", format!("{p}/reject"), Some(json!({"reasons": ["x"]}))),
    ]
}

fn send(s: &TestServer, key: &str, method: &str, path: &str, body: &Option<serde_json::Value>) -> Resp {
    let mut r = s.req(method, path).bearer(key);
    if let Some(b) = body {
        r = r.json(b);
    }
    r.send()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn random_and_foreign_ids_are_only_ever_404_and_scopes_hold_on_every_route() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let id = inv["id"].as_str().unwrap().to_string();
        let (_, foreign) = s.other_tenant("globex");
        for reference in [
            id.as_str(),
            "INV-000001",
            "0196a4c2-1234-7000-8000-00000000abcd",
            "INV-999999",
        ] {
            for (method, path, body) in invoice_routes(reference) {
                if reference == id || reference == "INV-000001" {
                    let r = send(&s, &foreign, method, &path, &body);
                    assert_eq!(
                        (r.status, r.code()),
                        (404, "invoice_not_found"),
                        "{method} {path}: {}",
                        r.text
                    );
                } else {
                    let r = send(&s, &s.key, method, &path, &body);
                    assert_eq!(
                        (r.status, r.code()),
                        (404, "invoice_not_found"),
                        "{method} {path}: {}",
                        r.text
                    );
                }
            }
        }
        // No scope: every route refuses with 403 before touching anything.
        let nothing = s.key_with("webhooks:manage", None);
        for (method, path, body) in invoice_routes(&id) {
            let r = send(&s, &nothing, method, &path, &body);
            assert_eq!((r.status, r.code()), (403, "insufficient_scope"), "{method} {path}");
        }
        // Another party: 403 on every route.
        let stranger = s.key_with("invoices:read,invoices:write,invoices:cancel", Some("nobody"));
        for (method, path, body) in invoice_routes(&id) {
            let r = send(&s, &stranger, method, &path, &body);
            assert_eq!(
                (r.status, r.code()),
                (403, "invoice_not_owned"),
                "{method} {path}: {}",
                r.text
            );
        }
        let after = s.req("GET", &format!("/v1/invoices/{id}")).send();
        assert_eq!(after.json["version"], inv["version"], "{}: nothing changed", s.backend);
    }
}

#[test]
fn api_keys_are_stored_only_as_hashes() {
    let s = TestServer::start(sqlite());
    use diesel::prelude::*;
    use invoice_adapters::outbound::db::schema::api_keys;
    let rows: Vec<(String, String)> =
        s.db.read_conn(|c| {
            api_keys::table
                .select((api_keys::id, api_keys::key_hash))
                .load(c)
                .map_err(invoice_adapters::outbound::db::repository_error)
        })
        .unwrap();
    assert!(!rows.is_empty());
    for (id, hash) in rows {
        assert!(
            !hash.contains(&s.key) && !id.contains(&s.key),
            "the secret is not stored"
        );
        assert_eq!(hash.len(), 64, "a SHA-256 hex digest");
    }
    assert_eq!(
        invoice_adapters::inbound::http::auth::hash_key(&s.key).len(),
        64,
        "keys are looked up by hash"
    );
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn hostile_and_unusual_text_is_stored_and_returned_byte_for_byte() {
    let samples = [
        "Robert'); DROP TABLE invoices;--",
        "' OR '1'='1' /* */ UNION SELECT * FROM api_keys --",
        "Ünïcödé façade — naïve café",
        "🚚📦 freight 🇩🇪",
        "e\u{301}\u{301} combining marks",
        "\u{200B}zero\u{200D}width\u{FEFF}",
        "\u{202E}right-to-left override",
        "עברית ومرحبا 漢字 かな",
        "line one\nline two\ttabbed",
        "%s %n {{template}} ${env} $1 ?",
        "back\\slash \"quoted\"",
    ];
    for t in backends() {
        let s = TestServer::start(t);
        for (i, text) in samples.iter().enumerate() {
            // Identifiers refuse every control character; free text keeps line breaks and tabs.
            let ident = if text.chars().any(char::is_control) {
                format!("id-{i}")
            } else {
                text.to_string()
            };
            let body = json!({
                "currency": "EUR",
                "customer": {"id": format!("c-{ident}"), "name": text, "address": text, "tax_number": text.chars().take(60).collect::<String>()},
                "issuer": {"id": format!("i-{i}"), "name": text},
                "lines": [{"product_id": ident, "variation_id": ident, "description": text, "quantity": 1, "unit_amount": 100, "tax_rate": "19"}],
                "external_reference": ident,
                "metadata": {"note": text, format!("k{i}"): text}
            });
            let created = s.create(&body);
            let id = created["id"].as_str().unwrap();
            let got = s.req("GET", &format!("/v1/invoices/{id}")).send().json;
            for value in [
                &got["customer"]["name"],
                &got["customer"]["address"]["street"],
                &got["issuer"]["name"],
                &got["lines"][0]["description"],
                &got["metadata"]["note"],
            ] {
                assert_eq!(value.as_str(), Some(*text), "{}: {text:?}", s.backend);
            }
            assert_eq!(got["customer"]["id"].as_str(), Some(format!("c-{ident}").as_str()));
            assert_eq!(got["lines"][0]["product_id"].as_str(), Some(ident.as_str()));
            assert_eq!(got["external_reference"].as_str(), Some(ident.as_str()));
            // The client's own code names the invoice byte for byte, percent-encoded in a path.
            let by_code = s.req("GET", &format!("/v1/invoices/{}", encode_path(&ident))).send();
            assert_eq!(
                (by_code.status, by_code.json["id"].as_str()),
                (200, Some(id)),
                "{}: {ident:?}",
                s.backend
            );
            assert_eq!(got["lines"][0]["variation_id"].as_str(), Some(ident.as_str()));
            s.req("POST", &format!("/v1/invoices/{id}/finalize")).send();
            let cancelled = s
                .req("POST", &format!("/v1/invoices/{id}/cancel"))
                .json(&json!({"reason": text, "lines": [{"product_id": ident}]}))
                .send();
            assert_eq!(cancelled.status, 200, "{}", cancelled.text);
            assert_eq!(cancelled.json["credit_notes"][0]["reason"].as_str(), Some(*text));
            assert_eq!(cancelled.json["cancellation"]["reason"].as_str(), Some(*text));
        }
        // Control characters are refused, not silently altered.
        let nul = s
            .req("POST", "/v1/invoices")
            .json(&json!({"currency": "EUR", "customer": {"id": "c", "name": "a\u{0}b"}}))
            .send();
        assert_eq!((nul.status, nul.code()), (422, "validation_failed"), "{}", nul.text);
    }
}

#[test]
fn a_per_key_rate_limit_answers_429_with_retry_after() {
    use invoice_adapters::inbound::http::rate_limit::RateLimit;
    let s = TestServer::start_limited(
        sqlite(),
        RateLimit {
            per_second: 1,
            burst: 3,
        },
    );
    let statuses: Vec<u16> = (0..4).map(|_| s.req("GET", "/v1/invoices").send().status).collect();
    assert_eq!(statuses, [200, 200, 200, 429]);
    let limited = s.req("GET", "/v1/invoices").send();
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited
        .header("retry-after")
        .is_some_and(|v| v.parse::<u64>().unwrap() >= 1));
    // Another key has its own budget.
    let other = s.key_with("invoices:read", None);
    assert_eq!(s.req("GET", "/v1/invoices").bearer(&other).send().status, 200);
}

/// How the server ended a raw exchange.
#[derive(Debug, PartialEq)]
enum Ending {
    /// It answered; the status line.
    Answered(String),
    /// It closed the connection (or reset it) without an answer.
    Closed,
    /// Nothing came before the client gave up: a hung server.
    TimedOut,
}

/// Sends raw bytes and says how the server ended the exchange, and when.
fn raw_exchange(base: &str, request: &[u8], wait: Duration) -> (Ending, Duration) {
    let addr = base.trim_start_matches("http://");
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(request);
    let mut buf = Vec::new();
    let ended = stream.read_to_end(&mut buf);
    let line = String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let ending = match ended {
        _ if !line.is_empty() => Ending::Answered(line),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Ending::TimedOut,
        _ => Ending::Closed,
    };
    (ending, started.elapsed())
}

/// True when the server answered with one of `codes`.
fn answered(ending: &Ending, codes: &[&str]) -> bool {
    matches!(ending, Ending::Answered(line) if codes.iter().any(|c| line.contains(&format!(" {c} "))))
}

#[test]
fn oversize_headers_urls_and_slow_clients_are_cut_off() {
    let s = TestServer::start(sqlite());
    let wait = Duration::from_secs(10);
    let big_header = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let (ending, took) = raw_exchange(&s.base, big_header.as_bytes(), wait);
    assert!(
        answered(&ending, &["431"]),
        "oversize header: a 431, not {ending:?} after {took:?}"
    );
    let long_url = format!(
        "GET /v1/invoices/{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(10 * 1024)
    );
    let (ending, took) = raw_exchange(&s.base, long_url.as_bytes(), wait);
    assert!(answered(&ending, &["414"]), "oversize URL: {ending:?} after {took:?}");
    // Far beyond any limit, the HTTP parser itself refuses the request head:
    // with an answer, or by closing the connection at once; never by hanging.
    let huge_url = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(256 * 1024)
    );
    let (ending, took) = raw_exchange(&s.base, huge_url.as_bytes(), wait);
    assert!(
        answered(&ending, &["400", "414", "431"]) || (ending == Ending::Closed && took < Duration::from_secs(2)),
        "huge URL: {ending:?} after {took:?}"
    );
    // A client that never finishes its request head is timed out by the
    // server (408 or a close), well before the client would give up.
    let (ending, took) = raw_exchange(
        &s.base,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
        Duration::from_secs(15),
    );
    assert!(
        took < Duration::from_secs(12),
        "the slow client was cut off: {ending:?} after {took:?}"
    );
    assert!(
        answered(&ending, &["408"]) || ending == Ending::Closed,
        "slow client: {ending:?} after {took:?}"
    );
    // The server still serves everyone else.
    assert_eq!(s.anon("GET", "/healthz").send().status, 200);
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_key_given_twice_is_refused_in_metadata_as_everywhere_else() {
    for t in backends() {
        let s = TestServer::start(t);
        let create = |body: &str| {
            s.req("POST", "/v1/invoices")
                .raw("application/json", body.as_bytes())
                .send()
        };
        let customer = r#"{"id": "cust-1", "name": "Customer GmbH"}"#;
        let issuer = r#"{"id": "trp-1", "name": "Transporter Ltd"}"#;
        let body = |currency: &str, customer: &str, metadata: &str| {
            format!(r#"{{{currency}, "customer": {customer}, "issuer": {issuer}, "metadata": {metadata}}}"#)
        };
        // The attack: two values for one metadata key, the one a reader
        // sees depending on its JSON parser.
        let twice = create(&body(
            r#""currency": "EUR""#,
            customer,
            r#"{"loadCount": "3", "systemAmount": "5000", "loadCount": "999"}"#,
        ));
        assert_eq!(twice.status, 422, "{}: {}", s.backend, twice.text);
        assert_eq!(twice.json["errors"][0]["field"], "metadata", "{}", twice.text);
        assert_eq!(
            twice.json["errors"][0]["message"], "duplicate field `loadCount`",
            "{}",
            twice.text
        );
        // The same answer as a repeated field anywhere else in the body.
        for elsewhere in [
            body(r#""currency": "EUR", "currency": "USD""#, customer, "{}"),
            body(
                r#""currency": "EUR""#,
                r#"{"id": "cust-1", "name": "A", "name": "B"}"#,
                "{}",
            ),
        ] {
            let r = create(&elsewhere);
            assert_eq!((r.status, r.code()), (twice.status, twice.code()), "{}", r.text);
            assert!(r.json["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("duplicate field"));
        }
        // Keys that differ only in case are different keys.
        let distinct = create(&body(r#""currency": "EUR""#, customer, r#"{"a": "1", "A": "2"}"#));
        assert_eq!(distinct.status, 201, "{}", distinct.text);
        let list = s.req("GET", "/v1/invoices").send();
        assert_eq!(
            list.json["data"].as_array().unwrap().len(),
            1,
            "{}: the refusals stored nothing",
            s.backend
        );
    }
}

#[test]
fn a_new_sqlite_file_and_its_wal_are_readable_by_their_owner_only() {
    use invoice_adapters::outbound::db::{Database, PoolConfig};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("storno.db");
    let db = Database::open(&format!("sqlite://{}", path.display()), PoolConfig::default()).unwrap();
    // A write, so that the WAL and shared-memory files exist too.
    crate::support::tenant(&db, "acme");
    let mode = |suffix: &str| {
        let file = format!("{}{suffix}", path.display());
        std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o600, "the database file");
    assert_eq!(mode("-wal"), 0o600, "the write-ahead log");
    assert_eq!(mode("-shm"), 0o600, "the shared-memory index");
    drop(db);
    // An existing file keeps the mode its operator gave it.
    let chosen = dir.path().join("chosen.db");
    std::fs::write(&chosen, b"").unwrap();
    std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o640)).unwrap();
    Database::open(&format!("sqlite://{}", chosen.display()), PoolConfig::default()).unwrap();
    assert_eq!(std::fs::metadata(&chosen).unwrap().permissions().mode() & 0o777, 0o640);
}
