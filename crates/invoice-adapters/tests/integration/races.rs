//! Every unique constraint met concurrently: first use of a number series
//! (invoices and credit notes), the per-tenant cap on webhook endpoints,
//! tenants created at once, and first-start bootstrapping by several
//! instances. Many threads released together by a barrier, several rounds,
//! on both backends; a unique violation must never reach a client as a 5xx.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use invoice_adapters::inbound::http::webhooks::MAX_ENDPOINTS;
use invoice_adapters::inbound::http::{auth, Dialects};
use invoice_adapters::outbound::db::admin;
use invoice_adapters::outbound::webhooks::WebhookSettings;
use invoice_domain::RepositoryError;
use serde_json::json;

use crate::http_support::*;
use crate::support::{backends, TestDb};

/// Runs `n` calls of `work(i)` on `n` threads released at once.
fn at_once<T: Send + 'static>(n: usize, work: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(n));
    let work = Arc::new(work);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, work) = (barrier.clone(), work.clone());
            std::thread::spawn(move || {
                barrier.wait();
                work(i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().expect("thread")).collect()
}

fn number(v: &serde_json::Value) -> String {
    v["number"].as_str().unwrap_or_default().to_string()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn first_use_of_a_number_series_by_concurrent_requests_is_gapless_and_never_a_5xx() {
    const N: usize = 20;
    const ROUNDS: usize = 3;
    for t in backends() {
        let s = Arc::new(TestServer::start(t));
        let mut answered = 0;
        let mut highest = Vec::new();
        for round in 0..ROUNDS {
            // A fresh tenant each round: its credit-note series does not exist yet.
            let (_, key) = s.other_tenant(&format!("series-{round}"));
            let series = format!("R{round}");
            let ids: Vec<String> = (0..N)
                .map(|_| {
                    let mut body = invoice_body();
                    body["series"] = json!(series);
                    let r = s.req("POST", "/v1/invoices").bearer(&key).json(&body).send();
                    assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
                    r.json["id"].as_str().unwrap().to_string()
                })
                .collect();
            let ids = Arc::new(ids);
            let (s2, k2, i2) = (s.clone(), key.clone(), ids.clone());
            let finalized = at_once(N, move |i| {
                s2.req("POST", &format!("/v1/invoices/{}/finalize", i2[i]))
                    .bearer(&k2)
                    .send()
            });
            let (s2, k2, i2) = (s.clone(), key.clone(), ids.clone());
            let cancelled = at_once(N, move |i| {
                s2.req("POST", &format!("/v1/invoices/{}/cancel", i2[i]))
                    .bearer(&k2)
                    .json(&json!({"reason": "Issued in error", "reason_code": "issued_in_error"}))
                    .send()
            });
            for r in finalized.iter().chain(&cancelled) {
                assert_eq!(r.status, 200, "{}: round {round}: {}", s.backend, r.text);
                answered += 1;
            }
            let numbers: BTreeSet<String> = finalized.iter().map(|r| number(&r.json)).collect();
            let expected: BTreeSet<String> = (1..=N).map(|n| format!("{series}-{n:06}")).collect();
            assert_eq!(numbers, expected, "{}: round {round}: invoice numbers", s.backend);
            let notes: BTreeSet<String> = cancelled
                .iter()
                .map(|r| {
                    r.json["credit_notes"][0]["number"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
                .collect();
            let expected: BTreeSet<String> = (1..=N).map(|n| format!("CN-{n:06}")).collect();
            assert_eq!(notes, expected, "{}: round {round}: credit-note numbers", s.backend);
            let last = |set: &BTreeSet<String>| {
                set.iter()
                    .filter_map(|n| n.rsplit('-').next()?.parse::<usize>().ok())
                    .max()
                    .unwrap_or(0)
            };
            highest.push((numbers.len(), last(&numbers), notes.len(), last(&notes)));
        }
        eprintln!(
            "figure: races | {} | first use of a series: {ROUNDS} rounds × {N} concurrent finalizes, then {N} concurrent \
             cancels, each round on a new invoice and credit-note series: {answered} answered 200; per round, \
             (distinct invoice numbers, highest, distinct credit-note numbers, highest): {}",
            s.backend,
            highest
                .iter()
                .map(|(a, b, c, d)| format!("({a}, {b}, {c}, {d})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn concurrent_endpoint_creation_keeps_the_cap_and_never_gives_a_5xx() {
    let extra = 10;
    for t in backends() {
        let s = Arc::new(TestServer::start_state(t, Dialects::all(), |st| {
            st.with_webhooks(WebhookSettings { allow_private: true })
        }));
        let n = MAX_ENDPOINTS + extra;
        let s2 = s.clone();
        let replies = at_once(n, move |i| {
            s2.req("POST", "/v1/webhook-endpoints")
                .json(&json!({"url": format!("http://127.0.0.1:9/hook/{i}"), "events": ["*"]}))
                .send()
        });
        let created = replies.iter().filter(|r| r.status == 201).count();
        let refused = replies
            .iter()
            .filter(|r| r.status == 409 && r.code() == "too_many_webhook_endpoints")
            .count();
        let odd: Vec<_> = replies
            .iter()
            .filter(|r| r.status != 201 && r.code() != "too_many_webhook_endpoints")
            .map(|r| (r.status, r.text.clone()))
            .collect();
        assert!(odd.is_empty(), "{}: {odd:?}", s.backend);
        assert_eq!(
            (created, refused),
            (MAX_ENDPOINTS, extra),
            "{}: the cap holds under concurrency",
            s.backend
        );
        let listed = s.req("GET", "/v1/webhook-endpoints").send();
        assert_eq!(
            listed.json["data"].as_array().map(Vec::len),
            Some(MAX_ENDPOINTS),
            "{}",
            s.backend
        );
        eprintln!(
            "figure: races | {} | {n} endpoint creations at once against the cap of {MAX_ENDPOINTS}: {created} × 201, \
             {refused} × 409, {} other answers",
            s.backend,
            odd.len()
        );
    }
}

/// A fresh database of the same backend as `t`, for tests that need one empty.
fn fresh(t: &TestDb) -> TestDb {
    match t.backend {
        "postgres" => crate::support::postgres(),
        _ => crate::support::sqlite(),
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tenants_created_at_once_give_one_winner_and_a_unique_violation_for_the_rest() {
    const N: usize = 16;
    for t in backends() {
        let mut tally = Vec::new();
        for round in 0..3 {
            let db = t.db.clone();
            let slug = format!("same-{round}");
            let results = at_once(N, move |_| db.write_conn(|c| admin::create_tenant(c, &slug, "Same")));
            let won = results.iter().filter(|r| r.is_ok()).count();
            let lost = results
                .iter()
                .filter(|r| matches!(r, Err(RepositoryError::UniqueViolation(_))))
                .count();
            assert_eq!((won, lost), (1, N - 1), "{}: {results:?}", t.backend);
            tally.push(format!("{won} winner and {lost} unique violations"));
        }
        eprintln!(
            "figure: races | {} | {N} create_tenant at once, {} rounds: {}",
            t.backend,
            tally.len(),
            tally.join("; ")
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn instances_bootstrapping_one_empty_database_at_once_create_one_default_tenant() {
    const N: usize = 8;
    for t in backends() {
        let mut tally = Vec::new();
        for round in 0..3 {
            let empty = fresh(&t);
            let db = empty.db.clone();
            let results = at_once(N, move |_| {
                let key = auth::mint_key();
                db.write_conn(|c| {
                    admin::create_first_tenant(
                        c,
                        admin::NewApiKey {
                            tenant_id: 0,
                            id: &key.id,
                            key_hash: &key.hash,
                            scopes: "invoices:read",
                            party_id: None,
                            expires_at: None,
                        },
                    )
                })
            });
            let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            assert!(errors.is_empty(), "{}: round {round}: {errors:?}", t.backend);
            let created = results.iter().filter(|r| matches!(r, Ok(true))).count();
            assert_eq!(created, 1, "{}: round {round}", t.backend);
            let keys = empty.db.read_conn(|c| admin::list_api_keys(c, None)).unwrap();
            assert_eq!(keys.len(), 1, "{}: one key printed, one stored", t.backend);
            tally.push(format!("{created} default tenant and {} key", keys.len()));
        }
        eprintln!(
            "figure: races | {} | {N} bootstraps of an empty database at once, {} rounds: {}",
            t.backend,
            tally.len(),
            tally.join("; ")
        );
    }
}
