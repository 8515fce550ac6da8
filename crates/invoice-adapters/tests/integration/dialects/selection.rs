//! Which dialects are mounted, and the OpenAPI document that describes them.

use invoice_adapters::inbound::http::Dialects;
use serde_json::json;

use super::*;
use crate::support::backends;

/// One request per dialect route, with the documented method.
fn probes(s: &TestServer) -> Vec<(&'static str, Resp)> {
    let inv = s.open(&invoice_body());
    let number = inv["number"].as_str().unwrap().to_string();
    vec![
        (
            "tms",
            s.req("POST", "/tms/api/v1/billing/transporter/cancel-invoice")
                .json(&json!({"invoiceId": number}))
                .send(),
        ),
        (
            "tms",
            s.req("GET", &format!("/tms/api/v1/billing/transporter/invoice/{number}/"))
                .send(),
        ),
        (
            "plugnpaid",
            s.req("POST", &format!("/v2/invoices/cancel/{}", id(&inv))).send(),
        ),
        (
            "chargeover",
            s.anon("POST", &format!("/api/v3/invoice/{}/_action/void", id(&inv)))
                .header("Authorization", &basic(&s.key))
                .send(),
        ),
        (
            "flextell",
            s.req("POST", "/api/v1/invoices/1/cancel")
                .header("X-Tenant", "acme")
                .json(&json!({"id": 1}))
                .send(),
        ),
    ]
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn dialects_none_unmounts_every_dialect_route() {
    for t in backends() {
        let s = TestServer::start_with(t, Dialects::parse("none").unwrap());
        for (dialect, r) in probes(&s) {
            assert_eq!(r.status, 404, "{dialect}: {}", r.text);
            assert_eq!(r.json["code"], "route_not_found", "{dialect}: the /v1 404");
        }
        let v1 = s.open(&invoice_body());
        assert_eq!(v1["status"], "open", "/v1 is always mounted");
        let doc = s.anon("GET", "/openapi.json").send().json;
        let paths = keys(&doc["paths"]);
        assert!(
            paths
                .iter()
                .all(|p| !["/tms/", "/v2/", "/api/"].iter().any(|d| p.starts_with(d))),
            "{paths:?}"
        );
        assert!(paths.contains("/v1/invoices"));
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn dialects_selection_mounts_only_the_chosen_ones() {
    for t in backends() {
        let s = TestServer::start_with(t, Dialects::parse("tms,chargeover").unwrap());
        let mut seen = Vec::new();
        for (dialect, r) in probes(&s) {
            let mounted = matches!(dialect, "tms" | "chargeover");
            assert_eq!(r.status == 404, !mounted, "{dialect}: {}", r.text);
            seen.push((dialect, r.status));
        }
        assert_eq!(seen[0], ("tms", 200), "the TMS cancel went through");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn the_openapi_document_tags_every_dialect_route() {
    for t in backends() {
        let s = TestServer::start(t);
        let doc = s.anon("GET", "/openapi.json").send().json;
        for (path, method, tag) in [
            ("/tms/api/v1/billing/transporter/cancel-invoice", "post", "dialect: tms"),
            (
                "/tms/api/v1/billing/transporter/invoice/{invoice_id}/",
                "get",
                "dialect: tms",
            ),
            ("/v2/invoices/cancel/{id}", "post", "dialect: plugnpaid"),
            (
                "/api/v3/invoice/{invoice_id}/_action/void",
                "post",
                "dialect: chargeover",
            ),
            ("/api/v1/invoices/{id}/cancel", "post", "dialect: flextell"),
        ] {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{path} missing: {}", doc["paths"]);
            assert_eq!(op["tags"], json!([tag]), "{path}");
            assert!(op["responses"]["200"].is_object(), "{path}");
        }
        let tags: Vec<&str> = doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        for tag in [
            "dialect: tms",
            "dialect: plugnpaid",
            "dialect: chargeover",
            "dialect: flextell",
        ] {
            assert!(tags.contains(&tag), "{tag} in {tags:?}");
        }
        let mut ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|ops| ops.as_object().unwrap().values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "operation ids are unique: {ids:?}");
        let bodies = &doc["components"]["schemas"];
        assert_eq!(
            bodies["TmsCancelBody"]["required"],
            json!(["invoiceId"]),
            "typed request bodies"
        );
        assert!(bodies["FlextellCancelBody"]["properties"]["id"].is_object());
        let item_refs = bodies["PlugnpaidItemRef"]["oneOf"].as_array().unwrap();
        assert_eq!(
            item_refs.iter().map(|r| r["required"].clone()).collect::<Vec<_>>(),
            [json!(["id"]), json!(["invoice_item_id"]), json!(["variation_id"])],
            "an item names exactly one of its three keys"
        );
        let op = &doc["paths"]["/api/v1/invoices/{id}/cancel"]["post"];
        assert_eq!(
            op["security"],
            json!([{"bearer": [], "tenant": []}, {"basic": [], "tenant": []}]),
            "Bearer or Basic, with X-Tenant"
        );
        assert_eq!(doc["components"]["securitySchemes"]["tenant"]["name"], "X-Tenant");
        let op = &doc["paths"]["/api/v3/invoice/{invoice_id}/_action/void"]["post"];
        assert_eq!(op["security"], json!([{"basic": []}]), "HTTP Basic only");
    }
}
