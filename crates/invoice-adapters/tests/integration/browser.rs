//! The printable page in a real browser: headless Chromium renders a credit
//! note to PNG and to PDF (A4 print CSS), and `pdftotext` reads the PDF
//! back. Skipped loudly without Chromium or poppler; a failure instead when
//! `INVOICE_REQUIRE_BROWSER=1` (as CI sets it).

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::einvoice::{buyer, full_seller};
use crate::http_support::*;
use crate::support::sqlite;

/// The first of `names` that runs, or `None`.
fn find(names: &[&str], probe: &str) -> Option<String> {
    names
        .iter()
        .find(|n| Command::new(n).arg(probe).output().is_ok_and(|o| o.status.success()))
        .map(|n| n.to_string())
}

fn tools() -> Option<(String, String)> {
    let chromium = std::env::var("INVOICE_CHROMIUM")
        .ok()
        .or_else(|| find(&["chromium", "chromium-browser", "google-chrome"], "--version"));
    let pdftotext = find(&["pdftotext"], "-v");
    let found = chromium.zip(pdftotext);
    if found.is_none() {
        let why = "browser test SKIPPED: Chromium or pdftotext is missing (apt-get install chromium poppler-utils)";
        if std::env::var("INVOICE_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("{why} (INVOICE_REQUIRE_BROWSER=1)");
        }
        eprintln!("\n*** {why} ***\n");
    }
    found
}

fn chromium(bin: &str, profile: &Path, args: &[String]) {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_credit_note_prints_in_headless_chromium_with_its_number_totals_and_reference() {
    let Some((chrome, pdftotext)) = tools() else {
        return;
    };
    let s = TestServer::start(sqlite());
    let patched = Req::new("PATCH", &format!("{}/v1/tenant", s.base))
        .bearer(&s.key)
        .json(&full_seller())
        .send();
    assert_eq!(patched.status, 200, "{}", patched.text);
    let inv = s.open(&json!({"currency": "EUR", "customer": buyer(), "buyer_reference": "PO-4711",
        "lines": [{"product_id": "a", "description": "Freight Hamburg-Berlin", "quantity": 2, "unit_amount": 60_000, "tax_rate": "19"},
                  {"product_id": "b", "description": "Motorway toll", "quantity": 1, "unit_amount": 4_500, "tax_rate": "7"}]}));
    let cancel = s
        .req("POST", &format!("/v1/invoices/{}/cancel", inv["id"].as_str().unwrap()))
        .json(&json!({"reason": "Freight not delivered", "lines": [{"product_id": "a"}]}))
        .send();
    assert_eq!(cancel.status, 200, "{}", cancel.text);
    let cn_id = cancel.json["credit_notes"][0]["id"].as_str().unwrap();
    let page = s
        .req("GET", &format!("/v1/credit-notes/{cn_id}/document"))
        .header("Accept", "text/html")
        .send();
    assert_eq!(page.status, 200, "{}", page.text);

    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("credit-note.html");
    std::fs::write(&html, &page.text).unwrap();
    let url = format!("file://{}", html.display());
    let png = dir.path().join("credit-note.png");
    let pdf = dir.path().join("credit-note.pdf");
    chromium(
        &chrome,
        &dir.path().join("profile"),
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1240,1754".into(),
            url.clone(),
        ],
    );
    chromium(
        &chrome,
        &dir.path().join("profile"),
        &[format!("--print-to-pdf={}", pdf.display()), url],
    );
    let png_bytes = std::fs::read(&png).expect("a screenshot");
    assert!(
        png_bytes.starts_with(b"\x89PNG") && png_bytes.len() > 10_000,
        "a real PNG"
    );
    let pdf_bytes = std::fs::read(&pdf).expect("a PDF");
    assert!(pdf_bytes.starts_with(b"%PDF"));
    let text = Command::new(&pdftotext)
        .args(["-layout", &pdf.display().to_string(), "-"])
        .output()
        .expect("run pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    let issued = chrono::Utc::now().format("%-d %B %Y").to_string();
    for expected in [
        "Credit note CN-000001".to_string(),
        format!("Credit note for invoice INV-000001 of {issued}"),
        "1,200.00 EUR".to_string(),
        "228.00 EUR".to_string(),
        "1,428.00 EUR".to_string(),
        "Nordlicht Logistik GmbH".to_string(),
        "Freight not delivered".to_string(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in the PDF text:\n{text}");
    }
    // The print CSS asks for A4 pages (pdfinfo ships with pdftotext).
    let info = Command::new("pdfinfo").arg(&pdf).output().expect("run pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("(A4)"), "A4 pages: {info}");
}
