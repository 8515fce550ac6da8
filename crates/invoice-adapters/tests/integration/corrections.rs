//! Corrections after issue and after payment, over real HTTP on both
//! backends: credit notes by line, units, part of a net and goodwill,
//! settled by reducing what is due, by refund or onto the customer's credit
//! balance; voids under each policy; cancel and reissue; and many credit
//! notes racing for one paid invoice.

use std::sync::{Arc, Barrier};

use invoice_adapters::outbound::db::settings;
use invoice_domain::{TenantSettings, VoidPolicy};
use serde_json::{json, Value};

use crate::http_support::*;
use crate::support::backends;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn post(s: &TestServer, path: &str, body: Value) -> Resp {
    s.req("POST", path).json(&body).send()
}

fn paid(s: &TestServer) -> Value {
    let inv = s.open(&invoice_body());
    let r = post(
        s,
        &format!("/v1/invoices/{}/payments", id(&inv)),
        json!({"amount": 14_575}),
    );
    assert_eq!(r.json["status"], "paid", "{}", r.text);
    r.json
}

fn change_settings(s: &TestServer, change: impl FnOnce(&mut TenantSettings)) {
    let tenant = s.tenant;
    s.db.write_conn(|c| {
        let mut current = settings::load(c, tenant)?;
        change(&mut current);
        settings::save(c, tenant, &current)
    })
    .expect("settings saved");
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_paid_invoice_is_credited_by_refund_and_the_document_stays() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = paid(&s);
        let path = format!("/v1/invoices/{}/credit-notes", id(&inv));
        let r = post(
            &s,
            &path,
            json!({"lines": [{"product_id": "b", "quantity": 1}], "reason": "one toll was not due",
                   "reason_code": "order_change", "settle": "refund"}),
        );
        assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        assert_eq!(r.json["object"], "credit_note_issued");
        let note = &r.json["credit_note"];
        // One of two units of 12.50 at 7 %: 12.50 + 0.875 → 0.88 = 13.38.
        assert_eq!(
            (note["subtotal"].as_i64(), note["tax"].as_i64(), note["total"].as_i64()),
            (Some(1_250), Some(88), Some(1_338))
        );
        assert_eq!(note["settlement"], "refund");
        assert_eq!(note["lines"][0]["quantity"], 1);
        let after = &r.json["invoice"];
        assert_eq!(after["status"], "paid", "{}: nothing is due, it stays paid", s.backend);
        assert_eq!(after["total"], inv["total"], "the document is as issued");
        assert_eq!(
            (
                after["amount_credited"].as_i64(),
                after["amount_refunded"].as_i64(),
                after["amount_paid"].as_i64(),
                after["amount_due"].as_i64()
            ),
            (Some(1_338), Some(1_338), Some(14_575 - 1_338), Some(0))
        );
        assert_eq!(after["payments"][0]["refunds"][0]["destination"], "original_method");
        assert_eq!(after["lines"][1]["credited_quantity"], 1);
        assert_eq!(after["lines"][1]["status"], "active");
        assert_eq!(r.header("etag"), Some(format!("\"{}\"", after["version"]).as_str()));
        // The credit note is its own document, readable on its own.
        let got = s
            .req("GET", &format!("/v1/credit-notes/{}", note["id"].as_str().unwrap()))
            .send();
        assert_eq!(got.json, *note);
        let events = s.req("GET", &format!("/v1/invoices/{}/events", id(&inv))).send();
        let types: Vec<&str> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types[types.len() - 3..],
            ["invoice.credited", "credit_note.issued", "invoice.payment_refunded"]
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn each_refusal_of_a_credit_has_its_own_code_and_changes_nothing() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}/credit-notes", id(&inv));
        let before = s.req("GET", &format!("/v1/invoices/{}", id(&inv))).send().json;
        for (body, status, code) in [
            (
                json!({"lines": [{"product_id": "b", "quantity": 3}], "settle": "reduce_due"}),
                409,
                "credit_exceeds_line",
            ),
            (
                json!({"lines": [{"product_id": "a", "amount": 10_001}], "settle": "reduce_due"}),
                409,
                "credit_exceeds_line",
            ),
            (
                json!({"extra": {"description": "x", "amount": 20_000, "tax_rate": "0"}, "settle": "reduce_due"}),
                409,
                "credit_exceeds_total",
            ),
            (
                json!({"lines": [{"product_id": "a"}], "settle": "refund"}),
                409,
                "credit_exceeds_amount_paid",
            ),
            (
                json!({"lines": [{"product_id": "a"}], "settle": "credit_balance"}),
                409,
                "credit_exceeds_amount_paid",
            ),
            (
                json!({"lines": [{"product_id": "zz"}], "settle": "reduce_due"}),
                409,
                "line_not_found",
            ),
            (
                json!({"lines": [{"product_id": "a", "quantity": 1, "amount": 5}], "settle": "reduce_due"}),
                422,
                "validation_failed",
            ),
            (json!({"lines": [], "settle": "reduce_due"}), 422, "validation_failed"),
            (
                json!({"lines": [{"product_id": "a"}], "settle": "later"}),
                422,
                "validation_failed",
            ),
            (json!({"lines": [{"product_id": "a"}]}), 422, "missing_field"),
        ] {
            let r = post(&s, &path, body.clone());
            assert_eq!(
                (r.status, r.code()),
                (status, code),
                "{}: {body}: {}",
                s.backend,
                r.text
            );
        }
        // Paid: nothing is due, so reduce_due is refused.
        let p = paid(&s);
        let r = post(
            &s,
            &format!("/v1/invoices/{}/credit-notes", id(&p)),
            json!({"lines": [{"product_id": "b"}], "settle": "reduce_due"}),
        );
        assert_eq!((r.status, r.code()), (409, "credit_exceeds_amount_due"));
        let after = s.req("GET", &format!("/v1/invoices/{}", id(&inv))).send().json;
        assert_eq!(after, before, "{}: refusals changed nothing", s.backend);
        // A draft is not a document: no credit note.
        let d = s.create(&invoice_body());
        let r = post(
            &s,
            &format!("/v1/invoices/{}/credit-notes", id(&d)),
            json!({"lines": [{"product_id": "a"}], "settle": "reduce_due"}),
        );
        assert_eq!((r.status, r.code()), (409, "invoice_is_draft"));
        // A customer's key may not credit.
        let customer = s.key_with("invoices:read,invoices:write,invoices:cancel", Some("cust-1"));
        let r = s
            .req("POST", &path)
            .bearer(&customer)
            .json(&json!({"lines": [{"product_id": "a"}], "settle": "reduce_due"}))
            .send();
        assert_eq!((r.status, r.code()), (403, "invoice_not_owned"));
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn credit_balances_are_recorded_on_both_sides_and_spent_at_finalize() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = paid(&s);
        let r = post(
            &s,
            &format!("/v1/invoices/{}/credit-notes", id(&inv)),
            json!({"extra": {"description": "Goodwill for the delay", "amount": 2_000, "tax_rate": "19"},
                   "settle": "credit_balance"}),
        );
        assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        assert_eq!(r.json["credit_note"]["lines"][0]["line_id"], Value::Null);
        assert_eq!(
            r.json["invoice"]["payments"][0]["refunds"][0]["destination"],
            "customer_balance"
        );
        let balance = s.req("GET", "/v1/customers/cust-1/balance").send();
        assert_eq!(balance.status, 200, "{}", balance.text);
        assert_eq!(balance.json["balances"][0]["currency"], "EUR");
        assert_eq!(balance.json["balances"][0]["balance"], 2_380);
        let entry = &balance.json["balances"][0]["entries"][0];
        assert_eq!(
            (entry["direction"].as_str(), entry["amount"].as_i64()),
            (Some("credit"), Some(2_380))
        );
        assert_eq!(entry["credit_note_id"], r.json["credit_note"]["id"]);
        // Another customer's key cannot read it; the customer's own can.
        let stranger = s.key_with("invoices:read", Some("cust-2"));
        assert_eq!(
            s.req("GET", "/v1/customers/cust-1/balance")
                .bearer(&stranger)
                .send()
                .status,
            403
        );
        let own = s.key_with("invoices:read", Some("cust-1"));
        assert_eq!(
            s.req("GET", "/v1/customers/cust-1/balance").bearer(&own).send().status,
            200
        );
        assert_eq!(
            s.req("GET", "/v1/customers/nobody/balance").send().json["balances"],
            json!([]),
            "a customer without a balance has none"
        );
        // Spent only when the tenant asks for it.
        let next = s.open(&invoice_body());
        assert!(next["payments"].as_array().unwrap().is_empty());
        change_settings(&s, |c| c.apply_credit_balance = true);
        let spent = s.open(&invoice_body());
        assert_eq!(spent["payments"][0]["source"], "customer_balance");
        assert_eq!(spent["payments"][0]["amount"], 2_380);
        assert_eq!(spent["amount_due"], 14_575 - 2_380);
        let after = s.req("GET", "/v1/customers/cust-1/balance").send().json;
        assert_eq!(after["balances"][0]["balance"], 0);
        let debit = &after["balances"][0]["entries"][1];
        assert_eq!(
            (debit["direction"].as_str(), debit["invoice_id"].as_str()),
            (Some("debit"), spent["id"].as_str())
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_void_writes_a_credit_note_unless_the_tenant_says_never() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let v = post(
            &s,
            &format!("/v1/invoices/{}/void", id(&inv)),
            json!({"reason": "sent twice"}),
        );
        assert_eq!(v.status, 200, "{}", v.text);
        let note = &v.json["credit_notes"][0];
        assert_eq!(
            (note["total"].as_i64(), note["reason_code"].as_str()),
            (Some(14_575), Some("issued_in_error"))
        );
        assert_eq!(v.json["amount_credited"], v.json["total"]);
        change_settings(&s, |c| c.void_credit_note = VoidPolicy::Never);
        let other = s.open(&invoice_body());
        let v = post(&s, &format!("/v1/invoices/{}/void", id(&other)), json!({}));
        assert_eq!(v.json["status"], "void");
        assert_eq!(v.json["credit_notes"], json!([]));
        assert_eq!(v.json["amount_due"], 0);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_reissue_cancels_with_a_credit_note_and_links_a_corrected_draft() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}/reissue", id(&inv));
        let r = post(
            &s,
            &path,
            json!({"reason": "wrong rate", "edits": [{"product_id": "b", "remove": true},
                                                     {"product_id": "a", "unit_amount": 9_000}]}),
        );
        assert_eq!(r.status, 201, "{}: {}", s.backend, r.text);
        let old = &r.json["cancelled"];
        let new = &r.json["replacement"];
        assert_eq!(
            (old["status"].as_str(), new["status"].as_str()),
            (Some("cancelled"), Some("draft"))
        );
        assert_eq!(old["replaced_by"], new["id"]);
        assert_eq!(new["replaces"], old["id"]);
        assert_eq!(old["amount_credited"], old["total"]);
        assert_eq!(new["lines"].as_array().unwrap().len(), 1);
        assert_eq!(new["lines"][0]["unit_amount"], 9_000);
        assert_eq!(new["customer"], inv["customer"]);
        assert_eq!(new["metadata"], inv["metadata"]);
        // Both ends stay linked on a later read, and both have the event.
        let read_old = s.req("GET", &format!("/v1/invoices/{}", id(old))).send().json;
        assert_eq!(read_old["replaced_by"], new["id"]);
        for (inv, other) in [(old, "replaced_by"), (new, "replaces")] {
            let events = s.req("GET", &format!("/v1/invoices/{}/events", id(inv))).send().json;
            let reissued = events["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["type"] == "invoice.reissued")
                .unwrap()
                .clone();
            assert!(reissued["data"][other].is_string(), "{reissued}");
        }
        // The new draft is finalized like any other, with its own number.
        let issued = post(&s, &format!("/v1/invoices/{}/finalize", id(new)), json!({}));
        assert_eq!(issued.json["number"], "INV-000002", "{}", issued.text);
        // Refusals: a second reissue, payments held, both lines and edits, a bad edit.
        assert_eq!(post(&s, &path, json!({})).code(), "invoice_already_cancelled");
        let with_payment = s.open(&invoice_body());
        post(
            &s,
            &format!("/v1/invoices/{}/payments", id(&with_payment)),
            json!({"amount": 100}),
        );
        let r = post(&s, &format!("/v1/invoices/{}/reissue", id(&with_payment)), json!({}));
        assert_eq!((r.status, r.code()), (409, "reissue_has_payments"));
        let both = post(
            &s,
            &format!("/v1/invoices/{}/reissue", id(&with_payment)),
            json!({"lines": [], "edits": []}),
        );
        assert_eq!(both.status, 422, "{}", both.text);
        let fresh = s.open(&invoice_body());
        let bad = post(
            &s,
            &format!("/v1/invoices/{}/reissue", id(&fresh)),
            json!({"edits": [{"product_id": "a", "quantity": 0}]}),
        );
        assert_eq!(bad.status, 422, "{}", bad.text);
        let nothing = s.req("GET", &format!("/v1/invoices/{}", id(&fresh))).send().json;
        assert_eq!(nothing["status"], "open", "a refused reissue changes nothing");
        let writer_only = s.key_with("invoices:read,invoices:write", None);
        let r = s
            .req("POST", &format!("/v1/invoices/{}/reissue", id(&fresh)))
            .bearer(&writer_only)
            .send();
        assert_eq!((r.status, r.code()), (403, "insufficient_scope"));
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn twenty_credit_notes_racing_for_one_paid_invoice_never_over_credit_it() {
    for t in backends() {
        let s = Arc::new(TestServer::start(t));
        let inv = paid(&s);
        let path = format!("/v1/invoices/{}/credit-notes", id(&inv));
        // Each asks for 10.00 of goodwill at 0 %, by refund: 14 fit in 145.75.
        let barrier = Arc::new(Barrier::new(20));
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let (s, barrier, path) = (s.clone(), barrier.clone(), path.clone());
                std::thread::spawn(move || {
                    let req = s.req("POST", &path).json(&json!({
                        "extra": {"description": "Goodwill", "amount": 1_000, "tax_rate": "0"},
                        "settle": "refund"
                    }));
                    barrier.wait();
                    req.send()
                })
            })
            .collect();
        let replies: Vec<Resp> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        assert!(statuses.iter().all(|c| *c < 500), "{}: {statuses:?}", s.backend);
        let won = replies.iter().filter(|r| r.status == 201).count();
        for r in replies.iter().filter(|r| r.status != 201) {
            assert_eq!(r.status, 409, "{}", r.text);
            assert!(
                ["credit_exceeds_total", "credit_exceeds_amount_paid", "version_mismatch"].contains(&r.code()),
                "{}",
                r.text
            );
        }
        let after = s.req("GET", &format!("/v1/invoices/{}", id(&inv))).send().json;
        let notes = after["credit_notes"].as_array().unwrap().len();
        assert_eq!(notes, won, "{}: one credit note per success", s.backend);
        assert_eq!(
            after["amount_credited"].as_u64().unwrap(),
            1_000 * u64::try_from(won).unwrap()
        );
        assert!(
            after["amount_credited"].as_u64().unwrap() <= 14_575,
            "never over-credited"
        );
        assert_eq!(after["amount_refunded"], after["amount_credited"]);
        assert_eq!(won, 14, "{}: every credit that fits wins: {statuses:?}", s.backend);
        let numbers: std::collections::BTreeSet<&str> = after["credit_notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers.len(), 14, "gapless, distinct numbers");
        assert!(numbers.contains("CN-000014") && !numbers.contains("CN-000015"));
    }
}
