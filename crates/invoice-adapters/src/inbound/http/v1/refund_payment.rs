//! `POST /v1/invoices/{reference}/payments/{payment_id}/refunds`: refund (part of) a payment.

use invoice_domain::PaymentId;

use super::path_id;
use crate::inbound::http::body::parse_json;
use crate::inbound::http::problem::ApiError;
use crate::inbound::http::views::RefundBody;

invoice_transition! {
    /// Refund (part of) a payment.
    refund_payment: "/v1/invoices/{reference}/payments/{payment_id}/refunds", InvoicesWrite;
    body(content = RefundBody);
    params(("payment_id" = uuid::Uuid, Path, description = "Payment id"));
    path payment => payment_id;
    parse: move |r, b| Ok(parse_json::<RefundBody>(r, b)?.into_domain(payment)?);
    run: |svc, store, target, request| svc.refund(store, target, request);
}

/// The payment to refund, checked before anything else of the request so
/// that a malformed id is always the answer.
fn payment_id(text: &str) -> Result<PaymentId, ApiError> {
    path_id(text, "payment_id must be a UUID")
}
