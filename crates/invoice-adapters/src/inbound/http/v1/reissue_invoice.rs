//! `POST /v1/invoices/{reference}/reissue`: cancel an issued invoice with a credit note and start its corrected draft.

use crate::inbound::http::contract::{ChangeErrors, Guarded, IdempotencyHeader, IfMatchHeader, InvoicePath};
use actix_web::http::StatusCode;

use super::command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::exec::Reply;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Cancel an issued invoice with a credit note and, in the same transaction, create a new draft copying its lines (or edited or replacement lines), parties and metadata; the two point at each other.
#[utoipa::path(post, path = "/v1/invoices/{reference}/reissue", tag = "invoices",
    request_body(content = Option<ReissueBody>, description = "Optional: replacement lines or edits, and a reason"),
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(
        (status = 201, description = "The cancelled invoice and its new draft", body = ReissueView, headers(("ETag" = String, description = "The new draft's version, e.g. `\"1\"` (not on idempotent replays)"))),
        (status = 409, description = "Refused by a rule (`reissue_has_payments`, `invoice_approved`, an edit naming no line, a draft, cancelled or void invoice…), a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        ChangeErrors, Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn reissue_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let reference = path.into_inner();
    principal.require(KeyScope::InvoicesWrite)?;
    command(
        req,
        state,
        principal,
        KeyScope::InvoicesCancel,
        &reference,
        payload,
        |r, b| Ok(parse_optional_json::<ReissueBody>(r, b)?.into_domain()?),
        |svc, store, target, request| svc.reissue(store, target, &request),
        |r| Ok(Reply::json(StatusCode::CREATED, &ReissueView::from(r)).with_etag(r.replacement.invoice.version)),
    )
    .await
}
