//! The stores the HTTP layer needs besides the domain's own ports. Handlers
//! call these traits and get plain values back, never a connection or a
//! table row; `outbound` implements them. The domain's ports
//! (`invoice_domain::ports`) stay the only way to invoices.

mod events;
mod idempotency;
mod keys;
mod operations;
mod webhooks;

pub use events::{EventListing, EventLog, EventQuery};
pub use idempotency::{
    Claim, IdempotencyRecords, Owner, ReplyRecorder, StoredReply, DEFAULT_RETENTION as DEFAULT_IDEMPOTENCY_RETENTION,
};
pub use keys::{KeyDirectory, KeyHolder, TenantName};
pub use operations::{OutboxGauge, OutboxStats};
pub use webhooks::{
    Attempt, Delivery, DeliveryPage, DeliveryStatus, Endpoint, EndpointStatus, EndpointWithSecret, NewEndpoint,
    WebhookEndpoints, WebhookError,
};
