//! `POST /v1/invoices/{reference}/mark-uncollectible`: write an open invoice off: collection halts, nothing is forgiven.

use super::invoice_command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::contract::{
    ChangeErrors, Guarded, IdempotencyHeader, IfMatchHeader, InvoiceChanged, InvoicePath, Refused,
};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Mark an open invoice uncollectible: collection halts; it can still be paid, voided or cancelled.
#[utoipa::path(post, path = "/v1/invoices/{reference}/mark-uncollectible", tag = "invoices",
    request_body(content = Option<ReasonBody>, description = "Optional"),
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(InvoiceChanged, Refused, ChangeErrors,
        // After `ChangeErrors`, so that this route's own words for 403 win.
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or another party's invoice", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn mark_uncollectible(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let reference = path.into_inner();
    invoice_command(
        req,
        state,
        principal,
        KeyScope::InvoicesWrite,
        &reference,
        payload,
        |r, b| Ok(parse_optional_json::<ReasonBody>(r, b)?.into_domain()?),
        |svc, store, target, reason| svc.mark_uncollectible(store, target, reason),
    )
    .await
}
