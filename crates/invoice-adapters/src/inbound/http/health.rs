//! `GET /healthz`, `GET /readyz` and `GET /metrics`: operations endpoints.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Database unavailable")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let ping = web::block(move || st.db.ping()).await;
    match ping {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready", "database": state.db.backend().name()})),
        Ok(Err(e)) => HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "1"))
            .json(json!({"status": "unavailable", "database": state.db.backend().name(), "error": e.to_string()})),
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({"status": "unavailable"})),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Metrics", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(state.db.pool_state()))
}
