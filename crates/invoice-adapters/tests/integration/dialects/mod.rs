//! End-to-end tests of the seed-API dialects over real HTTP, on SQLite and
//! PostgreSQL: each document's own example request, its envelopes, every
//! error case, the audit channel and the `--dialects` selection.

mod chargeover;
mod flextell;
mod plugnpaid;
mod selection;
mod tms;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::http_support::*;

/// The `id` of an invoice JSON.
pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// `Authorization: Basic` with `key` as user name and an empty password.
pub fn basic(key: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

/// The invoice as `/v1` shows it.
pub fn v1_invoice(s: &TestServer, reference: &str) -> Value {
    let r = s.req("GET", &format!("/v1/invoices/{reference}")).send();
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// The channels of an invoice's events, oldest first.
pub fn channels(s: &TestServer, reference: &str) -> Vec<String> {
    let r = s.req("GET", &format!("/v1/invoices/{reference}/events")).send();
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["data"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["actor"]["channel"].as_str().expect("channel").to_string())
        .collect()
}

/// The keys of a JSON object.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// Asserts that `v` has exactly the keys `expected`.
pub fn assert_keys(v: &Value, expected: &[&str], what: &str) {
    let want: BTreeSet<String> = expected.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys(v), want, "{what}: {v}");
}

/// Asserts that `v` has at least the keys `expected`.
pub fn assert_has_keys(v: &Value, expected: &[&str], what: &str) {
    let have = keys(v);
    let missing: Vec<&&str> = expected.iter().filter(|k| !have.contains(**k)).collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}: {v}");
}

/// Milliseconds since the epoch of an RFC 3339 timestamp.
pub fn millis(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp"))
        .expect("RFC 3339")
        .timestamp_millis()
}

/// A JSON reply (never a 500, never problem+json).
pub fn assert_json_reply(r: &Resp) {
    assert!(r.status < 500, "a dialect answered {}: {}", r.status, r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "dialects answer in their own JSON envelope: {}",
        r.text
    );
}

/// Opens `n` invoices from [`invoice_body`] and returns them.
pub fn open_n(s: &TestServer, n: usize) -> Vec<Value> {
    (0..n).map(|_| s.open(&invoice_body())).collect()
}

/// Creates (and, with `open`, finalizes) an invoice in another tenant with `key`.
pub fn invoice_in(s: &TestServer, key: &str, open: bool) -> Value {
    let r = s.req("POST", "/v1/invoices").bearer(key).json(&invoice_body()).send();
    assert_eq!(r.status, 201, "{}", r.text);
    if !open {
        return r.json;
    }
    let f = s
        .req("POST", &format!("/v1/invoices/{}/finalize", id(&r.json)))
        .bearer(key)
        .send();
    assert_eq!(f.status, 200, "{}", f.text);
    f.json
}
