//! The ChargeOver billing dialect.

use serde_json::{json, Value};

use super::*;
use crate::support::backends;

fn void_path(id: &str) -> String {
    format!("/api/v3/invoice/{id}/_action/void")
}

/// The documented request: Basic auth, JSON headers and the documented
/// body (`{}`).
fn documented(s: &TestServer, key: &str, id: &str) -> Req {
    let body = documented_example("chargeover-void-invoice.request.json").unwrap_or_else(|| json!({}));
    s.anon("POST", &void_path(id))
        .header("Authorization", &basic(key))
        .header("Accept", "application/json")
        .raw("application/json", body.to_string().as_bytes())
}

/// Asserts the ChargeOver error envelope, exactly as documented.
fn assert_co_error(r: &Resp, status: u16) -> String {
    assert_json_reply(r);
    assert_eq!(r.status, status, "expected {status}: {}", r.text);
    assert_keys(
        &r.json,
        &["code", "status", "message", "details", "response"],
        "ChargeOver error",
    );
    assert_eq!(r.json["code"], status);
    assert_eq!(r.json["status"], "Error");
    assert!(r.json["details"].is_object(), "details is an object: {}", r.text);
    assert_eq!(r.json["response"], false);
    let message = r.json["message"].as_str().unwrap().to_string();
    assert!(!message.is_empty());
    message
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn chargeover_void_replays_the_documented_request() {
    for t in backends() {
        let s = TestServer::start(t);
        let [first, second]: [Value; 2] = open_n(&s, 2).try_into().unwrap();
        assert_eq!(first["serial"], 1, "ChargeOver's integer id is the invoice's serial");

        let r = documented(&s, &s.key, "1").send();
        assert_json_reply(&r);
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_eq!(
            r.json,
            json!({"code": 200, "status": "OK", "message": "", "details": {}, "response": true})
        );
        if let Some(doc) = documented_example("chargeover-void-invoice.200.json") {
            assert_eq!(r.json, doc, "the documented reply, value for value");
        }
        let v1 = v1_invoice(&s, &id(&first));
        assert_eq!(v1["status"], "void");
        assert_eq!(v1["amount_due"], 0, "the balance due is zero");
        assert_eq!(v1["collection"]["halted"], true, "dunning is halted");
        assert_eq!(v1["void"]["channel"], "chargeover");
        assert_eq!(v1["total"], first["total"], "void keeps the totals for the record");
        assert_eq!(
            channels(&s, &id(&first)),
            ["v1", "v1", "chargeover", "chargeover"],
            "the void and its credit note"
        );
        assert_eq!(v1["amount_credited"], first["total"], "a void credits what is left");
        let pay = s
            .req("POST", &format!("/v1/invoices/{}/payments", id(&first)))
            .json(&json!({"amount": 1}))
            .send();
        assert_eq!(
            (pay.status, pay.json["code"].as_str()),
            (409, Some("invoice_not_collectible"))
        );

        // By UUID, with an empty body and no Content-Type.
        let r = s
            .anon("POST", &void_path(&id(&second)))
            .header("Authorization", &basic(&s.key))
            .send();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(v1_invoice(&s, &id(&second))["status"], "void");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn chargeover_errors_are_in_its_envelope() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());

        // 401: no header, Bearer only, a wrong key.
        let missing = "Invalid or incorrect authorization [Missing (basic) authorization header.]";
        let r = s.anon("POST", &void_path("1")).raw("application/json", b"{}").send();
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json,
            json!({"code": 401, "status": "Error", "message": missing, "details": {}, "response": false})
        );
        if let Some(doc) = documented_example("chargeover-void-invoice.401.json") {
            assert_eq!(r.json, doc, "the documented 401, value for value");
        }
        let r = s.req("POST", &void_path("1")).raw("application/json", b"{}").send();
        assert_eq!(assert_co_error(&r, 401), missing, "Bearer only is missing basic");
        let r = documented(&s, "sk_wrong", "1").send();
        assert!(assert_co_error(&r, 401).starts_with("Invalid or incorrect authorization ["));

        // 400 with the documented message for an id that cannot name an
        // invoice and for bad bodies; the reason is in `details`.
        for bad in ["x".repeat(101), "bell%07".to_string()] {
            let r = documented(&s, &s.key, &bad).send();
            assert_eq!(assert_co_error(&r, 400), "Missing or invalid parameter.", "{bad}");
            assert_eq!(r.json["details"]["code"], "invalid_invoice_id", "{}", r.text);
        }
        let deep = format!(r#"{{"x": {}{}}}"#, "[".repeat(5_000), "]".repeat(5_000));
        for body in [&b"{"[..], &b"[1"[..], &br#""void""#[..], &b"[]"[..], deep.as_bytes()] {
            let r = documented(&s, &s.key, "1").raw("application/json", body).send();
            assert_eq!(assert_co_error(&r, 400), "Missing or invalid parameter.", "{}", r.text);
            assert!(r.json["details"]["detail"].is_string(), "{}", r.text);
            if let Some(doc) = documented_example("chargeover-void-invoice.400.json") {
                assert_documented_shape(&r.json, &doc, &[]);
                assert_eq!(
                    (&r.json["code"], &r.json["status"], &r.json["message"]),
                    (&doc["code"], &doc["status"], &doc["message"])
                );
            }
        }

        // Every other application outcome is a 400 whose message names the
        // reason: a missing scope, another party's invoice…
        let reader = s.key_with("invoices:read", None);
        let m = assert_co_error(&documented(&s, &reader, "1").send(), 400);
        assert_eq!(m, "This API key may not void invoices.");
        let stranger = s.key_with("invoices:cancel", Some("someone-else"));
        assert_eq!(
            assert_co_error(&documented(&s, &stranger, "1").send(), 400),
            "Invoice belongs to another party."
        );

        // …an unknown invoice (any well-formed id), another tenant's invoice
        // (its own serial 1 is not ours)…
        for unknown in ["99", "abc", "0", "-1", "1.5", "99999999999999999999"] {
            let r = documented(&s, &s.key, unknown).send();
            assert_eq!(assert_co_error(&r, 400), "Invoice not found.", "{unknown}");
        }
        let (_, globex) = s.other_tenant("globex");
        let foreign = invoice_in(&s, &globex, true);
        assert_eq!(
            assert_co_error(&documented(&s, &s.key, &id(&foreign)).send(), 400),
            "Invoice not found."
        );
        assert_eq!(v1_invoice(&s, &id(&inv))["version"], inv["version"], "nothing changed");
        assert_eq!(
            documented(&s, &globex, "1").send().status,
            200,
            "globex voids its own invoice 1"
        );
        assert_eq!(v1_invoice(&s, &id(&inv))["status"], "open");

        // …and each refusal: a draft, a second void, a paid invoice, payments.
        let draft = s.create(&invoice_body());
        let m = assert_co_error(&documented(&s, &s.key, &id(&draft)).send(), 400);
        assert_eq!(m, "Invoice is a draft; only issued invoices can be voided.");
        assert_eq!(documented(&s, &s.key, "1").send().status, 200);
        assert_eq!(
            assert_co_error(&documented(&s, &s.key, "1").send(), 400),
            "Invoice is already void."
        );
        let part_paid = s.open(&invoice_body());
        let pay = s
            .req("POST", &format!("/v1/invoices/{}/payments", id(&part_paid)))
            .json(&json!({"amount": 100}))
            .send();
        assert_eq!(pay.status, 200);
        let serial = part_paid["serial"].as_u64().unwrap().to_string();
        let m = assert_co_error(&documented(&s, &s.key, &serial).send(), 400);
        assert!(m.starts_with("Invoice has payments"), "{m}");
        let paid = s.open(&invoice_body());
        let pay = s
            .req("POST", &format!("/v1/invoices/{}/payments", id(&paid)))
            .json(&json!({"amount": paid["total"]}))
            .send();
        assert_eq!((pay.status, pay.json["status"].as_str()), (200, Some("paid")));
        let number = paid["number"].as_str().unwrap();
        assert_eq!(
            assert_co_error(&documented(&s, &s.key, number).send(), 400),
            "Invoice is already paid.",
            "named by its number"
        );

        // Routes.
        let other_method = s
            .anon("GET", &void_path("1"))
            .header("Authorization", &basic(&s.key))
            .send();
        assert_co_error(&other_method, 405);
        assert_eq!(other_method.header("allow"), Some("POST"));
        assert_co_error(&s.anon("GET", "/api/v3/customer").send(), 404);
    }
}
