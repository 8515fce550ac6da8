//! `PATCH /v1/tenant`: change the seller profile and document settings.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use invoice_domain::SettingsRepository;

use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::{parse_json, read_body};
use crate::inbound::http::exec::{self, problem_reply, Reply};
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::{TenantPatchBody, TenantView};

/// Changes the tenant's settings as a JSON merge patch: a field left out
/// stays, `null` clears it, a value replaces it (nested objects as a whole).
/// Invoices already issued keep the seller they were issued with.
#[utoipa::path(patch, path = "/v1/tenant", tag = "tenant",
    request_body(content = TenantPatchBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The tenant after the change", body = TenantView),
        (status = 400, description = "Malformed JSON or JSON nested too deep", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing the `tenant:manage` scope, or `X-Tenant` of another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields; nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn update_tenant(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.require("tenant:manage")?;
    let body = read_body(&req, payload).await?;
    let patch = parse_json::<TenantPatchBody>(&req, &body)?;
    // serde also reads a struct from an array of its fields; the contract
    // only describes an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_type",
            "the body must be a JSON object",
        ));
    }
    Ok(exec::write(&state, None, problem_reply, move |_, store| {
        let tenant = principal.tenant;
        let next = patch.apply(&store.settings(tenant)?)?;
        store.save_settings(tenant, &next)?;
        Ok(Reply::json(
            StatusCode::OK,
            &TenantView::new(tenant.get(), &principal.tenant_slug, &next),
        ))
    })
    .await)
}
