//! Request ids, one structured log line per request, and metrics.
//!
//! Each request runs inside a `request` tracing span carrying its
//! `request_id`, so every line logged while serving it (the closing
//! `request` line, an `internal error`, a warning from the database layer)
//! names the request it belongs to.

use std::time::Instant;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use tracing::Instrument;

use super::metrics::method_label;
use super::problem::{ApiError, ErrorCode};
use super::state::AppState;

/// The request id of the current request, readable by handlers.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn accept_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic())).then(|| s.to_string())
}

/// Longest accepted request target (path and query), in bytes.
pub const MAX_URL: usize = 8 * 1024;
/// Most header bytes (names and values) accepted in one request.
pub const MAX_HEADERS: usize = 16 * 1024;

/// Refuses request targets and header sets beyond the limits.
fn oversize(req: &ServiceRequest) -> Option<ApiError> {
    if req.uri().to_string().len() > MAX_URL {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            ErrorCode::UriTooLong,
            format!("the request target must be at most {MAX_URL} bytes"),
        ));
    }
    let header_bytes: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
    if header_bytes > MAX_HEADERS {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::HeadersTooLarge,
            format!("request headers must be at most {MAX_HEADERS} bytes"),
        ));
    }
    None
}

/// Assigns or echoes `X-Request-Id`, adds it to problem+json bodies, logs
/// the request and records its metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(accept_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id);
    handle(req, next, id, started).instrument(span).await
}

/// Most characters of a client-chosen value (the method) written to a log line.
const MAX_LOGGED: usize = 32;

/// `text` cut to [`MAX_LOGGED`] characters, marked when cut.
fn truncated(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_LOGGED) {
        Some((at, _)) => format!("{}…", &text[..at]).into(),
        None => text.into(),
    }
}

/// The body of [`observe`], inside the request's span.
async fn handle(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    id: String,
    started: Instant,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let method_label = method_label(req.method());
    let method = truncated(req.method().as_str()).into_owned();
    let state = req.app_data::<web::Data<AppState>>().cloned();

    let res = match oversize(&req) {
        Some(error) => req.error_response(error),
        None => next.call(req).await?.map_into_boxed_body(),
    };
    let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_string());
    let status = res.status().as_u16();
    let is_problem = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));

    let mut res = if is_problem {
        let (http_req, http_res) = res.into_parts();
        let (head, old_body) = http_res.into_parts();
        let bytes = body::to_bytes(old_body).await.unwrap_or_default();
        let rewritten = match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.insert("request_id".into(), serde_json::Value::String(id.clone()));
                serde_json::to_vec(&map).unwrap_or_else(|_| bytes.to_vec())
            }
            _ => bytes.to_vec(),
        };
        ServiceResponse::new(http_req, head.set_body(BoxBody::new(rewritten)))
    } else {
        res.map_into_boxed_body()
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID, v);
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Some(state) = state {
        state.metrics.observe(method_label, &route, status, seconds);
    }
    tracing::info!(
        method = %method,
        route = %route,
        status,
        duration_ms = seconds * 1000.0,
        "request"
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_values_are_cut_to_a_fixed_length() {
        assert_eq!(truncated("GET"), "GET");
        let long = "M".repeat(4000);
        let cut = truncated(&long);
        assert_eq!(cut.chars().count(), MAX_LOGGED + 1);
        assert!(cut.ends_with('…'));
    }
}
