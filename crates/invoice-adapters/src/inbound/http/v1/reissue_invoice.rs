//! `POST /v1/invoices/{reference}/reissue`: cancel an issued invoice with a credit note and start its corrected draft.

use actix_web::http::StatusCode;

use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::contract::{ChangeErrors, Guarded};
use crate::inbound::http::exec::Reply;
use crate::inbound::http::problem::Problem;
use crate::inbound::http::views::{ReissueBody, ReissueView};

invoice_transition! {
    /// Cancel an issued invoice with a credit note and, in the same transaction, create a new draft copying its lines (or edited or replacement lines), parties and metadata; the two point at each other.
    reissue_invoice: "/v1/invoices/{reference}/reissue", InvoicesWrite, InvoicesCancel;
    body(content = Option<ReissueBody>, description = "Optional: replacement lines or edits, and a reason");
    responses(
        (status = 201, description = "The cancelled invoice and its new draft", body = ReissueView, headers(("ETag" = String, description = "The new draft's version, e.g. `\"1\"` (not on idempotent replays)"))),
        (status = 409, description = "Refused by a rule (`reissue_has_payments`, `invoice_approved`, an edit naming no line, a draft, cancelled or void invoice…), a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        ChangeErrors, Guarded,
    );
    parse: |r, b| Ok(parse_optional_json::<ReissueBody>(r, b)?.into_domain()?);
    run: |svc, store, target, request| svc.reissue(store, target, &request);
    reply: |r| Ok(Reply::json(StatusCode::CREATED, &ReissueView::from(r)).with_etag(r.replacement.invoice.version));
}
