//! `DELETE /v1/webhook-endpoints/{id}`: remove an endpoint with its delivery log; nothing more is sent to it.

use actix_web::{web, HttpResponse};

use super::{managed_endpoint, write};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::{EndpointMissing, EndpointPath, WebhookAccess};
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::state::AppState;

/// Deletes a webhook endpoint and its deliveries.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(EndpointPath),
    responses(
        (status = 204, description = "Deleted"),
        EndpointMissing,
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn delete_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = managed_endpoint(&principal, &path)?;
    write(&state, move |hooks| hooks.delete_endpoint(tenant, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
