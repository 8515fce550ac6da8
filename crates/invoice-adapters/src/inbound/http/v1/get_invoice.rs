//! `GET /v1/invoices/{reference}`: one invoice by id or number.

use crate::inbound::http::contract::{Guarded, InvoicePath};
use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec::{self, parse_ref};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::InvoiceView;

/// Query parameters of the fetch.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// Return the invoice as it was right after the change that gave it
    /// this version (an audit view; the current invoice when omitted).
    #[param(nullable = false, minimum = 1)]
    pub version: Option<u64>,
}

/// Fetches an invoice by any of its references; with `version`,
/// as it was at that version.
#[utoipa::path(get, path = "/v1/invoices/{reference}", tag = "invoices",
    params(InvoicePath, GetParams),
    responses(
        (status = 200, description = "The invoice", body = InvoiceView, headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"`"))),
        (status = 400, description = "Bad reference", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant, or no such version of it", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_invoice(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<GetParams>,
) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::InvoicesRead)?;
    let reference = parse_ref(&path)?;
    let scope = principal.scope();
    let version = params.version;
    if version == Some(0) {
        return Err(ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQueryParameter,
            "version must be at least 1",
        ));
    }
    let invoice = exec::read_single(&state, move |st, store| match version {
        None => st.service.get(store, &scope, &reference),
        Some(v) => st.service.get_version(store, &scope, &reference, v),
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, format!("\"{}\"", invoice.version)))
        .json(InvoiceView::from(&invoice)))
}
