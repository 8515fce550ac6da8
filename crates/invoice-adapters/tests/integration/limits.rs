//! Abuse from the attacker's side: floods of invented keys and of requests
//! without credentials, HTTP Basic with a password, junk methods and paths
//! aimed at the metrics, and keys that are revoked or expire while cached.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use invoice_adapters::inbound::http::rate_limit::RateLimit;
use invoice_adapters::inbound::http::{auth, Dialects};
use invoice_adapters::outbound::db::admin;
use serde_json::json;

use crate::http_support::*;
use crate::support::backends;

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn six_hundred_random_keys_are_cut_off_per_address_before_any_database_lookup() {
    const FLOOD: usize = 600;
    const THREADS: usize = 12;
    let limit = RateLimit::client_default();
    for t in backends() {
        let s = Arc::new(TestServer::start(t));
        // The owner's key, cached by its first use.
        assert_eq!(s.req("GET", "/v1/invoices").send().status, 200);
        let lookups_before = s.state.metrics.key_lookups();
        let (unauthorized, limited) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (s, unauthorized, limited, next) = (s.clone(), unauthorized.clone(), limited.clone(), next.clone());
                std::thread::spawn(move || {
                    while next.fetch_add(1, Ordering::SeqCst) < FLOOD {
                        let key = auth::mint_key().secret;
                        let r = s.req("GET", "/v1/invoices").bearer(&key).send();
                        match r.status {
                            401 => unauthorized.fetch_add(1, Ordering::SeqCst),
                            429 => {
                                assert_eq!(r.code(), "rate_limited", "{}", r.text);
                                assert!(r.header("retry-after").is_some(), "429 without Retry-After");
                                limited.fetch_add(1, Ordering::SeqCst)
                            }
                            other => panic!("{}: a random key got {other}: {}", s.backend, r.text),
                        };
                    }
                })
            })
            .collect();
        // The owner is not locked out by the flood from its own address.
        let owner = s.req("GET", "/v1/invoices").send();
        for t in threads {
            t.join().unwrap();
        }
        let elapsed = started.elapsed();
        let lookups = s.state.metrics.key_lookups() - lookups_before;
        let (unauthorized, limited) = (unauthorized.load(Ordering::SeqCst), limited.load(Ordering::SeqCst));
        assert_eq!(owner.status, 200, "{}: {}", s.backend, owner.text);
        assert_eq!(unauthorized + limited, FLOOD);
        assert_eq!(
            lookups,
            u64::try_from(unauthorized).unwrap(),
            "{}: only the 401s reached the database, each with one lookup",
            s.backend
        );
        // The budget: the burst plus the rate over the flood's duration.
        let allowed = u64::from(limit.burst) + u64::from(limit.per_second) * (elapsed.as_secs() + 1);
        assert!(
            lookups <= allowed,
            "{}: {lookups} lookups in {elapsed:?}, over the budget of {allowed}",
            s.backend
        );
        assert!(limited >= FLOOD - usize::try_from(allowed).unwrap(), "{}", s.backend);
        eprintln!(
            "figure: limits | {} | flood: {FLOOD} random keys from one address in {} ms: {unauthorized} × 401 ({lookups} database lookups), {limited} × 429 before any lookup",
            s.backend,
            elapsed.as_millis()
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn requests_without_credentials_or_with_a_basic_password_are_limited_per_address() {
    for t in backends() {
        let s = TestServer::start_state(t, Dialects::all(), |st| {
            st.with_client_rate_limit(RateLimit {
                per_second: 1,
                burst: 4,
            })
        });
        // The owner's first use takes one of the four; then it is cached.
        assert_eq!(s.req("GET", "/v1/invoices").send().status, 200);
        let before = s.state.metrics.key_lookups();
        let statuses: Vec<u16> = (0..6)
            .map(|i| match i % 3 {
                0 => s.anon("GET", "/v1/invoices").send().status,
                1 => {
                    s.anon("GET", "/v1/invoices")
                        .header("Authorization", &basic(&s.key, "secret"))
                        .send()
                        .status
                }
                _ => s.anon("POST", "/api/v3/invoice/1/_action/void").send().status,
            })
            .collect();
        assert_eq!(statuses, [401, 401, 401, 429, 429, 429], "{}", s.backend);
        assert_eq!(s.state.metrics.key_lookups(), before, "{}: no lookup at all", s.backend);
        // A cached key is not affected by its address's spent budget.
        assert_eq!(s.req("GET", "/v1/invoices").send().status, 200, "{}", s.backend);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn http_basic_needs_the_key_as_user_name_and_an_empty_password_on_every_face() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let id = inv["id"].as_str().unwrap();
        let with = |auth: &str| {
            s.anon("GET", &format!("/v1/invoices/{id}"))
                .header("Authorization", auth)
                .send()
        };
        assert_eq!(with(&basic(&s.key, "")).status, 200, "{}", s.backend);
        let encoded_without_colon = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(&s.key));
        assert_eq!(with(&encoded_without_colon).status, 200, "{}", s.backend);
        let refused = with(&basic(&s.key, "anything"));
        assert_eq!((refused.status, refused.code()), (401, "unauthorized"), "{}", s.backend);
        assert!(refused.text.contains("empty password"), "{}", refused.text);
        // ChargeOver (Basic only) and plug&paid (Bearer or Basic) alike.
        let void = s
            .anon("POST", &format!("/api/v3/invoice/{id}/_action/void"))
            .header("Authorization", &basic(&s.key, "private-key"))
            .send();
        assert_eq!(void.status, 401, "{}: {}", s.backend, void.text);
        let pnp = |auth: &str| {
            s.anon("POST", &format!("/v2/invoices/cancel/{id}"))
                .header("Authorization", auth)
                .send()
        };
        assert_eq!(pnp(&basic(&s.key, "x")).status, 401, "{}", s.backend);
        let cancelled = pnp(&basic(&s.key, ""));
        assert_eq!(cancelled.status, 200, "{}: {}", s.backend, cancelled.text);
        let still = s.req("GET", &format!("/v1/invoices/{id}")).send();
        assert_eq!(still.json["status"], "cancelled", "{}", s.backend);
    }
    // The contract says the same: plug&paid's cancel accepts Bearer or Basic.
    let doc = invoice_adapters::inbound::http::openapi::document(&Dialects::all());
    let doc = serde_json::to_value(doc).unwrap();
    let security = &doc["paths"]["/v2/invoices/cancel/{id}"]["post"]["security"];
    assert_eq!(security, &json!([{"bearer": []}, {"basic": []}]), "{security}");
}

/// Sends one raw request and returns the status line.
fn raw(base: &str, request: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The series (sample lines) and size of `/metrics`.
fn series(s: &TestServer) -> (usize, usize) {
    let text = s.anon("GET", "/metrics").send().text;
    let lines = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count();
    (lines, text.len())
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_thousand_junk_methods_and_paths_leave_the_metric_series_unchanged() {
    for t in backends() {
        let s = TestServer::start(t);
        let host = s.base.trim_start_matches("http://").to_string();
        // One of each kind first, so the fixed `other` and `unmatched` series exist.
        raw(
            &s.base,
            &format!("JUNK /nowhere HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        raw(
            &s.base,
            &format!("GET /nowhere HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        // A scrape is counted after it is rendered: scrape once before measuring.
        series(&s);
        let (before, size_before) = series(&s);
        const JUNK: usize = 1000;
        let mut answered = 0;
        for i in 0..JUNK {
            let method = format!("M{i}{}", "X".repeat(i % 7 * 300));
            let path = format!("/junk/{i}/{}", "p".repeat(i % 5 * 200));
            let line = raw(
                &s.base,
                &format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
            );
            if line.starts_with("HTTP/1.1 ") {
                answered += 1;
            }
        }
        let (after, size_after) = series(&s);
        assert!(answered > 900, "{}: only {answered} junk requests answered", s.backend);
        assert_eq!(after, before, "{}: series grew", s.backend);
        assert!(
            size_after < size_before + 1024,
            "{}: /metrics grew from {size_before} to {size_after} bytes",
            s.backend
        );
        let text = s.anon("GET", "/metrics").send().text;
        assert!(
            text.contains(r#"http_requests_total{method="other",route="unmatched",status="404"}"#),
            "{text}"
        );
        eprintln!(
            "figure: limits | {} | junk methods and paths: {answered} of {JUNK} answered; metric series {before} → {after}, /metrics {size_before} → {size_after} bytes",
            s.backend
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_key_expiring_while_cached_stops_at_once_and_a_revoked_one_within_the_ttl() {
    for t in backends() {
        let ttl = Duration::from_secs(1);
        let s = TestServer::start_state(t, Dialects::all(), |st| st.with_key_cache_ttl(ttl));
        // Expiry is known to the cache: it holds even inside the TTL.
        let long = TestServer::start_state(crate::support::sqlite(), Dialects::all(), |st| {
            st.with_key_cache_ttl(Duration::from_secs(3600))
        });
        let until = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
        let key = auth::mint_key();
        long.db
            .write_conn(|c| {
                admin::insert_api_key(
                    c,
                    admin::NewApiKey {
                        tenant_id: long.tenant.get(),
                        id: &key.id,
                        key_hash: &key.hash,
                        scopes: "invoices:read",
                        party_id: None,
                        expires_at: Some(until.naive_utc()),
                    },
                )
            })
            .unwrap();
        let get = |srv: &TestServer, k: &str| srv.req("GET", "/v1/invoices").bearer(k).send().status;
        assert_eq!(get(&long, &key.secret), 200);
        while chrono::Utc::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(get(&long, &key.secret), 401, "an expired key stops at once");

        // Revocation reaches a cached key within the TTL.
        let (secret, id) = create_key_with_id(&s.db, s.tenant, "invoices:read", None);
        assert_eq!(get(&s, &secret), 200, "{}", s.backend);
        let revoked_at = Instant::now();
        let now = chrono::Utc::now().naive_utc();
        s.db.write_conn(|c| admin::revoke_api_key(c, &id, now)).unwrap();
        while get(&s, &secret) != 401 {
            assert!(
                revoked_at.elapsed() < ttl + Duration::from_millis(500),
                "{}: the revoked key still works after the TTL",
                s.backend
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // And the key's last use was recorded (off the request path).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let keys =
                s.db.read_conn(|c| admin::list_api_keys(c, Some(s.tenant.get())))
                    .unwrap();
            let row = keys.iter().find(|(k, _)| k.id == id).expect("listed").0.clone();
            if row.last_used_at.is_some() {
                assert!(row.revoked_at.is_some());
                break;
            }
            assert!(Instant::now() < deadline, "{}: last use never recorded", s.backend);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
