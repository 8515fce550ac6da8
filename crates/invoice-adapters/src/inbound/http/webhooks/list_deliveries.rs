//! `GET /v1/webhook-endpoints/{id}/deliveries`: the delivery log — attempts, status codes, next retry.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{hyphenated_uuid, managed_endpoint, read, DeliveryList, DeliveryView};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::contract::{EndpointMissing, EndpointPath, WebhookAccess};
use crate::inbound::http::problem::{ApiError, ErrorCode, Problem};
use crate::inbound::http::state::AppState;

/// Query parameters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Page size, 1–100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The last id of the previous page.
    #[param(nullable = false, value_type = Option<uuid::Uuid>)]
    pub starting_after: Option<String>,
}

/// Lists an endpoint's deliveries, newest first, each with its attempts.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(EndpointPath, DeliveryParams),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryList),
        (status = 400, description = "Bad or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        EndpointMissing,
        WebhookAccess,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    params: web::Query<DeliveryParams>,
) -> Result<HttpResponse, ApiError> {
    let (tenant, id) = managed_endpoint(&principal, &path)?;
    let p = params.into_inner();
    let bad = |msg: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQueryParameter,
            msg.to_string(),
        )
    };
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(bad("limit must be between 1 and 100"));
    }
    let after = p
        .starting_after
        .map(|s| hyphenated_uuid(&s).ok_or_else(|| bad("starting_after is not a delivery id")))
        .transpose()?;
    let page = read(&state, move |hooks| {
        hooks.deliveries(tenant, &id, limit, after.as_deref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(DeliveryList {
        object: "list",
        data: page.deliveries.into_iter().map(DeliveryView::from).collect(),
        has_more: page.has_more,
    }))
}
