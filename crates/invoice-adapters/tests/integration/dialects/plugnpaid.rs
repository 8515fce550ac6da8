//! The plug&paid accounting dialect.

use serde_json::{json, Value};

use super::*;
use crate::support::backends;

fn cancel_path(id: &str) -> String {
    format!("/v2/invoices/cancel/{id}")
}

/// Asserts the plug&paid error envelope.
fn assert_pnp_error(r: &Resp, status: u16, code: &str) {
    assert_json_reply(r);
    assert_eq!(r.status, status, "expected {status} {code}: {}", r.text);
    assert_keys(&r.json, &["status", "error"], "plug&paid error");
    assert_eq!(r.json["status"], status);
    assert_eq!(r.json["error"]["code"], code, "{}", r.text);
    assert!(!r.json["error"]["message"].as_str().unwrap().is_empty());
}

/// The documented request: POST with `Accept` and a Bearer token, no body.
fn documented(s: &TestServer, id: &str) -> Resp {
    s.anon("POST", &cancel_path(id))
        .header("Accept", "application/json")
        .header("Authorization", &format!("Bearer {}", s.key))
        .send()
}

/// The keys of the documented invoice object.
const INVOICE_KEYS: [&str; 31] = [
    "version",
    "id",
    "currency",
    "paid",
    "object",
    "type",
    "prefix",
    "number",
    "total",
    "payment",
    "date",
    "status",
    "subscription",
    "is_instalment",
    "merchant",
    "locale",
    "customer_information",
    "products",
    "discounts",
    "licenses",
    "start_date",
    "end_date",
    "totals",
    "taxes",
    "shipping",
    "affiliate_program",
    "affiliate_partner",
    "due_date",
    "refunds",
    "consents",
    "appendix",
];

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn plugnpaid_cancel_replays_the_documented_request() {
    for t in backends() {
        let s = TestServer::start(t);
        let mut body = invoice_body();
        body["due_date"] = json!("2022-12-31");
        let inv = s.open(&body);
        let uuid = id(&inv);
        let r = documented(&s, &uuid);
        assert_json_reply(&r);
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_keys(&r.json, &["status", "invoice"], "envelope");
        assert_eq!(r.json["status"], 200);
        let i = &r.json["invoice"];
        assert_keys(i, &INVOICE_KEYS, "invoice");
        let v1 = v1_invoice(&s, &uuid);
        assert_eq!(i["version"], v1["version"]);
        assert_eq!(i["id"], uuid.as_str());
        assert_eq!(i["currency"], "eur");
        assert_eq!(i["paid"], false);
        assert_eq!((&i["object"], &i["type"]), (&json!("invoice"), &json!("custom")));
        assert_eq!((&i["prefix"], &i["number"]), (&json!("INV"), &json!(1)));
        assert_eq!(i["status"], "cancelled");
        assert_eq!(
            i["date"],
            millis(&inv["issued_at"]) / 1000,
            "unix seconds of the issue date"
        );
        assert_eq!(i["due_date"], 1_672_444_800, "2022-12-31 at midnight UTC");
        assert_eq!((&i["subscription"], &i["is_instalment"]), (&Value::Null, &json!(false)));
        assert_eq!((&i["payment"], &i["refunds"]), (&Value::Null, &Value::Null));
        assert_eq!((&i["discounts"], &i["licenses"]), (&json!([]), &json!([])));

        let m = &i["merchant"];
        assert_keys(
            m,
            &[
                "address",
                "city",
                "country",
                "email",
                "name",
                "postcode",
                "state",
                "telephone",
                "vat",
            ],
            "merchant",
        );
        assert_eq!(m["name"], "Transporter Ltd");
        let c = &i["customer_information"];
        assert_keys(
            c,
            &[
                "billing_information",
                "country",
                "email",
                "id",
                "locale",
                "name",
                "shipping_information",
                "stripe_customer_id",
            ],
            "customer_information",
        );
        assert_eq!(
            (&c["id"], &c["name"], &c["email"]),
            (&json!("cust-1"), &json!("Customer GmbH"), &json!("ap@customer.example"))
        );
        let bi = &c["billing_information"];
        assert_keys(
            bi,
            &[
                "address",
                "city",
                "country",
                "email",
                "id",
                "ip",
                "is_company",
                "locale",
                "name",
                "object",
                "phone",
                "postcode",
                "representative",
                "shipping_address",
                "state",
            ],
            "billing_information",
        );
        assert_eq!((&bi["object"], &bi["is_company"]), (&json!("address"), &json!(true)));

        // Every line is listed; after a full cancel they are all cancelled.
        let products = i["products"].as_array().unwrap();
        assert_eq!(products.len(), 2);
        let p = &products[0];
        assert_has_keys(
            p,
            &[
                "classification",
                "currency",
                "discount_allowed",
                "discounts",
                "ean",
                "has_shipping",
                "id",
                "is_moss_product",
                "is_variant",
                "name",
                "pack",
                "quantity",
                "reservations",
                "sku",
                "taxes",
                "totals",
                "type",
                "variation_id",
            ],
            "product",
        );
        assert_eq!(
            (&p["id"], &p["name"], &p["quantity"]),
            (&json!("a"), &json!("Freight"), &json!(1))
        );
        assert_eq!(p["invoice_item_id"], v1["lines"][0]["id"]);
        assert_eq!(p["status"], "cancelled");
        assert_eq!(p["taxes"]["tax_rates"][0]["rate_percent"], 19);
        assert_eq!(p["taxes"]["tax_rates"][0]["tax"], 1_900);
        assert_eq!(
            (
                &p["totals"]["unit_price"],
                &p["totals"]["subtotal"],
                &p["totals"]["tax"],
                &p["totals"]["total"]
            ),
            (&json!(10_000), &json!(10_000), &json!(1_900), &json!(11_900))
        );
        assert_eq!(products[1]["is_variant"], true);
        assert_eq!(products[1]["variation_id"], "b-1");

        let totals = &i["totals"];
        assert_has_keys(
            totals,
            &[
                "discount",
                "item_count",
                "item_total",
                "item_total_with_tax",
                "moss_tax_total",
                "moss_taxable_amount",
                "price_conversion",
                "shipping",
                "shipping_discount",
                "shipping_subtotal",
                "shipping_tax",
                "shipping_total",
                "subtotal",
                "tax",
                "total",
                "trial_deductions",
                "gateway_fees",
                "affiliate_revenue",
                "amount_due",
                "refunded_total",
            ],
            "totals",
        );
        assert_eq!(
            (&totals["total"], &totals["amount_due"], &totals["item_count"]),
            (&v1["total"], &json!(0), &json!(2)),
            "the invoice as issued, nothing due"
        );
        assert_eq!(i["total"], v1["total"]);
        assert_keys(&i["taxes"], &["has_vat", "shipping_tax_rates", "tax_rates"], "taxes");
        assert_keys(
            &i["shipping"],
            &["method", "tracking", "has_shipping", "shipped"],
            "shipping",
        );

        // The whole invoice is cancelled, collection halted, audited as plugnpaid.
        assert_eq!(v1["status"], "cancelled");
        assert_eq!(v1["collection"]["halted"], true);
        assert_eq!(v1["cancellation"]["channel"], "plugnpaid");
        assert_eq!(channels(&s, &uuid), ["v1", "v1", "plugnpaid", "plugnpaid"]);

        // An open invoice reads as `new` with its totals and grouped tax rates.
        let open = s.open(&invoice_body());
        let r = s
            .req("POST", &cancel_path(&id(&open)))
            .json(&json!({"products": [{"id": "a"}]}))
            .send();
        assert_eq!(r.status, 200, "{}", r.text);
        let i = &r.json["invoice"];
        assert_eq!(i["status"], "new");
        assert_eq!(
            (&i["total"], &i["totals"]["amount_due"], &i["totals"]["item_count"]),
            (&json!(14_575), &json!(2_675), &json!(2)),
            "the invoice as issued, with what is left to pay"
        );
        assert_eq!(i["products"][0]["status"], "cancelled");
        assert_eq!(
            i["taxes"]["tax_rates"],
            json!([{"applies_to": ["b"], "id": null, "inclusive": false, "jurisdiction": null, "label": null,
                    "moss": false, "rate_amount": null, "rate_percent": 7, "tax": 175, "vat_tax": true},
                   {"applies_to": ["a"], "id": null, "inclusive": false, "jurisdiction": null, "label": null,
                    "moss": false, "rate_amount": null, "rate_percent": 19, "tax": 1_900, "vat_tax": true}])
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn plugnpaid_partial_cancel_changes_the_totals_exactly_as_v1() {
    for t in backends() {
        let s = TestServer::start(t);
        let compare = [
            "subtotal",
            "tax",
            "total",
            "amount_paid",
            "amount_due",
            "amount_credited",
            "status",
        ];
        // Each way of naming the toll line, against a /v1 cancel of a twin invoice.
        for item in ["id", "invoice_item_id", "variation_id"] {
            let [twin, ours]: [Value; 2] = open_n(&s, 2).try_into().unwrap();
            for inv in [&twin, &ours] {
                let paid = s
                    .req("POST", &format!("/v1/invoices/{}/payments", id(inv)))
                    .json(&json!({"amount": 5_000}))
                    .send();
                assert_eq!(paid.status, 200, "{}", paid.text);
            }
            let v1 = s
                .req("POST", &format!("/v1/invoices/{}/cancel", id(&twin)))
                .json(&json!({"reason": "x", "lines": [{"product_id": "b"}]}))
                .send();
            assert_eq!(v1.status, 200, "{}", v1.text);
            let reference = match item {
                "id" => json!({"id": "b"}),
                "variation_id" => json!({"variation_id": "b-1"}),
                _ => json!({"invoice_item_id": ours["lines"][1]["id"]}),
            };
            let r = s
                .req("POST", &cancel_path(&id(&ours)))
                .json(&json!({"products": [reference]}))
                .send();
            assert_eq!(r.status, 200, "{item}: {}", r.text);
            let after = v1_invoice(&s, &id(&ours));
            for k in compare {
                assert!(!after[k].is_null(), "{item}: {k} is present");
                assert_eq!(after[k], v1.json[k], "{item}: {k}");
            }
            assert_eq!(after["amount_due"], 11_900 - 5_000);
            assert_eq!(after["lines"][1]["status"], "cancelled");
            assert_eq!(after["credit_notes"][0]["total"], v1.json["credit_notes"][0]["total"]);
            let i = &r.json["invoice"];
            assert_eq!(i["total"], v1.json["total"]);
            assert_eq!(i["totals"]["subtotal"], v1.json["subtotal"]);
            assert_eq!(i["totals"]["tax"], v1.json["tax"]);
            assert_eq!(i["totals"]["amount_due"], v1.json["amount_due"]);
            assert_eq!(i["status"], "partially_paid");
            assert_eq!(i["products"][1]["status"], "cancelled");
            assert_eq!(channels(&s, &id(&ours)).last().map(String::as_str), Some("plugnpaid"));
        }
        // An empty list cancels the whole invoice.
        let whole = s.open(&invoice_body());
        let r = s
            .req("POST", &cancel_path(&id(&whole)))
            .json(&json!({"products": []}))
            .send();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["invoice"]["status"], "cancelled");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn plugnpaid_errors_use_its_envelope() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let path = cancel_path(&id(&inv));
        let post = |body: &[u8]| s.req("POST", &path).raw("application/json", body).send();

        assert_pnp_error(&s.anon("POST", &path).send(), 401, "unauthorized");
        assert_pnp_error(&s.anon("POST", &path).bearer("sk_nope").send(), 401, "unauthorized");
        let reader = s.key_with("invoices:read", None);
        assert_pnp_error(&s.req("POST", &path).bearer(&reader).send(), 403, "insufficient_scope");
        let stranger = s.key_with("invoices:cancel", Some("someone-else"));
        assert_pnp_error(&s.req("POST", &path).bearer(&stranger).send(), 403, "invoice_not_owned");

        assert_pnp_error(&s.req("POST", &cancel_path("52")).send(), 400, "invalid_invoice_id");
        assert_pnp_error(
            &s.req("POST", &cancel_path("INV-000001")).send(),
            400,
            "invalid_invoice_id",
        );
        assert_pnp_error(
            &s.req("POST", &cancel_path("0193b3a0-0000-7000-8000-000000000000"))
                .send(),
            404,
            "invoice_not_found",
        );
        let (_, globex) = s.other_tenant("globex");
        let foreign = invoice_in(&s, &globex, true);
        assert_pnp_error(
            &s.req("POST", &cancel_path(&id(&foreign))).send(),
            404,
            "invoice_not_found",
        );

        assert_pnp_error(&post(b"{\"products\": ["), 400, "malformed_json");
        let r = post(br#"{"products": "all"}"#);
        assert_pnp_error(&r, 422, "validation_failed");
        assert_eq!(r.json["error"]["errors"][0]["field"], "products");
        let r = post(br#"{"products": [{"id": "a", "variation_id": "b-1"}]}"#);
        assert_pnp_error(&r, 422, "validation_failed");
        assert_eq!(r.json["error"]["errors"][0]["field"], "products[0]");
        let r = post(br#"{"products": [{"invoice_item_id": "nope"}]}"#);
        assert_pnp_error(&r, 422, "validation_failed");
        assert_eq!(r.json["error"]["errors"][0]["field"], "products[0].invoice_item_id");
        assert_pnp_error(&post(br#"{"products": [{}]}"#), 422, "validation_failed");
        let huge = format!(r#"{{"products": [{{"id": "{}"}}]}}"#, "x".repeat(70_000));
        assert_pnp_error(&post(huge.as_bytes()), 413, "payload_too_large");
        // A misspelt key is refused rather than read as "cancel everything".
        let r = post(br#"{"product": [{"id": "a"}]}"#);
        assert_pnp_error(&r, 422, "validation_failed");
        assert_eq!(r.json["error"]["errors"][0]["field"], "product");
        assert_pnp_error(&post(br#"{"products": [{"sku": "a"}]}"#), 422, "validation_failed");

        assert_pnp_error(&post(br#"{"products": [{"id": "zzz"}]}"#), 409, "line_not_found");
        assert_eq!(v1_invoice(&s, &id(&inv))["version"], inv["version"], "nothing changed");
        assert_eq!(post(br#"{"products": [{"id": "a"}]}"#).status, 200);
        assert_pnp_error(&post(br#"{"products": [{"id": "a"}]}"#), 409, "line_already_cancelled");
        assert_eq!(post(b"").status, 200);
        assert_pnp_error(&post(b""), 409, "invoice_already_cancelled");

        let r = s.req("POST", &path).header("Idempotency-Key", "").send();
        assert_pnp_error(&r, 400, "invalid_idempotency_key");
        let other_method = s.req("GET", &path).send();
        assert_pnp_error(&other_method, 405, "method_not_allowed");
        assert_eq!(other_method.header("allow"), Some("POST"));
        assert_pnp_error(&s.req("GET", "/v2/nope").send(), 404, "route_not_found");
    }
}
