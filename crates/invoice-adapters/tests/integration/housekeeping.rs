//! Housekeeping with short windows on both backends: expired idempotency
//! records and finished webhook deliveries are purged in bounded batches,
//! by a call and by the scheduled thread beside a serving server; pending
//! deliveries, events and invoices are never touched.

use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use invoice_adapters::inbound::http::Dialects;
use invoice_adapters::outbound::db::Database;
use invoice_adapters::outbound::housekeeping::{self, Housekeeper, HousekeepingConfig, Retention};
use invoice_adapters::outbound::webhooks::{Dispatcher, DispatcherConfig, RetryPolicy, WebhookSettings};
use serde_json::json;

use crate::http_support::*;
use crate::support::backends;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows in `table` (a fixed name from this file).
fn rows(db: &Database, table: &str) -> i64 {
    db.read_conn(|c| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<Count>(c)
            .map_err(invoice_adapters::outbound::db::repository_error)
    })
    .expect("count")
    .n
}

/// Creates an invoice with an idempotency key; returns its id.
fn create_with_key(s: &TestServer, key: &str) -> String {
    let r = s
        .req("POST", "/v1/invoices")
        .header("Idempotency-Key", key)
        .json(&invoice_body())
        .send();
    assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
    r.json["id"].as_str().unwrap().to_string()
}

/// Waits until `done` holds (at most 15 s).
fn wait(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config(idempotency: Duration, webhooks: Duration, batch: i64) -> HousekeepingConfig {
    HousekeepingConfig {
        retention: Retention {
            idempotency,
            webhook_deliveries: webhooks,
        },
        interval: Duration::from_millis(200),
        batch,
        pause: Duration::from_millis(1),
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn expired_records_are_purged_in_batches_and_history_is_never_touched() {
    for t in backends() {
        let window = Duration::from_secs(1);
        let s = TestServer::start_state(t, Dialects::all(), |st| {
            st.with_webhooks(WebhookSettings { allow_private: true })
                .with_idempotency_retention(window)
        });
        // A receiver that accepts everything, and one that never answers
        // 2xx (its deliveries stay pending, waiting for a retry).
        let ok = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ok_url = format!("http://127.0.0.1:{}/ok", ok.local_addr().unwrap().port());
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for mut stream in ok.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 65536];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        for url in [ok_url.as_str(), "http://127.0.0.1:1/refused"] {
            let r = s
                .req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": url, "events": ["invoice.created"]}))
                .send();
            assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        }
        let slow_retries = RetryPolicy {
            schedule: vec![Duration::from_secs(3600)],
            ..RetryPolicy::fast()
        };
        let dispatcher = Dispatcher::start_with(
            s.db.clone(),
            DispatcherConfig {
                poll_interval: Duration::from_millis(50),
                settle: Duration::from_millis(200),
                ..DispatcherConfig::new(slow_retries, true)
            },
        );
        let ids: Vec<String> = (0..7).map(|i| create_with_key(&s, &format!("old-{i}"))).collect();
        // Each invoice: one delivery succeeds, one waits for its retry.
        wait("every delivery attempted once", || {
            rows(&s.db, "webhook_attempts") >= 14
        });
        dispatcher.stop();
        std::thread::sleep(window + Duration::from_millis(200));
        create_with_key(&s, "new-1");
        create_with_key(&s, "new-2");
        let events_before = rows(&s.db, "events");
        let history = s.req("GET", &format!("/v1/invoices/{}/events", ids[0])).send();
        assert_eq!(history.status, 200);
        let (records, deliveries) = (rows(&s.db, "idempotency_keys"), rows(&s.db, "webhook_deliveries"));
        assert_eq!((records, deliveries), (9, 14), "{}", s.backend);

        // Batches of 3: seven expired records take three transactions.
        let purged = housekeeping::purge(&s.db, &config(window, window, 3), Utc::now(), &|| true).unwrap();
        let first = format!(
            "{} of {records} idempotency records and {} of {deliveries} deliveries ({} attempts) purged in batches of 3",
            purged.idempotency_records, purged.webhook_deliveries, purged.webhook_attempts
        );
        assert_eq!(purged.idempotency_records, 7, "{}: {purged:?}", s.backend);
        assert_eq!(purged.webhook_deliveries, 7, "{}: only the succeeded ones", s.backend);
        assert_eq!(purged.webhook_attempts, 7, "{}", s.backend);
        assert_eq!(
            rows(&s.db, "idempotency_keys"),
            2,
            "{}: the fresh records stay",
            s.backend
        );
        assert_eq!(rows(&s.db, "webhook_deliveries"), 7, "{}: pending ones stay", s.backend);
        assert_eq!(
            rows(&s.db, "webhook_attempts"),
            7,
            "{}: attempts of pending deliveries stay",
            s.backend
        );
        let events_after = rows(&s.db, "events");
        assert_eq!(events_after, events_before, "{}: events are never purged", s.backend);
        let pending_after = rows(&s.db, "webhook_deliveries");
        assert_eq!(rows(&s.db, "invoices"), 9, "{}", s.backend);
        let after = s.req("GET", &format!("/v1/invoices/{}/events", ids[0])).send();
        assert_eq!(after.json, history.json, "{}: invoice history unchanged", s.backend);
        // A purged key is fresh again: reusing it creates a new invoice.
        let again = create_with_key(&s, "old-0");
        assert_ne!(again, ids[0], "{}", s.backend);
        // A second run finds nothing.
        let purged = housekeeping::purge(&s.db, &config(window, window, 3), Utc::now(), &|| true).unwrap();
        assert!(purged.is_empty(), "{}: {purged:?}", s.backend);
        eprintln!(
            "figure: housekeeping | {} | {first}; {events_after} of {events_before} events and {pending_after} pending \
             deliveries kept",
            s.backend
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn the_scheduled_purge_runs_beside_a_serving_server() {
    for t in backends() {
        let window = Duration::from_millis(500);
        let s = TestServer::start_state(t, Dialects::all(), |st| st.with_idempotency_retention(window));
        for i in 0..25 {
            create_with_key(&s, &format!("k-{i}"));
        }
        let expired = rows(&s.db, "idempotency_keys");
        assert_eq!(expired, 25);
        let keeper = Housekeeper::start(s.db.clone(), config(window, Duration::from_secs(3600), 4));
        // Requests keep being served while the purge runs in its own thread.
        let started = Instant::now();
        let mut served = 0;
        while rows(&s.db, "idempotency_keys") > 0 {
            assert!(started.elapsed() < Duration::from_secs(15), "{}: not purged", s.backend);
            let r = s.req("GET", "/v1/invoices?limit=1").send();
            assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
            served += 1;
        }
        keeper.stop();
        assert_eq!(rows(&s.db, "invoices"), 25, "{}", s.backend);
        eprintln!(
            "figure: housekeeping | {} | {expired} expired records purged by the scheduled thread in {} ms, {served} requests served meanwhile",
            s.backend,
            started.elapsed().as_millis()
        );
    }
}
