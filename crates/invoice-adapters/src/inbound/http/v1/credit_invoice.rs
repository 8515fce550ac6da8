//! `POST /v1/invoices/{reference}/credit-notes`: correct an issued invoice, paid ones included, with a credit note.

use actix_web::http::StatusCode;
use invoice_domain::Transition;

use crate::inbound::http::body::parse_json;
use crate::inbound::http::contract::{ChangeErrors, Guarded};
use crate::inbound::http::exec::Reply;
use crate::inbound::http::problem::{ApiError, Problem};
use crate::inbound::http::views::{CreditNoteBody, CreditResultView};

invoice_transition! {
    /// Issue a credit note on an open, uncollectible or paid invoice: whole lines, some units, part of a net, a goodwill amount; settled by reducing what is due, by a refund, or onto the customer's credit balance.
    credit_invoice: "/v1/invoices/{reference}/credit-notes", InvoicesCancel;
    tag "credit notes";
    body(content = CreditNoteBody);
    responses(
        (status = 201, description = "The credit note and the invoice after it", body = CreditResultView, headers(("ETag" = String, description = "The invoice version, e.g. `\"3\"` (not on idempotent replays)"))),
        (status = 409, description = "Refused by a rule: `credit_exceeds_line`, `credit_exceeds_total`, `credit_exceeds_amount_due`, `credit_exceeds_amount_paid`, a line reference that matches nothing or an already cancelled line, a draft, cancelled or void invoice; a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        ChangeErrors, Guarded,
    );
    parse: |r, b| Ok(parse_json::<CreditNoteBody>(r, b)?.into_domain()?);
    run: |svc, store, target, request| svc.credit(store, target, &request);
    reply: credit_reply;
}

/// 201 with the credit note the transition issued and the invoice after it.
fn credit_reply(t: &Transition) -> Result<Reply, ApiError> {
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
}
