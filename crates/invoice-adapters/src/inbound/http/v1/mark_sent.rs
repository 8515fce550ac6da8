//! `POST /v1/invoices/{reference}/mark-sent`: record that an issued invoice was sent to its customer.

use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::contract::{ChangeErrors, Guarded, InvoiceChanged};
use crate::inbound::http::problem::Problem;
use crate::inbound::http::views::EmptyBody;

invoice_transition! {
    /// Record that an issued invoice was sent to its customer (again, too): `sent_at` is set and `invoice.sent` is recorded.
    mark_sent: "/v1/invoices/{reference}/mark-sent", InvoicesWrite;
    body(content = Option<EmptyBody>, description = "Nothing, or `{}`");
    responses(
        (status = 409, description = "A draft, which is not a document yet (`invoice_is_draft`), a concurrent change, or the idempotency key in use", body = Problem, content_type = "application/problem+json"),
        InvoiceChanged, ChangeErrors, Guarded,
    );
    parse: |r, b| parse_optional_json::<EmptyBody>(r, b).map(drop);
    run: |svc, store, target, ()| svc.mark_sent(store, target);
}
