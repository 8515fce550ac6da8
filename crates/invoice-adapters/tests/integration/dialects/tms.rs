//! The TMS transporter billing dialect.

use serde_json::{json, Value};

use super::*;
use crate::support::backends;

const CANCEL: &str = "/tms/api/v1/billing/transporter/cancel-invoice";

fn get_path(reference: &str) -> String {
    format!("/tms/api/v1/billing/transporter/invoice/{reference}/")
}

/// Asserts the TMS error envelope, exactly its three keys.
fn assert_tms_error(r: &Resp, status: u16, code: &str) {
    assert_json_reply(r);
    assert_eq!(r.status, status, "expected {status} {code}: {}", r.text);
    assert_keys(&r.json, &["message", "status", "errorCode"], "TMS error");
    assert_eq!(r.json["status"], "error", "{}", r.text);
    assert_eq!(r.json["errorCode"], code, "{}", r.text);
    assert!(!r.json["message"].as_str().unwrap().is_empty());
}

/// The documented request: `Accept`, `Content-Type`, the tenant as the host's first label.
fn cancel_req(s: &TestServer, key: &str, body: &Value) -> Req {
    s.req("POST", CANCEL)
        .bearer(key)
        .header("Host", "acme.stack.example")
        .header("Accept", "application/json")
        .json(body)
}

fn transporter(s: &TestServer, party: &str) -> String {
    s.key_with("invoices:read,invoices:cancel", Some(party))
}

/// The documented cancel request, verbatim when the examples are at hand.
fn documented_cancel() -> Value {
    documented_example("tms-cancel-invoice.request.json").unwrap_or_else(
        || json!({"invoiceId": "INV-20241201-001", "cancellationReason": "Customer requested cancellation"}),
    )
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tms_cancel_replays_the_documented_request() {
    for t in backends() {
        let s = TestServer::start(t);
        // A real invoice whose own code is the documented one.
        let request = documented_cancel();
        let code = request["invoiceId"].as_str().unwrap().to_string();
        let mut body = invoice_body();
        body["external_reference"] = json!(code);
        let a = s.open(&body);
        let b = s.open(&invoice_body());
        let key = transporter(&s, "trp-1");

        let r = cancel_req(&s, &key, &request).send();
        assert_json_reply(&r);
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_eq!(
            r.json,
            json!({"data": {"success": true, "message": "Invoice cancelled successfully", "invoiceId": code},
                   "message": "Success", "status": "success"})
        );
        if let Some(doc) = documented_example("tms-cancel-invoice.200.json") {
            assert_eq!(r.json, doc, "the documented reply, value for value");
        }
        let v1 = v1_invoice(&s, &id(&a));
        assert_eq!(v1["status"], "cancelled");
        assert_eq!(v1["cancellation"]["reason"], "Customer requested cancellation");
        assert_eq!(v1["cancellation"]["reason_code"], "other");
        assert_eq!(v1["cancellation"]["channel"], "tms");
        assert_eq!(v1["credit_notes"].as_array().unwrap().len(), 1);
        assert_eq!(v1["amount_due"], 0);
        assert_eq!(v1["total"], a["total"], "the document keeps its total");
        assert_eq!(
            channels(&s, &id(&a)),
            ["v1", "v1", "tms", "tms"],
            "created, finalized, cancelled, credit note issued"
        );
        let got = s.req("GET", &get_path(&code)).bearer(&key).send();
        assert_eq!(got.status, 200, "{}", got.text);
        assert_eq!(
            (&got.json["data"]["state"], &got.json["data"]["totalAmount"]),
            (&json!("CANCELLED"), &json!(145.75)),
            "cancelled, the total as issued in euros"
        );

        // By UUID, echoed exactly as sent; without a reason; a tenant-wide key.
        let uuid = id(&b);
        let r = cancel_req(&s, &s.key, &json!({"invoiceId": uuid})).send();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["data"]["invoiceId"], uuid.as_str());
        assert_eq!(v1_invoice(&s, &uuid)["status"], "cancelled");

        // A draft is discarded; its uniqueCode is its UUID.
        let draft = s.create(&invoice_body());
        let r = cancel_req(&s, &key, &json!({"invoiceId": id(&draft)})).send();
        assert_eq!(r.status, 200, "{}", r.text);
        let got = s.req("GET", &get_path(&id(&draft))).bearer(&key).send();
        assert_eq!(got.json["data"]["state"], "CANCELLED");
        assert_eq!(got.json["data"]["uniqueCode"], id(&draft).as_str());
        assert!(v1_invoice(&s, &id(&draft))["credit_notes"]
            .as_array()
            .unwrap()
            .is_empty());
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tms_get_maps_every_documented_field() {
    for t in backends() {
        let s = TestServer::start(t);
        // The tenant numbers as the document shows (INV-2024-001).
        let fmt = s
            .req("PATCH", "/v1/tenant")
            .json(&json!({"invoice_number_format": "INV-{YYYY}-{SEQ:3}"}))
            .send();
        assert_eq!(fmt.status, 200, "{}", fmt.text);
        let mut body = invoice_body();
        body["external_reference"] = json!("INV-20241201-001");
        body["due_date"] = json!("2023-12-02");
        body["approval_levels"] = json!(2);
        body["metadata"] = json!({
            "systemAmount": "5000", "differenceAmount": "", "loadCount": "3",
            "chargeCount": "5", "versionId": "v1.0.0"
        });
        let inv = s.open(&body);
        let number = inv["number"].as_str().unwrap();
        let year = &inv["issued_at"].as_str().unwrap()[..4];
        assert_eq!(number, format!("INV-{year}-001"));
        let key = transporter(&s, "trp-1");

        // The documented request: Accept and Content-Type headers, tenant host.
        let r = s
            .req("GET", &get_path("INV-20241201-001"))
            .bearer(&key)
            .header("Host", "acme.stack.example")
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .send();
        assert_json_reply(&r);
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_keys(&r.json, &["data", "message", "status"], "envelope");
        assert_eq!(
            (&r.json["message"], &r.json["status"]),
            (&json!("Success"), &json!("success"))
        );
        if let Some(doc) = documented_example("tms-get-transporter-invoice.200.json") {
            // Not yet approved or rejected: those two times are really absent.
            assert_documented_shape(
                &r.json,
                &doc,
                &["data.approvedAt", "data.rejectedAt", "data.shipperRejectionRemark"],
            );
        }
        let d = &r.json["data"];
        assert_keys(
            d,
            &[
                "uniqueCode",
                "invoiceNumber",
                "state",
                "approvalState",
                "transporterId",
                "transporterName",
                "totalAmount",
                "systemAmount",
                "differenceAmount",
                "invoiceDate",
                "dueDate",
                "submittedAt",
                "approvedAt",
                "rejectedAt",
                "shipperRejectionReasons",
                "shipperRejectionRemark",
                "chargeCount",
                "loadCount",
                "versionId",
                "createdAt",
                "updatedAt",
                "isDeleted",
            ],
            "TMS invoice",
        );
        assert_eq!(d["uniqueCode"], "INV-20241201-001", "the client's own code");
        assert_eq!(d["invoiceNumber"], number, "the document number");
        assert_eq!(d["state"], "SUBMITTED");
        assert_eq!(d["approvalState"], "LEVEL_1");
        assert_eq!(d["transporterId"], "trp-1");
        assert_eq!(d["transporterName"], "Transporter Ltd");
        assert_eq!(d["totalAmount"], json!(145.75), "the total in euros");
        assert_eq!(
            r.text.matches("\"totalAmount\":145.75").count(),
            1,
            "written exactly: {}",
            r.text
        );
        assert_eq!(d["systemAmount"], 5000, "metadata amounts are exact numbers");
        assert_eq!(d["differenceAmount"], "");
        assert_eq!(d["invoiceDate"], millis(&inv["issued_at"]));
        assert_eq!(d["submittedAt"], millis(&inv["issued_at"]));
        assert_eq!(d["dueDate"], 1_701_475_200_000_i64, "2023-12-02 at midnight UTC");
        assert_eq!((&d["approvedAt"], &d["rejectedAt"]), (&Value::Null, &Value::Null));
        assert_eq!(d["shipperRejectionReasons"], json!([]));
        assert_eq!(d["shipperRejectionRemark"], Value::Null);
        assert_eq!((&d["chargeCount"], &d["loadCount"]), (&json!(5), &json!(3)));
        assert_eq!(d["versionId"], "v1.0.0");
        assert_eq!(d["createdAt"], millis(&inv["created_at"]));
        assert_eq!(d["updatedAt"], millis(&inv["updated_at"]));
        assert_eq!(d["isDeleted"], false);

        // Approval levels, then approved; by UUID and without the trailing slash.
        let approve = |i: &str| s.req("POST", &format!("/v1/invoices/{i}/approve")).send();
        assert_eq!(approve(number).status, 200);
        let r = s.req("GET", &get_path(number)).bearer(&key).send();
        assert_eq!(
            (&r.json["data"]["state"], &r.json["data"]["approvalState"]),
            (&json!("SUBMITTED"), &json!("LEVEL_2"))
        );
        let approved = approve(number);
        assert_eq!(approved.status, 200, "{}", approved.text);
        let r = s
            .req("GET", &format!("/tms/api/v1/billing/transporter/invoice/{}", id(&inv)))
            .bearer(&key)
            .send();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            (&r.json["data"]["state"], &r.json["data"]["approvalState"]),
            (&json!("APPROVED"), &json!("APPROVED"))
        );
        assert_eq!(
            r.json["data"]["approvedAt"],
            millis(&approved.json["approval"]["approved_at"])
        );

        // Rejected by the shipper, with reasons and a remark.
        let mut one_level = invoice_body();
        one_level["approval_levels"] = json!(1);
        let rej = s.open(&one_level);
        let rejected = s
            .req("POST", &format!("/v1/invoices/{}/reject", id(&rej)))
            .json(&json!({"reasons": ["missing POD"], "remark": "please provide supporting documents"}))
            .send();
        assert_eq!(rejected.status, 200, "{}", rejected.text);
        let d = s.req("GET", &get_path(&id(&rej))).bearer(&key).send().json["data"].clone();
        assert_eq!(
            (&d["state"], &d["approvalState"]),
            (&json!("REJECTED"), &json!("REJECTED"))
        );
        assert_eq!(d["rejectedAt"], millis(&rejected.json["approval"]["rejected_at"]));
        assert_eq!(d["shipperRejectionReasons"], json!(["missing POD"]));
        assert_eq!(d["shipperRejectionRemark"], "please provide supporting documents");

        // No approval needed, no TMS metadata: chargeCount counts the
        // document's lines, systemAmount is the total, versionId the version.
        let plain = s.open(&invoice_body());
        let d = s.req("GET", &get_path(&id(&plain))).bearer(&key).send().json["data"].clone();
        assert_eq!(
            (&d["state"], &d["approvalState"]),
            (&json!("SUBMITTED"), &json!("NOT_REQUIRED"))
        );
        assert_eq!(d["chargeCount"], 2);
        assert_eq!(d["loadCount"], 3, "invoice_body carries loadCount");
        assert_eq!(d["uniqueCode"], plain["number"], "no code of its own: its number");
        assert_eq!(d["systemAmount"], json!(145.75));
        assert_eq!(d["differenceAmount"], "");
        assert_eq!(d["versionId"], plain["version"].to_string());
        assert_eq!(d["dueDate"], Value::Null, "no due date");
        let paid = s
            .req("POST", &format!("/v1/invoices/{}/payments", id(&plain)))
            .json(&json!({"amount": 14_575}))
            .send();
        assert_eq!(paid.status, 200, "{}", paid.text);
        let d = s.req("GET", &get_path(&id(&plain))).bearer(&key).send().json["data"].clone();
        assert_eq!(d["state"], "PAID");

        // Void, and a draft (not yet submitted).
        let v = s.open(&invoice_body());
        assert_eq!(
            s.req("POST", &format!("/v1/invoices/{}/void", id(&v))).send().status,
            200
        );
        let d = s.req("GET", &get_path(&id(&v))).bearer(&key).send().json["data"].clone();
        assert_eq!(d["state"], "VOID");
        let draft = s.create(&invoice_body());
        let d = s.req("GET", &get_path(&id(&draft))).bearer(&key).send().json["data"].clone();
        assert_eq!(d["state"], "DRAFT");
        assert_eq!(d["uniqueCode"], id(&draft).as_str(), "no code, no number: its id");
        assert_eq!(d["invoiceNumber"], Value::Null, "a draft has no number yet");
        assert_eq!((&d["invoiceDate"], &d["submittedAt"]), (&Value::Null, &Value::Null));
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tms_errors_have_their_own_status_and_code() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let number = inv["number"].as_str().unwrap().to_string();
        let key = transporter(&s, "trp-1");
        let cancel = |key: &str, body: Value| cancel_req(&s, key, &body).send();
        let ok_body = json!({"invoiceId": number, "cancellationReason": "x"});

        // 401: no key, a wrong key.
        let r = s.anon("POST", CANCEL).json(&ok_body).send();
        assert_tms_error(&r, 401, "UNAUTHORIZED");
        assert!(r.header("www-authenticate").is_some());
        assert_tms_error(&cancel("sk_wrong", ok_body.clone()), 401, "UNAUTHORIZED");
        assert_tms_error(&s.anon("GET", &get_path(&number)).send(), 401, "UNAUTHORIZED");

        // 400: malformed JSON, a missing or unusable invoiceId.
        let r = s
            .req("POST", CANCEL)
            .bearer(&key)
            .raw("application/json", b"{\"invoiceId\": ")
            .send();
        assert_tms_error(&r, 400, "INVALID_REQUEST");
        let r = s.req("POST", CANCEL).bearer(&key).send();
        assert_tms_error(&r, 400, "INVALID_REQUEST");
        assert_tms_error(
            &cancel(&key, json!({"cancellationReason": "x"})),
            400,
            "INVALID_INVOICE_ID",
        );
        assert_tms_error(&cancel(&key, json!({"invoiceId": 42})), 400, "INVALID_INVOICE_ID");
        for bad in ["".to_string(), " ".to_string(), "x".repeat(101), "a\u{7}b".to_string()] {
            assert_tms_error(&cancel(&key, json!({"invoiceId": bad})), 400, "INVALID_INVOICE_ID");
        }
        assert_tms_error(
            &s.req("GET", &get_path(&"x".repeat(101))).bearer(&key).send(),
            400,
            "INVALID_INVOICE_ID",
        );

        // 400 too: an invalid reason is invalid data.
        assert_tms_error(
            &cancel(
                &key,
                json!({"invoiceId": number, "cancellationReason": "x".repeat(501)}),
            ),
            400,
            "VALIDATION_FAILED",
        );
        assert_tms_error(
            &cancel(&key, json!({"invoiceId": number, "cancellationReason": 7})),
            400,
            "VALIDATION_FAILED",
        );
        assert_tms_error(
            &cancel(&key, json!({"invoiceId": number, "cancelationReason": "typo"})),
            400,
            "VALIDATION_FAILED",
        );

        // 413 for an oversize body, still in the envelope.
        let huge = format!(
            r#"{{"invoiceId": "{number}", "cancellationReason": "{}"}}"#,
            "x".repeat(70_000)
        );
        let r = s
            .req("POST", CANCEL)
            .bearer(&key)
            .raw("application/json", huge.as_bytes())
            .send();
        assert_tms_error(&r, 413, "PAYLOAD_TOO_LARGE");

        // 403: another transporter, the customer's key, a missing scope.
        let other = transporter(&s, "trp-2");
        assert_tms_error(&cancel(&other, ok_body.clone()), 403, "INVOICE_NOT_OWNED");
        assert_tms_error(
            &s.req("GET", &get_path(&number)).bearer(&other).send(),
            403,
            "INVOICE_NOT_OWNED",
        );
        let customer = transporter(&s, "cust-1");
        assert_tms_error(&cancel(&customer, ok_body.clone()), 403, "INVOICE_NOT_OWNED");
        let reader = s.key_with("invoices:read", Some("trp-1"));
        assert_tms_error(&cancel(&reader, ok_body.clone()), 403, "FORBIDDEN");
        let canceller = s.key_with("invoices:cancel", Some("trp-1"));
        assert_tms_error(
            &s.req("GET", &get_path(&number)).bearer(&canceller).send(),
            403,
            "FORBIDDEN",
        );

        // 403: the host's first label or X-Tenant names another tenant.
        let (_, globex_key) = s.other_tenant("globex");
        let r = s
            .req("POST", CANCEL)
            .bearer(&key)
            .header("Host", "globex.stack.example")
            .json(&ok_body)
            .send();
        assert_tms_error(&r, 403, "TENANT_MISMATCH");
        let r = s
            .req("GET", &get_path(&number))
            .bearer(&key)
            .header("Host", "globex.stack.example:8443")
            .send();
        assert_tms_error(&r, 403, "TENANT_MISMATCH");
        assert_tms_error(
            &s.req("POST", CANCEL)
                .bearer(&key)
                .header("X-Tenant", "globex")
                .json(&ok_body)
                .send(),
            403,
            "TENANT_MISMATCH",
        );
        // A first label naming no tenant is ignored, as is an IP address.
        for host in ["localhost", "api.stack.example", "127.0.0.1:8080", "acme.stack.example"] {
            let r = s
                .req("GET", &get_path(&number))
                .bearer(&key)
                .header("Host", host)
                .send();
            assert_eq!(r.status, 200, "{host}: {}", r.text);
        }

        // 404: any well-formed code naming nothing, and another tenant's invoice.
        for unknown in ["INV-000099", "INV-20241201-001", "not-an-id", "42"] {
            assert_tms_error(&cancel(&key, json!({"invoiceId": unknown})), 404, "INVOICE_NOT_FOUND");
            assert_tms_error(
                &s.req("GET", &get_path(unknown)).bearer(&key).send(),
                404,
                "INVOICE_NOT_FOUND",
            );
        }
        let foreign = invoice_in(&s, &globex_key, true);
        assert_tms_error(
            &cancel(&s.key, json!({"invoiceId": id(&foreign)})),
            404,
            "INVOICE_NOT_FOUND",
        );
        assert_tms_error(&s.req("GET", &get_path(&id(&foreign))).send(), 404, "INVOICE_NOT_FOUND");

        // Nothing above changed the invoice.
        assert_eq!(v1_invoice(&s, &number)["version"], inv["version"]);

        // 403 for every refusal to cancel, each with its own code.
        assert_eq!(cancel(&key, ok_body.clone()).status, 200);
        assert_tms_error(&cancel(&key, ok_body.clone()), 403, "INVOICE_ALREADY_CANCELLED");
        let mut approval = invoice_body();
        approval["approval_levels"] = json!(1);
        let approved = s.open(&approval);
        assert_eq!(
            s.req("POST", &format!("/v1/invoices/{}/approve", id(&approved)))
                .send()
                .status,
            200
        );
        assert_tms_error(
            &cancel(&key, json!({"invoiceId": id(&approved)})),
            403,
            "INVOICE_APPROVED",
        );
        let part_paid = s.open(&invoice_body());
        let pay = s
            .req("POST", &format!("/v1/invoices/{}/payments", id(&part_paid)))
            .json(&json!({"amount": 100}))
            .send();
        assert_eq!(pay.status, 200, "{}", pay.text);
        assert_tms_error(
            &cancel(&key, json!({"invoiceId": id(&part_paid)})),
            403,
            "INVOICE_HAS_PAYMENTS",
        );
        let paid = s.open(&invoice_body());
        let pay = s
            .req("POST", &format!("/v1/invoices/{}/payments", id(&paid)))
            .json(&json!({"amount": paid["total"]}))
            .send();
        assert_eq!(pay.status, 200, "{}", pay.text);
        assert_tms_error(&cancel(&key, json!({"invoiceId": paid["number"]})), 403, "INVOICE_PAID");
        let void = s.open(&invoice_body());
        assert_eq!(
            s.req("POST", &format!("/v1/invoices/{}/void", id(&void))).send().status,
            200
        );
        assert_tms_error(
            &cancel(&key, json!({"invoiceId": id(&void)})),
            403,
            "INVOICE_ALREADY_VOID",
        );

        // Routes: another method, an unknown path under /tms.
        let other_method = s.req("GET", CANCEL).bearer(&key).send();
        assert_tms_error(&other_method, 405, "METHOD_NOT_ALLOWED");
        assert_eq!(other_method.header("allow"), Some("POST"));
        let other_method = s.req("DELETE", &get_path(&id(&part_paid))).bearer(&key).send();
        assert_tms_error(&other_method, 405, "METHOD_NOT_ALLOWED");
        assert_eq!(other_method.header("allow"), Some("GET"));
        assert_tms_error(&s.req("GET", "/tms/api/v1/nope").send(), 404, "ROUTE_NOT_FOUND");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tms_idempotency_keys_replay_in_the_tms_envelope() {
    for t in backends() {
        let s = TestServer::start(t);
        let [a, b]: [Value; 2] = open_n(&s, 2).try_into().unwrap();
        let send = |invoice: &Value| {
            s.req("POST", CANCEL)
                .header("Idempotency-Key", "tms-cancel-1")
                .json(&json!({"invoiceId": invoice["number"]}))
                .send()
        };
        let first = send(&a);
        assert_eq!(first.status, 200, "{}", first.text);
        let again = send(&a);
        assert_eq!((again.status, again.text.as_str()), (200, first.text.as_str()));
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_tms_error(&send(&b), 400, "IDEMPOTENCY_KEY_REUSED");
        assert_eq!(v1_invoice(&s, &id(&b))["status"], "open");
        assert_eq!(
            channels(&s, &id(&a)).iter().filter(|c| *c == "tms").count(),
            2,
            "one cancel, one credit note: the replay wrote nothing"
        );
    }
}
