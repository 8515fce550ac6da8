//! `POST /v1/invoices/{reference}/payments`: record a payment against an open invoice.

use crate::inbound::http::body::parse_json;
use crate::inbound::http::views::PaymentBody;

invoice_transition! {
    /// Record a payment against an open invoice.
    record_payment: "/v1/invoices/{reference}/payments", InvoicesWrite;
    body(content = PaymentBody);
    parse: |r, b| Ok(parse_json::<PaymentBody>(r, b)?.into_domain()?);
    run: |svc, store, target, payment| svc.record_payment(store, target, payment);
}
