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
    params(("reference" = String, Path, description = "Invoice UUID or number like INV-000052")),
    responses(
        (status = 200, description = "The invoice", body = InvoiceView),
        (status = 400, description = "Bad reference", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another party's invoice", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
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
