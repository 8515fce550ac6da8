//! `GET /v1/invoices/{reference}/events`: the audit trail.

use actix_web::{web, HttpResponse};

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec::{self, parse_ref};
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::{EventList, EventView};

/// Lists an invoice's events, oldest first.
#[utoipa::path(get, path = "/v1/invoices/{reference}/events", tag = "invoices",
    params(("reference" = String, Path, description = "Invoice UUID, number (e.g. `INV-000052`) or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$")),
    responses(
        (status = 200, description = "The audit trail", body = EventList),
        (status = 400, description = "Bad reference", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list_invoice_events(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require("invoices:read")?;
    let reference = parse_ref(&path)?;
    let scope = principal.scope();
    let events = exec::read(&state, move |st, store| st.service.events(store, &scope, &reference)).await?;
    Ok(HttpResponse::Ok().json(EventList {
        object: "list",
        data: events.iter().map(EventView::from).collect(),
    }))
}
