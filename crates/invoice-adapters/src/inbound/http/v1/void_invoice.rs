//! `POST /v1/invoices/{reference}/void`: void an open invoice: balance zero, collection halted.

use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::views::ReasonBody;

invoice_transition! {
    /// Void an open invoice: balance zero, collection halted.
    void_invoice: "/v1/invoices/{reference}/void", InvoicesCancel;
    body(content = Option<ReasonBody>, description = "Optional");
    parse: |r, b| Ok(parse_optional_json::<ReasonBody>(r, b)?.into_domain()?);
    run: |svc, store, target, reason| svc.void(store, target, reason);
}
