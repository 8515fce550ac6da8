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

/// The directory of the documented examples: `INVOICE_SEEDS_DIR`, else
/// `shared/seeds/examples` beside the repository root or one of its parents.
fn seeds_dir() -> Option<std::path::PathBuf> {
    if let Ok(dir) = std::env::var("INVOICE_SEEDS_DIR") {
        return Some(dir.into());
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.ancestors()
        .map(|d| d.join("shared/seeds/examples"))
        .find(|d| d.is_dir())
}

/// The documented example `name` (e.g. `tms-cancel-invoice.200.json`). When
/// the examples are missing this prints a loud SKIPPED line and returns
/// `None`, unless `INVOICE_REQUIRE_SEEDS` is set: then it fails.
pub fn documented_example(name: &str) -> Option<Value> {
    let Some(path) = seeds_dir().map(|d| d.join(name)).filter(|p| p.is_file()) else {
        let why = format!(
            "SKIPPED comparing with the documented example {name}: shared/seeds/examples not found; set INVOICE_SEEDS_DIR"
        );
        assert!(std::env::var_os("INVOICE_REQUIRE_SEEDS").is_none(), "{why}");
        eprintln!("\n*** {why} ***\n");
        return None;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The JSON type of a value, as the comparison names it.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares a reply with a documented example recursively: every
/// documented key at every depth is present, and each value has the
/// documented JSON type. `null` is accepted where the document shows
/// `null`, and at the paths in `absent` (dotted, `[]` for array items),
/// where the data is really absent; anywhere else it fails. Array items are
/// each compared with the documented first item.
pub fn assert_documented_shape(got: &Value, doc: &Value, absent: &[&str]) {
    let mut problems = Vec::new();
    compare(got, doc, "", absent, &mut problems);
    assert!(
        problems.is_empty(),
        "the reply differs from the documented example:\n  {}\nreply: {got}",
        problems.join("\n  ")
    );
}

fn compare(got: &Value, doc: &Value, path: &str, absent: &[&str], problems: &mut Vec<String>) {
    let at = if path.is_empty() { "(root)" } else { path };
    match (got, doc) {
        (_, Value::Null) => {}
        (Value::Null, _) if absent.contains(&path) => {}
        (Value::Object(g), Value::Object(d)) => {
            for (key, dv) in d {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match g.get(key) {
                    None => problems.push(format!("{child}: missing")),
                    Some(gv) => compare(gv, dv, &child, absent, problems),
                }
            }
        }
        (Value::Array(g), Value::Array(d)) => {
            if let Some(first) = d.first() {
                for item in g {
                    compare(item, first, &format!("{path}[]"), absent, problems);
                }
            }
        }
        _ if json_type(got) == json_type(doc) => {}
        _ => problems.push(format!(
            "{at}: {} where the document shows {} ({doc})",
            json_type(got),
            json_type(doc)
        )),
    }
}

#[test]
fn the_shape_comparison_finds_missing_keys_wrong_types_and_stray_nulls() {
    let doc = serde_json::json!({"a": 1, "b": {"c": "x", "d": null}, "e": [{"f": true}]});
    assert_documented_shape(
        &serde_json::json!({"a": 2.5, "b": {"c": "y", "d": 3, "extra": 1}, "e": [{"f": false}, {"f": true}]}),
        &doc,
        &[],
    );
    let mut problems = Vec::new();
    compare(
        &serde_json::json!({"a": "1", "b": {"c": null}, "e": [{"f": 1}]}),
        &doc,
        "",
        &[],
        &mut problems,
    );
    assert_eq!(
        problems,
        [
            "a: string where the document shows number (1)",
            "b.c: null where the document shows string (\"x\")",
            "b.d: missing",
            "e[].f: number where the document shows boolean (true)",
        ]
    );
    let mut problems = Vec::new();
    compare(
        &serde_json::json!({"a": 1, "b": {"c": null, "d": 1}, "e": []}),
        &doc,
        "",
        &["b.c"],
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
}
