//! Who holds an API key, and which tenant a name means.

use chrono::NaiveDateTime;
use invoice_domain::{RepositoryError, TenantId};

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
