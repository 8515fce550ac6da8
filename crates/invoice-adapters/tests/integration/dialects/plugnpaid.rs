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

/// An amount in minor units as plug&paid writes it: major units, exact,
/// without trailing zeros (`14575` → `145.75`, `11900` → `119`).
fn major(minor: &Value) -> String {
    let cents = minor.as_u64().expect("minor units");
    let text = format!("{}.{:02}", cents / 100, cents % 100);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The fields of the documented object this invoice has no value for, so
/// they are `null` (see docs/dialects.md): no payment yet, no address ids,
/// no Stripe customer, no product classification, no carrier.
const REALLY_ABSENT: [&str; 6] = [
    "invoice.payment",
    "invoice.customer_information.billing_information.id",
    "invoice.customer_information.shipping_information.id",
    "invoice.customer_information.stripe_customer_id",
    "invoice.products[].classification",
    "invoice.shipping.method",
];

/// An invoice like the document's: a merchant with its address, a customer
/// with billing and shipping addresses and a language, a taxed painting and
/// its shipping, and the three lines the documented request names.
fn documented_invoice_body() -> Value {
    json!({
        "currency": "EUR",
        "issuer": {"id": "merchant-1", "name": "Superstaff Ltd", "email": "super@merchant.example",
            "tax_number": "DE811907980", "phone": "+49123456789",
            "address": {"street": "Super Street", "city": "Frankfurt", "postcode": "60311", "country": "DE"}},
        "customer": {"id": "cust-9", "name": "John Doe Ltd", "email": "awesome@example.com", "locale": "en",
            "phone": "+123456678",
            "address": {"street": "Awesome Street", "city": "Frankfurt", "postcode": "60313", "country": "DE"},
            "shipping_address": {"street": "Shipping Street", "city": "Frankfurt", "postcode": "123456", "country": "DE"}},
        "lines": [
            {"product_id": "painting-1", "description": "Big painting", "quantity": 1, "unit_amount": 10000,
             "tax_rate": "19", "tax_inclusive": true, "kind": "physical"},
            {"product_id": "frame-1", "description": "Frame", "quantity": 1, "unit_amount": 2500, "tax_rate": "19", "kind": "physical"},
            {"product_id": "print-1", "variation_id": "print-1-a4", "description": "Print, A4", "quantity": 2,
             "unit_amount": 1500, "tax_rate": "19", "kind": "physical"},
            {"product_id": "shipping", "description": "Shipping", "quantity": 1, "unit_amount": 1000, "tax_rate": "19", "kind": "shipping"}
        ]
    })
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn plugnpaid_cancel_replays_the_documented_request() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&documented_invoice_body());
        let uuid = id(&inv);
        // The documented body names one item by product id, one by invoice
        // item id and one by variation id: here, the ids of this invoice.
        let mut request = documented_example("plugnpaid-cancel-invoice.request.json")
            .unwrap_or_else(|| json!({"products": [{"id": ""}, {"invoice_item_id": ""}, {"variation_id": ""}]}));
        request["products"][0]["id"] = json!("frame-1");
        request["products"][1]["invoice_item_id"] = inv["lines"][0]["id"].clone();
        request["products"][2]["variation_id"] = json!("print-1-a4");
        let r = s
            .anon("POST", &cancel_path(&uuid))
            .header("Accept", "application/json")
            .header("Authorization", &format!("Bearer {}", s.key))
            .json(&request)
            .send();
        assert_json_reply(&r);
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        if let Some(doc) = documented_example("plugnpaid-cancel-invoice.200.json") {
            assert_documented_shape(&r.json, &doc, &REALLY_ABSENT);
        }
        assert_keys(&r.json, &["status", "invoice"], "envelope");
        assert_eq!(r.json["status"], 200);
        let i = &r.json["invoice"];
        assert_keys(i, &INVOICE_KEYS, "invoice");
        let v1 = v1_invoice(&s, &uuid);

        // The three named lines are cancelled with one credit note; the
        // shipping stays, and so the invoice stays open.
        let statuses: Vec<&str> = v1["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["cancelled", "cancelled", "cancelled", "active"]);
        assert_eq!(v1["credit_notes"].as_array().unwrap().len(), 1);
        assert_eq!(v1["status"], "open");
        assert_eq!(i["status"], "new");

        // Amounts in euros, exactly; the total as issued, what is left due.
        assert_eq!(i["total"].to_string(), major(&v1["total"]));
        assert_eq!(
            i["total"].to_string(),
            "177.35",
            "100 + 29.75 + 35.70 + 11.90 (written {})",
            r.text
        );
        assert!(
            r.text.contains("\"total\":177.35,"),
            "written exactly as a number: {}",
            r.text
        );
        assert_eq!(i["totals"]["amount_due"].to_string(), major(&v1["amount_due"]));
        assert_eq!(i["totals"]["amount_due"].to_string(), "11.9");
        assert_eq!(i["totals"]["credited_total"].to_string(), major(&v1["amount_credited"]));
        assert_eq!(i["totals"]["shipping"].to_string(), "10");
        assert_eq!(i["totals"]["shipping_total"].to_string(), "11.9");
        assert_eq!(i["totals"]["item_count"], 4);
        assert_eq!(i["shipping"]["has_shipping"], true);
        assert_eq!(i["taxes"]["shipping_tax_rates"][0]["applies_to"], json!(["shipping"]));
        assert_eq!(i["taxes"]["shipping_tax_rates"][0]["tax"].to_string(), "1.9");

        // Objects filled from the parties.
        assert_eq!(
            i["merchant"],
            json!({"address": "Super Street", "city": "Frankfurt", "country": "DE", "email": "super@merchant.example",
                   "name": "Superstaff Ltd", "postcode": "60311", "state": null, "telephone": "+49123456789",
                   "vat": "DE811907980"})
        );
        let c = &i["customer_information"];
        assert_eq!(
            (&c["id"], &c["name"], &c["locale"], &c["country"]),
            (&json!("cust-9"), &json!("John Doe Ltd"), &json!("en"), &json!("DE"))
        );
        assert_eq!(c["billing_information"]["address"], "Awesome Street");
        assert_eq!(c["billing_information"]["shipping_address"], false);
        assert_eq!(c["shipping_information"]["address"], "Shipping Street");
        assert_eq!(c["shipping_information"]["postcode"], "123456");
        assert_eq!(c["shipping_information"]["shipping_address"], true);
        assert_eq!(i["locale"], "en");
        let p = &i["products"][0];
        assert_eq!(
            (&p["type"], &p["name"], &p["currency"]),
            (&json!("physical_product"), &json!("Big painting"), &json!("EUR"))
        );
        assert_eq!(p["invoice_item_id"], v1["lines"][0]["id"]);
        assert_eq!(p["totals"]["item_total"].to_string(), "100", "as entered, tax included");
        assert_eq!(p["totals"]["tax"].to_string(), "15.97");
        assert_eq!(p["taxes"]["tax_rates"][0]["jurisdiction"], "DE");
        assert_eq!(p["taxes"]["tax_rates"][0]["rate_percent"], 19);
        assert_eq!(i["products"][3]["type"], "shipping");
        assert_eq!((&i["prefix"], &i["number"]), (&json!("INV"), &json!(1)));
        assert_eq!(
            i["date"],
            millis(&inv["issued_at"]) / 1000,
            "unix seconds of the issue date"
        );
        assert_eq!(i["version"], v1["version"]);
        assert_eq!(
            v1["cancellation"],
            Value::Null,
            "a partial cancel is a credit, not a cancellation"
        );
        assert_eq!(channels(&s, &uuid), ["v1", "v1", "plugnpaid", "plugnpaid"]);

        // With no body the whole invoice is cancelled and collection halts;
        // the total stays as issued.
        let whole = s.open(&invoice_body());
        let r = s
            .anon("POST", &cancel_path(&id(&whole)))
            .header("Accept", "application/json")
            .header("Authorization", &format!("Bearer {}", s.key))
            .send();
        assert_eq!(r.status, 200, "{}", r.text);
        let i = &r.json["invoice"];
        assert_eq!((&i["status"], &i["paid"]), (&json!("cancelled"), &json!(false)));
        assert_eq!(i["total"].to_string(), "145.75");
        assert_eq!(i["totals"]["amount_due"].to_string(), "0");
        assert_eq!(i["totals"]["credited_total"].to_string(), "145.75");
        assert_eq!(i["products"][0]["status"], "cancelled");
        let v1 = v1_invoice(&s, &id(&whole));
        assert_eq!(
            (&v1["status"], &v1["collection"]["halted"]),
            (&json!("cancelled"), &json!(true))
        );
        assert_eq!(
            i["taxes"]["tax_rates"],
            json!([{"applies_to": ["b"], "id": null, "inclusive": false, "jurisdiction": null, "label": "VAT 7%",
                    "moss": false, "rate_amount": null, "rate_percent": 7, "tax": 1.75, "vat_tax": true},
                   {"applies_to": ["a"], "id": null, "inclusive": false, "jurisdiction": null, "label": "VAT 19%",
                    "moss": false, "rate_amount": null, "rate_percent": 19, "tax": 19, "vat_tax": true}])
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
            assert_eq!(i["total"].to_string(), major(&v1.json["total"]));
            assert_eq!(i["totals"]["subtotal"].to_string(), major(&v1.json["subtotal"]));
            assert_eq!(i["totals"]["tax"].to_string(), major(&v1.json["tax"]));
            assert_eq!(i["totals"]["amount_due"].to_string(), major(&v1.json["amount_due"]));
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

        assert_pnp_error(
            &s.req("POST", &cancel_path(&"x".repeat(101))).send(),
            400,
            "invalid_invoice_id",
        );
        assert_pnp_error(&s.req("POST", &cancel_path("a%07b")).send(), 400, "invalid_invoice_id");
        assert_pnp_error(&s.req("POST", &cancel_path("52")).send(), 404, "invoice_not_found");
        assert_pnp_error(
            &s.req("POST", &cancel_path("INV-000099")).send(),
            404,
            "invoice_not_found",
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
