//! Naming invoices and numbering them, over real HTTP on SQLite and
//! PostgreSQL: references by id, number, external reference and serial on
//! every face; tenant number formats with their per-period counters, under
//! concurrent finalizes; mark-sent; and a failure that is the server's own
//! answered as a 500 in each face's envelope.

use std::sync::{Arc, Barrier};

use diesel::connection::SimpleConnection;
use invoice_adapters::outbound::db::repository_error;
use serde_json::{json, Value};

use crate::dialects::basic;
use crate::http_support::*;
use crate::support::backends;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// Runs `n` requests at once (released together by a barrier) and returns the replies.
fn at_once(
    s: &Arc<TestServer>,
    n: usize,
    request: impl Fn(&TestServer, usize) -> Resp + Send + Sync + 'static,
) -> Vec<Resp> {
    let barrier = Arc::new(Barrier::new(n));
    let request = Arc::new(request);
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (s, barrier, request) = (s.clone(), barrier.clone(), request.clone());
            std::thread::spawn(move || {
                barrier.wait();
                request(&s, i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn an_invoice_is_named_by_id_number_or_external_reference_and_an_unknown_one_is_404() {
    for t in backends() {
        let s = TestServer::start(t);
        let mut body = invoice_body();
        body["external_reference"] = json!("PO 2024/11-7");
        let inv = s.open(&body);
        let number = inv["number"].as_str().unwrap();
        for reference in [id(&inv), number.to_string(), encode_path("PO 2024/11-7")] {
            let r = s.req("GET", &format!("/v1/invoices/{reference}")).send();
            assert_eq!(
                (r.status, r.json["id"].as_str()),
                (200, Some(id(&inv).as_str())),
                "{}: {reference}",
                s.backend
            );
        }
        // Writes take the same references.
        let sent = s
            .req(
                "POST",
                &format!("/v1/invoices/{}/mark-sent", encode_path("PO 2024/11-7")),
            )
            .send();
        assert_eq!(sent.status, 200, "{}", sent.text);

        // Well-formed but naming nothing is 404 everywhere; a reference that
        // could name nothing is 400.
        for unknown in ["INV-999999", "PO-unknown", "0193b3a0-0000-7000-8000-000000000000", "42"] {
            let r = s.req("GET", &format!("/v1/invoices/{unknown}")).send();
            assert_eq!((r.status, r.code()), (404, "invoice_not_found"), "{unknown}");
            let r = s.req("POST", &format!("/v1/invoices/{unknown}/void")).send();
            assert_eq!((r.status, r.code()), (404, "invoice_not_found"), "{unknown}");
        }
        let long = "x".repeat(101);
        let r = s.req("GET", &format!("/v1/invoices/{long}")).send();
        assert_eq!((r.status, r.code()), (400, "invalid_path_parameter"));

        // The external reference is unique per tenant: another invoice may
        // not take it, nor an invalid one be stored; another tenant may.
        let mut again = invoice_body();
        again["external_reference"] = json!("PO 2024/11-7");
        let r = s.req("POST", "/v1/invoices").json(&again).send();
        assert_eq!((r.status, r.code()), (409, "external_reference_taken"), "{}", r.text);
        for bad in [json!(""), json!("  "), json!("x".repeat(101)), json!("a\u{7}b")] {
            let mut b = invoice_body();
            b["external_reference"] = bad.clone();
            let r = s.req("POST", "/v1/invoices").json(&b).send();
            assert_eq!(r.status, 422, "{bad}: {}", r.text);
        }
        let (_, globex) = s.other_tenant("globex");
        let r = s.req("POST", "/v1/invoices").bearer(&globex).json(&again).send();
        assert_eq!(r.status, 201, "{}", r.text);
        let listed = s.req("GET", "/v1/invoices").send();
        assert_eq!(
            listed.json["data"].as_array().unwrap().len(),
            1,
            "the refused creates left nothing"
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn concurrent_creates_with_one_external_reference_give_one_invoice() {
    for t in backends() {
        let s = Arc::new(TestServer::start(t));
        for round in 0..5 {
            let replies = at_once(&s, 12, move |s, _| {
                let mut body = invoice_body();
                body["external_reference"] = json!(format!("RACE-{round}"));
                s.req("POST", "/v1/invoices").json(&body).send()
            });
            let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
            assert_eq!(
                statuses.iter().filter(|s| **s == 201).count(),
                1,
                "{}: {statuses:?}",
                s.backend
            );
            for r in replies.iter().filter(|r| r.status != 201) {
                assert_eq!((r.status, r.code()), (409, "external_reference_taken"), "{}", r.text);
            }
        }
        let listed = s.req("GET", "/v1/invoices?limit=100").send();
        assert_eq!(listed.json["data"].as_array().unwrap().len(), 5, "{}", s.backend);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_tenant_number_format_numbers_concurrent_finalizes_gaplessly_per_period() {
    for t in backends() {
        let s = Arc::new(TestServer::start(t));
        let patch = s
            .req("PATCH", "/v1/tenant")
            .json(&json!({"invoice_number_format": "INV-{YYYY}{MM}{DD}-{SEQ:3}", "credit_note_number_format": "RE-{YYYY}-{SEQ:5}"}))
            .send();
        assert_eq!(patch.status, 200, "{}", patch.text);
        let tenant = s.req("GET", "/v1/tenant").send();
        assert_eq!(
            (
                &tenant.json["invoice_number_format"],
                &tenant.json["credit_note_number_format"]
            ),
            (&json!("INV-{YYYY}{MM}{DD}-{SEQ:3}"), &json!("RE-{YYYY}-{SEQ:5}"))
        );
        let bad = s
            .req("PATCH", "/v1/tenant")
            .json(&json!({"invoice_number_format": "INV-{MM}-{SEQ}"}))
            .send();
        assert_eq!(bad.status, 422, "a format whose numbers would repeat: {}", bad.text);
        assert_eq!(
            s.req("GET", "/v1/tenant").send().json,
            tenant.json,
            "the refused patch changed nothing"
        );

        let drafts: Vec<String> = (0..24).map(|_| id(&s.create(&invoice_body()))).collect();
        let drafts = Arc::new(drafts);
        let replies = at_once(&s, 24, {
            let drafts = drafts.clone();
            move |s, i| s.req("POST", &format!("/v1/invoices/{}/finalize", drafts[i])).send()
        });
        let mut numbers: Vec<String> = replies
            .iter()
            .map(|r| {
                assert_eq!(r.status, 200, "{}", r.text);
                r.json["number"].as_str().unwrap().to_string()
            })
            .collect();
        numbers.sort();
        let day = replies[0].json["issued_at"].as_str().unwrap()[..10].replace('-', "");
        let expected: Vec<String> = (1..=24).map(|n| format!("INV-{day}-{n:03}")).collect();
        assert_eq!(numbers, expected, "{}: gapless and unique within the day", s.backend);

        // Credit notes count in their own yearly counter.
        let cn = s
            .req("POST", &format!("/v1/invoices/{}/cancel", drafts[0]))
            .json(&json!({"reason": "x"}))
            .send();
        assert_eq!(cn.status, 200, "{}", cn.text);
        let year = &day[..4];
        assert_eq!(cn.json["credit_notes"][0]["number"], format!("RE-{year}-00001"));

        // Back to the default format: its counter continues where INV-… left off.
        let default = s
            .req("PATCH", "/v1/tenant")
            .json(&json!({"invoice_number_format": "{SERIES}-{SEQ:6}"}))
            .send();
        assert_eq!(default.status, 200);
        assert_eq!(
            s.open(&invoice_body())["number"],
            "INV-000001",
            "the plain counter never moved"
        );

        // A format that prints an earlier number again is refused at
        // finalize with a clear code, and the draft stays a draft.
        let clash = s
            .req("PATCH", "/v1/tenant")
            .json(&json!({"invoice_number_format": "INV-0{SEQ:5}"}))
            .send();
        assert_eq!(clash.status, 200);
        let draft = s.create(&invoice_body());
        let r = s.req("POST", &format!("/v1/invoices/{}/finalize", id(&draft))).send();
        assert_eq!((r.status, r.code()), (409, "number_taken"), "{}", r.text);
        assert_eq!(
            s.req("GET", &format!("/v1/invoices/{}", id(&draft))).send().json["status"],
            "draft"
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn the_period_counters_restart_and_stay_apart_in_the_store() {
    use invoice_domain::{DocumentKind, NumberAllocator};
    for t in backends() {
        let s = TestServer::start(t);
        let next = |counter: &str| {
            s.db.write(|st| st.next_number(s.tenant, DocumentKind::Invoice, counter))
                .unwrap()
        };
        assert_eq!(next("INV-20241201-{SEQ}"), 1);
        assert_eq!(next("INV-20241201-{SEQ}"), 2);
        assert_eq!(next("INV-20241202-{SEQ}"), 1, "a new day starts at 1");
        assert_eq!(next("INV-20241201-{SEQ}"), 3);
        let serials = |n| {
            (0..n)
                .map(|_| s.db.write(|st| st.next_serial(s.tenant)).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(serials(3), [1, 2, 3], "serials count on their own");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn mark_sent_records_the_sending_of_an_issued_invoice() {
    for t in backends() {
        let s = TestServer::start(t);
        let draft = s.create(&invoice_body());
        let r = s.req("POST", &format!("/v1/invoices/{}/mark-sent", id(&draft))).send();
        assert_eq!((r.status, r.code()), (409, "invoice_is_draft"), "{}", r.text);
        let inv = s.open(&invoice_body());
        assert_eq!(inv["sent_at"], Value::Null);
        let r = s.req("POST", &format!("/v1/invoices/{}/mark-sent", id(&inv))).send();
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.json["sent_at"].is_string());
        assert_eq!(
            (&r.json["status"], &r.json["total"]),
            (&inv["status"], &inv["total"]),
            "nothing else changes"
        );
        let events = s.req("GET", &format!("/v1/invoices/{}/events", id(&inv))).send();
        let types: Vec<&str> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["invoice.created", "invoice.finalized", "invoice.sent"]);
        let reader = s.key_with("invoices:read", None);
        let r = s
            .req("POST", &format!("/v1/invoices/{}/mark-sent", id(&inv)))
            .bearer(&reader)
            .send();
        assert_eq!((r.status, r.code()), (403, "insufficient_scope"));
        let customer = s.key_with("invoices:read,invoices:write", Some("cust-1"));
        let r = s
            .req("POST", &format!("/v1/invoices/{}/mark-sent", id(&inv)))
            .bearer(&customer)
            .send();
        assert_eq!(
            (r.status, r.code()),
            (403, "invoice_not_owned"),
            "only the issuer sends: {}",
            r.text
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_failure_of_the_server_itself_is_a_500_in_each_faces_envelope() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        // A row no release could have written: the server cannot read it.
        // Reads come from the invoice's current version document, writes
        // from its row: both are made unreadable.
        let sql = format!(
            "UPDATE invoices SET status = 'shredded' WHERE id = '{0}'; \
             UPDATE invoice_versions SET body = '{{\"status\":\"shredded\"}}' WHERE invoice_id = '{0}'",
            id(&inv)
        );
        s.db.write_conn(|c| c.batch_execute(&sql).map_err(repository_error))
            .unwrap();
        let tenant = s.tenant.get().to_string();
        let tms = s
            .req("GET", &format!("/tms/api/v1/billing/transporter/invoice/{}/", id(&inv)))
            .send();
        assert_eq!(
            (tms.status, tms.json["status"].as_str(), tms.json["errorCode"].as_str()),
            (500, Some("error"), Some("INTERNAL_ERROR")),
            "{}",
            tms.text
        );
        let tms = s
            .req("POST", "/tms/api/v1/billing/transporter/cancel-invoice")
            .json(&json!({"invoiceId": id(&inv)}))
            .send();
        assert_eq!(
            (tms.status, tms.json["errorCode"].as_str()),
            (500, Some("INTERNAL_ERROR")),
            "{}",
            tms.text
        );
        let pnp = s.req("POST", &format!("/v2/invoices/cancel/{}", id(&inv))).send();
        assert_eq!(
            (
                pnp.status,
                pnp.json["status"].as_u64(),
                pnp.json["error"]["code"].as_str()
            ),
            (500, Some(500), Some("internal_error")),
            "{}",
            pnp.text
        );
        let fx = s
            .req("POST", "/api/v1/invoices/1/cancel")
            .header("X-Tenant", &tenant)
            .json(&json!({"id": 1}))
            .send();
        assert_eq!(
            (fx.status, fx.json["success"].as_str()),
            (500, Some("false")),
            "{}",
            fx.text
        );
        let co = s
            .anon("POST", "/api/v3/invoice/1/_action/void")
            .header("Authorization", &basic(&s.key))
            .raw("application/json", b"{}")
            .send();
        assert_eq!(
            (co.status, co.json["code"].as_u64(), co.json["response"].as_bool()),
            (500, Some(500), Some(false)),
            "{}",
            co.text
        );
        for r in [&tms, &pnp, &fx, &co] {
            assert!(!r.text.contains("shredded"), "no internals leak: {}", r.text);
        }
    }
}
