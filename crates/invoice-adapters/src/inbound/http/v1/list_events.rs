//! `GET /v1/events`: the event log, oldest first, for clients that poll instead of receiving webhooks.
//! It reads through the [`EventLog`] port, never the event rows.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use invoice_domain::EventKind;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, ErrorCode, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::webhooks::hyphenated_uuid;
use crate::ports::{EventListing, EventLog, EventQuery};
use crate::representation::{EventData, EventObject, EventPage};

/// Query parameters of the event log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only events of this type, e.g. `invoice.cancelled`.
    #[serde(rename = "type")]
    #[param(rename = "type", schema_with = event_type_schema)]
    pub event_type: Option<String>,
    /// The last event id of the previous page (or the last event you
    /// processed); an id that names no event of this tenant is 404.
    #[param(nullable = false, value_type = Option<uuid::Uuid>)]
    pub starting_after: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `type`: one of the event types.
fn event_type_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some("Only events of this type, e.g. `invoice.cancelled`."))
        .enum_values(Some(EventKind::TYPE_NAMES.iter().copied()))
        .build()
}

/// 404 for a `starting_after` that names no event of the caller's tenant.
fn event_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::EventNotFound,
        "starting_after names no event of this tenant",
    )
}

/// Lists the tenant's events, oldest first, each with the invoice as it was
/// right after it. A party-restricted key sees only its invoices' events.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventParams),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "Bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing invoices:read scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`starting_after` names no event of this tenant (`event_not_found`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list_events(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<EventParams>,
) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::InvoicesRead)?;
    let p = params.into_inner();
    let bad = |msg: String| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidQueryParameter, msg);
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
    let starting_after = p
        .starting_after
        .as_deref()
        .map(|s| hyphenated_uuid(s).ok_or_else(|| bad("starting_after is not an event id".into())))
        .transpose()?;
    let st = state.clone();
    let listing = exec::blocking(move || {
        st.db.events(&EventQuery {
            tenant: principal.tenant,
            party: principal.party.as_ref(),
            event_type: p.event_type.as_deref(),
            starting_after: starting_after.as_deref(),
            limit,
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let EventListing::Page { events, has_more } = listing else {
        return Err(event_not_found());
    };
    Ok(HttpResponse::Ok().json(EventPage {
        object: "list",
        data: events,
        has_more,
    }))
}

/// The OpenAPI path and schemas of the event log.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list_events),
    components(schemas(EventObject, EventData, EventPage)),
    tags((name = "events", description = "The event log, for clients that poll instead of receiving webhooks"))
)]
pub struct EventsDoc;
