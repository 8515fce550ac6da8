//! E-invoices over real HTTP: the seller profile (`/v1/tenant`), the UBL
//! and HTML documents of invoices and credit notes, completeness refusals,
//! and a matrix of documents validated with the official EN 16931 rules.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::http_support::*;
use crate::support::backends;

/// A complete seller profile (German, with VAT id and bank account).
pub fn full_seller() -> Value {
    json!({"seller": {
        "name": "Nordlicht Logistik GmbH",
        "vat_id": "DE123456789",
        "tax_registration": "12/345/67890",
        "address": {"street": "Hafenstraße 7", "city": "Hamburg", "postcode": "20457", "country": "DE"},
        "electronic_address": {"scheme": "EM", "value": "billing@nordlicht.example"},
        "contact": {"name": "Buchhaltung", "phone": "+49 40 1234567", "email": "billing@nordlicht.example"},
        "payment_means": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_name": "Nordlicht Logistik GmbH"},
        "payment_terms": "30 days net"
    }})
}

/// A buyer with a structured address and a VAT id.
pub fn buyer() -> Value {
    json!({"id": "cust-1", "name": "ACME <Handel> & Co. KG", "email": "ap@acme.example", "tax_number": "FR12345678901",
           "address": {"street": "1 Rue de l'Église", "city": "Paris", "postcode": "75001", "country": "FR"}})
}

fn line(product: &str, quantity: i64, unit: i64, rate: &str) -> Value {
    json!({"product_id": product, "description": format!("Service {product}"), "quantity": quantity, "unit_amount": unit, "tax_rate": rate})
}

fn invoice(currency: &str, customer: Value, lines: Vec<Value>) -> Value {
    json!({"currency": currency, "customer": customer, "lines": lines, "due_date": "2027-01-31",
           "buyer_reference": "04011000-12345-03"})
}

fn patch_tenant(s: &TestServer, key: &str, body: &Value) -> Resp {
    Req::new("PATCH", &format!("{}/v1/tenant", s.base))
        .bearer(key)
        .json(body)
        .send()
}

fn post(s: &TestServer, key: &str, path: &str, body: &Value) -> Resp {
    Req::new("POST", &format!("{}{path}", s.base))
        .bearer(key)
        .json(body)
        .send()
}

fn get(s: &TestServer, key: &str, path: &str) -> Resp {
    Req::new("GET", &format!("{}{path}", s.base)).bearer(key).send()
}

/// Creates and finalizes an invoice with `key`.
fn open_with(s: &TestServer, key: &str, body: &Value) -> Value {
    let d = post(s, key, "/v1/invoices", body);
    assert_eq!(d.status, 201, "{}: {}", s.backend, d.text);
    let f = post(
        s,
        key,
        &format!("/v1/invoices/{}/finalize", d.json["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(f.status, 200, "{}: {}", s.backend, f.text);
    f.json
}

/// The UBL document at `path`, asserting it is there.
fn document(s: &TestServer, key: &str, path: &str) -> String {
    let r = get(s, key, path);
    assert_eq!(r.status, 200, "{}: {path}: {}", s.backend, r.text);
    assert!(r.header("content-type").unwrap().starts_with("application/xml"));
    r.text
}

/// The text of the first `<name>` element of `xml` (call [`well_formed`] first).
fn element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].to_string())
}

/// Every element and text of `xml`, parsed: panics on malformed XML.
fn well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        if let quick_xml::events::Event::Eof = reader.read_event().expect("well-formed XML") {
            break;
        }
    }
}

fn missing_fields(r: &Resp) -> Vec<(String, String)> {
    r.json["missing"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|m| {
            (
                m["field"].as_str().unwrap().to_string(),
                m["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn the_seller_profile_is_read_and_patched_under_its_own_scope_and_frozen_on_issued_invoices() {
    for t in backends() {
        let s = TestServer::start(t);
        let empty = get(&s, &s.key, "/v1/tenant");
        assert_eq!(empty.status, 200, "{}", empty.text);
        assert_eq!(empty.json["seller"]["name"], Value::Null);
        assert_eq!(empty.json["require_en16931"], false);
        assert_eq!(empty.json["seller"]["locale"], "en");

        let reader = s.key_with("invoices:read,invoices:write", None);
        assert_eq!(get(&s, &reader, "/v1/tenant").code(), "insufficient_scope");
        assert_eq!(patch_tenant(&s, &reader, &full_seller()).status, 403);

        let set = patch_tenant(&s, &s.key, &full_seller());
        assert_eq!(set.status, 200, "{}: {}", s.backend, set.text);
        assert_eq!(set.json["seller"]["vat_id"], "DE123456789");
        assert_eq!(set.json["seller"]["address"]["country"], "DE");
        assert_eq!(set.json["seller"]["payment_means"]["code"], "58");
        assert_eq!(get(&s, &s.key, "/v1/tenant").json, set.json, "{}: stored", s.backend);

        // Bad input: a clear error naming the field, nothing changes.
        for (bad, field) in [
            (json!({"seller": {"vat_id": "XX123"}}), "seller.vat_id"),
            (
                json!({"seller": {"payment_means": {"iban": "DE00370400440532013000"}}}),
                "seller.payment_means.iban",
            ),
            (
                json!({"seller": {"address": {"country": "Germany"}}}),
                "seller.address.country",
            ),
            (
                json!({"seller": {"electronic_address": {"scheme": "XX", "value": "a@b.example"}}}),
                "seller.electronic_address.scheme",
            ),
        ] {
            let r = patch_tenant(&s, &s.key, &bad);
            assert_eq!(r.status, 422, "{}: {bad}: {}", s.backend, r.text);
            assert_eq!(r.json["errors"][0]["field"], field, "{}", r.text);
        }
        assert_eq!(get(&s, &s.key, "/v1/tenant").json, set.json, "{}: unchanged", s.backend);

        // The issued invoice keeps the seller it was issued with.
        let inv = open_with(&s, &s.key, &invoice("EUR", buyer(), vec![line("a", 2, 10_000, "19")]));
        let path = format!("/v1/invoices/{}/document", inv["id"].as_str().unwrap());
        let before = get(&s, &s.key, &path);
        assert_eq!(before.status, 200, "{}", before.text);
        let renamed = patch_tenant(
            &s,
            &s.key,
            &json!({"seller": {"name": "Renamed AG", "vat_id": null, "locale": "de"}}),
        );
        assert_eq!(renamed.status, 200);
        assert_eq!(renamed.json["seller"]["vat_id"], Value::Null, "null clears");
        assert_eq!(
            renamed.json["seller"]["address"]["city"], "Hamburg",
            "left out, left alone"
        );
        let after = get(&s, &s.key, &path);
        assert_eq!(
            after.text, before.text,
            "{}: an issued document never changes",
            s.backend
        );
        assert_eq!(after.header("etag"), before.header("etag"));
        assert!(after.text.contains("Nordlicht Logistik GmbH") && !after.text.contains("Renamed AG"));
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn documents_are_refused_for_drafts_and_incomplete_data_and_finalize_can_require_them_complete() {
    for t in backends() {
        let s = TestServer::start(t);
        // The quickstart's invoice: no seller profile, no buyer address.
        let plain = json!({"currency": "EUR", "customer": {"id": "cust-1", "name": "ACME GmbH"},
                           "lines": [{"description": "Freight", "quantity": 1, "unit_amount": 120000, "tax_rate": "19"}]});
        let draft = s.create(&plain);
        let id = draft["id"].as_str().unwrap();
        let r = get(&s, &s.key, &format!("/v1/invoices/{id}/document"));
        assert_eq!((r.status, r.code()), (409, "invoice_not_issued"), "{}", r.text);
        let issued = s.req("POST", &format!("/v1/invoices/{id}/finalize")).send();
        assert_eq!(
            issued.status, 200,
            "drafts may stay incomplete, and plain invoices issue as before"
        );
        let r = get(&s, &s.key, &format!("/v1/invoices/{id}/document"));
        assert_eq!((r.status, r.code()), (422, "document_incomplete"), "{}", r.text);
        let missing = missing_fields(&r);
        for expected in [
            ("seller.vat_id", "BR-S-02"),
            ("seller.name", "BR-06"),
            ("seller.address.country", "BR-09"),
            ("customer.address.country", "BR-11"),
        ] {
            assert!(
                missing.contains(&(expected.0.to_string(), expected.1.to_string())),
                "{}: {expected:?} in {missing:?}",
                s.backend
            );
        }
        assert_eq!(
            r.json["missing"][0]["term"].as_str().map(|t| t.starts_with("BT-")),
            Some(true)
        );

        // Category S without the seller's VAT id (nor tax registration): named.
        let mut no_vat = full_seller();
        no_vat["seller"]["vat_id"] = Value::Null;
        no_vat["seller"]["tax_registration"] = Value::Null;
        assert_eq!(patch_tenant(&s, &s.key, &no_vat).status, 200);
        let inv = open_with(&s, &s.key, &invoice("EUR", buyer(), vec![line("a", 1, 100, "19")]));
        let r = get(
            &s,
            &s.key,
            &format!("/v1/invoices/{}/document", inv["id"].as_str().unwrap()),
        );
        assert_eq!(r.code(), "document_incomplete");
        assert_eq!(
            missing_fields(&r),
            vec![("seller.vat_id".to_string(), "BR-S-02".to_string())],
            "{}",
            r.text
        );
        // An unknown VATEX code and reverse charge without the buyer's VAT id.
        assert_eq!(patch_tenant(&s, &s.key, &full_seller()).status, 200);
        let mut no_vat_buyer = buyer();
        no_vat_buyer["tax_number"] = Value::Null;
        let ae = open_with(
            &s,
            &s.key,
            &invoice(
                "EUR",
                no_vat_buyer,
                vec![
                    json!({"description": "Consulting", "quantity": 1, "unit_amount": 5000, "tax_rate": "0",
                            "tax_category": "AE", "exemption_reason_code": "VATEX-EU-NOPE", "exemption_reason": "Reverse charge"}),
                ],
            ),
        );
        let r = get(
            &s,
            &s.key,
            &format!("/v1/invoices/{}/document", ae["id"].as_str().unwrap()),
        );
        let missing = missing_fields(&r);
        assert!(
            missing.contains(&("customer.tax_number".into(), "BR-AE-02".into())),
            "{missing:?}"
        );
        assert!(
            missing.contains(&("lines[0].exemption_reason_code".into(), "BR-CL-22".into())),
            "{missing:?}"
        );
        // XRechnung needs more: a plain EN 16931 document may lack the buyer reference.
        let mut no_reference = invoice("EUR", buyer(), vec![line("a", 1, 100, "19")]);
        no_reference["buyer_reference"] = Value::Null;
        let inv = open_with(&s, &s.key, &no_reference);
        let path = format!("/v1/invoices/{}/document", inv["id"].as_str().unwrap());
        assert_eq!(get(&s, &s.key, &path).status, 200);
        let r = get(&s, &s.key, &format!("{path}?profile=xrechnung"));
        assert_eq!(
            missing_fields(&r),
            vec![("buyer_reference".to_string(), "BR-DE-15".to_string())]
        );
        assert_eq!(get(&s, &s.key, &format!("{path}?profile=zugferd")).status, 400);

        // require_en16931: finalize refuses with the same list and draws no number.
        let on = patch_tenant(&s, &s.key, &json!({"require_en16931": true}));
        assert_eq!(on.json["require_en16931"], true);
        let d = s.create(&plain);
        let refused = s
            .req("POST", &format!("/v1/invoices/{}/finalize", d["id"].as_str().unwrap()))
            .send();
        assert_eq!(
            (refused.status, refused.code()),
            (422, "document_incomplete"),
            "{}",
            refused.text
        );
        assert_eq!(
            missing_fields(&refused),
            vec![("customer.address.country".to_string(), "BR-11".to_string())]
        );
        let still = s
            .req("GET", &format!("/v1/invoices/{}", d["id"].as_str().unwrap()))
            .send();
        assert_eq!(
            (still.json["status"].as_str(), still.json["number"].as_str()),
            (Some("draft"), None)
        );
        let complete = open_with(&s, &s.key, &invoice("EUR", buyer(), vec![line("a", 1, 100, "19")]));
        let expected_number = format!("INV-{:06}", 5);
        assert_eq!(
            complete["number"],
            expected_number.as_str(),
            "{}: no number was drawn by the refusal",
            s.backend
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn documents_are_deterministic_escaped_negotiated_and_announced_by_events() {
    for t in backends() {
        let s = TestServer::start(t);
        let mut hostile = full_seller();
        hostile["seller"]["name"] = json!("Müller & Söhne <GmbH> \"quoted\" 'single' ]]>");
        hostile["seller"]["locale"] = json!("de");
        assert_eq!(patch_tenant(&s, &s.key, &hostile).status, 200);
        let mut body = invoice(
            "EUR",
            buyer(),
            vec![line("a", 3, 120_050, "19"), line("b", 1, 999, "7")],
        );
        body["lines"][1]["description"] = json!("Toll </cbc:Name><evil/> &amp; 🚚");
        let inv = open_with(&s, &s.key, &body);
        let id = inv["id"].as_str().unwrap();
        let path = format!("/v1/invoices/{id}/document");
        let first = get(&s, &s.key, &path);
        let second = get(&s, &s.key, &path);
        assert_eq!(first.text, second.text, "byte for byte");
        let etag = first.header("etag").unwrap().to_string();
        assert_eq!(Some(etag.as_str()), second.header("etag"));
        well_formed(&first.text);
        assert_eq!(element(&first.text, "cbc:InvoiceTypeCode").as_deref(), Some("380"));
        assert_eq!(
            element(&first.text, "cbc:CustomizationID").as_deref(),
            Some("urn:cen.eu:en16931:2017")
        );
        assert!(first.text.contains("Müller &amp; Söhne &lt;GmbH&gt;"), "{}", first.text);
        assert!(first.text.contains("Toll &lt;/cbc:Name&gt;&lt;evil/&gt; &amp;amp; 🚚"));
        assert!(
            first
                .text
                .contains(r#"<cbc:PayableAmount currencyID="EUR">4296.48</cbc:PayableAmount>"#),
            "{}",
            first.text
        );
        // 304 for a matching If-None-Match; by number as well as by id.
        let cached = Req::new("GET", &format!("{}{path}", s.base))
            .bearer(&s.key)
            .header("If-None-Match", &etag)
            .send();
        assert_eq!((cached.status, cached.text.as_str()), (304, ""));
        let by_number = get(
            &s,
            &s.key,
            &format!("/v1/invoices/{}/document", inv["number"].as_str().unwrap()),
        );
        assert_eq!(by_number.text, first.text);

        // The credit note: its own document, the invoice's unchanged.
        let cancel = post(
            &s,
            &s.key,
            &format!("/v1/invoices/{id}/cancel"),
            &json!({"reason": "Toll waived <by> ops", "lines": [{"product_id": "b"}]}),
        );
        assert_eq!(cancel.status, 200, "{}", cancel.text);
        assert_eq!(
            get(&s, &s.key, &path).text,
            first.text,
            "later credit notes never alter the invoice's XML"
        );
        let cn_id = cancel.json["credit_notes"][0]["id"].as_str().unwrap();
        let cn = document(&s, &s.key, &format!("/v1/credit-notes/{cn_id}/document"));
        well_formed(&cn);
        assert_eq!(element(&cn, "cbc:CreditNoteTypeCode").as_deref(), Some("381"));
        assert!(
            cn.contains("<cbc:ID>INV-000001</cbc:ID>"),
            "BT-25 in BillingReference: {cn}"
        );
        assert!(cn.contains("<cbc:Note>Toll waived &lt;by&gt; ops</cbc:Note>"));
        assert!(
            cn.contains(r#"<cbc:PayableAmount currencyID="EUR">10.69</cbc:PayableAmount>"#),
            "{cn}"
        );

        // The printable page: German formats, escaped text, the reference to the invoice.
        let html = Req::new("GET", &format!("{}/v1/credit-notes/{cn_id}/document", s.base))
            .bearer(&s.key)
            .header("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
            .send();
        assert_eq!(html.status, 200);
        assert!(html.header("content-type").unwrap().starts_with("text/html"));
        let issued = chrono::Utc::now().format("%d.%m.%Y").to_string();
        assert!(
            html.text
                .contains(&format!("Gutschrift zur Rechnung INV-000001 vom {issued}")),
            "{}",
            html.text
        );
        assert!(html.text.contains("10,69 EUR") && html.text.contains("Müller &amp; Söhne &lt;GmbH&gt;"));
        assert!(!html.text.contains("<evil/>"));
        assert_ne!(html.header("etag"), Some(etag.as_str()));
        let invoice_page = Req::new("GET", &format!("{}{path}", s.base))
            .bearer(&s.key)
            .header("Accept", "text/html")
            .send();
        assert!(invoice_page.text.contains("4.296,48 EUR"), "{}", invoice_page.text);

        // Events name the documents.
        let events = get(&s, &s.key, &format!("/v1/invoices/{id}/events"));
        let data: Vec<&Value> = events.json["data"].as_array().unwrap().iter().collect();
        let finalized = data.iter().find(|e| e["type"] == "invoice.finalized").unwrap();
        assert_eq!(finalized["data"]["document_url"], path.as_str());
        let issued = data.iter().find(|e| e["type"] == "credit_note.issued").unwrap();
        assert_eq!(
            issued["data"]["document_url"],
            format!("/v1/credit-notes/{cn_id}/document").as_str()
        );
        // Party keys see only their own documents; other tenants see nothing.
        let (_, other) = s.other_tenant("globex");
        assert_eq!(get(&s, &other, &path).status, 404);
        assert_eq!(
            get(&s, &other, &format!("/v1/credit-notes/{cn_id}/document")).status,
            404
        );
    }
}

// ---------------------------------------------------------------------------
// Validation with the official CEN rules.

/// Where the official rules are: `INVOICE_EN16931_DIR`, else the nearest
/// `shared/en16931` beside the repository root or one of its parents.
fn rules_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("INVOICE_EN16931_DIR") {
        return Some(PathBuf::from(dir)).filter(|d| d.join("validate.py").is_file());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().ok()?;
    root.ancestors()
        .skip(1)
        .map(|d| d.join("shared/en16931"))
        .find(|d| d.join("validate.py").is_file())
}

/// A Python that has `saxonche`: `INVOICE_EN16931_PYTHON`, else `python3`.
fn python() -> Option<String> {
    let python = std::env::var("INVOICE_EN16931_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python)
        .args(["-c", "import saxonche"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(python)
}

/// The validator, or `None` after a loud SKIPPED line; a failure instead
/// when `INVOICE_REQUIRE_EN16931=1`.
fn validator() -> Option<(String, PathBuf)> {
    let found = python().zip(rules_dir());
    if found.is_none() {
        let why = "EN 16931 validation SKIPPED: the official rules (../shared/en16931/validate.py) or a python3 with saxonche are missing; set INVOICE_EN16931_DIR / INVOICE_EN16931_PYTHON";
        if std::env::var("INVOICE_REQUIRE_EN16931").is_ok_and(|v| v == "1") {
            panic!("{why} (INVOICE_REQUIRE_EN16931=1)");
        }
        eprintln!("\n*** {why} ***\n");
    }
    found
}

/// Runs `validate.py` once over `files`: (exit code, output).
fn validate(python: &str, dir: &Path, files: &[PathBuf]) -> (i32, String) {
    let out = Command::new(python)
        .arg(dir.join("validate.py"))
        .args(files)
        .output()
        .expect("run validate.py");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// Makes the matrix of documents through the HTTP API of `s` and writes them
/// into `dir`, named `<backend>-<case>.xml`.
fn matrix(s: &TestServer, dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut save = |name: &str, xml: String| {
        let path = dir.join(format!("{}-{name}.xml", s.backend));
        std::fs::write(&path, xml).unwrap();
        files.push(path);
    };
    let b = buyer();
    let key = s.key.clone();
    assert_eq!(patch_tenant(s, &key, &full_seller()).status, 200);
    let doc = |path: String| document(s, &key, &path);
    let inv_doc = |inv: &Value, profile: &str| {
        doc(format!(
            "/v1/invoices/{}/document{profile}",
            inv["id"].as_str().unwrap()
        ))
    };
    let cancel = |inv: &Value, body: Value| {
        let r = post(
            s,
            &key,
            &format!("/v1/invoices/{}/cancel", inv["id"].as_str().unwrap()),
            &body,
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["credit_notes"].as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let cn_doc = |id: &str, profile: &str| doc(format!("/v1/credit-notes/{id}/document{profile}"));

    // Several rates in one invoice (19 and 7), then a partial credit note, then a full one.
    let rates = open_with(
        s,
        &key,
        &invoice(
            "EUR",
            b.clone(),
            vec![
                line("a", 3, 12_345, "19"),
                line("b", 2, 1_250, "7"),
                line("c", 1, 333, "19"),
            ],
        ),
    );
    save("rates-19-7", inv_doc(&rates, ""));
    save("rates-19-7-xrechnung", inv_doc(&rates, "?profile=xrechnung"));
    let partial = cancel(&rates, json!({"reason": "Toll waived", "lines": [{"product_id": "b"}]}));
    save("credit-note-partial", cn_doc(&partial, ""));
    save("credit-note-partial-xrechnung", cn_doc(&partial, "?profile=xrechnung"));
    let full = open_with(
        s,
        &key,
        &invoice(
            "EUR",
            b.clone(),
            vec![line("a", 1, 50_000, "19"), line("b", 4, 725, "7")],
        ),
    );
    let whole = cancel(
        &full,
        json!({"reason": "Issued in error", "reason_code": "issued_in_error"}),
    );
    save("credit-note-full", cn_doc(&whole, ""));
    // 0 % (Z) and exempt (E with a reason) beside a standard line.
    let untaxed = open_with(
        s,
        &key,
        &invoice(
            "EUR",
            b.clone(),
            vec![
                line("std", 1, 10_000, "19"),
                json!({"product_id": "z", "description": "Printed books", "quantity": 5, "unit_amount": 1_990, "tax_rate": "0", "tax_category": "Z"}),
                json!({"product_id": "e", "description": "Medical service", "quantity": 1, "unit_amount": 8_000, "tax_rate": "0",
               "tax_category": "E", "exemption_reason_code": "VATEX-EU-132-1C", "exemption_reason": "Exempt under Art. 132(1)(c)"}),
            ],
        ),
    );
    save("zero-and-exempt", inv_doc(&untaxed, ""));
    let exempt_credit = cancel(&untaxed, json!({"reason": "returned", "lines": [{"product_id": "e"}]}));
    save("credit-note-exempt", cn_doc(&exempt_credit, ""));
    // Reverse charge (AE).
    let ae = open_with(
        s,
        &key,
        &invoice(
            "EUR",
            b.clone(),
            vec![json!({"product_id": "rc", "description": "Consulting", "quantity": 10,
        "unit_amount": 15_000, "tax_rate": "0", "tax_category": "AE", "exemption_reason_code": "VATEX-EU-AE", "exemption_reason": "Reverse charge"})],
        ),
    );
    save("reverse-charge", inv_doc(&ae, ""));
    // A tax-inclusive line beside a net one.
    let inclusive = open_with(
        s,
        &key,
        &invoice(
            "EUR",
            b.clone(),
            vec![
                json!({"product_id": "gross", "description": "Ticket (gross)", "quantity": 3, "unit_amount": 999, "tax_rate": "19", "tax_inclusive": true}),
                line("net", 1, 100, "19"),
            ],
        ),
    );
    save("tax-inclusive", inv_doc(&inclusive, ""));
    let inclusive_credit = cancel(
        &inclusive,
        json!({"reason": "refund", "lines": [{"product_id": "gross"}]}),
    );
    save("credit-note-tax-inclusive", cn_doc(&inclusive_credit, ""));
    // A buyer without a VAT id.
    let mut plain_buyer = b.clone();
    plain_buyer["tax_number"] = Value::Null;
    let no_vat = open_with(s, &key, &invoice("EUR", plain_buyer, vec![line("a", 1, 4_200, "19")]));
    save("buyer-without-vat-id", inv_doc(&no_vat, ""));
    // An issuer party as the seller (its tax number with a VAT prefix is the VAT id).
    let mut issued_by = invoice("EUR", b.clone(), vec![line("a", 1, 7_700, "19")]);
    issued_by["issuer"] = json!({"id": "trp-1", "name": "Spedition Süd GmbH", "tax_number": "ATU12345678", "email": "rechnung@sued.example",
                                 "address": {"street": "Ring 1", "city": "Wien", "postcode": "1010", "country": "AT"}});
    let issuer_inv = open_with(s, &key, &issued_by);
    save("issuer-as-seller", inv_doc(&issuer_inv, ""));

    // JPY (no decimals) and KWD (three) in their own tenants.
    let (_, jpy_key) = s.other_tenant("tokyo");
    let mut jp_seller = full_seller();
    jp_seller["seller"]["address"]["country"] = json!("JP");
    assert_eq!(patch_tenant(s, &jpy_key, &jp_seller).status, 200);
    let yen = open_with(
        s,
        &jpy_key,
        &invoice(
            "JPY",
            b.clone(),
            vec![line("a", 3, 1_000, "10"), line("b", 1, 5_000, "8")],
        ),
    );
    save(
        "jpy",
        document(
            s,
            &jpy_key,
            &format!("/v1/invoices/{}/document", yen["id"].as_str().unwrap()),
        ),
    );
    let r = post(
        s,
        &jpy_key,
        &format!("/v1/invoices/{}/cancel", yen["id"].as_str().unwrap()),
        &json!({"reason": "cancelled"}),
    );
    let yen_cn = r.json["credit_notes"][0]["id"].as_str().unwrap().to_string();
    save(
        "jpy-credit-note",
        document(s, &jpy_key, &format!("/v1/credit-notes/{yen_cn}/document")),
    );
    let (_, kwd_key) = s.other_tenant("kuwait");
    let mut kw_seller = full_seller();
    kw_seller["seller"]["address"]["country"] = json!("KW");
    assert_eq!(patch_tenant(s, &kwd_key, &kw_seller).status, 200);
    let kwd = open_with(
        s,
        &kwd_key,
        &invoice(
            "KWD",
            b.clone(),
            vec![
                json!({"product_id": "z", "description": "Goods", "quantity": 10, "unit_amount": 1_234, "tax_rate": "0", "tax_category": "Z"}),
                line("s", 1, 5_000, "10"),
            ],
        ),
    );
    let kwd_xml = document(
        s,
        &kwd_key,
        &format!("/v1/invoices/{}/document", kwd["id"].as_str().unwrap()),
    );
    assert!(
        kwd_xml.contains(r#"<cbc:PriceAmount currencyID="KWD">1.234</cbc:PriceAmount>"#),
        "{kwd_xml}"
    );
    assert!(kwd_xml.contains(r#"<cbc:LineExtensionAmount currencyID="KWD">12.34</cbc:LineExtensionAmount>"#));
    save("kwd", kwd_xml);
    // A KWD amount that needs three decimals cannot be an EN 16931 document.
    let fils = open_with(s, &kwd_key, &invoice("KWD", b.clone(), vec![line("s", 1, 1_235, "10")]));
    let r = get(
        s,
        &kwd_key,
        &format!("/v1/invoices/{}/document", fils["id"].as_str().unwrap()),
    );
    assert_eq!(r.code(), "document_incomplete", "{}", r.text);
    assert!(
        missing_fields(&r).iter().any(|(_, rule)| rule.starts_with("BR-DEC")),
        "{}",
        r.text
    );

    // A seller with only a tax registration (no VAT id).
    let (_, local_key) = s.other_tenant("kleinbetrieb");
    let mut local = full_seller();
    local["seller"]["vat_id"] = Value::Null;
    assert_eq!(patch_tenant(s, &local_key, &local).status, 200);
    let local_inv = open_with(
        s,
        &local_key,
        &invoice("EUR", b.clone(), vec![line("a", 2, 2_500, "19")]),
    );
    save(
        "seller-tax-registration-only",
        document(
            s,
            &local_key,
            &format!("/v1/invoices/{}/document", local_inv["id"].as_str().unwrap()),
        ),
    );
    files
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_matrix_of_documents_made_through_the_api_passes_the_official_en16931_rules() {
    let tool = validator();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for t in backends() {
        let s = TestServer::start(t);
        files.extend(matrix(&s, dir.path()));
    }
    for f in &files {
        well_formed(&std::fs::read_to_string(f).unwrap());
    }
    let Some((python, rules)) = tool else {
        return;
    };
    let (code, out) = validate(&python, &rules, &files);
    let valid = out.lines().filter(|l| l.contains(": valid (")).count();
    let fatal = out.lines().filter(|l| l.contains(": fatal ")).count();
    let warnings: usize = out
        .lines()
        .filter_map(|l| l.split(": valid (").nth(1))
        .filter_map(|rest| rest.split(' ').next())
        .filter_map(|n| n.parse::<usize>().ok())
        .sum();
    eprintln!(
        "EN 16931 validation: {} documents, {valid} valid, {fatal} fatal failures, {warnings} warnings",
        files.len()
    );
    assert_eq!((code, fatal), (0, 0), "validate.py found fatal failures:\n{out}");
    assert_eq!(valid, files.len(), "every document validated:\n{out}");

    // The check can fail: a document with a broken rule is caught.
    let broken = dir.path().join("broken.xml");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    std::fs::write(
        &broken,
        text.replace("<cbc:InvoiceTypeCode>380<", "<cbc:InvoiceTypeCode>999<"),
    )
    .unwrap();
    let (code, out) = validate(&python, &rules, &[broken]);
    assert!(code == 1 && out.contains("BR-CL-01"), "{out}");
}
