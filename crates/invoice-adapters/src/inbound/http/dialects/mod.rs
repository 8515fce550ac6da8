//! The seed-API dialects: other vendors' documented requests and envelopes,
//! served on top of the same use cases. Each dialect only translates: it
//! parses the vendor's request into a domain command, runs it through
//! `exec` like `/v1` does, and renders the result and every error in the
//! vendor's envelope. See `docs/dialects.md` for the field mappings.

pub mod chargeover;
mod common;
pub mod flextell;
pub mod plugnpaid;
pub mod tms;

use actix_web::web;
use utoipa::OpenApi;

use super::state::Dialects;

/// Mounts the enabled dialects.
pub fn configure(cfg: &mut web::ServiceConfig, dialects: &Dialects) {
    if dialects.tms {
        tms::configure(cfg);
    }
    if dialects.plugnpaid {
        plugnpaid::configure(cfg);
    }
    if dialects.chargeover {
        chargeover::configure(cfg);
    }
    if dialects.flextell {
        flextell::configure(cfg);
    }
}

/// OpenAPI documents of the enabled dialects.
pub fn documents(dialects: &Dialects) -> Vec<utoipa::openapi::OpenApi> {
    let mut docs = Vec::new();
    if dialects.tms {
        docs.push(tms::TmsDoc::openapi());
    }
    if dialects.plugnpaid {
        docs.push(plugnpaid::PlugnpaidDoc::openapi());
    }
    if dialects.chargeover {
        docs.push(chargeover::ChargeOverDoc::openapi());
    }
    if dialects.flextell {
        docs.push(flextell::FlextellDoc::openapi());
    }
    docs
}
