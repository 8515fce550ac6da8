//! Renderers of e-invoice documents: the domain's [`EDocument`] turned
//! into bytes for the outside world, UBL 2.1 XML for machines
//! ([`ubl`]) and a printable HTML page for people ([`html`]). Neither looks
//! anything up: what a document shows is what the domain put in it.

pub mod html;
pub mod ubl;

use invoice_domain::{EDocument, Profile};
use sha2::{Digest, Sha256};

/// Which rendering a caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// UBL 2.1 XML (`application/xml`, the default).
    Xml,
    /// The printable page (`text/html`).
    Html,
}

/// A rendered document with its content type and a strong `ETag`.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The bytes.
    pub body: Vec<u8>,
    /// `application/xml; charset=utf-8` or `text/html; charset=utf-8`.
    pub content_type: &'static str,
    /// A quoted hash of the bytes: the same document renders the same bytes,
    /// so the tag only changes when the document does.
    pub etag: String,
}

/// Renders `doc` for `profile` in `format`.
pub fn render(doc: &EDocument, profile: Profile, format: Format) -> Rendered {
    let (body, content_type) = match format {
        Format::Xml => (ubl::render(doc, profile), "application/xml; charset=utf-8"),
        Format::Html => (html::render(doc, profile).into_bytes(), "text/html; charset=utf-8"),
    };
    let digest = Sha256::digest(&body);
    Rendered {
        etag: format!("\"{}\"", hex::encode(&digest[..16])),
        body,
        content_type,
    }
}
