//! `GET /v1/credit-notes/{id}/document`: a credit note as a UBL 2.1
//! `CreditNote` (EN 16931, or XRechnung 3.0) or as a printable page.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::CreditNoteId;

use super::document::{reply, DocumentQuery};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::problem::{from_use_case, ApiError, Problem};
use crate::inbound::http::state::AppState;

/// The credit note as an e-invoice document: its own lines, VAT breakdown
/// and totals, the credited invoice in `BillingReference` (BT-25, BT-26)
/// and the reason as a note.
#[utoipa::path(get, path = "/v1/credit-notes/{id}/document", tag = "documents",
    params(("id" = uuid::Uuid, Path, description = "Credit note id"),
        DocumentQuery,
        ("Accept" = Option<String>, Header, description = "`application/xml` (default) for UBL 2.1, `text/html` for the printable page", nullable = false),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of this document: 304 when it still matches", nullable = false)),
    responses(
        (status = 200, description = "The UBL 2.1 `CreditNote` (type code 381), or the printable page; byte for byte the same for the same document", content((String = "application/xml"), (String = "text/html")),
            headers(("ETag" = String, description = "A hash of the bytes"), ("Content-Disposition" = String, description = "`inline` with a file name"), ("Vary" = String, description = "`Accept`"))),
        (status = 304, description = "`If-None-Match` names the current `ETag`", headers(("ETag" = String, description = "A hash of the bytes"))),
        (status = 400, description = "Bad id or profile", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such credit note in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`document_incomplete`: `missing` lists each field the profile requires, with its BT and BR ids", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_credit_note_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("invoices:read")?;
    let id: CreditNoteId = path.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path_parameter",
            "the id must be a UUID",
        )
    })?;
    let profile = query.profile()?;
    let scope = principal.scope();
    let doc = exec::read(&state, move |st, store| {
        st.service.credit_note_document(store, &scope, id, profile)
    })
    .await
    .map_err(|e| from_use_case(e, "credit note"))?;
    Ok(reply(&req, &doc, profile))
}
