//! `GET /v1/events`: the event log, oldest first, for clients that poll instead of receiving webhooks.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use invoice_domain::EventKind;
use serde::Deserialize;
use utoipa::IntoParams;

use super::EventPage;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::outbound::webhooks::{store, EventObject};

/// Query parameters of the event log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Only events of this type, e.g. `invoice.cancelled`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// The last event id of the previous page (or the last event you processed).
    pub starting_after: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
}

/// Lists the tenant's events, oldest first, each with the invoice as it was
/// right after it. A party-restricted key sees only its invoices' events.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventParams),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "Bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing invoices:read scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list_events(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, ApiError> {
    principal.require("invoices:read")?;
    let p = params.into_inner();
    let bad = |msg: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query_parameter", msg);
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit must be between 1 and 100".into()));
    }
    if let Some(t) = &p.event_type {
        if !EventKind::TYPE_NAMES.contains(&t.as_str()) {
            return Err(bad(format!(
                "type must be one of: {}",
                EventKind::TYPE_NAMES.join(", ")
            )));
        }
    }
    let tenant = principal.tenant;
    let party = principal.party.as_ref().map(|p| p.as_str().to_string());
    let st = state.clone();
    let mut events = web::block(move || {
        st.db.read(|store| {
            let after = match &p.starting_after {
                Some(id) => Some(
                    store
                        .event_seq(tenant, id)?
                        .ok_or_else(|| bad("starting_after is not an event of this tenant".into()))?,
                ),
                None => None,
            };
            let fetch = i64::from(limit) + 1;
            let kind = p.event_type.as_deref();
            let rows = match &party {
                None => store.event_rows(tenant, kind, after, fetch)?,
                Some(party) => store::party_event_rows(store.connection(), tenant.get(), party, kind, after, fetch)?,
            };
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let event = EventObject::from_row(row)?;
                if party.as_deref().is_none_or(|p| event.involves(p)) {
                    out.push(event);
                }
            }
            Ok::<_, ApiError>(out)
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let has_more = events.len() > limit as usize;
    events.truncate(limit as usize);
    Ok(HttpResponse::Ok().json(EventPage {
        object: "list",
        data: events,
        has_more,
    }))
}
