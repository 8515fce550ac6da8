//! Recording that an issued invoice was sent to its customer.

use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::invoice::Invoice;
use crate::rules::{Builder, Context, Transition};

impl Invoice {
    /// Records that the invoice was sent (by mail, portal, e-invoice
    /// network…). Any issued invoice can be sent, again too, a corrected or
    /// cancelled one included, so that the customer holds what the books
    /// hold; `sent_at` is the latest sending. A draft is not a document yet,
    /// nor is a draft discarded by a cancel: neither was ever issued.
    pub fn mark_sent(&self, ctx: Context<'_>) -> Result<Transition, Refusal> {
        if !self.is_issued() {
            return Err(Refusal::InvoiceIsDraft);
        }
        let mut b = Builder::new(self, ctx);
        b.invoice().sent_at = Some(ctx.now);
        b.event(EventKind::Sent);
        Ok(b.finish())
    }
}
