//! `POST /v1/invoices/{reference}/approve`: approve the pending approval level.

use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::views::EmptyBody;

invoice_transition! {
    /// Approve the pending approval level.
    approve_invoice: "/v1/invoices/{reference}/approve", InvoicesWrite;
    body(content = Option<EmptyBody>, description = "Nothing, or `{}`");
    parse: |r, b| parse_optional_json::<EmptyBody>(r, b).map(drop);
    run: |svc, store, target, ()| svc.approve(store, target);
}
