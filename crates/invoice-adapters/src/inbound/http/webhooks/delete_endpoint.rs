//! `DELETE /v1/webhook-endpoints/{id}`: remove an endpoint with its delivery log; nothing more is sent to it.

use actix_web::{web, HttpResponse};

use super::{endpoint_not_found, path_id, require_manage, write};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;

/// Deletes a webhook endpoint and its deliveries.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or bad key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing webhooks:manage scope, or a party-restricted key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint in this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn delete_endpoint(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_manage(&principal)?;
    let id = path_id(&path, endpoint_not_found)?;
    let tenant = principal.tenant;
    write(&state, move |hooks| hooks.delete_endpoint(tenant, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
