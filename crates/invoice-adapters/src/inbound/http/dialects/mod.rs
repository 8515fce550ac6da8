//! The seed-API dialects: other vendors' documented requests and envelopes,
//! served on top of the same use cases. Each dialect only translates.

use actix_web::web;

use super::state::Dialects;

/// Mounts the enabled dialects.
pub fn configure(_cfg: &mut web::ServiceConfig, _dialects: &Dialects) {}

/// OpenAPI documents of the enabled dialects.
pub fn documents(_dialects: &Dialects) -> Vec<utoipa::openapi::OpenApi> {
    Vec::new()
}
