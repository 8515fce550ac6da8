//! `GET /v1/invoices/{reference}/document`: an issued invoice as a UBL 2.1
//! `Invoice` (EN 16931, or XRechnung 3.0) or as a printable page.

use actix_web::{web, HttpRequest, HttpResponse};

use super::document::{self, DocumentQuery};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::{DocumentAnswers, DocumentHeaders, Guarded, InvoicePath};
use crate::inbound::http::exec::parse_ref;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;

/// The invoice as an e-invoice document.
#[utoipa::path(get, path = "/v1/invoices/{reference}/document", tag = "documents",
    params(InvoicePath, DocumentQuery, DocumentHeaders),
    responses(
        (status = 200, description = "The UBL 2.1 `Invoice` (type code 380), or the printable page; byte for byte the same for the same document", content((String = "application/xml"), (String = "text/html")),
        headers(("ETag" = String, description = "A hash of the bytes"), ("Content-Disposition" = String, description = "`inline` with a file name"), ("Vary" = String, description = "`Accept`"))),
        (status = 400, description = "Bad reference or profile", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A draft has no document yet (`invoice_not_issued`)", body = Problem, content_type = "application/problem+json"),
        DocumentAnswers, Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_invoice_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    let parse = || parse_ref(&path);
    document::serve(
        &req,
        &state,
        &principal,
        &query,
        "invoice",
        parse,
        |svc, store, scope, reference, profile| svc.invoice_document(store, scope, &reference, profile),
    )
    .await
}
