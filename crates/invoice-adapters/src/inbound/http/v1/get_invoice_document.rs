//! `GET /v1/invoices/{reference}/document`: an issued invoice as a UBL 2.1
//! `Invoice` (EN 16931, or XRechnung 3.0) or as a printable page.

use actix_web::{web, HttpRequest, HttpResponse};

use super::document::{reply, DocumentQuery};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec::{self, parse_ref};
use crate::inbound::http::problem::{from_use_case, ApiError, Problem};
use crate::inbound::http::state::AppState;

/// The invoice as an e-invoice document.
#[utoipa::path(get, path = "/v1/invoices/{reference}/document", tag = "documents",
    params(("reference" = String, Path, description = "Invoice UUID, number (e.g. `INV-000052`) or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"),
        DocumentQuery,
        ("Accept" = Option<String>, Header, description = "`application/xml` (default) for UBL 2.1, `text/html` for the printable page", nullable = false),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of this document: 304 when it still matches", nullable = false)),
    responses(
        (status = 200, description = "The UBL 2.1 `Invoice` (type code 380), or the printable page; byte for byte the same for the same document", content((String = "application/xml"), (String = "text/html")),
            headers(("ETag" = String, description = "A hash of the bytes"), ("Content-Disposition" = String, description = "`inline` with a file name"), ("Vary" = String, description = "`Accept`"))),
        (status = 304, description = "`If-None-Match` names the current `ETag`", headers(("ETag" = String, description = "A hash of the bytes"))),
        (status = 400, description = "Bad reference or profile", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A draft has no document yet (`invoice_not_issued`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`document_incomplete`: `missing` lists each field the profile requires, with its BT and BR ids", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_invoice_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    query: web::Query<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("invoices:read")?;
    let reference = parse_ref(&path)?;
    let profile = query.profile()?;
    let scope = principal.scope();
    let doc = exec::read(&state, move |st, store| {
        st.service.invoice_document(store, &scope, &reference, profile)
    })
    .await
    .map_err(|e| from_use_case(e, "invoice"))?;
    Ok(reply(&req, &doc, profile))
}
