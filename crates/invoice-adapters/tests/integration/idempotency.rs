//! Idempotency keys written as the attacks that broke them: a stored reply
//! replayed to another key (and so to another party), a refusal stored under
//! a key that then blocks its owner, and concurrent first use of one key.

use std::sync::{Arc, Barrier};

use serde_json::json;

use crate::http_support::*;
use crate::support::backends;

fn id(v: &serde_json::Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// An invoice issued by `issuer` to `customer`.
fn body_between(issuer: &str, customer: &str) -> serde_json::Value {
    let mut body = invoice_body();
    body["issuer"] = json!({"id": issuer, "name": format!("{issuer} Ltd")});
    body["customer"] = json!({"id": customer, "name": "Secret Customer AG", "email": "secret@customer.example"});
    body
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_stored_reply_is_never_replayed_to_another_key_or_party() {
    for t in backends() {
        let s = TestServer::start(t);
        let attacker = s.key_with("invoices:read,invoices:write,invoices:cancel", Some("trp-001"));

        // 1. The admin creates trp-002's invoice with key K; the party key
        //    sends the same key and body.
        let body = body_between("trp-002", "cust-9");
        let admin = s
            .req("POST", "/v1/invoices")
            .header("Idempotency-Key", "K-create")
            .json(&body)
            .send();
        assert_eq!(admin.status, 201, "{}", admin.text);
        let probe = s
            .req("POST", "/v1/invoices")
            .bearer(&attacker)
            .header("Idempotency-Key", "K-create")
            .json(&body)
            .send();
        assert_eq!(
            probe.header("idempotent-replayed"),
            None,
            "{}: {}",
            s.backend,
            probe.text
        );
        assert!(
            !probe.text.contains(&id(&admin.json)),
            "{}: leaked {}",
            s.backend,
            probe.text
        );
        assert!(!probe.text.contains("secret@customer.example"), "{}", probe.text);
        // The admin's own retry still replays.
        let again = s
            .req("POST", "/v1/invoices")
            .header("Idempotency-Key", "K-create")
            .json(&body)
            .send();
        assert_eq!((again.status, again.header("idempotent-replayed")), (201, Some("true")));
        assert_eq!(again.json, admin.json);

        // 2. A payment of trp-002's invoice, replayed by the party key.
        let inv = s.open(&body_between("trp-002", "cust-9"));
        let pay = format!("/v1/invoices/{}/payments", id(&inv));
        let paid = s
            .req("POST", &pay)
            .header("Idempotency-Key", "K-pay")
            .json(&json!({"amount": 1000}))
            .send();
        assert_eq!(paid.status, 200, "{}", paid.text);
        let probe = s
            .req("POST", &pay)
            .bearer(&attacker)
            .header("Idempotency-Key", "K-pay")
            .json(&json!({"amount": 1000}))
            .send();
        assert_eq!(
            (probe.status, probe.code(), probe.header("idempotent-replayed")),
            (403, "invoice_not_owned", None),
            "{}: {}",
            s.backend,
            probe.text
        );

        // 3. plug&paid's cancel, replayed by the party key.
        let inv = s.open(&body_between("trp-002", "cust-9"));
        let cancel = format!("/v2/invoices/cancel/{}", id(&inv));
        let done = s.req("POST", &cancel).header("Idempotency-Key", "K-pnp").send();
        assert_eq!(done.status, 200, "{}", done.text);
        let probe = s
            .req("POST", &cancel)
            .bearer(&attacker)
            .header("Idempotency-Key", "K-pnp")
            .send();
        assert_eq!(probe.status, 403, "{}: {}", s.backend, probe.text);
        assert_eq!(probe.header("idempotent-replayed"), None);
        assert!(!probe.text.contains("Secret Customer AG"), "{}", probe.text);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_refused_attempt_never_blocks_the_next_one() {
    for t in backends() {
        let s = TestServer::start(t);
        let attacker = s.key_with("invoices:read,invoices:cancel", Some("trp-001"));
        let owner = s.key_with("invoices:read,invoices:cancel", Some("trp-002"));
        let inv = s.open(&body_between("trp-002", "cust-9"));
        let path = format!("/v1/invoices/{}/cancel", id(&inv));
        let body = json!({"reason": "Issued in error", "reason_code": "issued_in_error"});

        // The attacker tries first with the owner's key name: 403.
        let blocked = s
            .req("POST", &path)
            .bearer(&attacker)
            .header("Idempotency-Key", "K")
            .json(&body)
            .send();
        assert_eq!((blocked.status, blocked.code()), (403, "invoice_not_owned"));
        // The owner's identical request runs, and is not handed the 403.
        let cancelled = s
            .req("POST", &path)
            .bearer(&owner)
            .header("Idempotency-Key", "K")
            .json(&body)
            .send();
        assert_eq!(cancelled.status, 200, "{}: {}", s.backend, cancelled.text);
        assert_eq!(cancelled.header("idempotent-replayed"), None);
        assert_eq!(cancelled.json["status"], "cancelled");

        // One key: a 412 (stale If-Match) is not stored; the retry with the
        // right version runs under the same Idempotency-Key.
        let inv = s.open(&invoice_body());
        let pay = format!("/v1/invoices/{}/payments", id(&inv));
        let stale = s
            .req("POST", &pay)
            .header("Idempotency-Key", "K2")
            .header("If-Match", "\"99\"")
            .json(&json!({"amount": 500}))
            .send();
        assert_eq!((stale.status, stale.code()), (412, "version_mismatch"));
        let fresh = s
            .req("POST", &pay)
            .header("Idempotency-Key", "K2")
            .header("If-Match", &format!("\"{}\"", inv["version"]))
            .json(&json!({"amount": 500}))
            .send();
        assert_eq!(fresh.status, 200, "{}: {}", s.backend, fresh.text);
        assert_eq!(fresh.header("idempotent-replayed"), None);
        assert_eq!(fresh.json["amount_paid"], 500);

        // One key: a 404 on an unknown target is not stored either.
        let unknown = "/v1/invoices/0196a4c2-1234-7000-8000-00000000abcd/void";
        let first = s.req("POST", unknown).header("Idempotency-Key", "K3").send();
        assert_eq!((first.status, first.code()), (404, "invoice_not_found"));
        let stored: i64 = count_records(&s, "K3");
        assert_eq!(stored, 0, "{}: a 404 left an idempotency record", s.backend);

        // A rule's refusal is the use case's decision: it is stored and replayed.
        let voided = s.open(&invoice_body());
        let void = format!("/v1/invoices/{}/void", id(&voided));
        assert_eq!(s.req("POST", &void).send().status, 200);
        let refused = s.req("POST", &void).header("Idempotency-Key", "K4").send();
        assert_eq!((refused.status, refused.code()), (409, "invoice_already_void"));
        let replayed = s.req("POST", &void).header("Idempotency-Key", "K4").send();
        assert_eq!(
            (replayed.status, replayed.header("idempotent-replayed")),
            (409, Some("true"))
        );
    }
}

/// How many idempotency records exist under `key` in the server's tenant.
fn count_records(s: &TestServer, key: &str) -> i64 {
    use diesel::prelude::*;
    use invoice_adapters::outbound::db::schema::idempotency_keys;
    s.db.write_conn(|c| {
        idempotency_keys::table
            .filter(idempotency_keys::tenant_id.eq(s.tenant.get()))
            .filter(idempotency_keys::key.eq(key))
            .count()
            .get_result(c)
            .map_err(invoice_adapters::outbound::db::repository_error)
    })
    .expect("count")
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn concurrent_first_use_of_one_key_never_gives_a_5xx() {
    const ROUNDS: usize = 5;
    const CLIENTS: usize = 20;
    for t in backends() {
        let s = Arc::new(TestServer::start(t));
        let mut tally: std::collections::BTreeMap<u16, usize> = std::collections::BTreeMap::new();
        for round in 0..ROUNDS {
            let key = format!("race-{round}");
            let barrier = Arc::new(Barrier::new(CLIENTS));
            let handles: Vec<_> = (0..CLIENTS)
                .map(|_| {
                    let (s, barrier, key) = (s.clone(), barrier.clone(), key.clone());
                    std::thread::spawn(move || {
                        let req = s
                            .req("POST", "/v1/invoices")
                            .header("Idempotency-Key", &key)
                            .json(&invoice_body());
                        barrier.wait();
                        req.send()
                    })
                })
                .collect();
            let replies: Vec<Resp> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
            for s in &statuses {
                *tally.entry(*s).or_default() += 1;
            }
            assert!(
                statuses.iter().all(|s| *s < 500),
                "{} round {round}: {statuses:?}",
                s.backend
            );
            let created: Vec<&Resp> = replies.iter().filter(|r| r.status == 201).collect();
            assert!(!created.is_empty(), "{} round {round}: {statuses:?}", s.backend);
            let ids: std::collections::BTreeSet<String> = created.iter().map(|r| id(&r.json)).collect();
            assert_eq!(ids.len(), 1, "{} round {round}: one invoice, replayed", s.backend);
            for r in replies.iter().filter(|r| r.status != 201) {
                assert_eq!((r.status, r.code()), (409, "idempotency_key_in_use"), "{}", r.text);
            }
        }
        let listed = s.req("GET", "/v1/invoices?limit=100").send();
        assert_eq!(
            listed.json["data"].as_array().unwrap().len(),
            ROUNDS,
            "{}: one invoice per round",
            s.backend
        );
        eprintln!(
            "figure: idempotency | {} | {ROUNDS} rounds × {CLIENTS} concurrent first uses of one key: {}; one invoice per round",
            s.backend,
            tally.iter().map(|(s, n)| format!("{n} × {s}")).collect::<Vec<_>>().join(", ")
        );
    }
}
