//! `POST /v1/invoices/{reference}/mark-uncollectible`: write an open invoice off: collection halts, nothing is forgiven.

use crate::inbound::http::body::parse_optional_json;
use crate::inbound::http::contract::{ChangeErrors, Guarded, InvoiceChanged, Refused};
use crate::inbound::http::problem::Problem;
use crate::inbound::http::views::ReasonBody;

invoice_transition! {
    /// Mark an open invoice uncollectible: collection halts; it can still be paid, voided or cancelled.
    mark_uncollectible: "/v1/invoices/{reference}/mark-uncollectible", InvoicesWrite;
    body(content = Option<ReasonBody>, description = "Optional");
    responses(InvoiceChanged, Refused, ChangeErrors,
        // After `ChangeErrors`, so that this route's own words for 403 win.
        (status = 403, description = "Missing scope, `X-Tenant` of another tenant, or another party's invoice", body = Problem, content_type = "application/problem+json"),
        Guarded,
    );
    parse: |r, b| Ok(parse_optional_json::<ReasonBody>(r, b)?.into_domain()?);
    run: |svc, store, target, reason| svc.mark_uncollectible(store, target, reason);
}
