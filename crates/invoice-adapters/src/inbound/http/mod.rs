//! The HTTP adapter: the `/v1` API, the seed-API dialects, and the
//! cross-cutting pieces they share (auth, problem+json, idempotency,
//! request ids, metrics, rate limits, the interactive docs).

pub mod auth;
pub mod body;
pub mod contract;
pub mod dialects;
pub mod docs;
pub mod exec;
pub mod health;
pub mod key_cache;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod principal;
pub mod problem;
pub mod rate_limit;
pub mod state;
pub mod v1;
pub mod views;
pub mod webhooks;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};

pub use problem::{ApiError, ErrorCode};
pub use state::{AppState, Dialects};

/// Server tuning.
#[derive(Debug, Clone, Copy)]
pub struct ServerConfig {
    /// Worker threads (0 means one per core).
    pub workers: usize,
    /// How long a client may take to send its request head.
    pub request_timeout: Duration,
    /// How long in-flight requests may run after SIGTERM.
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            workers: 0,
            request_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::RouteNotFound,
        "no such route",
    ))
}

/// A resource serving only `GET` at `path`; another method answers 405
/// with `Allow: GET`.
fn get_only<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(|| async { problem::method_not_allowed("GET") }))
}

/// Mounts every route of the service on `cfg`.
pub fn routes(cfg: &mut web::ServiceConfig, dialects: &Dialects) {
    cfg.service(get_only("/healthz", health::healthz))
        .service(get_only("/readyz", health::readyz))
        .service(get_only("/metrics", health::metrics))
        .service(get_only("/openapi.json", openapi::openapi_json))
        .service(get_only(docs::DOCS_PATH, docs::docs_redirect))
        .service(get_only("/docs/{file:.*}", docs::docs_file))
        .configure(webhooks::configure)
        .configure(v1::configure);
    dialects::configure(cfg, dialects);
}

/// Builds and starts the HTTP server on `listener`. The returned server
/// drains in-flight requests on SIGTERM or SIGINT before it resolves.
pub fn serve(state: web::Data<AppState>, listener: TcpListener, config: ServerConfig) -> std::io::Result<Server> {
    let dialects = state.dialects.clone();
    let mut server = HttpServer::new(move || {
        let dialects = dialects.clone();
        App::new()
            .app_data(state.clone())
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidQueryParameter,
                    err.to_string(),
                )
                .into()
            }))
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidPathParameter,
                    err.to_string(),
                )
                .into()
            }))
            .configure(|cfg| routes(cfg, &dialects))
            .default_service(web::to(not_found))
            .wrap(actix_web::middleware::from_fn(middleware::observe))
    })
    .listen(listener)?
    .client_request_timeout(config.request_timeout)
    .client_disconnect_timeout(Duration::from_secs(2))
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .max_connection_rate(256);
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
    Ok(server.run())
}
