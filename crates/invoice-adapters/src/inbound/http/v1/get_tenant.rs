//! `GET /v1/tenant`: the caller's tenant, its seller profile and document settings.

use actix_web::{web, HttpResponse};
use invoice_domain::SettingsRepository;

use crate::inbound::http::auth::Principal;
use crate::inbound::http::exec;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::TenantView;

/// The tenant's seller profile and document settings.
#[utoipa::path(get, path = "/v1/tenant", tag = "tenant",
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing the `tenant:manage` scope, or `X-Tenant` of another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn get_tenant(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    principal.require("tenant:manage")?;
    let tenant = principal.tenant;
    let settings = exec::read(&state, move |_, store| Ok(store.settings(tenant)?)).await?;
    Ok(HttpResponse::Ok().json(TenantView::new(tenant.get(), &principal.tenant_slug, &settings)))
}
