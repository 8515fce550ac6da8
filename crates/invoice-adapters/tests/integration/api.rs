//! End-to-end tests of the `/v1` API over real HTTP, on SQLite and PostgreSQL.

use std::sync::{Arc, Barrier};

use invoice_adapters::ports::{IdempotencyRecords, Owner, DEFAULT_IDEMPOTENCY_RETENTION};
use serde_json::json;

use crate::http_support::*;
use crate::support::backends;

fn id(v: &serde_json::Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn assert_problem(r: &Resp, status: u16, code: &str) {
    assert_eq!(r.status, status, "expected {status} {code}, got {}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("application/problem+json"),
        "content type of {}",
        r.text
    );
    assert_eq!(r.json["status"], status);
    assert!(r.json["title"].is_string() && r.json["type"].is_string() && r.json["detail"].is_string());
    assert_eq!(
        r.json["request_id"].as_str(),
        r.header("x-request-id"),
        "problem bodies carry the request id"
    );
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn the_quickstart_flow_create_finalize_cancel_a_line_void() {
    for t in backends() {
        let s = TestServer::start(t);
        let draft = s.create(&invoice_body());
        assert_eq!(draft["status"], "draft");
        assert_eq!(draft["number"], serde_json::Value::Null);
        assert_eq!(
            (draft["subtotal"].as_i64(), draft["tax"].as_i64()),
            (Some(12_500), Some(2_075))
        );
        let inv = s.open(&invoice_body());
        assert_eq!(inv["number"], "INV-000001", "{}", s.backend);
        assert_eq!(inv["total"], 14_575);
        assert_eq!(inv["collection"]["halted"], false);
        let r = s
            .req("POST", &format!("/v1/invoices/{}/cancel", id(&inv)))
            .json(&json!({"reason": "toll waived", "reason_code": "order_change", "lines": [{"product_id": "b"}]}))
            .send();
        assert_eq!(r.status, 200, "{}", r.text);
        let after = &r.json;
        assert_eq!(after["status"], "open");
        assert_eq!(
            (
                after["subtotal"].as_i64(),
                after["tax"].as_i64(),
                after["total"].as_i64()
            ),
            (Some(12_500), Some(2_075), Some(14_575)),
            "the issued document never changes"
        );
        assert_eq!(after["tax_breakdown"], inv["tax_breakdown"]);
        assert_eq!(
            after["tax_breakdown"],
            json!([
                {"category": "S", "rate": "7", "taxable_amount": 2_500, "tax_amount": 175,
                 "exemption_reason_code": null, "exemption_reason": null},
                {"category": "S", "rate": "19", "taxable_amount": 10_000, "tax_amount": 1_900,
                 "exemption_reason_code": null, "exemption_reason": null}
            ])
        );
        assert_eq!(
            (
                after["amount_credited"].as_i64(),
                after["amount_paid"].as_i64(),
                after["amount_due"].as_i64()
            ),
            (Some(2_675), Some(0), Some(11_900))
        );
        assert_eq!(after["lines"][1]["status"], "cancelled");
        assert_eq!(after["lines"][1]["credited_amount"], 2_675);
        assert_eq!(after["lines"][1]["tax_category"], "S");
        let cn = &after["credit_notes"][0];
        assert_eq!(cn["number"], "CN-000001");
        assert_eq!(cn["invoice_number"], "INV-000001");
        assert_eq!(
            (cn["subtotal"].as_i64(), cn["tax"].as_i64(), cn["total"].as_i64()),
            (Some(2_500), Some(175), Some(2_675))
        );
        assert_eq!(cn["reason_code"], "order_change");
        let note = s
            .req("GET", &format!("/v1/credit-notes/{}", cn["id"].as_str().unwrap()))
            .send();
        assert_eq!(note.status, 200);
        assert_eq!(note.json["total"], 2_675);
        assert_eq!(note.json["tax_breakdown"][0]["tax_amount"], 175);

        let v = s
            .req("POST", &format!("/v1/invoices/{}/void", id(&inv)))
            .json(&json!({"reason": "issued in error", "reason_code": "issued_in_error"}))
            .send();
        assert_eq!(v.status, 200, "{}", v.text);
        assert_eq!(v.json["status"], "void");
        assert_eq!(v.json["amount_due"], 0);
        assert_eq!(v.json["total"], 14_575, "a void keeps the document as issued");
        assert_eq!(v.json["collection"]["halted"], true);
        assert_eq!(v.json["collection"]["next_payment_attempt"], serde_json::Value::Null);
        assert_eq!(v.json["void"]["reason_code"], "issued_in_error");
        assert_eq!(v.header("etag"), Some(format!("\"{}\"", v.json["version"]).as_str()));

        let events = s.req("GET", &format!("/v1/invoices/{}/events", id(&inv))).send();
        let types: Vec<&str> = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "invoice.created",
                "invoice.finalized",
                "invoice.lines_cancelled",
                "credit_note.issued",
                "invoice.voided",
                "credit_note.issued"
            ],
            "a void writes a credit note for what is left (the default policy)"
        );
        assert!(events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"]["channel"] == "v1"));
        // The number also works as a reference.
        let by_number = s.req("GET", "/v1/invoices/INV-000001").send();
        assert_eq!(by_number.status, 200);
        assert_eq!(by_number.json["id"], inv["id"]);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn payments_refunds_approval_and_every_refusal_map_to_409_with_the_domain_code() {
    for t in backends() {
        let s = TestServer::start(t);
        let post = |path: String, body: serde_json::Value| s.req("POST", &path).json(&body).send();
        let cancel_all = |i: &str| post(format!("/v1/invoices/{i}/cancel"), json!({"reason": "x"}));
        let void = |i: &str| s.req("POST", &format!("/v1/invoices/{i}/void")).send();
        let pay = |i: &str, amount: i64| {
            post(
                format!("/v1/invoices/{i}/payments"),
                json!({"amount": amount, "method": "card"}),
            )
        };

        let draft = s.create(&invoice_body());
        let d = id(&draft);
        assert_problem(&void(&d), 409, "invoice_is_draft");
        assert_problem(&pay(&d, 1), 409, "invoice_not_open");
        let empty = s.create(&json!({"currency": "EUR", "customer": {"id": "c", "name": "C"}}));
        assert_problem(
            &s.req("POST", &format!("/v1/invoices/{}/finalize", id(&empty))).send(),
            409,
            "invoice_has_no_lines",
        );

        let open = s.open(&invoice_body());
        let o = id(&open);
        assert_problem(
            &s.req("POST", &format!("/v1/invoices/{o}/finalize")).send(),
            409,
            "invoice_not_draft",
        );
        assert_problem(&pay(&o, 14_576), 409, "overpayment");
        assert_problem(
            &post(
                format!("/v1/invoices/{o}/cancel"),
                json!({"reason": "x", "lines": [{"product_id": "zzz"}]}),
            ),
            409,
            "line_not_found",
        );
        let paid_part = pay(&o, 10_000);
        assert_eq!(paid_part.status, 200, "{}", paid_part.text);
        assert_eq!(paid_part.json["amount_due"], 4_575);
        assert_problem(&cancel_all(&o), 409, "invoice_has_payments");
        assert_problem(&void(&o), 409, "invoice_has_payments");
        assert_problem(
            &post(
                format!("/v1/invoices/{o}/cancel"),
                json!({"reason": "x", "lines": [{"product_id": "a"}]}),
            ),
            409,
            "cancellation_below_paid_amount",
        );
        let pid = paid_part.json["payments"][0]["id"].as_str().unwrap().to_string();
        let refund = |amount: i64| {
            post(
                format!("/v1/invoices/{o}/payments/{pid}/refunds"),
                json!({"amount": amount, "reason": "goodwill"}),
            )
        };
        assert_problem(&refund(10_001), 409, "refund_exceeds_payment");
        let missing = uuid_like();
        assert_problem(
            &post(
                format!("/v1/invoices/{o}/payments/{missing}/refunds"),
                json!({"amount": 1}),
            ),
            409,
            "payment_not_found",
        );
        let refunded = refund(10_000);
        assert_eq!(refunded.status, 200, "{}", refunded.text);
        assert_eq!(
            (
                refunded.json["amount_paid"].as_i64(),
                refunded.json["amount_refunded"].as_i64()
            ),
            (Some(0), Some(10_000))
        );
        assert_problem(
            &s.req("POST", &format!("/v1/invoices/{o}/approve")).send(),
            409,
            "approval_not_pending",
        );
        let full = pay(&o, 14_575);
        assert_eq!(full.json["status"], "paid");
        assert_problem(&cancel_all(&o), 409, "invoice_paid");
        assert_problem(&void(&o), 409, "invoice_paid");

        let other = s.open(&invoice_body());
        let x = id(&other);
        assert_eq!(cancel_all(&x).status, 200);
        assert_problem(&cancel_all(&x), 409, "invoice_already_cancelled");
        assert_problem(&pay(&x, 1), 409, "invoice_not_collectible");
        let y = id(&s.open(&invoice_body()));
        assert_eq!(void(&y).status, 200);
        assert_problem(&void(&y), 409, "invoice_already_void");
        assert_problem(&cancel_all(&y), 409, "invoice_already_void");

        let z = id(&s.open(&invoice_body()));
        assert_eq!(
            post(
                format!("/v1/invoices/{z}/cancel"),
                json!({"reason": "x", "lines": [{"product_id": "b"}]})
            )
            .status,
            200
        );
        assert_problem(
            &post(
                format!("/v1/invoices/{z}/cancel"),
                json!({"reason": "x", "lines": [{"variation_id": "b-1"}]}),
            ),
            409,
            "line_already_cancelled",
        );
        let mut twin = invoice_body();
        twin["lines"][1]["product_id"] = json!("a");
        let w = id(&s.open(&twin));
        assert_problem(
            &post(
                format!("/v1/invoices/{w}/cancel"),
                json!({"reason": "x", "lines": [{"product_id": "a"}]}),
            ),
            409,
            "line_reference_ambiguous",
        );

        let mut approval = invoice_body();
        approval["approval_levels"] = json!(2);
        let a = id(&s.open(&approval));
        assert_problem(&pay(&a, 1), 409, "invoice_awaiting_approval");
        let l1 = s.req("POST", &format!("/v1/invoices/{a}/approve")).send();
        assert_eq!(
            (
                l1.json["approval"]["state"].as_str(),
                l1.json["approval"]["level"].as_i64()
            ),
            (Some("pending"), Some(2))
        );
        let l2 = s.req("POST", &format!("/v1/invoices/{a}/approve")).send();
        assert_eq!(l2.json["approval"]["state"], "approved");
        assert_problem(&cancel_all(&a), 409, "invoice_approved");
        assert_problem(&void(&a), 409, "invoice_approved");
        let r = id(&s.open(&approval));
        let rejected = post(
            format!("/v1/invoices/{r}/reject"),
            json!({"reasons": ["missing POD"], "remark": "send documents"}),
        );
        assert_eq!(rejected.json["approval"]["state"], "rejected", "{}", rejected.text);
        assert_eq!(rejected.json["approval"]["remark"], "send documents");
        assert_problem(&pay(&r, 1), 409, "invoice_rejected");
    }
}

fn uuid_like() -> String {
    "0196a4c2-0000-7000-8000-000000000000".to_string()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn bad_input_gets_a_distinct_problem_and_changes_nothing() {
    for t in backends() {
        let s = TestServer::start(t);
        let post = |body: &[u8], ct: &str| s.req("POST", "/v1/invoices").raw(ct, body).send();
        assert_problem(&post(b"{\"currency\": ", "application/json"), 400, "malformed_json");
        assert_problem(
            &post(
                br#"{"currency": 5, "customer": {"id": "c", "name": "C"}}"#,
                "application/json",
            ),
            422,
            "invalid_type",
        );
        let unknown = post(
            br#"{"currency": "EUR", "customer": {"id": "c", "name": "C"}, "colour": "red"}"#,
            "application/json",
        );
        assert_problem(&unknown, 422, "unknown_field");
        assert_problem(
            &post(br#"{"customer": {"id": "c", "name": "C"}}"#, "application/json"),
            422,
            "missing_field",
        );
        let invalid = post(
            br#"{"currency": "EUR", "customer": {"id": "c", "name": "C"}, "lines": [{"description": "x", "quantity": 0, "unit_amount": 1, "tax_rate": "19"}]}"#,
            "application/json",
        );
        assert_problem(&invalid, 422, "validation_failed");
        assert_eq!(
            invalid.json["errors"][0]["field"], "lines[0].quantity",
            "{}",
            invalid.text
        );
        let currency = post(
            br#"{"currency": "XXX", "customer": {"id": "c", "name": "C"}}"#,
            "application/json",
        );
        assert_problem(&currency, 422, "validation_failed");
        assert_eq!(currency.json["errors"][0]["field"], "currency");
        let rate = post(
            br#"{"currency": "EUR", "customer": {"id": "c", "name": "C"}, "lines": [{"description": "x", "quantity": 1, "unit_amount": 1, "tax_rate": "19.5.1"}]}"#,
            "application/json",
        );
        assert_problem(&rate, 422, "validation_failed");
        assert_problem(
            &post(b"currency=EUR", "application/x-www-form-urlencoded"),
            415,
            "unsupported_media_type",
        );
        let huge = format!(
            r#"{{"currency": "EUR", "customer": {{"id": "c", "name": "{}"}}}}"#,
            "x".repeat(70_000)
        );
        assert_problem(&post(huge.as_bytes(), "application/json"), 413, "payload_too_large");
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert_problem(&post(deep.as_bytes(), "application/json"), 400, "json_too_deep");
        assert_problem(&s.req("GET", "/v1/nope").send(), 404, "route_not_found");
        // Any well-formed reference may be an external reference: one that
        // names nothing is 404; only one that could name nothing is 400.
        assert_problem(
            &s.req("GET", "/v1/invoices/not-a-ref!").send(),
            404,
            "invoice_not_found",
        );
        for bad in ["x".repeat(101), "bell%07".to_string(), "%20%20".to_string()] {
            assert_problem(
                &s.req("GET", &format!("/v1/invoices/{bad}")).send(),
                400,
                "invalid_path_parameter",
            );
        }
        assert_problem(
            &s.req("GET", "/v1/invoices?limit=1000").send(),
            400,
            "invalid_query_parameter",
        );
        assert_problem(
            &s.req("GET", "/v1/invoices?limit=abc").send(),
            400,
            "invalid_query_parameter",
        );
        assert_problem(
            &s.req("GET", &format!("/v1/invoices/{}", uuid_like())).send(),
            404,
            "invoice_not_found",
        );
        assert_problem(
            &s.req("GET", "/v1/credit-notes/xyz").send(),
            400,
            "invalid_path_parameter",
        );
        assert_problem(
            &s.req("GET", &format!("/v1/credit-notes/{}", uuid_like())).send(),
            404,
            "credit_note_not_found",
        );
        let inv = s.open(&invoice_body());
        let cancel_without_reason = s
            .req("POST", &format!("/v1/invoices/{}/cancel", id(&inv)))
            .json(&json!({}))
            .send();
        assert_problem(&cancel_without_reason, 422, "missing_field");
        let bad_ref = s
            .req("POST", &format!("/v1/invoices/{}/cancel", id(&inv)))
            .json(&json!({"reason": "x", "lines": [{"line_id": "1", "product_id": "a"}]}))
            .send();
        assert_problem(&bad_ref, 422, "validation_failed");
        // Nothing above created or changed anything.
        let list = s.req("GET", "/v1/invoices").send();
        assert_eq!(list.json["data"].as_array().unwrap().len(), 1, "{}", s.backend);
        assert_eq!(list.json["data"][0]["version"], inv["version"]);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn auth_scopes_tenants_and_parties() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}", id(&inv));
        let missing = s.anon("GET", &path).send();
        assert_problem(&missing, 401, "unauthorized");
        assert!(missing.header("www-authenticate").unwrap().contains("Bearer"));
        assert_problem(&s.anon("GET", &path).bearer("sk_wrong").send(), 401, "unauthorized");
        // HTTP Basic with the key as user name and an empty password.
        let basic = base64_encode(&format!("{}:", s.key));
        let ok = s
            .anon("GET", &path)
            .header("Authorization", &format!("Basic {basic}"))
            .send();
        assert_eq!(ok.status, 200, "{}", ok.text);
        assert_eq!(s.req("GET", &path).header("X-Tenant", "acme").send().status, 200);
        assert_eq!(
            s.req("GET", &path)
                .header("X-Tenant", &s.tenant.get().to_string())
                .send()
                .status,
            200
        );
        let (_, other_key) = s.other_tenant("globex");
        assert_problem(
            &s.req("GET", &path).header("X-Tenant", "globex").send(),
            403,
            "tenant_mismatch",
        );

        let reader = s.key_with("invoices:read", None);
        assert_problem(
            &s.req("POST", "/v1/invoices")
                .bearer(&reader)
                .json(&invoice_body())
                .send(),
            403,
            "insufficient_scope",
        );
        assert_problem(
            &s.req("POST", &format!("{path}/cancel"))
                .bearer(&reader)
                .json(&json!({"reason": "x"}))
                .send(),
            403,
            "insufficient_scope",
        );
        let writer = s.key_with("invoices:write", None);
        assert_problem(&s.req("GET", &path).bearer(&writer).send(), 403, "insufficient_scope");
        assert_problem(
            &s.req("POST", &format!("{path}/void")).bearer(&writer).send(),
            403,
            "insufficient_scope",
        );

        // Another tenant: always 404, on every route.
        for (method, p, body) in [
            ("GET", path.clone(), None),
            ("GET", format!("{path}/events"), None),
            ("POST", format!("{path}/cancel"), Some(json!({"reason": "x"}))),
            ("POST", format!("{path}/void"), None),
            ("POST", format!("{path}/finalize"), None),
            ("POST", format!("{path}/payments"), Some(json!({"amount": 1}))),
            ("POST", format!("{path}/approve"), None),
            ("GET", "/v1/invoices/INV-000001".to_string(), None),
        ] {
            let mut r = s.req(method, &p).bearer(&other_key);
            if let Some(b) = body {
                r = r.json(&b);
            }
            assert_problem(&r.send(), 404, "invoice_not_found");
        }
        let others = s.req("GET", "/v1/invoices").bearer(&other_key).send();
        assert_eq!(others.json["data"].as_array().unwrap().len(), 0);

        // Party keys see only their invoices.
        let customer = s.key_with("invoices:read,invoices:write,invoices:cancel", Some("cust-1"));
        let stranger = s.key_with("invoices:read,invoices:write,invoices:cancel", Some("someone-else"));
        assert_eq!(s.req("GET", &path).bearer(&customer).send().status, 200);
        assert_problem(&s.req("GET", &path).bearer(&stranger).send(), 403, "invoice_not_owned");
        assert_problem(
            &s.req("POST", &format!("{path}/cancel"))
                .bearer(&stranger)
                .json(&json!({"reason": "x"}))
                .send(),
            403,
            "invoice_not_owned",
        );
        assert_eq!(
            s.req("GET", "/v1/invoices").bearer(&stranger).send().json["data"]
                .as_array()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            s.req("GET", "/v1/invoices").bearer(&customer).send().json["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_problem(
            &s.req("POST", "/v1/invoices")
                .bearer(&stranger)
                .json(&invoice_body())
                .send(),
            403,
            "invoice_not_owned",
        );
        // The customer may not cancel; the issuer may, and the actor
        // recorded on events is the key's id.
        assert_problem(
            &s.req("POST", &format!("{path}/cancel"))
                .bearer(&customer)
                .json(&json!({"reason": "x"}))
                .send(),
            403,
            "invoice_not_owned",
        );
        let issuer = s.key_with("invoices:read,invoices:write,invoices:cancel", Some("trp-1"));
        let c = s
            .req("POST", &format!("{path}/cancel"))
            .bearer(&issuer)
            .json(&json!({"reason": "x"}))
            .send();
        assert_eq!(c.status, 200, "{}", c.text);
        let events = s.req("GET", &format!("{path}/events")).send();
        let last = events.json["data"].as_array().unwrap().last().unwrap().clone();
        assert!(last["actor"]["id"].as_str().unwrap().starts_with("key_"));
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn idempotency_keys_replay_refuse_reuse_and_in_flight_duplicates() {
    for t in backends() {
        let s = TestServer::start(t);
        let first = s
            .req("POST", "/v1/invoices")
            .header("Idempotency-Key", "create-1")
            .json(&invoice_body())
            .send();
        assert_eq!(first.status, 201);
        let again = s
            .req("POST", "/v1/invoices")
            .header("Idempotency-Key", "create-1")
            .json(&invoice_body())
            .send();
        assert_eq!(again.status, 201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json, first.json, "the stored body is replayed");
        assert_eq!(
            s.req("GET", "/v1/invoices").send().json["data"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "created once"
        );
        let mut other = invoice_body();
        other["currency"] = json!("USD");
        let reused = s
            .req("POST", "/v1/invoices")
            .header("Idempotency-Key", "create-1")
            .json(&other)
            .send();
        assert_problem(&reused, 422, "idempotency_key_reused");
        let long = "k".repeat(256);
        assert_problem(
            &s.req("POST", "/v1/invoices")
                .header("Idempotency-Key", &long)
                .json(&invoice_body())
                .send(),
            400,
            "invalid_idempotency_key",
        );

        // A refusal is replayed too, and a key is per tenant.
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}/void", id(&inv));
        assert_eq!(
            s.req("POST", &path).header("Idempotency-Key", "void-1").send().status,
            200
        );
        let replay = s.req("POST", &path).header("Idempotency-Key", "void-1").send();
        assert_eq!(
            (replay.status, replay.header("idempotent-replayed")),
            (200, Some("true"))
        );
        let (_, other_key) = s.other_tenant("globex");
        let elsewhere = s
            .req("POST", "/v1/invoices")
            .bearer(&other_key)
            .header("Idempotency-Key", "create-1")
            .json(&invoice_body())
            .send();
        assert_eq!((elsewhere.status, elsewhere.header("idempotent-replayed")), (201, None));

        // A duplicate of a request still in flight gets 409.
        let body = invoice_body().to_string();
        let hash = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(b"POST /v1/invoices\n");
            h.update(body.as_bytes());
            hex::encode(h.finalize())
        };
        let owner = Owner {
            tenant: s.tenant,
            api_key_id: s.key_id.clone(),
        };
        s.db.claim(&owner, "busy", &hash, chrono::Utc::now(), DEFAULT_IDEMPOTENCY_RETENTION)
            .unwrap();
        let busy = s
            .req("POST", "/v1/invoices")
            .header("Idempotency-Key", "busy")
            .raw("application/json", body.as_bytes())
            .send();
        assert_problem(&busy, 409, "idempotency_key_in_use");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn if_match_and_etags_guard_against_lost_updates() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}", id(&inv));
        let got = s.req("GET", &path).send();
        assert_eq!(got.header("etag"), Some("\"2\""));
        let stale = s
            .req("POST", &format!("{path}/void"))
            .header("If-Match", "\"1\"")
            .send();
        assert_problem(&stale, 412, "version_mismatch");
        assert_eq!(
            s.req("GET", &path).send().json["status"],
            "open",
            "a refused request changes nothing"
        );
        assert_problem(
            &s.req("POST", &format!("{path}/void"))
                .header("If-Match", "garbage")
                .send(),
            400,
            "invalid_if_match",
        );
        let ok = s
            .req("POST", &format!("{path}/void"))
            .header("If-Match", "\"2\"")
            .send();
        assert_eq!(ok.status, 200);
        assert_eq!(ok.header("etag"), Some("\"3\""));
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn twenty_concurrent_cancels_over_http_give_exactly_one_200() {
    for t in backends() {
        let s = Arc::new(TestServer::start(t));
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}/cancel", id(&inv));
        let barrier = Arc::new(Barrier::new(20));
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let (s, barrier, path) = (s.clone(), barrier.clone(), path.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    s.req("POST", &path).json(&json!({"reason": "race"})).send()
                })
            })
            .collect();
        let replies: Vec<Resp> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let ok = replies.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            ok,
            1,
            "{}: {:?}",
            s.backend,
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        for r in replies.iter().filter(|r| r.status != 200) {
            assert_eq!(r.status, 409, "{}", r.text);
            assert!(
                ["invoice_already_cancelled", "version_mismatch"].contains(&r.code()),
                "{}",
                r.text
            );
        }
        let events = s.req("GET", &format!("/v1/invoices/{}/events", id(&inv))).send();
        let cancels = events.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "invoice.cancelled")
            .count();
        assert_eq!(cancels, 1);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn listing_paginates_with_a_cursor_and_filters() {
    for t in backends() {
        let s = TestServer::start(t);
        let ids: Vec<String> = (0..5).map(|_| id(&s.create(&invoice_body()))).collect();
        s.req("POST", &format!("/v1/invoices/{}/finalize", ids[0])).send();
        let page1 = s.req("GET", "/v1/invoices?limit=2").send();
        assert_eq!(page1.json["has_more"], true);
        let got: Vec<&str> = page1.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, [ids[4].as_str(), ids[3].as_str()]);
        let page3 = s
            .req("GET", &format!("/v1/invoices?limit=2&starting_after={}", ids[1]))
            .send();
        assert_eq!(page3.json["has_more"], false);
        assert_eq!(page3.json["data"][0]["id"].as_str(), Some(ids[0].as_str()));
        let open = s.req("GET", "/v1/invoices?status=open").send();
        assert_eq!(open.json["data"].as_array().unwrap().len(), 1);
        let cust = s.req("GET", "/v1/invoices?customer_id=cust-1&limit=100").send();
        assert_eq!(cust.json["data"].as_array().unwrap().len(), 5);
        let future = s
            .req("GET", "/v1/invoices?created%5Bgte%5D=2999-01-01T00:00:00Z")
            .send();
        assert_eq!(future.status, 200, "{}", future.text);
        assert_eq!(future.json["data"].as_array().unwrap().len(), 0);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn operations_endpoints_request_ids_and_the_openapi_document() {
    for t in backends() {
        let s = TestServer::start(t);
        assert_eq!(s.anon("GET", "/healthz").send().status, 200);
        let ready = s.anon("GET", "/readyz").send();
        assert_eq!((ready.status, ready.json["status"].as_str()), (200, Some("ready")));
        s.create(&invoice_body());
        let metrics = s.anon("GET", "/metrics").send();
        assert!(
            metrics
                .text
                .contains("http_requests_total{method=\"POST\",route=\"/v1/invoices\",status=\"201\"} 1"),
            "{}",
            metrics.text
        );
        assert!(metrics.text.contains("http_request_duration_seconds_bucket"));
        assert!(metrics.text.contains("db_pool_connections"));
        let echoed = s.req("GET", "/healthz").header("X-Request-Id", "trace-abc-123").send();
        assert_eq!(echoed.header("x-request-id"), Some("trace-abc-123"));
        let generated = s.req("GET", "/healthz").send();
        assert!(generated.header("x-request-id").is_some_and(|v| v.len() >= 16));

        for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/v1/invoices"] {
            let wrong = s.req("DELETE", path).send();
            assert_problem(&wrong, 405, "method_not_allowed");
            assert!(
                wrong.header("allow").is_some_and(|a| a.contains("GET")),
                "{path}: Allow header"
            );
        }
        let doc = s.anon("GET", "/openapi.json").send();
        assert_eq!(doc.status, 200);
        assert!(doc.json["openapi"].as_str().unwrap().starts_with("3.1"));
        for path in [
            "/v1/invoices",
            "/v1/invoices/{reference}/cancel",
            "/v1/invoices/{reference}/void",
            "/v1/credit-notes/{id}",
        ] {
            assert!(doc.json["paths"][path].is_object(), "{path} missing from OpenAPI");
        }
    }
}

#[test]
fn docs_openapi_json_is_in_sync_with_the_server() {
    let generated = serde_json::to_value(invoice_adapters::inbound::http::openapi::document(
        &invoice_adapters::inbound::http::Dialects::all(),
    ))
    .unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, serde_json::to_string_pretty(&generated).unwrap() + "\n").unwrap();
    }
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json exists")).unwrap();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p invoice-adapters --test integration docs_openapi`"
    );
}
