//! `POST /v1/invoices/{reference}/finalize`: finalize a draft: number, issue date, collection.

use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::views::EmptyBody;

invoice_transition! {
    /// Finalize a draft: number, issue date, collection.
    finalize_invoice: "/v1/invoices/{reference}/finalize", InvoicesWrite;
    body(content = Option<EmptyBody>, description = "Nothing, or `{}`");
    parse: |r, b| parse_optional_json::<EmptyBody>(r, b).map(drop);
    run: |svc, store, target, ()| svc.finalize(store, target);
}
