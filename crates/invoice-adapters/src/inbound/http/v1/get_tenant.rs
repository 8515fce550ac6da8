//! `GET /v1/tenant`: the caller's tenant, its seller profile and document settings.

use crate::inbound::http::contract::Guarded;
use actix_web::{web, HttpResponse};
use invoice_domain::SettingsRepository;

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::TenantView;

/// The tenant's seller profile and document settings.
#[utoipa::path(get, path = "/v1/tenant", tag = "tenant",
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        (status = 403, description = "Missing the `tenant:manage` scope, or `X-Tenant` of another tenant", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_tenant(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::TenantManage)?;
    let tenant = principal.tenant;
    let settings = exec::read(&state, move |_, store| Ok(store.settings(tenant)?)).await?;
    Ok(HttpResponse::Ok().json(TenantView::new(tenant.get(), &principal.tenant_slug, &settings)))
}
