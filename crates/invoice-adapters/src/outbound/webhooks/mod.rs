//! Webhooks: signed, at-least-once delivery of the events in the `events`
//! table (the transactional outbox) to tenants' HTTP endpoints.
//!
//! The domain transaction only writes events. A [`Dispatcher`], running on
//! its own threads beside the HTTP server, fans each new event out to one
//! delivery row per matching endpoint, claims due deliveries (with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several instances share the
//! work), POSTs them signed as Standard Webhooks, and retries failures with
//! exponential backoff. `docs/webhooks.md` describes the wire format.

mod dispatcher;
mod endpoints;
mod event_log;
pub mod guard;
pub mod payload;
mod policy;
// The webhook tables' rows and statements are the storage's own; see
// `outbound::db` for why tests alone may reach them.
#[cfg(feature = "testkit")]
pub mod rows;
#[cfg(not(feature = "testkit"))]
pub(in crate::outbound) mod rows;
mod sender;
pub mod signing;
mod stats;
#[cfg(feature = "testkit")]
pub mod store;
#[cfg(not(feature = "testkit"))]
pub(in crate::outbound) mod store;

pub use crate::representation::{EventData, EventObject};
pub use dispatcher::{Dispatcher, DispatcherConfig, DispatcherHandle};
pub use endpoints::EndpointStore;
pub use policy::RetryPolicy;
pub use stats::{AttemptCounter, AttemptOutcome};

/// Webhook settings the HTTP adapter needs when endpoints are created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Accept endpoints in loopback, private and link-local ranges (local
    /// development and tests only).
    pub allow_private: bool,
}
