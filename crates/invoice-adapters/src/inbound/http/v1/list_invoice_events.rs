//! `GET /v1/invoices/{reference}/events`: the audit trail.

use crate::inbound::http::contract::{Guarded, InvoicePath};
use actix_web::{web, HttpResponse};

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec::{self, parse_ref};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::{EventList, EventView};

/// Lists an invoice's events, oldest first.
#[utoipa::path(get, path = "/v1/invoices/{reference}/events", tag = "invoices",
    params(InvoicePath),
    responses(
        (status = 200, description = "The audit trail", body = EventList),
        (status = 400, description = "Bad reference", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list_invoice_events(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::InvoicesRead)?;
    let reference = parse_ref(&path)?;
    let scope = principal.scope();
    let events = exec::read(&state, move |st, store| st.service.events(store, &scope, &reference)).await?;
    Ok(HttpResponse::Ok().json(EventList {
        object: "list",
        data: events.iter().map(EventView::from).collect(),
    }))
}
