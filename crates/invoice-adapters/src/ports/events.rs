//! The tenant's event log, read by clients that poll.

use invoice_domain::{PartyId, RepositoryError, TenantId};

use crate::representation::EventObject;

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
