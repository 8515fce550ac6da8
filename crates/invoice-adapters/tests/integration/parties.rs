//! The party model, tried as an attacker on every face: two party keys of
//! one tenant, the transporter `trp-1` (the invoice's issuer) and the payer
//! `cust-1` (its customer), each holding every invoice scope. The customer
//! may read, approve and reject; it may not cancel, credit, void, book or
//! refund money on `/v1`, plug&paid, ChargeOver, Flextell or the TMS. The
//! issuer may do those, but not approve its own invoice, and no party key
//! may create an invoice in another issuer's name.

use serde_json::{json, Value};

use crate::dialects::{basic, id};
use crate::http_support::*;
use crate::support::backends;

const SCOPES: &str = "invoices:read,invoices:write,invoices:cancel";

/// The issuer's key, the customer's key and a stranger's (all scopes).
fn party_keys(s: &TestServer) -> (String, String, String) {
    (
        s.key_with(SCOPES, Some("trp-1")),
        s.key_with(SCOPES, Some("cust-1")),
        s.key_with(SCOPES, Some("trp-2")),
    )
}

/// The invoice as the tenant-wide key sees it.
fn current(s: &TestServer, id: &str) -> Value {
    let r = s.req("GET", &format!("/v1/invoices/{id}")).send();
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// Sends `method path` with `key` and an optional JSON body.
fn send(s: &TestServer, key: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
    let mut r = s.req(method, path).bearer(key);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send()
}

/// Asserts a 403 `invoice_not_owned` that left the invoice as it was.
fn assert_refused(s: &TestServer, r: &Resp, id: &str, before: &Value, what: &str) {
    assert_eq!(
        (r.status, r.code()),
        (403, "invoice_not_owned"),
        "{}: {what}: {}",
        s.backend,
        r.text
    );
    let after = current(s, id);
    assert_eq!(after, *before, "{}: {what} changed nothing", s.backend);
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn v1_a_customer_key_may_read_and_review_but_never_cancel_credit_void_or_book_money() {
    for t in backends() {
        let s = TestServer::start(t);
        let (issuer, customer, _) = party_keys(&s);
        let inv = s.open(&invoice_body());
        let id = id(&inv);
        // A payment to refund, booked by the tenant-wide key.
        let paid = s
            .req("POST", &format!("/v1/invoices/{id}/payments"))
            .json(&json!({"amount": 100}))
            .send();
        assert_eq!(paid.status, 200, "{}", paid.text);
        let payment_id = paid.json["payments"][0]["id"].as_str().unwrap().to_string();
        let before = current(&s, &id);

        // The customer reads it, its events and the list.
        assert_eq!(
            send(&s, &customer, "GET", &format!("/v1/invoices/{id}"), None).status,
            200
        );
        assert_eq!(
            send(&s, &customer, "GET", &format!("/v1/invoices/{id}/events"), None).status,
            200
        );
        let listed = send(&s, &customer, "GET", "/v1/invoices", None);
        assert_eq!(listed.json["data"].as_array().unwrap().len(), 1, "{}", listed.text);

        // The attack: every money- or claim-changing request, as the customer.
        for (what, path, body) in [
            (
                "cancel",
                format!("/v1/invoices/{id}/cancel"),
                Some(json!({"reason": "x"})),
            ),
            (
                "credit one line",
                format!("/v1/invoices/{id}/cancel"),
                Some(json!({"reason": "x", "lines": [{"product_id": "b"}]})),
            ),
            ("void", format!("/v1/invoices/{id}/void"), None),
            ("write off", format!("/v1/invoices/{id}/mark-uncollectible"), None),
            ("finalize", format!("/v1/invoices/{id}/finalize"), None),
            (
                "record a payment",
                format!("/v1/invoices/{id}/payments"),
                Some(json!({"amount": 100})),
            ),
            (
                "refund",
                format!("/v1/invoices/{id}/payments/{payment_id}/refunds"),
                Some(json!({"amount": 100})),
            ),
        ] {
            let r = send(&s, &customer, "POST", &path, body);
            assert_refused(&s, &r, &id, &before, what);
            assert!(
                r.json["detail"].as_str().unwrap().contains("only the invoice's issuer"),
                "the refusal says who may: {}",
                r.text
            );
        }

        // The issuer does the same: refund, credit a line, then cancel.
        let refund = send(
            &s,
            &issuer,
            "POST",
            &format!("/v1/invoices/{id}/payments/{payment_id}/refunds"),
            Some(json!({"amount": 100})),
        );
        assert_eq!(refund.status, 200, "{}", refund.text);
        let credit = send(
            &s,
            &issuer,
            "POST",
            &format!("/v1/invoices/{id}/cancel"),
            Some(json!({"reason": "toll waived", "lines": [{"product_id": "b"}]})),
        );
        assert_eq!(credit.status, 200, "{}", credit.text);
        let note = credit.json["credit_notes"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(
            send(&s, &customer, "GET", &format!("/v1/credit-notes/{note}"), None).status,
            200,
            "the customer reads its credit note"
        );
        let pay = send(
            &s,
            &issuer,
            "POST",
            &format!("/v1/invoices/{id}/payments"),
            Some(json!({"amount": 50})),
        );
        assert_eq!(pay.status, 200, "{}", pay.text);
        let other = s.open(&invoice_body());
        let void = send(
            &s,
            &issuer,
            "POST",
            &format!("/v1/invoices/{}/void", other["id"].as_str().unwrap()),
            None,
        );
        assert_eq!(void.status, 200, "{}", void.text);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn v1_only_the_customer_approves_or_rejects_and_only_the_issuer_finalizes() {
    for t in backends() {
        let s = TestServer::start(t);
        let (issuer, customer, stranger) = party_keys(&s);
        let mut body = invoice_body();
        body["approval_levels"] = json!(1);
        for (decision, decision_body) in [("approve", None), ("reject", Some(json!({"reasons": ["wrong rate"]})))] {
            let draft = send(&s, &issuer, "POST", "/v1/invoices", Some(body.clone()));
            assert_eq!(draft.status, 201, "{}", draft.text);
            let id = id(&draft.json);
            let before = current(&s, &id);
            let r = send(&s, &customer, "POST", &format!("/v1/invoices/{id}/finalize"), None);
            assert_refused(&s, &r, &id, &before, "the customer finalizes");
            let opened = send(&s, &issuer, "POST", &format!("/v1/invoices/{id}/finalize"), None);
            assert_eq!(opened.status, 200, "{}", opened.text);
            let before = current(&s, &id);
            let path = format!("/v1/invoices/{id}/{decision}");
            // The issuer reviewing its own invoice, and a stranger, are refused.
            let r = send(&s, &issuer, "POST", &path, decision_body.clone());
            assert_refused(&s, &r, &id, &before, &format!("the issuer {decision}s"));
            assert!(r.json["detail"]
                .as_str()
                .unwrap()
                .contains("only the invoice's customer"));
            let r = send(&s, &stranger, "POST", &path, decision_body.clone());
            assert_refused(&s, &r, &id, &before, &format!("a stranger {decision}s"));
            let r = send(&s, &customer, "POST", &path, decision_body);
            assert_eq!(r.status, 200, "{}: the customer {decision}s: {}", s.backend, r.text);
        }
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn v1_a_party_key_cannot_create_an_invoice_in_another_issuers_name() {
    for t in backends() {
        let s = TestServer::start(t);
        let trp1 = s.key_with(SCOPES, Some("trp-001"));
        let trp2 = s.key_with(SCOPES, Some("trp-002"));
        let forged = |issuer: Option<Value>, customer: &str| {
            let mut b = invoice_body();
            b["customer"]["id"] = json!(customer);
            match issuer {
                Some(i) => b["issuer"] = i,
                None => {
                    b.as_object_mut().unwrap().remove("issuer");
                }
            }
            b
        };
        // The attack from the probe, then its variants: naming itself the
        // customer, or leaving the issuer out.
        for (what, body) in [
            (
                "another issuer",
                forged(Some(json!({"id": "trp-002", "name": "Forged"})), "cust-1"),
            ),
            (
                "another issuer, itself the customer",
                forged(Some(json!({"id": "trp-002", "name": "Forged"})), "trp-001"),
            ),
            ("no issuer, itself the customer", forged(None, "trp-001")),
        ] {
            let r = send(&s, &trp1, "POST", "/v1/invoices", Some(body));
            assert_eq!(
                (r.status, r.code()),
                (403, "invoice_not_owned"),
                "{}: {what}: {}",
                s.backend,
                r.text
            );
        }
        let all = s.req("GET", "/v1/invoices").send();
        assert_eq!(all.json["data"], json!([]), "{}: nothing was created", s.backend);
        let theirs = send(&s, &trp2, "GET", "/v1/invoices", None);
        assert_eq!(theirs.json["data"], json!([]), "trp-002 sees no forged invoice");
        // In its own name it may.
        let own = send(
            &s,
            &trp1,
            "POST",
            "/v1/invoices",
            Some(forged(Some(json!({"id": "trp-001", "name": "Mine"})), "cust-1")),
        );
        assert_eq!(own.status, 201, "{}", own.text);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn plugnpaid_a_customer_key_may_neither_cancel_nor_credit() {
    for t in backends() {
        let s = TestServer::start(t);
        let (issuer, customer, _) = party_keys(&s);
        let inv = s.open(&invoice_body());
        let id = id(&inv);
        let before = current(&s, &id);
        let path = format!("/v2/invoices/cancel/{id}");
        for (what, body) in [
            ("cancel", None),
            ("credit one product", Some(json!({"products": [{"id": "b"}]}))),
        ] {
            let r = send(&s, &customer, "POST", &path, body);
            assert_eq!(r.json["error"]["code"], "invoice_not_owned", "{}", r.text);
            assert_refused_envelope(&s, &r, &id, &before, what);
        }
        let r = send(&s, &issuer, "POST", &path, Some(json!({"products": [{"id": "b"}]})));
        assert_eq!(r.status, 200, "{}: the issuer credits: {}", s.backend, r.text);
        let r = send(&s, &issuer, "POST", &path, None);
        assert_eq!(r.status, 200, "{}: the issuer cancels: {}", s.backend, r.text);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn chargeover_a_customer_key_may_not_void() {
    for t in backends() {
        let s = TestServer::start(t);
        let (issuer, customer, _) = party_keys(&s);
        let inv = s.open(&invoice_body());
        let id = id(&inv);
        let before = current(&s, &id);
        let void = |key: &str| {
            s.anon("POST", "/api/v3/invoice/1/_action/void")
                .header("Authorization", &basic(key))
                .raw("application/json", b"{}")
                .send()
        };
        let r = void(&customer);
        // ChargeOver documents 200, 400 and 401: the refusal is a 400 that says why.
        assert_eq!(
            (r.status, r.json["code"].as_u64(), r.json["response"].as_bool()),
            (400, Some(400), Some(false))
        );
        assert_eq!(r.json["message"], "Invoice belongs to another party.");
        assert_eq!(r.json["details"]["code"], "invoice_not_owned");
        assert_eq!(current(&s, &id), before, "{}: void changed nothing", s.backend);
        let r = void(&issuer);
        assert_eq!(r.status, 200, "{}: the issuer voids: {}", s.backend, r.text);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn flextell_a_customer_key_may_not_cancel() {
    for t in backends() {
        let s = TestServer::start(t);
        let (issuer, customer, _) = party_keys(&s);
        let inv = s.open(&invoice_body());
        let id = id(&inv);
        let before = current(&s, &id);
        let cancel = |key: &str| {
            s.req("POST", "/api/v1/invoices/1/cancel")
                .bearer(key)
                .header("X-Tenant", "acme")
                .json(&json!({"id": 1}))
                .send()
        };
        let r = cancel(&customer);
        assert_eq!(
            (r.json["success"].as_str(), r.code()),
            (Some("false"), "invoice_not_owned")
        );
        assert_refused_envelope(&s, &r, &id, &before, "cancel");
        let r = cancel(&issuer);
        assert_eq!(r.status, 200, "{}: the issuer cancels: {}", s.backend, r.text);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tms_a_customer_key_may_read_but_not_cancel() {
    for t in backends() {
        let s = TestServer::start(t);
        let (issuer, customer, stranger) = party_keys(&s);
        let inv = s.open(&invoice_body());
        let id = id(&inv);
        let before = current(&s, &id);
        let cancel = |key: &str| {
            s.req("POST", "/tms/api/v1/billing/transporter/cancel-invoice")
                .bearer(key)
                .json(&json!({"invoiceId": "INV-000001", "cancellationReason": "x"}))
                .send()
        };
        let read = |key: &str| {
            s.req("GET", "/tms/api/v1/billing/transporter/invoice/INV-000001/")
                .bearer(key)
                .send()
        };
        let r = cancel(&customer);
        assert_eq!(r.json["errorCode"], "INVOICE_NOT_OWNED", "{}", r.text);
        assert_refused_envelope(&s, &r, &id, &before, "cancel");
        // Reading follows the same rule as on /v1: both sides, nobody else.
        assert_eq!(read(&customer).status, 200);
        assert_eq!(read(&stranger).json["errorCode"], "INVOICE_NOT_OWNED");
        let r = cancel(&issuer);
        assert_eq!(r.status, 200, "{}: the issuer cancels: {}", s.backend, r.text);
    }
}

/// Asserts a 403 in a dialect's envelope that left the invoice as it was.
fn assert_refused_envelope(s: &TestServer, r: &Resp, id: &str, before: &Value, what: &str) {
    assert_eq!(r.status, 403, "{}: {what}: {}", s.backend, r.text);
    assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.text);
    assert_eq!(current(s, id), *before, "{}: {what} changed nothing", s.backend);
}
