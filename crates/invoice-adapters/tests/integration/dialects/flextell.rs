//! The Flextell e-invoicing dialect.

use serde_json::{json, Value};

use super::*;
use crate::support::backends;

fn cancel_path(id: &str) -> String {
    format!("/api/v1/invoices/{id}/cancel")
}

/// The documented request: Bearer, JSON, `X-Tenant` and the documented
/// body `{"id": n}` with the invoice's integer id.
fn documented(s: &TestServer, tenant: &str, id: i64) -> Req {
    let mut body = documented_example("flextell-cancel-invoice.request.json").unwrap_or_else(|| json!({"id": 0}));
    body["id"] = json!(id);
    s.req("POST", &cancel_path(&id.to_string()))
        .header("X-Tenant", tenant)
        .json(&body)
}

/// What the reply's `null`s are: fields that name records of Flextell's own
/// database (user, city, avatar…) that an invoice here has no counterpart of.
const FLEXTELL_ONLY: [&str; 21] = [
    "data.invoice.customer.id",
    "data.invoice.customer.date_of_birth",
    "data.invoice.customer.country_id",
    "data.invoice.customer.job",
    "data.invoice.customer.deleted_at",
    "data.invoice.customer.created_at",
    "data.invoice.customer.updated_at",
    "data.invoice.customer.avatar_url",
    "data.invoice.customer.avatar_updated_at",
    "data.invoice.customer.user_id",
    "data.invoice.customer.city_id",
    "data.invoice.customer.district_id",
    "data.invoice.customer.import_source_id",
    "data.invoice.customer.passport_number",
    "data.invoice.customer.search_vector",
    "data.invoice.customer.is_intake_completed",
    "data.invoice.customer.default_channel_id",
    "data.invoice.currency.deleted_at",
    "data.invoice.currency.created_at",
    "data.invoice.currency.updated_at",
    "data.invoice.currency.search_vector",
];

/// Asserts the Flextell error envelope.
fn assert_fx_error(r: &Resp, status: u16, code: &str) {
    assert_json_reply(r);
    assert_eq!(r.status, status, "expected {status} {code}: {}", r.text);
    assert_eq!(
        r.json["success"], "false",
        "one type for success in every reply: {}",
        r.text
    );
    assert_eq!(r.json["code"], code, "{}", r.text);
    assert!(!r.json["message"].as_str().unwrap().is_empty());
}

const INVOICE_KEYS: [&str; 29] = [
    "id",
    "document_number",
    "document_class",
    "document_type",
    "profile_id",
    "issue_date",
    "sent_at",
    "sender_tax_number",
    "receiver_name",
    "receiver_tax_number",
    "receiver_email",
    "exchange_rate",
    "amount_tax_exclusive",
    "amount_tax_total",
    "amount_payable",
    "invoice_amount",
    "status",
    "status_label",
    "is_printed",
    "is_cancelled",
    "is_read",
    "is_draft",
    "is_archived",
    "series_name",
    "notes",
    "created_at",
    "updated_at",
    "customer",
    "currency",
];

const CUSTOMER_KEYS: [&str; 24] = [
    "id",
    "tenant_id",
    "first_name",
    "last_name",
    "phone_number",
    "email",
    "date_of_birth",
    "country_id",
    "identity_number",
    "job",
    "address",
    "deleted_at",
    "created_at",
    "updated_at",
    "avatar_url",
    "avatar_updated_at",
    "user_id",
    "city_id",
    "district_id",
    "import_source_id",
    "passport_number",
    "search_vector",
    "is_intake_completed",
    "default_channel_id",
];

const CURRENCY_KEYS: [&str; 10] = [
    "id",
    "name",
    "code",
    "symbol",
    "is_active",
    "deleted_at",
    "created_at",
    "updated_at",
    "locale",
    "search_vector",
];

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn flextell_cancel_replays_the_documented_request() {
    for t in backends() {
        let s = TestServer::start(t);
        let first = s.open(&invoice_body());
        let mut rich = invoice_body();
        rich["customer"] = json!({"id": "cust-7", "name": "Jane Doe", "given_name": "Jane", "family_name": "Doe",
            "email": "jane@customer.example", "tax_number": "DE123", "phone": "+49 30 1234",
            "locale": "de-DE", "address": {"street": "Hauptstr. 1", "city": "Berlin", "postcode": "10115", "country": "DE"}});
        rich["issuer"] = json!({"id": "trp-1", "name": "Transporter Ltd", "tax_number": "DE811907980"});
        rich["metadata"] = json!({"document_class": "EINVOICE", "exchange_rate": "1.0000", "notes": "Thank you"});
        let second = s.open(&rich);
        let third = s.open(&invoice_body());
        assert_eq!(
            (first["serial"].as_i64(), second["serial"].as_i64()),
            (Some(1), Some(2))
        );
        let sent = s.req("POST", &format!("/v1/invoices/{}/mark-sent", id(&second))).send();
        assert_eq!(sent.status, 200, "{}", sent.text);
        let tenant = s.tenant.get().to_string();

        // The document's example: invoice 2, X-Tenant as a number.
        let r = documented(&s, &tenant, 2).send();
        assert_json_reply(&r);
        assert_eq!(r.status, 200, "{}: {}", s.backend, r.text);
        assert_keys(&r.json, &["success", "data"], "envelope");
        assert_eq!(r.json["success"], "true", "typed as a string by the document");
        assert_keys(&r.json["data"], &["message", "invoice"], "data");
        assert!(r.json["data"]["message"].is_string());
        if let Some(doc) = documented_example("flextell-cancel-invoice.200.json") {
            assert_documented_shape(&r.json, &doc, &FLEXTELL_ONLY);
        }
        let i = &r.json["data"]["invoice"];
        assert_keys(i, &INVOICE_KEYS, "invoice");
        let v1 = v1_invoice(&s, &id(&second));
        assert_eq!(i["id"], 2, "the invoice's integer id");
        assert_eq!(i["document_number"], "INV-000002");
        assert_eq!(
            (&i["document_type"], &i["profile_id"]),
            (&json!("380"), &json!("urn:cen.eu:en16931:2017"))
        );
        assert_eq!(
            (&i["document_class"], &i["exchange_rate"], &i["notes"]),
            (&json!("EINVOICE"), &json!("1.0000"), &json!("Thank you"))
        );
        assert_eq!(
            i["sent_at"],
            sent.json["sent_at"].as_str().unwrap()[..19].to_string() + "Z"
        );
        assert_eq!(
            (&i["status"], &i["status_label"]),
            (&json!("cancelled"), &json!("Cancelled"))
        );
        assert_eq!((&i["is_cancelled"], &i["is_draft"]), (&json!(true), &json!(false)));
        assert_eq!(
            (&i["is_printed"], &i["is_read"], &i["is_archived"]),
            (&json!(false), &json!(false), &json!(false))
        );
        for (k, minor) in [
            ("amount_tax_exclusive", "subtotal"),
            ("amount_tax_total", "tax"),
            ("amount_payable", "amount_due"),
            ("invoice_amount", "total"),
        ] {
            let cents = v1[minor].as_i64().unwrap();
            assert_eq!(i[k], format!("{}.{:02}", cents / 100, cents % 100), "{k}");
        }
        assert_eq!(i["invoice_amount"], "145.75", "the invoice as issued");
        assert_eq!(i["amount_payable"], "0.00", "nothing is due after the cancel");
        assert_eq!(
            i["issue_date"],
            v1["issued_at"].as_str().unwrap()[..19].to_string() + "Z"
        );
        assert_eq!(millis(&i["created_at"]) / 1000, millis(&v1["created_at"]) / 1000);
        assert_eq!(
            (&i["receiver_name"], &i["receiver_tax_number"], &i["receiver_email"]),
            (&json!("Jane Doe"), &json!("DE123"), &json!("jane@customer.example"))
        );
        assert_eq!(i["series_name"], "INV");
        assert_eq!(i["sender_tax_number"], "DE811907980", "the issuer's tax number");

        let c = &i["customer"];
        assert_keys(c, &CUSTOMER_KEYS, "customer");
        assert_eq!(c["tenant_id"], s.tenant.get());
        assert_eq!(
            (&c["first_name"], &c["last_name"], &c["email"], &c["phone_number"]),
            (
                &json!("Jane"),
                &json!("Doe"),
                &json!("jane@customer.example"),
                &json!("+49 30 1234")
            )
        );
        assert_eq!(c["address"], "Hauptstr. 1, 10115 Berlin, DE");
        assert_eq!(c["id"], Value::Null, "cust-7 is not an integer id");
        assert_eq!(cur_locale(i), "de-DE");
        let cur = &i["currency"];
        assert_keys(cur, &CURRENCY_KEYS, "currency");
        assert_eq!(
            (&cur["id"], &cur["code"], &cur["name"], &cur["symbol"]),
            (&json!(978), &json!("EUR"), &json!("Euro"), &json!("€"))
        );

        assert_eq!(v1["status"], "cancelled");
        assert_eq!(v1["cancellation"]["channel"], "flextell");
        assert_eq!(
            channels(&s, &id(&second)),
            ["v1", "v1", "v1", "flextell", "flextell"],
            "created, finalized, sent; cancelled, credited"
        );

        // Without given and family names, the whole name is the first name.
        let unnamed = documented(&s, &tenant, 1).send();
        assert_eq!(unnamed.status, 200, "{}", unnamed.text);
        let c = &unnamed.json["data"]["invoice"]["customer"];
        assert_eq!(
            (&c["first_name"], &c["last_name"]),
            (&json!("Customer GmbH"), &Value::Null)
        );
        assert_eq!(unnamed.json["data"]["invoice"]["sent_at"], Value::Null, "never sent");

        // X-Tenant may name the tenant by slug too.
        let r = documented(&s, "acme", 3).send();
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(v1_invoice(&s, &id(&third))["status"], "cancelled");
    }
}

/// The currency object's locale (the customer's language).
fn cur_locale(invoice: &Value) -> &str {
    invoice["currency"]["locale"].as_str().unwrap_or_default()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn flextell_errors_are_in_its_envelope() {
    for t in backends() {
        let s = TestServer::start(t);
        let inv = s.open(&invoice_body());
        let tenant = s.tenant.get().to_string();
        let (globex_id, globex) = s.other_tenant("globex");

        // 401 comes first; then the required X-Tenant.
        assert_fx_error(
            &s.anon("POST", &cancel_path("1"))
                .header("X-Tenant", &tenant)
                .json(&json!({"id": 1}))
                .send(),
            401,
            "unauthorized",
        );
        let r = s.req("POST", &cancel_path("1")).json(&json!({"id": 1})).send();
        assert_fx_error(&r, 400, "missing_tenant");
        // Present but naming no tenant (blank included) is a mismatch.
        let r = s
            .req("POST", &cancel_path("1"))
            .header("X-Tenant", " ")
            .json(&json!({"id": 1}))
            .send();
        assert_fx_error(&r, 403, "tenant_mismatch");
        assert_fx_error(
            &documented(&s, &globex_id.get().to_string(), 1).send(),
            403,
            "tenant_mismatch",
        );
        assert_fx_error(&documented(&s, "999999", 1).send(), 403, "tenant_mismatch");
        let reader = s.key_with("invoices:read", None);
        assert_fx_error(
            &documented(&s, &tenant, 1).bearer(&reader).send(),
            403,
            "insufficient_scope",
        );

        // 400: a path id that can name no invoice; malformed JSON.
        for bad in ["x".repeat(101), "bell%07".to_string()] {
            let r = s
                .req("POST", &cancel_path(&bad))
                .header("X-Tenant", &tenant)
                .json(&json!({"id": 1}))
                .send();
            assert_fx_error(&r, 400, "invalid_invoice_id");
        }
        // 404: a well-formed id naming no invoice.
        for unknown in ["abc", "0", "-2", "INV-000099"] {
            let r = s
                .req("POST", &cancel_path(unknown))
                .header("X-Tenant", &tenant)
                .json(&json!({"id": 1}))
                .send();
            assert_fx_error(&r, 404, "invoice_not_found");
        }
        let r = s
            .req("POST", &cancel_path("1"))
            .header("X-Tenant", &tenant)
            .raw("application/json", b"{\"id\": ")
            .send();
        assert_fx_error(&r, 400, "malformed_json");

        // 422: the body id is required, an integer ≥ 1, and the path id.
        let body = |b: Value| {
            s.req("POST", &cancel_path("1"))
                .header("X-Tenant", &tenant)
                .json(&b)
                .send()
        };
        for b in [
            json!({}),
            json!({"id": "1"}),
            json!({"id": 1.5}),
            json!({"id": 0}),
            json!({"id": 2}),
            json!([]),
        ] {
            let r = body(b.clone());
            assert_fx_error(&r, 422, "validation_failed");
            assert!(
                r.json["errors"]["id"][0].is_string() || b == json!([]),
                "{b}: {}",
                r.text
            );
        }
        let r = body(json!({"id": 1, "reason": "x"}));
        assert_fx_error(&r, 422, "validation_failed");
        assert!(r.json["errors"]["reason"][0].is_string(), "{}", r.text);
        let r = s.req("POST", &cancel_path("1")).header("X-Tenant", &tenant).send();
        assert_fx_error(&r, 422, "validation_failed");

        // 404: unknown, and another tenant's: acme's invoice is invisible to
        // globex, by id and by number; globex's own invoice 1 is its own.
        assert_fx_error(&documented(&s, &tenant, 99).send(), 404, "invoice_not_found");
        invoice_in(&s, &globex, false);
        for acme_ref in [id(&inv), "INV-000001".to_string()] {
            let r = s
                .req("POST", &cancel_path(&acme_ref))
                .bearer(&globex)
                .header("X-Tenant", "globex")
                .json(&json!({"id": 1}))
                .send();
            assert_fx_error(&r, 404, "invoice_not_found");
        }
        assert_eq!(v1_invoice(&s, &id(&inv))["version"], inv["version"], "nothing changed");

        // The path may name the invoice by number or UUID; the body id
        // must then be its integer id. 409 once cancelled.
        let by_number = |body_id: i64| {
            s.req("POST", &cancel_path("INV-000001"))
                .header("X-Tenant", &tenant)
                .json(&json!({"id": body_id}))
                .send()
        };
        assert_fx_error(&by_number(2), 422, "validation_failed");
        assert_eq!(by_number(1).status, 200);
        let r = s
            .req("POST", &cancel_path(&id(&inv)))
            .header("X-Tenant", &tenant)
            .json(&json!({"id": 1}))
            .send();
        assert_fx_error(&r, 409, "invoice_already_cancelled");

        // Routes.
        let other_method = s.req("GET", &cancel_path("1")).header("X-Tenant", &tenant).send();
        assert_fx_error(&other_method, 405, "method_not_allowed");
        assert_eq!(other_method.header("allow"), Some("POST"));
        assert_fx_error(&s.req("GET", "/api/v1/nope").send(), 404, "route_not_found");
    }
}
