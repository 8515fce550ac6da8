//! `GET /v1/webhook-endpoints/{id}`: one endpoint, with its status and why it was disabled.

use actix_web::{web, HttpResponse};

use super::{managed_endpoint, read, EndpointView};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::{EndpointMissing, EndpointPath, WebhookAccess};
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::state::AppState;

/// Shows one webhook endpoint.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(EndpointPath),
    responses(
        (status = 200, description = "The endpoint", body = EndpointView),
        EndpointMissing,
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = managed_endpoint(&principal, &path)?;
    let endpoint = read(&state, move |hooks| hooks.endpoint(tenant, &id)).await?;
    Ok(HttpResponse::Ok().json(EndpointView::from(endpoint)))
}
