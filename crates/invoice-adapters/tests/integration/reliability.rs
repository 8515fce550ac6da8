//! Reliability: a PostgreSQL outage under load fails fast with 503 and heals
//! by itself once the database is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use invoice_adapters::outbound::db::{Database, PoolConfig};
use invoice_adapters::testkit::PgCluster;
use serde_json::json;

use crate::http_support::*;
use crate::support::TestDb;

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_database_outage_fails_fast_with_503_and_recovers_without_a_restart() {
    // Uses its own cluster: stopping the shared one would break other tests.
    let cluster = PgCluster::start(&[]).expect("start a dedicated cluster");
    cluster.create_database("outage", None).unwrap();
    let config = PoolConfig {
        max_size: 4,
        connection_timeout: Duration::from_secs(2),
        ..PoolConfig::default()
    };
    let db = Database::open(&cluster.url("outage"), config).unwrap();
    let s = Arc::new(TestServer::start(TestDb::wrap(db, "postgres")));
    let inv = s.open(&invoice_body());
    let path = format!("/v1/invoices/{}", inv["id"].as_str().unwrap());

    // Background load for the whole test.
    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (s, stop, path) = (s.clone(), stop.clone(), path.clone());
            std::thread::spawn(move || {
                let mut worst = Duration::ZERO;
                let mut statuses = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let r = s.req("GET", &path).send();
                    worst = worst.max(started.elapsed());
                    statuses.push(r.status);
                }
                (worst, statuses)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    cluster.stop().expect("stop PostgreSQL");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let down = s.req("GET", &path).send();
    assert_eq!(
        (down.status, down.code()),
        (503, "service_unavailable"),
        "{}",
        down.text
    );
    assert!(down.header("retry-after").is_some());
    let failed_in = started.elapsed();
    assert!(failed_in < Duration::from_secs(5), "failed fast: {failed_in:?}");
    let write = s.req("POST", &format!("{path}/void")).send();
    assert_eq!(write.status, 503, "{}", write.text);
    let ready = s.anon("GET", "/readyz").send();
    assert_eq!(ready.status, 503);

    cluster.restart(&[]).expect("start PostgreSQL again");
    let restarted = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = s.req("GET", &path).send();
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover: {}", r.text);
        std::thread::sleep(Duration::from_millis(100));
    }
    let healed_in = restarted.elapsed();
    assert_eq!(s.anon("GET", "/readyz").send().status, 200);
    let cancelled = s
        .req("POST", &format!("{path}/cancel"))
        .json(&json!({"reason": "after outage"}))
        .send();
    assert_eq!(cancelled.status, 200, "writes work again: {}", cancelled.text);

    stop.store(true, Ordering::Relaxed);
    let (mut slowest, mut answers) = (Duration::ZERO, std::collections::BTreeMap::<u16, usize>::new());
    for h in load {
        let (worst, statuses) = h.join().unwrap();
        assert!(worst < Duration::from_secs(6), "no request hung: worst {worst:?}");
        assert!(
            statuses.iter().all(|s| *s == 200 || *s == 503),
            "only 200 or 503 under the outage: {statuses:?}"
        );
        slowest = slowest.max(worst);
        for s in statuses {
            *answers.entry(s).or_default() += 1;
        }
    }
    eprintln!(
        "figure: outage | postgres | PostgreSQL stopped under load: a read answered 503 in {} ms, readiness 503; \
         load answered {} (slowest {} ms, none hung); healed {} ms after the restart, without restarting the server",
        failed_in.as_millis(),
        answers
            .iter()
            .map(|(s, n)| format!("{n} × {s}"))
            .collect::<Vec<_>>()
            .join(", "),
        slowest.as_millis(),
        healed_in.as_millis()
    );
}
