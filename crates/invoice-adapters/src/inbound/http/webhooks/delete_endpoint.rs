//! `DELETE /v1/webhook-endpoints/{id}`: remove an endpoint with its delivery log; nothing more is sent to it.

use actix_web::{web, HttpResponse};

use super::{endpoint_not_found, path_id, require_manage};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::outbound::webhooks::store;

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
    let tenant = principal.tenant.get();
    let st = state.clone();
    let deleted =
        crate::inbound::http::exec::blocking(move || st.db.write_conn(|c| store::delete_endpoint(c, tenant, &id)))
            .await
            .map_err(|e| ApiError::internal(&e))??;
    if deleted {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(endpoint_not_found())
    }
}
