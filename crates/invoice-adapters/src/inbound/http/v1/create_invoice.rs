//! `POST /v1/invoices`: create a draft.

use crate::inbound::http::contract::{Guarded, IdempotencyHeader};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{invoice_reply, CHANNEL};
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::{parse_json, read_body};
use crate::inbound::http::exec::{self, idempotency_key, problem_reply};
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::{CreateInvoiceBody, InvoiceView};

/// Creates a draft invoice.
#[utoipa::path(post, path = "/v1/invoices", tag = "invoices",
    request_body = CreateInvoiceBody,
    params(IdempotencyHeader),
    responses(
        (status = 201, description = "The draft", body = InvoiceView, headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"` (not on idempotent replays)"))),
        (status = 400, description = "Malformed JSON, JSON nested too deep or a bad `Idempotency-Key` header", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or a party-restricted key naming another issuer (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The idempotency key is in use by a request still running", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn create_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.require(KeyScope::InvoicesWrite)?;
    let body = read_body(&req, payload).await?;
    let new = parse_json::<CreateInvoiceBody>(&req, &body)?.into_domain()?;
    let idem = idempotency_key(&req, &principal, &body)?;
    Ok(exec::write(&state, idem, problem_reply, move |st, store| {
        let t = st
            .service
            .create_draft(store, &principal.scope(), &principal.actor(CHANNEL), new)?;
        Ok(invoice_reply(StatusCode::CREATED, &t))
    })
    .await)
}
