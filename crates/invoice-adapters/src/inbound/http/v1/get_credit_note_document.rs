//! `GET /v1/credit-notes/{id}/document`: a credit note as a UBL 2.1
//! `CreditNote` (EN 16931, or XRechnung 3.0) or as a printable page.

use actix_web::{web, HttpRequest, HttpResponse};

use super::credit_note_id;
use super::document::{self, DocumentQuery};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::{DocumentAnswers, DocumentHeaders, Guarded};
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;

/// The credit note as an e-invoice document: its own lines, VAT breakdown
/// and totals, the credited invoice in `BillingReference` (BT-25, BT-26)
/// and the reason as a note.
#[utoipa::path(get, path = "/v1/credit-notes/{id}/document", tag = "documents",
    params(("id" = uuid::Uuid, Path, description = "Credit note id"), DocumentQuery, DocumentHeaders),
    responses(
        (status = 200, description = "The UBL 2.1 `CreditNote` (type code 381), or the printable page; byte for byte the same for the same document", content((String = "application/xml"), (String = "text/html")),
        headers(("ETag" = String, description = "A hash of the bytes"), ("Content-Disposition" = String, description = "`inline` with a file name"), ("Vary" = String, description = "`Accept`"))),
        (status = 400, description = "Bad id or profile", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such credit note in this tenant", body = Problem, content_type = "application/problem+json"),
        DocumentAnswers, Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_credit_note_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    let parse = || credit_note_id(&path);
    document::serve(
        &req,
        &state,
        &principal,
        &query,
        "credit note",
        parse,
        |svc, store, scope, id, profile| svc.credit_note_document(store, scope, id, profile),
    )
    .await
}
