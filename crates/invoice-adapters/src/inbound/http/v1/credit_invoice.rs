//! `POST /v1/invoices/{reference}/credit-notes`: correct an issued invoice, paid ones included, with a credit note.

use crate::inbound::http::contract::{ChangeErrors, Guarded, IdempotencyHeader, IfMatchHeader, InvoicePath};
use actix_web::http::StatusCode;

use super::command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_json;
use crate::inbound::http::exec::Reply;
use crate::inbound::http::principal::KeyScope;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Issue a credit note on an open, uncollectible or paid invoice: whole lines, some units, part of a net, a goodwill amount; settled by reducing what is due, by a refund, or onto the customer's credit balance.
#[utoipa::path(post, path = "/v1/invoices/{reference}/credit-notes", tag = "credit notes",
    request_body = CreditNoteBody,
    params(InvoicePath,
        IfMatchHeader,
        IdempotencyHeader),
    responses(
        (status = 201, description = "The credit note and the invoice after it", body = CreditResultView, headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"` (not on idempotent replays)"))),
        (status = 409, description = "Refused by a rule: `credit_exceeds_line`, `credit_exceeds_total`, `credit_exceeds_amount_due`, `credit_exceeds_amount_paid`, a line reference that matches nothing or an already cancelled line, a draft, cancelled or void invoice; a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        ChangeErrors, Guarded,
    ),
    security(("bearer" = []), ("basic" = [])))]
pub async fn credit_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let reference = path.into_inner();
    command(
        req,
        state,
        principal,
        KeyScope::InvoicesCancel,
        &reference,
        payload,
        |r, b| Ok(parse_json::<CreditNoteBody>(r, b)?.into_domain()?),
        |svc, store, target, request| svc.credit(store, target, &request),
        |t| {
            let note = t
                .invoice
                .credit_notes
                .last()
                .ok_or_else(|| ApiError::internal(&"an accepted credit issued no credit note"))?;
            let view = CreditResultView {
                object: "credit_note_issued",
                credit_note: note.into(),
                invoice: (&t.invoice).into(),
            };
            Ok(Reply::json(StatusCode::CREATED, &view).with_etag(t.invoice.version))
        },
    )
    .await
}
