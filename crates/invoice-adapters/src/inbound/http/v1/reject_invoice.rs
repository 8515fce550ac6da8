//! `POST /v1/invoices/{reference}/reject`: reject the invoice with reasons and a remark.

use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::views::RejectBody;

invoice_transition! {
    /// Reject the invoice with reasons and a remark.
    reject_invoice: "/v1/invoices/{reference}/reject", InvoicesWrite;
    body(content = Option<RejectBody>, description = "Optional");
    parse: |r, b| Ok(parse_optional_json::<RejectBody>(r, b)?.into_domain()?);
    run: |svc, store, target, rejection| svc.reject(store, target, rejection);
}
