//! `POST /v1/invoices/{reference}/credit-notes`: correct an issued invoice, paid ones included, with a credit note.

use actix_web::http::StatusCode;

use super::command;
use crate::inbound::http::auth::Principal;
use crate::inbound::http::body::parse_json;
use crate::inbound::http::exec::Reply;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::state::AppState;
use crate::inbound::http::views::*;
use actix_web::{web, HttpRequest, HttpResponse};

/// Issue a credit note on an open, uncollectible or paid invoice: whole lines, some units, part of a net, a goodwill amount; settled by reducing what is due, by a refund, or onto the customer's credit balance.
#[utoipa::path(post, path = "/v1/invoices/{reference}/credit-notes", tag = "credit notes",
    request_body = CreditNoteBody,
    params(("reference" = String, Path, description = "Invoice UUID, number (e.g. `INV-000052`) or external reference", min_length = 1, max_length = 100, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"),
        ("If-Match" = Option<String>, Header, description = "Expected version, e.g. `\"3\"`, or `*`", nullable = false, pattern = r#"^(?:\*|(?:W/)?"[0-9]{1,19}")$"#),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: 1 to 255 visible ASCII characters, unique per request", nullable = false, min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$")),
    responses(
        (status = 201, description = "The credit note and the invoice after it", body = CreditResultView, headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"` (not on idempotent replays)"))),
        (status = 400, description = "Malformed JSON, JSON nested too deep, an empty, over-long or control-character reference or a bad `If-Match`/`Idempotency-Key` header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown key", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String, description = "The accepted schemes"))),
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or an invoice the key's party may not act on (`invoice_not_owned`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice in this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by a rule: `credit_exceeds_line`, `credit_exceeds_total`, `credit_exceeds_amount_due`, `credit_exceeds_amount_paid`, a line reference that matches nothing or an already cancelled line, a draft, cancelled or void invoice; a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not match the version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body that is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests for this key", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = String, description = "Seconds to wait before retrying"))),
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
        "invoices:cancel",
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
