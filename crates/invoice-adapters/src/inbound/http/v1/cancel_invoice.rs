//! `POST /v1/invoices/{reference}/cancel`: cancel the whole invoice, or only the listed lines.

use crate::inbound::http::body::parse_json;
use crate::inbound::http::views::CancelBody;

invoice_transition! {
    /// Cancel the whole invoice, or only the listed lines.
    cancel_invoice: "/v1/invoices/{reference}/cancel", InvoicesCancel;
    body(content = CancelBody);
    parse: |r, b| Ok(parse_json::<CancelBody>(r, b)?.into_domain()?);
    run: |svc, store, target, request| svc.cancel(store, target, &request);
}
