//! The OpenAPI 3.1 document, generated from the handlers and schemas.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::health;
use super::problem::{FieldError, Problem};
use super::state::Dialects;
use super::v1;
use super::views::*;

/// Adds the Bearer and Basic security schemes.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

/// The `/v1` API and the operations endpoints.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Storno invoice API",
        description = "Invoices per tenant, with exact cancellation (full or by line), void, credit notes, an audit trail, idempotent requests and optimistic concurrency. Errors are RFC 9457 problem+json with a stable `code`.",
        version = "1.0.0",
        license(name = "Apache-2.0")
    ),
    paths(
        v1::create_invoice,
        v1::list_invoices,
        v1::get_invoice,
        v1::finalize_invoice,
        v1::record_payment,
        v1::refund_payment,
        v1::cancel_invoice,
        v1::void_invoice,
        v1::approve_invoice,
        v1::reject_invoice,
        v1::list_invoice_events,
        v1::get_credit_note,
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    components(schemas(Problem, FieldError, InvoiceView, InvoiceList, CreditNoteView, EventList, EventView)),
    modifiers(&Security),
    tags(
        (name = "invoices", description = "The product's own API"),
        (name = "credit notes", description = "Documents cancelling issued invoices"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The document for the mounted dialects.
pub fn document(dialects: &Dialects) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for extra in super::dialects::documents(dialects) {
        doc.merge(extra);
    }
    doc
}
