//! The stores the HTTP layer needs besides the domain's own ports: who
//! holds an API key, which tenant a name means, and the event log. Handlers call these
//! traits and get plain values back, never a connection or a table row;
//! `outbound::db::Database` implements them. The domain's ports
//! (`invoice_domain::ports`) stay the only way to invoices.

use chrono::NaiveDateTime;
use invoice_domain::{PartyId, RepositoryError, TenantId};

use crate::representation::EventObject;

/// A tenant as authentication and host checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantName {
    /// Its id.
    pub id: TenantId,
    /// Its unique slug.
    pub slug: String,
}

/// An API key that may authenticate now, with its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    /// The key's tenant.
    pub tenant: TenantName,
    /// The public key id (`key_…`), recorded as actor on events.
    pub key_id: String,
    /// Hex SHA-256 of the secret, compared again by the caller in constant time.
    pub key_hash: String,
    /// The scopes as stored: comma-separated names.
    pub scopes: String,
    /// The party the key is restricted to, as stored.
    pub party: Option<String>,
    /// When the key stops working, if it does; a cache must not outlive it.
    pub expires_at: Option<NaiveDateTime>,
}

/// Looks up API keys and tenants. Every method is one short read or write
/// of its own; none joins a caller's transaction.
pub trait KeyDirectory {
    /// The key whose secret hashes to `key_hash`, if it is neither revoked
    /// nor expired at `now` and its tenant exists.
    /// Errors: `Unavailable`, `Other`.
    fn key_holder(&self, key_hash: &str, now: NaiveDateTime) -> Result<Option<KeyHolder>, RepositoryError>;

    /// Notes that key `key_id` of `tenant` was used at `now`, so operators
    /// see which keys are alive. Errors: `Unavailable`, `Other`.
    fn note_key_use(&self, tenant: TenantId, key_id: &str, now: NaiveDateTime) -> Result<(), RepositoryError>;

    /// The tenant that `name` names: its slug, or its id when all digits.
    /// Errors: `Unavailable`, `Other`.
    fn tenant_named(&self, name: &str) -> Result<Option<TenantName>, RepositoryError>;
}

/// Which events of the log to read.
#[derive(Debug, Clone, Copy)]
pub struct EventQuery<'a> {
    /// The tenant whose events these are.
    pub tenant: TenantId,
    /// Only events of invoices where this party is customer or issuer.
    pub party: Option<&'a PartyId>,
    /// Only events of this dotted type.
    pub event_type: Option<&'a str>,
    /// Only events after this one (a hyphenated event id).
    pub starting_after: Option<&'a str>,
    /// At most this many events.
    pub limit: u32,
}

/// A page of the event log, or the news that the cursor names no event.
#[derive(Debug)]
pub enum EventListing {
    /// Events oldest first, each with the invoice as it left it.
    Page {
        /// The events.
        events: Vec<EventObject>,
        /// True when more events follow the last one.
        has_more: bool,
    },
    /// `starting_after` names no event of the tenant.
    UnknownCursor,
}

/// Reads the tenant's event log, for clients that poll instead of
/// receiving webhooks.
pub trait EventLog {
    /// The events `query` asks for, in one read.
    /// Errors: `Unavailable`, `Other` (a stored event that no longer reads).
    fn events(&self, query: &EventQuery<'_>) -> Result<EventListing, RepositoryError>;
}
