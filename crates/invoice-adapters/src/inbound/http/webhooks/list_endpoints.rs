//! `GET /v1/webhook-endpoints`: the tenant's endpoints (without secrets).

use actix_web::{web, HttpResponse};

use super::{read, require_manage, EndpointList, EndpointView};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::WebhookAccess;
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::state::AppState;

/// Lists the tenant's webhook endpoints, oldest first.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks",
    responses(
        (status = 200, description = "Every endpoint of the tenant", body = EndpointList),
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list_endpoints(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let tenant = require_manage(&principal)?;
    let endpoints = read(&state, move |hooks| hooks.endpoints(tenant)).await?;
    Ok(HttpResponse::Ok().json(EndpointList {
        object: "list",
        data: endpoints.into_iter().map(EndpointView::from).collect(),
        has_more: false,
    }))
}
