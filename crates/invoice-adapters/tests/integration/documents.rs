//! Issued invoices as immutable documents, over real HTTP on both backends:
//! the money fields, drafts that are not documents yet, zero totals,
//! write-offs, tax categories and the VAT breakdown, and money input that
//! the API refuses before it reaches the rules.

use serde_json::{json, Value};

use crate::http_support::*;
use crate::support::backends;

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn money(v: &Value) -> [i64; 7] {
    [
        "subtotal",
        "tax",
        "total",
        "amount_credited",
        "amount_paid",
        "amount_refunded",
        "amount_due",
    ]
    .map(|k| v[k].as_i64().unwrap_or_else(|| panic!("{k} missing in {v}")))
}

fn event_types(s: &TestServer, id: &str) -> Vec<String> {
    s.req("GET", &format!("/v1/invoices/{id}/events")).send().json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

fn post(s: &TestServer, path: &str, body: Value) -> Resp {
    s.req("POST", path).json(&body).send()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn an_issued_invoice_never_changes_and_credit_notes_carry_every_correction() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}", id(&inv));
        assert_eq!(money(&inv), [12_500, 2_075, 14_575, 0, 0, 0, 14_575]);
        let paid = post(&s, &format!("{path}/payments"), json!({"amount": 4_000}));
        assert_eq!(paid.status, 200, "{}", paid.text);
        let refunded = post(
            &s,
            &format!(
                "{path}/payments/{}/refunds",
                paid.json["payments"][0]["id"].as_str().unwrap()
            ),
            json!({"amount": 1_000}),
        );
        assert_eq!(money(&refunded.json), [12_500, 2_075, 14_575, 0, 3_000, 1_000, 11_575]);
        let partial = post(
            &s,
            &format!("{path}/cancel"),
            json!({"reason": "toll", "lines": [{"product_id": "b"}]}),
        );
        assert_eq!(partial.status, 200, "{}", partial.text);
        assert_eq!(
            money(&partial.json),
            [12_500, 2_075, 14_575, 2_675, 3_000, 1_000, 8_900],
            "{}: due = total − credited − net paid",
            s.backend
        );
        for key in ["lines", "tax_breakdown", "customer", "issuer", "number", "issued_at"] {
            if key != "lines" {
                assert_eq!(partial.json[key], inv[key], "{}: {key} is frozen", s.backend);
            }
        }
        for (before, after) in inv["lines"]
            .as_array()
            .unwrap()
            .iter()
            .zip(partial.json["lines"].as_array().unwrap())
        {
            for key in [
                "id",
                "description",
                "quantity",
                "unit_amount",
                "tax_rate",
                "net_amount",
                "tax_amount",
                "total_amount",
            ] {
                assert_eq!(before[key], after[key], "{}: line {key} is frozen", s.backend);
            }
        }
        // The credit note is a document of its own, with its own breakdown.
        let cn = &partial.json["credit_notes"][0];
        let note = s
            .req("GET", &format!("/v1/credit-notes/{}", cn["id"].as_str().unwrap()))
            .send();
        assert_eq!(note.status, 200);
        assert_eq!(note.json["invoice_number"], inv["number"]);
        assert_eq!(note.json["invoice_issued_at"], inv["issued_at"]);
        assert_eq!(
            note.json["tax_breakdown"],
            json!([{"category": "S", "rate": "7", "taxable_amount": 2_500, "tax_amount": 175,
                    "exemption_reason_code": null, "exemption_reason": null}])
        );
        assert_eq!(
            (note.json["subtotal"].as_i64(), note.json["total"].as_i64()),
            (Some(2_500), Some(2_675))
        );
        // Refund the rest and cancel the whole: the total stays, all of it credited.
        let back = post(
            &s,
            &format!(
                "{path}/payments/{}/refunds",
                paid.json["payments"][0]["id"].as_str().unwrap()
            ),
            json!({"amount": 3_000}),
        );
        assert_eq!(back.status, 200);
        let full = post(&s, &format!("{path}/cancel"), json!({"reason": "duplicate"}));
        assert_eq!(full.status, 200, "{}", full.text);
        assert_eq!(full.json["status"], "cancelled");
        assert_eq!(money(&full.json), [12_500, 2_075, 14_575, 14_575, 0, 4_000, 0]);
        assert_eq!(full.json["credit_notes"].as_array().unwrap().len(), 2);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_draft_is_not_a_document_its_cancelled_lines_simply_go() {
    for t in backends() {
        let s = TestServer::start(t);
        let draft = s.create(&invoice_body());
        let path = format!("/v1/invoices/{}", id(&draft));
        let r = post(
            &s,
            &format!("{path}/cancel"),
            json!({"reason": "not shipped", "lines": [{"product_id": "a"}]}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["status"], "draft");
        assert_eq!(r.json["lines"].as_array().unwrap().len(), 1, "{}", s.backend);
        assert_eq!(money(&r.json), [2_500, 175, 2_675, 0, 0, 0, 2_675]);
        assert_eq!(r.json["credit_notes"], json!([]));
        let issued = post(&s, &format!("{path}/finalize"), json!({}));
        assert_eq!(issued.status, 200);
        assert_eq!(
            money(&issued.json),
            [2_500, 175, 2_675, 0, 0, 0, 2_675],
            "only the active line is issued"
        );
        assert_eq!(
            event_types(&s, &id(&draft)),
            ["invoice.created", "invoice.lines_removed", "invoice.finalized"]
        );
        // A discarded draft was never issued: it reads as drafted, owes nothing.
        let other = s.create(&invoice_body());
        let gone = post(
            &s,
            &format!("/v1/invoices/{}/cancel", id(&other)),
            json!({"reason": "duplicate"}),
        );
        assert_eq!(gone.json["status"], "cancelled");
        assert_eq!(gone.json["number"], Value::Null);
        assert_eq!(money(&gone.json), [12_500, 2_075, 14_575, 0, 0, 0, 0]);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn nothing_due_means_paid_at_finalize_or_after_a_credit() {
    for t in backends() {
        let s = TestServer::start(t);
        let mut free = invoice_body();
        free["lines"] = json!([{"description": "Free sample", "quantity": 1, "unit_amount": 0, "tax_rate": "19"}]);
        let zero = s.open(&free);
        assert_eq!(zero["status"], "paid", "{}", s.backend);
        assert!(zero["paid_at"].is_string());
        assert_eq!(
            event_types(&s, &id(&zero)),
            ["invoice.created", "invoice.finalized", "invoice.paid"]
        );
        assert_eq!(
            post(
                &s,
                &format!("/v1/invoices/{}/payments", id(&zero)),
                json!({"amount": 1})
            )
            .code(),
            "invoice_paid"
        );
        // Crediting the only priced line leaves a free line active and nothing due.
        let mut body = invoice_body();
        body["lines"][1]["unit_amount"] = json!(0);
        let inv = s.open(&body);
        let r = post(
            &s,
            &format!("/v1/invoices/{}/cancel", id(&inv)),
            json!({"reason": "x", "lines": [{"product_id": "a"}]}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["status"], "paid");
        assert_eq!(r.json["lines"][1]["status"], "active");
        assert!(event_types(&s, &id(&inv)).contains(&"invoice.paid".to_string()));
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn uncollectible_halts_collection_and_can_still_be_paid() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let path = format!("/v1/invoices/{}/mark-uncollectible", id(&inv));
        let reader = s.key_with("invoices:read", None);
        let denied = s.req("POST", &path).bearer(&reader).send();
        assert_eq!((denied.status, denied.code()), (403, "insufficient_scope"));
        let r = post(
            &s,
            &path,
            json!({"reason": "Customer insolvent", "reason_code": "other"}),
        );
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_eq!(r.json["status"], "uncollectible");
        assert_eq!(r.json["collection"]["halted"], true);
        assert_eq!(r.json["collection"]["next_payment_attempt"], Value::Null);
        assert_eq!(r.json["uncollectible"]["reason"], "Customer insolvent");
        assert_eq!(r.json["amount_due"], 14_575, "nothing is forgiven");
        let again = s.req("POST", &path).send();
        assert_eq!((again.status, again.code()), (409, "invoice_already_uncollectible"));
        let draft = s.create(&invoice_body());
        let on_draft = s
            .req("POST", &format!("/v1/invoices/{}/mark-uncollectible", id(&draft)))
            .send();
        assert_eq!((on_draft.status, on_draft.code()), (409, "invoice_not_open"));
        // Listing by the new status works.
        let listed = s.req("GET", "/v1/invoices?status=uncollectible").send();
        assert_eq!(listed.status, 200, "{}", listed.text);
        assert_eq!(listed.json["data"].as_array().unwrap().len(), 1);
        let paid = post(
            &s,
            &format!("/v1/invoices/{}/payments", id(&inv)),
            json!({"amount": 14_575}),
        );
        assert_eq!(paid.json["status"], "paid", "{}", paid.text);
        assert_eq!(
            event_types(&s, &id(&inv))[2..],
            [
                "invoice.marked_uncollectible",
                "invoice.payment_recorded",
                "invoice.paid"
            ]
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn lines_carry_tax_categories_and_the_document_its_vat_breakdown() {
    for t in backends() {
        let s = TestServer::start(t);
        let mut body = invoice_body();
        body["lines"] = json!([
            {"product_id": "a", "description": "Freight", "quantity": 1, "unit_amount": 10_000, "tax_rate": "19"},
            {"product_id": "b", "description": "Books", "quantity": 3, "unit_amount": 1_000, "tax_rate": "7"},
            {"product_id": "c", "description": "Cross-border", "quantity": 1, "unit_amount": 5_000, "tax_rate": "0",
             "tax_category": "AE", "exemption_reason_code": "VATEX-EU-AE", "exemption_reason": "Reverse charge"},
            {"product_id": "d", "description": "Samples", "quantity": 1, "unit_amount": 400, "tax_rate": "0"},
            {"product_id": "e", "description": "Inclusive", "quantity": 1, "unit_amount": 1_190, "tax_rate": "19", "tax_inclusive": true}
        ]);
        let inv = s.open(&body);
        assert_eq!(inv["lines"][2]["tax_category"], "AE");
        assert_eq!(inv["lines"][3]["tax_category"], "Z", "zero rate defaults to Z");
        assert_eq!(inv["lines"][0]["tax_category"], "S");
        let breakdown = inv["tax_breakdown"].as_array().unwrap();
        let taxable: i64 = breakdown.iter().map(|b| b["taxable_amount"].as_i64().unwrap()).sum();
        let tax: i64 = breakdown.iter().map(|b| b["tax_amount"].as_i64().unwrap()).sum();
        assert_eq!(
            (taxable, tax),
            (inv["subtotal"].as_i64().unwrap(), inv["tax"].as_i64().unwrap())
        );
        let ae = breakdown.iter().find(|b| b["category"] == "AE").unwrap();
        assert_eq!(
            (ae["taxable_amount"].as_i64(), ae["exemption_reason_code"].as_str()),
            (Some(5_000), Some("VATEX-EU-AE"))
        );
        let s19 = breakdown
            .iter()
            .find(|b| b["category"] == "S" && b["rate"] == "19")
            .unwrap();
        assert_eq!(
            (s19["taxable_amount"].as_i64(), s19["tax_amount"].as_i64()),
            (Some(11_000), Some(2_090))
        );

        // Refused combinations: clear 422s naming the field, nothing created.
        for (line, field) in [
            (
                json!({"description": "x", "quantity": 1, "unit_amount": 1, "tax_rate": "0", "tax_category": "E"}),
                "lines[0].exemption_reason",
            ),
            (
                json!({"description": "x", "quantity": 1, "unit_amount": 1, "tax_rate": "0", "tax_category": "S"}),
                "lines[0].tax_category",
            ),
            (
                json!({"description": "x", "quantity": 1, "unit_amount": 1, "tax_rate": "7", "tax_category": "Z"}),
                "lines[0].tax_rate",
            ),
            (
                json!({"description": "x", "quantity": 1, "unit_amount": 1, "tax_rate": "19", "exemption_reason": "why"}),
                "lines[0].exemption_reason",
            ),
        ] {
            let mut bad = invoice_body();
            bad["lines"] = json!([line]);
            let r = post(&s, "/v1/invoices", bad);
            assert_eq!(
                (r.status, r.code()),
                (422, "validation_failed"),
                "{}: {}",
                s.backend,
                r.text
            );
            assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
        }
        let unknown = {
            let mut bad = invoice_body();
            bad["lines"][0]["tax_category"] = json!("X");
            post(&s, "/v1/invoices", bad)
        };
        assert_eq!(unknown.status, 422, "{}", unknown.text);
        assert_eq!(
            s.req("GET", "/v1/invoices").send().json["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn money_that_cannot_exist_is_refused_with_a_clear_error_never_a_500() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let pay = format!("/v1/invoices/{}/payments", id(&inv));
        for amount in [json!(0), json!(-500), json!(1_000_000_000_000_001_i64), json!(i64::MAX)] {
            let r = post(&s, &pay, json!({"amount": amount}));
            assert_eq!(r.status, 422, "{}: amount {amount}: {}", s.backend, r.text);
        }
        let big = |q: i64, u: i64| {
            let mut body = invoice_body();
            body["lines"] = json!([{"description": "x", "quantity": q, "unit_amount": u, "tax_rate": "19"}]);
            post(&s, "/v1/invoices", body)
        };
        let overflow = big(1_000_000, 1_000_000_000_000_000);
        assert_eq!(
            (overflow.status, overflow.code()),
            (422, "validation_failed"),
            "{}",
            overflow.text
        );
        assert_eq!(overflow.json["errors"][0]["field"], "lines[0].unit_amount");
        // Each line fits, their sum does not: the document total is bounded too.
        let mut two = invoice_body();
        let line = json!({"description": "x", "quantity": 1, "unit_amount": 800_000_000_000_000_i64, "tax_rate": "0"});
        two["lines"] = json!([line.clone(), line]);
        let r = post(&s, "/v1/invoices", two);
        assert_eq!((r.status, r.code()), (422, "validation_failed"), "{}", r.text);
        assert_eq!(r.json["errors"][0]["field"], "lines");
        let unchanged = s.req("GET", &format!("/v1/invoices/{}", id(&inv))).send();
        assert_eq!(unchanged.json["amount_paid"], 0);
        assert_eq!(
            s.req("GET", "/v1/invoices").send().json["data"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
