//! End-to-end tests of webhooks and the event log: a real local receiver
//! checks signatures and payloads; dispatchers run on their own threads
//! against SQLite and PostgreSQL. Every target is on 127.0.0.1.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use invoice_adapters::inbound::http::Dialects;
use invoice_adapters::outbound::webhooks::{
    Dispatcher, DispatcherConfig, DispatcherHandle, RetryPolicy, WebhookSettings,
};
use invoice_domain::EventKind;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::http_support::*;
use crate::support::{backends, TestDb};

// ------------------------------------------------------------------ receiver

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    headers: HashMap<String, String>,
    body: Vec<u8>,
    json: Value,
    /// The status it was answered with.
    answered: u16,
}

impl Hit {
    fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }
}

#[derive(Default)]
struct Inbox {
    hits: Vec<Hit>,
    /// Statuses to answer with, in order; 200 once they run out.
    script: VecDeque<u16>,
    /// Answer every request with this instead, when set.
    always: Option<u16>,
}

/// A minimal HTTP/1.1 server on 127.0.0.1 that records every request.
struct Receiver {
    url: String,
    inbox: Arc<(Mutex<Inbox>, Condvar)>,
    stop: Arc<AtomicBool>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn read_request(stream: &mut TcpStream) -> Option<(HashMap<String, String>, Vec<u8>)> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    if !line.starts_with("POST ") {
        return None;
    }
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (name, value) = l.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let len: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((headers, body))
}

impl Receiver {
    /// Answers 200 to everything.
    fn start() -> Receiver {
        Self::scripted(&[])
    }

    /// Answers with `statuses` in order, then 200.
    fn scripted(statuses: &[u16]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://127.0.0.1:{}/hooks", listener.local_addr().unwrap().port());
        let inbox = Arc::new((
            Mutex::new(Inbox {
                script: statuses.iter().copied().collect(),
                ..Inbox::default()
            }),
            Condvar::new(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let (inbox2, stop2) = (inbox.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let inbox = inbox2.clone();
                std::thread::spawn(move || {
                    stream.set_nonblocking(false).ok();
                    let Some((headers, body)) = read_request(&mut stream) else {
                        return;
                    };
                    let status = {
                        let (lock, cvar) = &*inbox;
                        let mut inbox = lock.lock().unwrap();
                        let status = inbox.always.unwrap_or_else(|| inbox.script.pop_front().unwrap_or(200));
                        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        inbox.hits.push(Hit {
                            headers,
                            body,
                            json,
                            answered: status,
                        });
                        cvar.notify_all();
                        status
                    };
                    let reply = format!("status {status}");
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                        reply.len()
                    );
                });
            }
        });
        Receiver { url, inbox, stop }
    }

    /// Answers every further request with `status`.
    fn answer_always(&self, status: Option<u16>) {
        self.inbox.0.lock().unwrap().always = status;
    }

    /// Every request so far.
    fn hits(&self) -> Vec<Hit> {
        self.inbox.0.lock().unwrap().hits.clone()
    }

    /// Waits until `done` holds for the requests so far (at most 15 s).
    fn wait_until(&self, what: &str, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let (lock, cvar) = &*self.inbox;
        let mut inbox = lock.lock().unwrap();
        while !done(&inbox.hits) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {what}; got {} requests",
                inbox.hits.len()
            );
            inbox = cvar.wait_timeout(inbox, left).unwrap().0;
        }
        inbox.hits.clone()
    }

    /// Waits for at least `n` requests.
    fn wait_for(&self, n: usize) -> Vec<Hit> {
        self.wait_until(&format!("{n} requests"), |h| h.len() >= n)
    }
}

// ------------------------------------------------------------------- helpers

/// Verifies a Standard Webhooks signature independently of the server code.
fn signed_by(secret: &str, hit: &Hit) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let ts = &hit.headers["webhook-timestamp"];
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", hit.id(), ts).as_bytes());
    mac.update(&hit.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    hit.headers["webhook-signature"].split(' ').any(|s| s == expected)
}

/// Checks the headers every delivery carries.
fn assert_well_formed(hit: &Hit, backend: &str) {
    assert_eq!(hit.headers["content-type"], "application/json", "{backend}");
    assert_eq!(
        hit.id(),
        hit.json["id"].as_str().unwrap(),
        "{backend}: webhook-id is the event id"
    );
    let ts: i64 = hit.headers["webhook-timestamp"].parse().expect("unix seconds");
    let now = chrono::Utc::now().timestamp();
    assert!((now - ts).abs() < 300, "{backend}: timestamp {ts} is not now ({now})");
}

/// A server that accepts loopback endpoints (the receivers are local).
fn server(t: TestDb) -> TestServer {
    TestServer::start_state(t, Dialects::all(), |s| {
        s.with_webhooks(WebhookSettings { allow_private: true })
    })
}

fn config(policy: RetryPolicy, allow_private: bool) -> DispatcherConfig {
    DispatcherConfig {
        workers: 2,
        poll_interval: Duration::from_millis(50),
        request_timeout: Duration::from_secs(5),
        lease: Duration::from_secs(30),
        settle: Duration::from_secs(1),
        ..DispatcherConfig::new(policy, allow_private)
    }
}

fn dispatcher(s: &TestServer) -> DispatcherHandle {
    Dispatcher::start_with(s.db.clone(), config(RetryPolicy::fast(), true))
}

/// Registers an endpoint; returns (id, secret).
fn endpoint(s: &TestServer, url: &str, events: &[&str]) -> (String, String) {
    let r = s
        .req("POST", "/v1/webhook-endpoints")
        .json(&json!({"url": url, "events": events, "description": "test receiver"}))
        .send();
    assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
    (
        r.json["id"].as_str().unwrap().to_string(),
        r.json["secret"].as_str().unwrap().to_string(),
    )
}

fn post(s: &TestServer, path: &str, body: Value) -> Value {
    let r = s.req("POST", path).json(&body).send();
    assert!(r.status < 300, "{}: POST {path}: {} {}", s.backend, r.status, r.text);
    r.json
}

fn deliveries(s: &TestServer, endpoint: &str) -> Vec<Value> {
    let r = s
        .req("GET", &format!("/v1/webhook-endpoints/{endpoint}/deliveries?limit=100"))
        .send();
    assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
    r.json["data"].as_array().unwrap().clone()
}

/// Polls the delivery log until `done` holds (at most 15 s).
fn wait_deliveries(s: &TestServer, endpoint: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let d = deliveries(s, endpoint);
        if done(&d) {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "{}: timed out waiting for {what}: {d:#?}",
            s.backend
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every event of the tenant, from the event log.
fn event_log(s: &TestServer) -> Vec<Value> {
    let r = s.req("GET", "/v1/events?limit=100").send();
    assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
    r.json["data"].as_array().unwrap().clone()
}

// --------------------------------------------------------------------- tests

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn every_event_type_is_delivered_signed_with_the_invoice_right_after_it() {
    for t in backends() {
        let s = server(t);
        let rx = Receiver::start();
        let (_, secret) = endpoint(&s, &rx.url, &["*"]);
        let d = dispatcher(&s);

        // A: approval requested, first level approved, then rejected.
        let mut body = invoice_body();
        body["approval_levels"] = json!(2);
        let a = s.open(&body);
        let a_id = a["id"].as_str().unwrap();
        post(&s, &format!("/v1/invoices/{a_id}/approve"), json!({}));
        post(
            &s,
            &format!("/v1/invoices/{a_id}/reject"),
            json!({"reasons": ["wrong rate"]}),
        );
        // B: paid, refunded, a line cancelled (credit note), then paid in full.
        let b = s.open(&invoice_body());
        let b_id = b["id"].as_str().unwrap();
        let paid = post(&s, &format!("/v1/invoices/{b_id}/payments"), json!({"amount": 1000}));
        let payment = paid["payments"][0]["id"].as_str().unwrap();
        post(
            &s,
            &format!("/v1/invoices/{b_id}/payments/{payment}/refunds"),
            json!({"amount": 500}),
        );
        let after_cancel = post(
            &s,
            &format!("/v1/invoices/{b_id}/cancel"),
            json!({"reason": "toll not due", "lines": [{"product_id": "b"}]}),
        );
        let due = after_cancel["amount_due"].as_i64().unwrap();
        let b_final = post(&s, &format!("/v1/invoices/{b_id}/payments"), json!({"amount": due}));
        assert_eq!(b_final["status"], "paid", "{}", s.backend);
        // B, paid: a goodwill credit onto the customer's balance.
        post(
            &s,
            &format!("/v1/invoices/{b_id}/credit-notes"),
            json!({"extra": {"description": "Late delivery", "amount": 100, "tax_rate": "19"}, "settle": "credit_balance"}),
        );
        // F: reissued (cancelled with a credit note, a new draft linked to it).
        let f = s.open(&invoice_body());
        post(
            &s,
            &format!("/v1/invoices/{}/reissue", f["id"].as_str().unwrap()),
            json!({}),
        );
        // E: a draft loses a line (no money), is issued, sent, written off, then paid.
        let e = s.create(&invoice_body());
        let e_id = e["id"].as_str().unwrap();
        post(
            &s,
            &format!("/v1/invoices/{e_id}/cancel"),
            json!({"reason": "not shipped", "lines": [{"product_id": "b"}]}),
        );
        let e_open = post(&s, &format!("/v1/invoices/{e_id}/finalize"), json!({}));
        post(&s, &format!("/v1/invoices/{e_id}/mark-sent"), json!({}));
        post(
            &s,
            &format!("/v1/invoices/{e_id}/mark-uncollectible"),
            json!({"reason": "insolvent"}),
        );
        post(
            &s,
            &format!("/v1/invoices/{e_id}/payments"),
            json!({"amount": e_open["amount_due"]}),
        );
        // C: cancelled whole (credit note). D: voided.
        let c = s.open(&invoice_body());
        post(
            &s,
            &format!("/v1/invoices/{}/cancel", c["id"].as_str().unwrap()),
            json!({"reason": "duplicate"}),
        );
        let v = s.open(&invoice_body());
        post(
            &s,
            &format!("/v1/invoices/{}/void", v["id"].as_str().unwrap()),
            json!({}),
        );

        let log = event_log(&s);
        let hits = rx.wait_for(log.len());
        d.stop();

        let types: HashSet<&str> = log.iter().map(|e| e["type"].as_str().unwrap()).collect();
        let all: HashSet<&str> = EventKind::TYPE_NAMES.into_iter().collect();
        assert_eq!(types, all, "{}: the scenario covers every event type", s.backend);
        let by_id: HashMap<&str, &Value> = log.iter().map(|e| (e["id"].as_str().unwrap(), e)).collect();
        assert_eq!(hits.len(), log.len(), "{}: one delivery per event", s.backend);
        for hit in &hits {
            assert_well_formed(hit, s.backend);
            assert!(signed_by(&secret, hit), "{}: bad signature on {}", s.backend, hit.id());
            let p = &hit.json;
            let logged = by_id[hit.id()];
            // The delivery is exactly the event-log entry.
            assert_eq!(
                p, logged,
                "{}: payload of {} differs from the event log",
                s.backend, p["type"]
            );
            assert_eq!(p["object"], "event");
            assert_eq!(p["tenant_id"], s.tenant.get());
            assert!(p["created_at"].as_str().unwrap().ends_with('Z'));
            let invoice = &p["data"]["object"];
            assert_eq!(invoice["object"], "invoice");
            assert_eq!(invoice["id"], p["invoice_id"]);
            assert_eq!(
                invoice["version"], p["invoice_version"],
                "{}: snapshot right after",
                s.backend
            );
        }
        // Spot-check the snapshots: each shows the invoice as the event left it.
        let find = |ty: &str, inv: &str| {
            hits.iter()
                .map(|h| &h.json)
                .find(|p| p["type"] == ty && p["invoice_id"] == inv)
                .unwrap_or_else(|| panic!("{ty} of {inv} delivered"))
                .clone()
        };
        assert_eq!(find("invoice.created", b_id)["data"]["object"]["status"], "draft");
        assert_eq!(find("invoice.finalized", b_id)["data"]["object"]["number"], b["number"]);
        assert_eq!(
            find("invoice.rejected", a_id)["data"]["object"]["approval"]["state"],
            "rejected"
        );
        assert_eq!(
            find("invoice.rejected", a_id)["data"]["details"]["reasons"][0],
            "wrong rate"
        );
        let cancelled_lines = find("invoice.lines_cancelled", b_id);
        assert_eq!(cancelled_lines["data"]["object"]["lines"][1]["status"], "cancelled");
        assert_eq!(cancelled_lines["data"]["details"]["line_ids"][0], b["lines"][1]["id"]);
        let cn = find("credit_note.issued", b_id);
        assert_eq!(
            cn["data"]["object"]["credit_notes"][0]["id"],
            cn["data"]["details"]["credit_note_id"]
        );
        assert_eq!(find("invoice.paid", b_id)["data"]["object"]["status"], "paid");
        assert_eq!(
            find("invoice.voided", v["id"].as_str().unwrap())["data"]["object"]["status"],
            "void"
        );
        assert_eq!(
            find("invoice.cancelled", c["id"].as_str().unwrap())["data"]["object"]["status"],
            "cancelled"
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_failing_receiver_gets_the_same_event_until_it_answers_2xx() {
    for t in backends() {
        let s = server(t);
        let rx = Receiver::scripted(&[500, 503]);
        let (ep, secret) = endpoint(&s, &rx.url, &["invoice.created"]);
        let d = dispatcher(&s);
        // Finalizing too: only the subscribed type is delivered.
        s.open(&invoice_body());

        let hits = rx.wait_for(3);
        let statuses: Vec<u16> = hits.iter().map(|h| h.answered).collect();
        assert_eq!(statuses, [500, 503, 200], "{}", s.backend);
        for hit in &hits {
            assert_well_formed(hit, s.backend);
            assert!(signed_by(&secret, hit), "{}", s.backend);
            assert_eq!(hit.id(), hits[0].id(), "{}: same webhook-id on every retry", s.backend);
            assert_eq!(hit.body, hits[0].body, "{}: same body on every retry", s.backend);
            assert_eq!(hit.json["type"], "invoice.created");
        }
        let log = wait_deliveries(&s, &ep, "the success to be recorded", |d| {
            d.len() == 1 && d[0]["status"] == "succeeded"
        });
        let delivery = &log[0];
        assert_eq!(delivery["attempt_count"], 3, "{}", s.backend);
        assert_eq!(delivery["event_id"], hits[0].id());
        assert_eq!(delivery["next_attempt_at"], Value::Null);
        assert_eq!(delivery["last_status_code"], 200);
        let codes: Vec<i64> = delivery["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].as_i64().unwrap())
            .collect();
        assert_eq!(codes, [500, 503, 200], "{}", s.backend);
        assert_eq!(delivery["attempts"][0]["response_body"], "status 500");

        std::thread::sleep(Duration::from_millis(300));
        d.stop();
        assert_eq!(rx.hits().len(), 3, "{}: nothing more after the success", s.backend);
        let endpoint = s.req("GET", &format!("/v1/webhook-endpoints/{ep}")).send().json;
        assert_eq!(endpoint["status"], "enabled");
        assert_eq!(
            endpoint["failing_since"],
            Value::Null,
            "{}: a success clears failures",
            s.backend
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn events_committed_while_no_dispatcher_runs_are_delivered_after_a_restart() {
    for t in backends() {
        let s = server(t);
        let rx = Receiver::scripted(&[500]);
        let (ep, secret) = endpoint(&s, &rx.url, &["invoice.created"]);
        // The first retry waits two seconds, so the first dispatcher stops before it.
        let policy = RetryPolicy {
            schedule: vec![Duration::from_secs(2)],
            ..RetryPolicy::fast()
        };
        let first = Dispatcher::start_with(s.db.clone(), config(policy.clone(), true));
        let e1 = s.create(&invoice_body());
        rx.wait_for(1);
        wait_deliveries(&s, &ep, "the failure to be recorded", |d| {
            d.len() == 1 && d[0]["attempt_count"] == 1
        });
        first.stop();

        // Committed with no dispatcher running.
        let e2 = s.create(&invoice_body());
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(rx.hits().len(), 1, "{}: nothing is sent while stopped", s.backend);

        let second = Dispatcher::start_with(s.db.clone(), config(policy, true));
        let hits = rx.wait_for(3);
        second.stop();
        let per_invoice = |id: &Value| {
            hits.iter()
                .filter(|h| &h.json["invoice_id"] == id)
                .map(|h| h.answered)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            per_invoice(&e1["id"]),
            [500, 200],
            "{}: the retry survived the restart",
            s.backend
        );
        assert_eq!(
            per_invoice(&e2["id"]),
            [200],
            "{}: the new event was delivered",
            s.backend
        );
        assert!(hits.iter().all(|h| signed_by(&secret, h)));
        assert_eq!(hits.len(), 3, "{}", s.backend);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn two_dispatchers_on_one_database_deliver_every_event_once() {
    for t in backends() {
        let s = server(t);
        let rx = Receiver::start();
        endpoint(&s, &rx.url, &["*"]);
        let one = dispatcher(&s);
        let two = dispatcher(&s);
        for _ in 0..12 {
            s.open(&invoice_body());
        }
        let log = event_log(&s);
        assert_eq!(log.len(), 24, "{}", s.backend);
        rx.wait_until("every event", |h| {
            h.iter().map(Hit::id).collect::<HashSet<_>>().len() >= log.len()
        });
        // Give a duplicate, if one were coming, time to arrive.
        std::thread::sleep(Duration::from_millis(500));
        one.stop();
        two.stop();
        let hits = rx.hits();
        let mut seen = HashMap::new();
        for h in &hits {
            *seen.entry(h.id().to_string()).or_insert(0) += 1;
        }
        let expected: HashSet<String> = log.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
        assert_eq!(seen.keys().cloned().collect::<HashSet<_>>(), expected, "{}", s.backend);
        assert!(
            seen.values().all(|n| *n == 1),
            "{}: duplicates {:?}",
            s.backend,
            seen.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn private_targets_are_refused_unless_allowed() {
    for t in backends() {
        let backend = t.backend;
        // Default settings: refused when the endpoint is created.
        let s = TestServer::start(t);
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost:8080/hook",
            "http://[::1]/hook",
            "http://10.0.0.1/hook",
            "http://192.168.1.20/hook",
            "http://172.16.5.4/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[fd00::1]/hook",
        ] {
            let r = s
                .req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": url, "events": ["*"]}))
                .send();
            assert_eq!(r.status, 422, "{backend}: {url}: {}", r.text);
            assert_eq!(r.code(), "webhook_url_not_allowed", "{backend}: {url}");
            assert_eq!(r.json["errors"][0]["field"], "url");
        }
        for url in ["ftp://files.example/hook", "not a url", "/relative"] {
            let r = s
                .req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": url, "events": ["*"]}))
                .send();
            assert_eq!(r.status, 422, "{backend}: {url}: {}", r.text);
            assert_eq!(r.code(), "validation_failed", "{backend}: {url}");
        }
        let list = s.req("GET", "/v1/webhook-endpoints").send();
        assert_eq!(list.json["data"].as_array().unwrap().len(), 0, "{backend}");
        drop(s);

        // Allowed at creation, but a dispatcher without the flag still
        // refuses to connect once the name is resolved.
        let t = match backend {
            "sqlite" => crate::support::sqlite(),
            _ => crate::support::postgres(),
        };
        let s = server(t);
        let rx = Receiver::start();
        let (ep, _) = endpoint(&s, &rx.url, &["*"]);
        let guarded = Dispatcher::start_with(s.db.clone(), config(RetryPolicy::fast(), false));
        s.create(&invoice_body());
        let log = wait_deliveries(&s, &ep, "a refused attempt", |d| {
            d.len() == 1 && d[0]["attempt_count"].as_i64() >= Some(1)
        });
        guarded.stop();
        assert_eq!(log[0]["last_error"], NON_PUBLIC, "{backend}");
        assert_eq!(log[0]["last_status_code"], Value::Null);
        assert!(rx.hits().is_empty(), "{backend}: the receiver was never contacted");

        // With the flag, the same delivery goes through when retried.
        let retry = format!(
            "/v1/webhook-endpoints/{ep}/deliveries/{}/retry",
            log[0]["id"].as_str().unwrap()
        );
        assert_eq!(s.req("POST", &retry).send().status, 202, "{backend}");
        let open = dispatcher(&s);
        let hits = rx.wait_for(1);
        open.stop();
        assert_eq!(hits[0].id(), log[0]["event_id"].as_str().unwrap(), "{backend}");
    }
}

/// The delivery log's fixed text for a target refused by the SSRF guard.
const NON_PUBLIC: &str = "non_public_address: refused to connect, the host is or resolves to a non-public (loopback, private, link-local or reserved) address";

/// A name other than `localhost` that `/etc/hosts` maps to a loopback
/// address (such as the machine's own name), so resolving it never sends a
/// DNS query.
fn loopback_name_from_etc_hosts() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|line| {
        let mut fields = line.split('#').next()?.split_whitespace();
        let ip: std::net::IpAddr = fields.next()?.parse().ok()?;
        if !ip.is_loopback() {
            return None;
        }
        fields
            .find(|name| !name.contains("localhost") && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            .map(str::to_string)
    })
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn every_spelling_of_a_loopback_target_is_refused_at_creation_and_at_send() {
    for t in backends() {
        let backend = t.backend;
        // Creation, default settings: the probe's URLs and their relatives.
        let s = TestServer::start(t);
        for url in [
            "http://[2002:7f00:1::]/",
            "http://[::ffff:0:7f00:1]/",
            "http://127.0.0.1./",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2001:0:7f00:1::1]/",
            "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
        ] {
            let r = s
                .req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": url, "events": ["*"]}))
                .send();
            assert_eq!(
                (r.status, r.code()),
                (422, "webhook_url_not_allowed"),
                "{backend}: {url}: {}",
                r.text
            );
        }
        // A name of the machine's: the answer says it resolves to a
        // non-public address, and never which one.
        match loopback_name_from_etc_hosts() {
            Some(name) => {
                let r = s
                    .req("POST", "/v1/webhook-endpoints")
                    .json(&json!({"url": format!("http://{name}/"), "events": ["*"]}))
                    .send();
                assert_eq!(r.code(), "webhook_url_not_allowed", "{backend}: {name}: {}", r.text);
                assert!(
                    r.json["detail"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{name} resolves to a non-public address")),
                    "{}",
                    r.text
                );
                assert!(!r.text.contains("127.0.") && !r.text.contains("::1"), "{}", r.text);
            }
            None => eprintln!("note: /etc/hosts names no loopback host; the name case runs as a unit test only"),
        }
        let r = s
            .req("POST", "/v1/webhook-endpoints")
            .json(&json!({"url": "http://localhost:9/", "events": ["*"]}))
            .send();
        assert!(!r.text.contains("127.0.0.1"), "{}", r.text);
        let list = s.req("GET", "/v1/webhook-endpoints").send();
        assert_eq!(list.json["data"], json!([]), "{backend}: nothing was stored");
        drop(s);

        // Send time: the same spellings stored while private targets were
        // allowed (as a row from before this check would be) are refused by
        // a guarded dispatcher before any connection is made.
        let t = match backend {
            "sqlite" => crate::support::sqlite(),
            _ => crate::support::postgres(),
        };
        let s = server(t);
        let rx = Receiver::start();
        let port = rx.url["http://127.0.0.1:".len()..]
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let endpoints: Vec<(String, String)> = [
            format!("http://127.0.0.1.:{port}/"),
            format!("http://2130706433:{port}/"),
            format!("http://[::ffff:0:7f00:1]:{port}/"),
            format!("http://[2002:7f00:1::]:{port}/"),
        ]
        .into_iter()
        .map(|url| (endpoint(&s, &url, &["*"]).0, url))
        .collect();
        let guarded = Dispatcher::start_with(s.db.clone(), config(RetryPolicy::fast(), false));
        s.create(&invoice_body());
        for (ep, url) in &endpoints {
            let log = wait_deliveries(&s, ep, "a refused attempt", |d| {
                d.len() == 1 && d[0]["attempt_count"].as_i64() >= Some(1)
            });
            assert_eq!(log[0]["last_error"], NON_PUBLIC, "{backend}: {url}");
        }
        guarded.stop();
        assert!(rx.hits().is_empty(), "{backend}: the receiver was never contacted");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn delivery_logs_keep_a_fixed_error_class_not_the_os_text() {
    for t in backends() {
        let s = server(t);
        // A port nobody listens on: bind one, note it, close it.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (ep, _) = endpoint(&s, &format!("http://127.0.0.1:{closed}/hook"), &["*"]);
        let d = dispatcher(&s);
        s.create(&invoice_body());
        let log = wait_deliveries(&s, &ep, "a failed attempt", |d| {
            d.len() == 1 && d[0]["attempt_count"].as_i64() >= Some(1)
        });
        d.stop();
        assert_eq!(
            log[0]["last_error"], "connection_refused: the receiver refused the connection",
            "{}",
            s.backend
        );
        assert_eq!(log[0]["attempts"][0]["error"], log[0]["last_error"], "{}", s.backend);
        assert!(!log[0].to_string().contains("os error"), "{}", log[0]);
    }
}

/// The first request for an event other than `first`'s.
fn next_event(rx: &Receiver, first: &Hit) -> Hit {
    let hits = rx.wait_until("another event", |h| h.iter().any(|x| x.id() != first.id()));
    hits.into_iter().find(|x| x.id() != first.id()).unwrap()
}

/// A key for `INVOICE_SECRET_KEY` (32 bytes, base64).
const SECRET_KEY: &str = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho=";

/// The stored `secret` and `previous_secret` of an endpoint.
fn stored_secrets(s: &TestServer, endpoint: &str) -> (String, Option<String>) {
    use diesel::prelude::*;
    use invoice_adapters::outbound::db::schema::webhook_endpoints as ep;
    let id = endpoint.to_string();
    s.db.read_conn(|c| {
        ep::table
            .filter(ep::id.eq(id))
            .select((ep::secret, ep::previous_secret))
            .first(c)
            .map_err(invoice_adapters::outbound::db::repository_error)
    })
    .unwrap()
}

/// Every stored idempotent reply body.
fn stored_replies(s: &TestServer) -> Vec<String> {
    use diesel::prelude::*;
    use invoice_adapters::outbound::db::schema::idempotency_keys as k;
    s.db.read_conn(|c| {
        k::table
            .select(k::response_body)
            .load::<Option<String>>(c)
            .map_err(invoice_adapters::outbound::db::repository_error)
    })
    .unwrap()
    .into_iter()
    .flatten()
    .collect()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn with_a_secret_key_webhook_secrets_are_sealed_at_rest_and_still_sign_and_rotate() {
    use invoice_adapters::outbound::secrets::{seal_stored_secrets, SealError, SecretBox, SecretError};
    for t in backends() {
        let sealing = SecretBox::from_key_text(SECRET_KEY).unwrap();
        let box_for_state = sealing.clone();
        let s = TestServer::start_state(t, Dialects::all(), move |st| {
            st.with_webhooks(WebhookSettings { allow_private: true })
                .with_secrets(box_for_state)
        });
        let backend = s.backend;
        let rx = Receiver::start();
        // Created with an idempotency key: neither the row nor the stored
        // reply holds the secret in the clear, and the replay still shows it.
        let create = || {
            s.req("POST", "/v1/webhook-endpoints")
                .header("Idempotency-Key", "ep-create-1")
                .json(&json!({"url": rx.url, "events": ["invoice.created"]}))
                .send()
        };
        let first = create();
        assert_eq!(first.status, 201, "{backend}: {}", first.text);
        let ep = first.json["id"].as_str().unwrap().to_string();
        let old = first.json["secret"].as_str().unwrap().to_string();
        let (stored, _) = stored_secrets(&s, &ep);
        assert!(
            stored.starts_with("enc:v1:") && !stored.contains(&old[6..]),
            "{backend}: {stored}"
        );
        let replies = stored_replies(&s);
        assert!(!replies.is_empty(), "{backend}: the reply was stored");
        assert!(replies.iter().all(|r| !r.contains(&old[6..])), "{backend}: {replies:?}");
        let replay = create();
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.json["secret"], old.as_str(), "{backend}");

        // A dispatcher without the key cannot sign: nothing is sent.
        let blind = Dispatcher::start_with(s.db.clone(), config(RetryPolicy::fast(), true));
        s.create(&invoice_body());
        let log = wait_deliveries(&s, &ep, "an unsigned attempt", |d| {
            d.len() == 1 && d[0]["attempt_count"].as_i64() >= Some(1)
        });
        blind.stop();
        assert_eq!(
            log[0]["last_error"], "not_rendered: the event could not be rendered or signed",
            "{backend}"
        );
        assert!(rx.hits().is_empty(), "{backend}");

        // With the key it signs with the secret shown at creation.
        let retry = format!(
            "/v1/webhook-endpoints/{ep}/deliveries/{}/retry",
            log[0]["id"].as_str().unwrap()
        );
        assert_eq!(s.req("POST", &retry).send().status, 202, "{backend}");
        let keyed = Dispatcher::start_with(
            s.db.clone(),
            DispatcherConfig {
                secrets: sealing.clone(),
                ..config(RetryPolicy::fast(), true)
            },
        );
        let hits = rx.wait_for(1);
        assert!(signed_by(&old, &hits[0]), "{backend}: signed with the created secret");

        // Rotation keeps the old one signing for a day: both stay sealed.
        let rotated = post(
            &s,
            &format!("/v1/webhook-endpoints/{ep}/rotate-secret"),
            json!({"previous_secret_expires_in": 86400}),
        );
        let new = rotated["secret"].as_str().unwrap().to_string();
        let (stored_new, stored_previous) = stored_secrets(&s, &ep);
        assert!(stored_new.starts_with("enc:v1:") && !stored_new.contains(&new[6..]));
        assert_eq!(
            stored_previous.as_deref(),
            Some(stored.as_str()),
            "{backend}: moved as it was"
        );
        s.create(&invoice_body());
        let later = next_event(&rx, &hits[0]);
        keyed.stop();
        assert!(signed_by(&new, &later) && signed_by(&old, &later), "{backend}");

        // Another key opens nothing, and the server would refuse to start.
        let other = SecretBox::from_key_text(&"ab".repeat(32)).unwrap();
        let refused = s.db.write_conn(|c| seal_stored_secrets(c, &other));
        assert!(
            matches!(refused, Err(SealError::Secret(SecretError::WrongKey))),
            "{backend}: {refused:?}"
        );
        let refused = s.db.write_conn(|c| seal_stored_secrets(c, &SecretBox::plaintext()));
        assert!(
            matches!(refused, Err(SealError::Secret(SecretError::NoKey))),
            "{backend}"
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn plaintext_secrets_from_before_the_key_keep_working_and_are_sealed_once_it_is_set() {
    use invoice_adapters::outbound::secrets::{seal_stored_secrets, SealReport, SecretBox};
    for t in backends() {
        // No key: stored as before, in plaintext.
        let s = server(t);
        let backend = s.backend;
        let rx = Receiver::start();
        let (ep, old) = endpoint(&s, &rx.url, &["invoice.created"]);
        assert_eq!(stored_secrets(&s, &ep).0, old, "{backend}: no key, no sealing");
        post(
            &s,
            &format!("/v1/webhook-endpoints/{ep}/rotate-secret"),
            json!({"previous_secret_expires_in": 3600}),
        );
        let (plain_new, plain_previous) = stored_secrets(&s, &ep);
        assert!(plain_new.starts_with("whsec_") && plain_previous.as_deref() == Some(old.as_str()));

        // A keyed dispatcher reads plaintext rows as they are.
        let sealing = SecretBox::from_key_text(SECRET_KEY).unwrap();
        let keyed = || {
            Dispatcher::start_with(
                s.db.clone(),
                DispatcherConfig {
                    secrets: sealing.clone(),
                    ..config(RetryPolicy::fast(), true)
                },
            )
        };
        let d = keyed();
        s.create(&invoice_body());
        let hits = rx.wait_for(1);
        d.stop();
        assert!(
            signed_by(&plain_new, &hits[0]) && signed_by(&old, &hits[0]),
            "{backend}"
        );

        // Once the key is set, startup seals both in place, once.
        let report = s.db.write_conn(|c| seal_stored_secrets(c, &sealing)).unwrap();
        assert_eq!(
            report,
            SealReport {
                sealed: 1,
                already_sealed: 0
            },
            "{backend}"
        );
        let (sealed_new, sealed_previous) = stored_secrets(&s, &ep);
        assert!(sealed_new.starts_with("enc:v1:") && sealed_previous.unwrap().starts_with("enc:v1:"));
        let again = s.db.write_conn(|c| seal_stored_secrets(c, &sealing)).unwrap();
        assert_eq!(
            again,
            SealReport {
                sealed: 0,
                already_sealed: 1
            },
            "{backend}"
        );
        let d = keyed();
        s.create(&invoice_body());
        let later = next_event(&rx, &hits[0]);
        d.stop();
        assert!(
            signed_by(&plain_new, &later) && signed_by(&old, &later),
            "{backend}: same secrets"
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn servers_starting_at_once_seal_each_plaintext_secret_exactly_once() {
    use invoice_adapters::outbound::secrets::{endpoint_context, seal_stored_secrets, SecretBox};
    for t in backends() {
        let s = server(t);
        let backend = s.backend;
        let secrets: Vec<(String, String)> = (0..40)
            .map(|i| endpoint(&s, &format!("http://127.0.0.1:9/{i}"), &["*"]))
            .collect();
        let sealing = SecretBox::from_key_text(SECRET_KEY).unwrap();
        let start = std::sync::Barrier::new(8);
        let reports: Vec<_> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        s.db.write_conn(|c| seal_stored_secrets(c, &sealing))
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let sealed: usize = reports
            .iter()
            .map(|r| r.as_ref().unwrap_or_else(|e| panic!("{backend}: {e}")).sealed)
            .sum();
        assert_eq!(
            sealed,
            secrets.len(),
            "{backend}: each row sealed by exactly one: {reports:?}"
        );
        for (ep, plain) in &secrets {
            let (stored, _) = stored_secrets(&s, ep);
            let context = endpoint_context(s.tenant.get(), ep);
            assert_eq!(sealing.open(&context, &stored).unwrap(), *plain, "{backend}");
        }
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn after_a_rotation_deliveries_are_signed_with_the_new_secret() {
    for t in backends() {
        let s = server(t);
        let rx = Receiver::start();
        let (ep, old) = endpoint(&s, &rx.url, &["invoice.created"]);
        assert!(old.starts_with("whsec_"));
        let key = STANDARD.decode(&old["whsec_".len()..]).unwrap();
        assert!((24..=32).contains(&key.len()), "{}", s.backend);
        let d = dispatcher(&s);

        s.create(&invoice_body());
        let first = rx.wait_for(1).remove(0);
        assert!(signed_by(&old, &first), "{}", s.backend);

        let r = s
            .req("POST", &format!("/v1/webhook-endpoints/{ep}/rotate-secret"))
            .send();
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        let new = r.json["secret"].as_str().unwrap().to_string();
        assert!(new.starts_with("whsec_") && new != old, "{}", s.backend);
        let shown = s.req("GET", &format!("/v1/webhook-endpoints/{ep}")).send();
        assert_eq!(
            shown.json.get("secret"),
            None,
            "{}: the secret is shown only once",
            s.backend
        );

        s.create(&invoice_body());
        let second = rx.wait_for(2).remove(1);
        assert!(signed_by(&new, &second), "{}: signed with the new secret", s.backend);
        assert!(!signed_by(&old, &second), "{}: not with the old one", s.backend);

        // A rotation with an overlap signs with both until it ends.
        let r = s
            .req("POST", &format!("/v1/webhook-endpoints/{ep}/rotate-secret"))
            .json(&json!({"previous_secret_expires_in": 3600}))
            .send();
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        let newest = r.json["secret"].as_str().unwrap().to_string();
        assert!(r.json["previous_secret_expires_at"].is_string());
        s.create(&invoice_body());
        let third = rx.wait_for(3).remove(2);
        d.stop();
        assert!(signed_by(&newest, &third) && signed_by(&new, &third), "{}", s.backend);
        assert!(!signed_by(&old, &third), "{}", s.backend);
        assert_eq!(third.headers["webhook-signature"].split(' ').count(), 2);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn an_endpoint_that_keeps_failing_is_disabled_and_can_be_enabled_again() {
    for t in backends() {
        let s = server(t);
        let rx = Receiver::start();
        rx.answer_always(Some(500));
        let (ep, _) = endpoint(&s, &rx.url, &["invoice.created"]);
        let policy = RetryPolicy {
            schedule: Vec::new(),
            disable_after_failed_deliveries: 2,
            ..RetryPolicy::fast()
        };
        let d = Dispatcher::start_with(s.db.clone(), config(policy, true));
        s.create(&invoice_body());
        s.create(&invoice_body());
        let log = wait_deliveries(&s, &ep, "two failed deliveries", |d| {
            d.len() == 2 && d.iter().all(|x| x["status"] == "failed")
        });
        assert!(log
            .iter()
            .all(|x| x["last_status_code"] == 500 && x["next_attempt_at"].is_null()));
        let shown = s.req("GET", &format!("/v1/webhook-endpoints/{ep}")).send().json;
        assert_eq!(shown["status"], "disabled", "{}", s.backend);
        assert!(
            shown["disabled_reason"].as_str().unwrap().contains("2 deliveries"),
            "{shown}"
        );
        assert!(shown["disabled_at"].is_string());

        // Nothing is sent to a disabled endpoint, and retries are refused.
        s.create(&invoice_body());
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(rx.hits().len(), 2, "{}", s.backend);
        assert_eq!(deliveries(&s, &ep).len(), 2, "{}", s.backend);
        let failed = log[0]["id"].as_str().unwrap();
        let retry = format!("/v1/webhook-endpoints/{ep}/deliveries/{failed}/retry");
        let r = s.req("POST", &retry).send();
        assert_eq!(
            (r.status, r.code()),
            (409, "webhook_endpoint_disabled"),
            "{}",
            s.backend
        );

        // Fixed: enable it and retry the failed delivery by hand.
        rx.answer_always(None);
        let r = s.req("POST", &format!("/v1/webhook-endpoints/{ep}/enable")).send();
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_eq!(r.json["status"], "enabled");
        assert_eq!(r.json["disabled_reason"], Value::Null);
        let r = s.req("POST", &retry).send();
        assert_eq!(r.status, 202, "{}: {}", s.backend, r.text);
        assert_eq!(r.json["status"], "pending");
        let hits = rx.wait_for(3);
        assert_eq!(hits[2].id(), log[0]["event_id"].as_str().unwrap(), "{}", s.backend);
        let log = wait_deliveries(&s, &ep, "the retried delivery", |d| {
            d.iter().any(|x| x["id"] == failed && x["status"] == "succeeded")
        });
        d.stop();
        let retried = log.iter().find(|x| x["id"] == failed).unwrap();
        assert_eq!(retried["attempt_count"], 2, "{}", s.backend);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn endpoints_are_managed_per_tenant_and_need_the_scope() {
    for t in backends() {
        let s = server(t);
        let url = "http://127.0.0.1:9/hooks";
        // Validation.
        for (events, field) in [
            (json!([]), "events"),
            (json!(["invoice.exploded"]), "events[0]"),
            (json!([" invoice.paid"]), "events[0]"),
        ] {
            let r = s
                .req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": url, "events": events}))
                .send();
            assert_eq!(r.status, 422, "{}: {}", s.backend, r.text);
            assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
        }
        // The URL follows the contract's grammar exactly: no padding, no
        // fragment, no credentials, a port in range.
        for bad in [
            " http://127.0.0.1:9/hooks",
            "http://127.0.0.1:9/hooks ",
            "http://127.0.0.1:9/hooks#frag",
            "http://127.0.0.1:99999/hooks",
            "http://a_b.example/hooks",
            "HTTP://127.0.0.1:9/hooks",
        ] {
            let r = s
                .req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": bad, "events": ["*"]}))
                .send();
            assert_eq!((r.status, r.code()), (422, "validation_failed"), "{bad:?}: {}", r.text);
            assert_eq!(r.json["errors"][0]["field"], "url");
        }
        let r = s
            .req("POST", "/v1/webhook-endpoints")
            .json(&json!({"url": url, "events": ["invoice.cancelled", "credit_note.issued", "invoice.cancelled"]}))
            .send();
        assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        let ep = r.json["id"].as_str().unwrap().to_string();
        assert_eq!(r.json["object"], "webhook_endpoint");
        assert_eq!(r.json["events"], json!(["invoice.cancelled", "credit_note.issued"]));
        assert_eq!(r.json["status"], "enabled");
        assert_eq!(r.json["url"], url);

        let list = s.req("GET", "/v1/webhook-endpoints").send();
        assert_eq!(list.status, 200);
        assert_eq!(list.json["data"].as_array().unwrap().len(), 1);
        assert_eq!(list.json["data"][0]["id"], ep.as_str());
        assert_eq!(list.json["data"][0].get("secret"), None, "{}", s.backend);
        let one = s.req("GET", &format!("/v1/webhook-endpoints/{ep}")).send();
        assert_eq!(one.status, 200);
        assert_eq!(one.json["events"], r.json["events"]);
        assert_eq!(one.json.get("secret"), None);
        let empty = s.req("GET", &format!("/v1/webhook-endpoints/{ep}/deliveries")).send();
        assert_eq!((empty.status, empty.json["data"].as_array().unwrap().len()), (200, 0));

        // Another tenant sees nothing of it.
        let (_, other) = s.other_tenant("globex");
        let as_other = |m: &str, p: &str| Req::new(m, &format!("{}{p}", s.base)).bearer(&other).send();
        let delivery = uuid::Uuid::now_v7();
        for (m, p) in [
            ("GET", format!("/v1/webhook-endpoints/{ep}")),
            ("DELETE", format!("/v1/webhook-endpoints/{ep}")),
            ("POST", format!("/v1/webhook-endpoints/{ep}/rotate-secret")),
            ("POST", format!("/v1/webhook-endpoints/{ep}/enable")),
            ("GET", format!("/v1/webhook-endpoints/{ep}/deliveries")),
            (
                "POST",
                format!("/v1/webhook-endpoints/{ep}/deliveries/{delivery}/retry"),
            ),
        ] {
            let r = as_other(m, &p);
            assert_eq!(r.status, 404, "{}: {m} {p}: {}", s.backend, r.text);
            assert_eq!(r.code(), "webhook_endpoint_not_found");
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
        }
        let theirs = as_other("GET", "/v1/webhook-endpoints");
        assert_eq!(theirs.json["data"].as_array().unwrap().len(), 0, "{}", s.backend);
        let r = s
            .req(
                "POST",
                &format!("/v1/webhook-endpoints/{ep}/deliveries/{delivery}/retry"),
            )
            .send();
        assert_eq!((r.status, r.code()), (404, "webhook_delivery_not_found"));
        assert_eq!(s.req("GET", "/v1/webhook-endpoints/not-a-uuid").send().status, 404);
        let unhyphenated = ep.replace('-', "");
        assert_eq!(
            s.req("GET", &format!("/v1/webhook-endpoints/{unhyphenated}"))
                .send()
                .status,
            404,
            "only the hyphenated form the contract states names an endpoint"
        );

        // Another method answers 405 with the methods the route serves.
        for (m, p, allow) in [
            ("PUT", "/v1/webhook-endpoints".to_string(), "GET, POST"),
            ("POST", format!("/v1/webhook-endpoints/{ep}"), "GET, DELETE"),
            ("GET", format!("/v1/webhook-endpoints/{ep}/rotate-secret"), "POST"),
            ("GET", format!("/v1/webhook-endpoints/{ep}/enable"), "POST"),
            ("POST", format!("/v1/webhook-endpoints/{ep}/deliveries"), "GET"),
            (
                "GET",
                format!("/v1/webhook-endpoints/{ep}/deliveries/{delivery}/retry"),
                "POST",
            ),
            ("DELETE", "/v1/events".to_string(), "GET"),
        ] {
            let r = s.req(m, &p).send();
            assert_eq!((r.status, r.code()), (405, "method_not_allowed"), "{m} {p}: {}", r.text);
            assert_eq!(r.header("allow"), Some(allow), "{m} {p}");
        }

        // The scope is required, and a party-restricted key is refused.
        let reader = s.key_with("invoices:read,invoices:write", None);
        let party = s.key_with("webhooks:manage", Some("cust-1"));
        for key in [&reader, &party] {
            for (m, p) in [
                ("GET", "/v1/webhook-endpoints".to_string()),
                ("POST", "/v1/webhook-endpoints".to_string()),
                ("GET", format!("/v1/webhook-endpoints/{ep}")),
                ("DELETE", format!("/v1/webhook-endpoints/{ep}")),
                ("POST", format!("/v1/webhook-endpoints/{ep}/rotate-secret")),
                ("GET", format!("/v1/webhook-endpoints/{ep}/deliveries")),
            ] {
                let r = Req::new(m, &format!("{}{p}", s.base))
                    .bearer(key)
                    .json(&json!({"url": url, "events": ["*"]}))
                    .send();
                assert_eq!(r.status, 403, "{}: {m} {p}: {}", s.backend, r.text);
                assert!(
                    matches!(r.code(), "insufficient_scope" | "party_restricted_key"),
                    "{}",
                    r.text
                );
            }
        }
        let r = s.anon("GET", "/v1/webhook-endpoints").send();
        assert_eq!(r.status, 401);

        // Delete.
        let r = s.req("DELETE", &format!("/v1/webhook-endpoints/{ep}")).send();
        assert_eq!(r.status, 204, "{}: {}", s.backend, r.text);
        assert_eq!(s.req("GET", &format!("/v1/webhook-endpoints/{ep}")).send().status, 404);
        assert_eq!(
            s.req("DELETE", &format!("/v1/webhook-endpoints/{ep}")).send().status,
            404
        );

        // The OpenAPI document lists the new operations.
        let doc = s.anon("GET", "/openapi.json").send().json;
        for path in [
            "/v1/webhook-endpoints",
            "/v1/webhook-endpoints/{id}/rotate-secret",
            "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/retry",
            "/v1/events",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing from OpenAPI");
        }
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn the_event_log_pages_with_starting_after_and_filters_by_type() {
    for t in backends() {
        let s = TestServer::start(t);
        let a = s.open(&invoice_body());
        let b = s.open(&invoice_body());
        post(
            &s,
            &format!("/v1/invoices/{}/cancel", a["id"].as_str().unwrap()),
            json!({"reason": "duplicate"}),
        );
        let mut other = invoice_body();
        other["customer"]["id"] = json!("cust-2");
        other["issuer"]["id"] = json!("trp-2");
        let c = s.open(&other);

        let all = event_log(&s);
        assert_eq!(all.len(), 2 + 2 + 2 + 2, "{}", s.backend);
        for e in &all {
            assert_eq!(e["object"], "event");
            assert!(e["id"].is_string() && e["type"].is_string() && e["created_at"].is_string());
            assert_eq!(e["tenant_id"], s.tenant.get());
            assert_eq!(e["data"]["object"]["id"], e["invoice_id"]);
        }
        let created: Vec<&str> = all.iter().map(|e| e["created_at"].as_str().unwrap()).collect();
        assert!(created.windows(2).all(|w| w[0] <= w[1]), "{}: oldest first", s.backend);
        assert_eq!(all[0]["type"], "invoice.created");
        assert_eq!(all[0]["invoice_id"], a["id"]);

        // Page by three.
        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let q = match &after {
                Some(id) => format!("/v1/events?limit=3&starting_after={id}"),
                None => "/v1/events?limit=3".to_string(),
            };
            let r = s.req("GET", &q).send();
            assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
            let data = r.json["data"].as_array().unwrap().clone();
            assert!(data.len() <= 3);
            after = data.last().map(|e| e["id"].as_str().unwrap().to_string());
            paged.extend(data);
            if !r.json["has_more"].as_bool().unwrap() {
                break;
            }
        }
        assert_eq!(paged, all, "{}: pages add up to the log", s.backend);

        // Filter by type, with a cursor.
        let r = s.req("GET", "/v1/events?type=invoice.finalized").send();
        let finalized = r.json["data"].as_array().unwrap();
        assert_eq!(finalized.len(), 3, "{}", s.backend);
        assert!(finalized.iter().all(|e| e["type"] == "invoice.finalized"));
        assert_eq!(finalized[1]["invoice_id"], b["id"]);
        let r = s
            .req(
                "GET",
                &format!(
                    "/v1/events?type=invoice.finalized&starting_after={}",
                    finalized[1]["id"].as_str().unwrap()
                ),
            )
            .send();
        assert_eq!(r.json["data"].as_array().unwrap().len(), 1);
        assert_eq!(r.json["data"][0]["invoice_id"], c["id"]);
        assert_eq!(r.json["has_more"], false);

        // Bad parameters.
        for q in [
            "/v1/events?type=invoice.exploded",
            "/v1/events?limit=0",
            "/v1/events?limit=101",
            "/v1/events?starting_after=not-an-event",
            "/v1/events?starting_after=0000000000007000800000000000000",
            "/v1/events?colour=red",
        ] {
            let r = s.req("GET", q).send();
            assert_eq!(r.status, 400, "{}: {q}: {}", s.backend, r.text);
            assert_eq!(r.code(), "invalid_query_parameter", "{q}");
        }
        // A well-formed id that names no event of this tenant.
        let r = s
            .req("GET", "/v1/events?starting_after=00000000-0000-7000-8000-000000000000")
            .send();
        assert_eq!(
            (r.status, r.code()),
            (404, "event_not_found"),
            "{}: {}",
            s.backend,
            r.text
        );

        // Scope, tenant and party.
        let hooks_only = s.key_with("webhooks:manage", None);
        let r = Req::new("GET", &format!("{}/v1/events", s.base))
            .bearer(&hooks_only)
            .send();
        assert_eq!((r.status, r.code()), (403, "insufficient_scope"));
        let (_, other_key) = s.other_tenant("globex");
        let r = Req::new("GET", &format!("{}/v1/events", s.base))
            .bearer(&other_key)
            .send();
        assert_eq!(r.json["data"].as_array().unwrap().len(), 0, "{}", s.backend);
        let carrier = s.key_with("invoices:read", Some("trp-2"));
        let r = Req::new("GET", &format!("{}/v1/events", s.base))
            .bearer(&carrier)
            .send();
        let theirs = r.json["data"].as_array().unwrap();
        assert_eq!(theirs.len(), 2, "{}: {}", s.backend, r.text);
        assert!(theirs.iter().all(|e| e["invoice_id"] == c["id"]));
    }
}

/// Overwrites an endpoint's stored event list, as a bug or a hand-edit might.
fn store_event_types(s: &TestServer, endpoint: &str, event_types: &str) {
    use diesel::prelude::*;
    use invoice_adapters::outbound::db::schema::webhook_endpoints as ep;
    let (id, value) = (endpoint.to_string(), event_types.to_string());
    s.db.write_conn(|c| {
        diesel::update(ep::table.filter(ep::id.eq(id)))
            .set(ep::event_types.eq(value))
            .execute(c)
            .map_err(invoice_adapters::outbound::db::repository_error)
    })
    .unwrap();
}

/// How many deliveries the database holds for an endpoint.
fn stored_deliveries(s: &TestServer, endpoint: &str) -> i64 {
    use diesel::prelude::*;
    use invoice_adapters::outbound::db::schema::webhook_deliveries as d;
    let id = endpoint.to_string();
    s.db.read_conn(|c| {
        d::table
            .filter(d::endpoint_id.eq(id))
            .count()
            .get_result(c)
            .map_err(invoice_adapters::outbound::db::repository_error)
    })
    .unwrap()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_stored_event_list_that_does_not_parse_is_an_error_and_its_events_wait_until_it_is_repaired() {
    for t in backends() {
        let s = server(t);
        let rx = Receiver::start();
        let (broken, _) = endpoint(&s, &rx.url, &["invoice.created"]);
        store_event_types(&s, &broken, "invoice.created");

        // The API says the stored data is bad; it does not show an endpoint
        // that subscribes to nothing.
        for path in [
            format!("/v1/webhook-endpoints/{broken}"),
            "/v1/webhook-endpoints".to_string(),
        ] {
            let r = s.req("GET", &path).send();
            assert_eq!(
                (r.status, r.code()),
                (500, "internal_error"),
                "{}: GET {path}: {}",
                s.backend,
                r.text
            );
            assert_eq!(r.header("content-type"), Some("application/problem+json"));
        }

        // The fan-out neither skips the endpoint nor holds up other tenants
        // (this one's id is lower, so it comes first).
        let (_, other_key) = s.other_tenant("globex");
        let other_rx = Receiver::start();
        let r = Req::new("POST", &format!("{}/v1/webhook-endpoints", s.base))
            .bearer(&other_key)
            .json(&json!({"url": other_rx.url, "events": ["*"]}))
            .send();
        assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        let d = dispatcher(&s);
        s.create(&invoice_body());
        let r = Req::new("POST", &format!("{}/v1/invoices", s.base))
            .bearer(&other_key)
            .json(&invoice_body())
            .send();
        assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        other_rx.wait_for(1);
        std::thread::sleep(Duration::from_millis(300));
        assert!(rx.hits().is_empty(), "{}", s.backend);
        assert_eq!(stored_deliveries(&s, &broken), 0, "{}", s.backend);

        // Repaired, the endpoint gets the event that waited.
        store_event_types(&s, &broken, r#"["invoice.created"]"#);
        let hits = rx.wait_for(1);
        assert_eq!(hits[0].json["type"], "invoice.created", "{}", s.backend);
        let r = s.req("GET", &format!("/v1/webhook-endpoints/{broken}")).send();
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_eq!(r.json["events"], json!(["invoice.created"]));
        d.stop();
    }
}
