//! `GET /v1/invoices/{reference}`: one invoice by id or number.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec::{self, parse_ref};
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::InvoiceView;

/// Fetches an invoice by UUID or by its finalized number.
#[utoipa::path(get, path = "/v1/invoices/{reference}", tag = "invoices",
    params(("reference" = String, Path, description = "Invoice UUID, number (e.g. `INV-000052`) or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$")),
    responses(
        (status = 200, description = "The invoice", body = InvoiceView, headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"`"))),
        (status = 400, description = "Bad reference", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_invoice(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require("invoices:read")?;
    let reference = parse_ref(&path)?;
    let scope = principal.scope();
    let invoice = exec::read(&state, move |st, store| st.service.get(store, &scope, &reference)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", invoice.version)))
        .json(InvoiceView::from(&invoice)))
}
