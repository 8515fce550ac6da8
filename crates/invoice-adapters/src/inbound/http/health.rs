//! `GET /healthz`, `GET /readyz` and `GET /metrics`: operations endpoints.

use std::time::Instant;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::exec;
use super::state::AppState;
use crate::ports::{OutboxGauge, OutboxStats};

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
    let ping = exec::blocking(move || st.db.ping()).await;
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
    let outbox = outbox_stats(&state).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(state.db.pool_state(), outbox))
}

/// The outbox figures, read from the database at most once per
/// `outbox_stats_max_age` (the endpoint is unauthenticated, so a scrape
/// storm must not become a query storm). When the database cannot be read,
/// the last figures stand.
async fn outbox_stats(state: &web::Data<AppState>) -> Option<OutboxStats> {
    let cached = state.outbox_stats.lock().ok().and_then(|c| *c);
    if let Some((at, stats)) = cached {
        if at.elapsed() < state.outbox_stats_max_age {
            return Some(stats);
        }
    }
    let st = state.clone();
    let now = chrono::Utc::now().naive_utc();
    let read = exec::blocking(move || st.db.outbox_stats(now)).await;
    match read {
        Ok(Ok(fresh)) => {
            if let Ok(mut c) = state.outbox_stats.lock() {
                *c = Some((Instant::now(), fresh));
            }
            Some(fresh)
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not read the outbox figures for /metrics");
            cached.map(|(_, s)| s)
        }
        Err(_) => cached.map(|(_, s)| s),
    }
}
