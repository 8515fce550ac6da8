//! What operators see: the interactive API docs and the outbox metrics.

use std::time::{Duration, Instant};

use invoice_adapters::inbound::http::Dialects;
use invoice_adapters::outbound::webhooks::{Dispatcher, DispatcherConfig, RetryPolicy, WebhookSettings};
use serde_json::json;

use crate::http_support::*;
use crate::support::{backends, sqlite};

#[test]
fn the_interactive_docs_render_the_servers_own_document_from_embedded_assets() {
    let s = TestServer::start(sqlite());
    let page = s.anon("GET", "/docs").send();
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.header("content-type").is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        page.headers
    );
    assert!(
        page.text.contains("<title>Storno API reference</title>"),
        "{}",
        page.text
    );
    assert!(page.text.contains(r#""url": "/openapi.json""#), "{}", page.text);
    // Every script and stylesheet comes from the server itself.
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
    ] {
        assert!(page.text.contains(&format!("./{asset}")), "{asset} not linked");
        let r = s.anon("GET", &format!("/docs/{asset}")).send();
        assert_eq!(r.status, 200, "{asset}");
        assert!(r.text.len() > 1000, "{asset} is empty");
    }
    assert!(
        !page.text.contains("https://"),
        "an outside URL in the page: {}",
        page.text
    );
    let missing = s.anon("GET", "/docs/nope.js").send();
    assert_eq!((missing.status, missing.code()), (404, "route_not_found"));
    // The document the page names is the server's own.
    let spec = s.anon("GET", "/openapi.json").send();
    assert_eq!(spec.status, 200);
    assert!(spec.json["info"]["title"].as_str().is_some_and(|t| !t.is_empty()));
}

/// The value of one sample line of `/metrics`, e.g. `webhook_deliveries_pending`.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn outbox_metrics_show_backlog_age_attempts_by_outcome_and_idempotency_records() {
    for t in backends() {
        let s = TestServer::start_state(t, Dialects::all(), |st| {
            st.with_webhooks(WebhookSettings { allow_private: true })
                .with_outbox_stats_max_age(Duration::ZERO)
        });
        let metrics = || s.anon("GET", "/metrics").send().text;
        let empty = metrics();
        assert_eq!(sample(&empty, "webhook_deliveries_pending"), 0.0, "{}", s.backend);
        assert_eq!(sample(&empty, "webhook_oldest_undelivered_event_age_seconds"), 0.0);
        assert_eq!(sample(&empty, "idempotency_records"), 0.0);
        assert_eq!(sample(&empty, r#"webhook_attempts_total{outcome="failed"}"#), 0.0);

        // One endpoint answers 500 (kept for a retry an hour later), one
        // refuses connections; no dispatcher runs yet.
        let failing = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let failing_url = format!("http://127.0.0.1:{}/x", failing.local_addr().unwrap().port());
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for mut stream in failing.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 65536];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(b"HTTP/1.1 500 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        });
        for url in [failing_url.as_str(), "http://127.0.0.1:1/refused"] {
            let r = s
                .req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": url, "events": ["invoice.created"]}))
                .send();
            assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        }
        for i in 0..3 {
            let r = s
                .req("POST", "/v1/invoices")
                .header("Idempotency-Key", &format!("m-{i}"))
                .json(&invoice_body())
                .send();
            assert_eq!(r.status, 201);
        }
        std::thread::sleep(Duration::from_millis(1100));
        let waiting = metrics();
        assert_eq!(sample(&waiting, "idempotency_records"), 3.0, "{}", s.backend);
        let age = sample(&waiting, "webhook_oldest_undelivered_event_age_seconds");
        assert!(
            age >= 1.0,
            "{}: events not fanned out are undelivered: {age}",
            s.backend
        );

        let dispatcher = Dispatcher::start_with(
            s.db.clone(),
            DispatcherConfig {
                poll_interval: Duration::from_millis(50),
                settle: Duration::from_millis(100),
                attempts: Some(s.state.metrics.webhook_attempts()),
                ..DispatcherConfig::new(
                    RetryPolicy {
                        schedule: vec![Duration::from_secs(3600)],
                        ..RetryPolicy::fast()
                    },
                    true,
                )
            },
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        let after = loop {
            let m = metrics();
            let failed = sample(&m, r#"webhook_attempts_total{outcome="failed"}"#);
            let error = sample(&m, r#"webhook_attempts_total{outcome="error"}"#);
            if failed + error >= 6.0 {
                break m;
            }
            assert!(Instant::now() < deadline, "{}: attempts not counted:\n{m}", s.backend);
            std::thread::sleep(Duration::from_millis(50));
        };
        dispatcher.stop();
        assert_eq!(
            sample(&after, r#"webhook_attempts_total{outcome="failed"}"#),
            3.0,
            "{}",
            s.backend
        );
        assert_eq!(
            sample(&after, r#"webhook_attempts_total{outcome="error"}"#),
            3.0,
            "{}",
            s.backend
        );
        assert_eq!(sample(&after, r#"webhook_attempts_total{outcome="succeeded"}"#), 0.0);
        assert_eq!(sample(&after, "webhook_deliveries_pending"), 6.0, "{}", s.backend);
        let age = sample(&after, "webhook_oldest_undelivered_event_age_seconds");
        assert!(
            age >= 1.0,
            "{}: the backlog's oldest event is still waiting: {age}",
            s.backend
        );
    }
}
