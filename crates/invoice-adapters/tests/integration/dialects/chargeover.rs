//! The ChargeOver billing dialect.

use serde_json::{json, Value};

use super::*;
use crate::support::backends;

fn void_path(id: &str) -> String {
    format!("/api/v3/invoice/{id}/_action/void")
}

/// The documented request: Basic auth, JSON headers and a `{}` body.
fn documented(s: &TestServer, key: &str, id: &str) -> Req {
    s.anon("POST", &void_path(id))
        .header("Authorization", &basic(key))
        .header("Accept", "application/json")
        .raw("application/json", b"{}")
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
    assert_eq!(r.json["details"], json!({}));
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
        assert_eq!(first["number"], "INV-000001");

        let r = documented(&s, &s.key, "1").send();
        assert_json_reply(&r);
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_eq!(
            r.json,
            json!({"code": 200, "status": "OK", "message": "", "details": {}, "response": true})
        );
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
        let r = s.req("POST", &void_path("1")).raw("application/json", b"{}").send();
        assert_eq!(assert_co_error(&r, 401), missing, "Bearer only is missing basic");
        let r = documented(&s, "sk_wrong", "1").send();
        assert!(assert_co_error(&r, 401).starts_with("Invalid or incorrect authorization ["));

        // 400: the documented message for an unusable id; bad bodies.
        for bad in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
            let r = documented(&s, &s.key, bad).send();
            assert_eq!(assert_co_error(&r, 400), "Missing or invalid parameter.", "{bad}");
            assert_eq!(
                r.json,
                json!({"code": 400, "status": "Error", "message": "Missing or invalid parameter.", "details": {}, "response": false})
            );
        }
        let deep = format!(r#"{{"x": {}{}}}"#, "[".repeat(5_000), "]".repeat(5_000));
        for body in [&b"{"[..], &b"[1"[..], &br#""void""#[..], &b"[]"[..], deep.as_bytes()] {
            let r = documented(&s, &s.key, "1").raw("application/json", body).send();
            assert!(
                assert_co_error(&r, 400).starts_with("Missing or invalid parameter. ["),
                "{}",
                r.text
            );
        }

        // 403: a key without invoices:cancel, another party.
        let reader = s.key_with("invoices:read", None);
        assert_co_error(&documented(&s, &reader, "1").send(), 403);
        let stranger = s.key_with("invoices:cancel", Some("someone-else"));
        assert_co_error(&documented(&s, &stranger, "1").send(), 403);

        // 404: unknown, and another tenant's invoice (its own INV-000001 is not ours).
        assert_co_error(&documented(&s, &s.key, "99").send(), 404);
        let (_, globex) = s.other_tenant("globex");
        let foreign = invoice_in(&s, &globex, true);
        assert_co_error(&documented(&s, &s.key, &id(&foreign)).send(), 404);
        assert_eq!(v1_invoice(&s, &id(&inv))["version"], inv["version"], "nothing changed");
        assert_eq!(
            documented(&s, &globex, "1").send().status,
            200,
            "globex voids its own INV-000001"
        );
        assert_eq!(v1_invoice(&s, &id(&inv))["status"], "open");

        // 409: a draft (cancel it instead), twice, with payments.
        let draft = s.create(&invoice_body());
        let m = assert_co_error(&documented(&s, &s.key, &id(&draft)).send(), 409);
        assert!(m.contains("draft"), "{m}");
        assert_eq!(documented(&s, &s.key, "1").send().status, 200);
        assert!(assert_co_error(&documented(&s, &s.key, "1").send(), 409).contains("void"));
        let paid = s.open(&invoice_body());
        let pay = s
            .req("POST", &format!("/v1/invoices/{}/payments", id(&paid)))
            .json(&json!({"amount": 100}))
            .send();
        assert_eq!(pay.status, 200);
        assert_co_error(
            &documented(&s, &s.key, &paid["number"].as_str().unwrap()[4..]).send(),
            409,
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
