//! Request ids, one structured log line per request, and metrics.

use std::time::Instant;

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};

use actix_web::http::StatusCode;

use super::problem::ApiError;
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
            "uri_too_long",
            format!("the request target must be at most {MAX_URL} bytes"),
        ));
    }
    let header_bytes: usize = req.headers().iter().map(|(n, v)| n.as_str().len() + v.len()).sum();
    if header_bytes > MAX_HEADERS {
        return Some(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
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
    let method = req.method().to_string();
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
        state.metrics.observe(&method, &route, status, seconds);
    }
    tracing::info!(
        request_id = %id,
        method = %method,
        route = %route,
        status,
        duration_ms = seconds * 1000.0,
        "request"
    );
    Ok(res)
}
