//! Stored outcomes of requests sent with an `Idempotency-Key`.
//!
//! A request claims its key before it runs, stores its reply in the same
//! transaction as its write, and gives the key back when it failed in a way
//! worth retrying. The HTTP layer runs these steps through the two traits
//! here and never sees a connection or a record row.

use std::time::Duration;

use chrono::{DateTime, Utc};
use invoice_domain::{RepositoryError, TenantId};

/// How long a finished key is kept by default: 48 hours, twice the 24
/// that clients may rely on. After it the key may be used afresh.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(48 * 3600);

/// Who owns a record: a record belongs to the API key that made the
/// request, so a stored reply never reaches a caller who could not have
/// read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The caller's tenant.
    pub tenant: TenantId,
    /// The caller's API key id (`key_…`).
    pub api_key_id: String,
}

/// A reply as a record keeps it, for a retry to get the same answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReply {
    /// HTTP status.
    pub status: u16,
    /// Body, as stored (a body showing a secret is sealed by the caller).
    pub body: String,
    /// Content type.
    pub content_type: String,
}

/// What happened when a request tried to claim its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or abandoned, or expired): go ahead and run the request.
    Claimed,
    /// The same request already finished: replay this reply.
    Replay(StoredReply),
    /// The key was used with a different request.
    Mismatch,
    /// The same key is being processed by another request right now.
    InUse,
}

/// The steps of an idempotent request that run outside its write, each
/// in its own short write transaction. Every step is race-free: of two
/// requests claiming one key at once exactly one gets `Claimed`, and a lost
/// race is never an error.
pub trait IdempotencyRecords {
    /// Claims `key` of `owner` for a request whose fingerprint is
    /// `request_hash`, at `now`; a record older than `retention` counts as
    /// expired and is claimed afresh. Errors: `Unavailable`, `Other`.
    fn claim(
        &self,
        owner: &Owner,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        retention: Duration,
    ) -> Result<Claim, RepositoryError>;

    /// Forgets a claimed key whose request failed in a way worth retrying,
    /// so it never blocks the next attempt; a finished record stays.
    /// Errors: `Unavailable`, `Other`.
    fn release(&self, owner: &Owner, key: &str) -> Result<(), RepositoryError>;

    /// Stores `reply` for a claimed key whose write was rolled back but
    /// whose outcome a retry must see again (a rule's refusal).
    /// Errors: `Unavailable`, `Other`.
    fn complete(&self, owner: &Owner, key: &str, reply: &StoredReply) -> Result<(), RepositoryError>;
}

/// Stores the reply of a claimed key inside the caller's write transaction,
/// so the write and its reply commit together or not at all.
pub trait ReplyRecorder {
    /// Records `reply` as the outcome of `key` of `owner`.
    /// Errors: `Unavailable`, `Other`.
    fn record_reply(&mut self, owner: &Owner, key: &str, reply: &StoredReply) -> Result<(), RepositoryError>;
}
