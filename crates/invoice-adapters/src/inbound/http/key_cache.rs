//! The short-lived cache of validated API keys, by hash, with the lookups
//! in flight, so a request does not pay a database round trip for
//! authentication and a burst of first uses of one key costs one lookup.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use futures_util::future::{BoxFuture, Shared};

use super::principal::Principal;
use super::problem::ApiError;

/// How long a validated key stays cached by default. A revoked key keeps
/// working on an instance for at most this long; an expired one stops at
/// once (the cache knows the expiry).
pub const DEFAULT_KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// One cached key: who it is, when it was loaded, when it expires.
#[derive(Debug, Clone)]
struct Cached {
    principal: Principal,
    loaded: Instant,
    expires_at: Option<NaiveDateTime>,
}

/// A database lookup of one key in progress, awaited by every request
/// that needs that key meanwhile.
pub(super) type PendingLookup = Shared<BoxFuture<'static, Result<Option<Principal>, ApiError>>>;

/// A short-lived cache of validated keys, by hash, so a request does not
/// pay a database round trip for authentication.
pub struct KeyCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Cached>>,
    pub(super) inflight: Mutex<HashMap<String, PendingLookup>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").field("ttl", &self.ttl).finish()
    }
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache::new(DEFAULT_KEY_CACHE_TTL)
    }
}

impl KeyCache {
    /// A cache keeping keys for `ttl` (zero: every request looks its key up).
    pub fn new(ttl: Duration) -> Self {
        KeyCache {
            ttl,
            entries: RwLock::new(HashMap::new()),
            inflight: Mutex::new(HashMap::new()),
        }
    }

    /// How long a key stays cached.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub(super) fn get(&self, hash: &str, now: NaiveDateTime) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        let c = entries.get(hash)?;
        let fresh = c.loaded.elapsed() < self.ttl && c.expires_at.is_none_or(|at| at > now);
        fresh.then(|| c.principal.clone())
    }

    pub(super) fn put(&self, hash: String, principal: Principal, expires_at: Option<NaiveDateTime>) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 10_000 {
                entries.retain(|_, c| c.loaded.elapsed() < self.ttl);
            }
            entries.insert(
                hash,
                Cached {
                    principal,
                    loaded: Instant::now(),
                    expires_at,
                },
            );
        }
    }
}

/// Removes a finished (or abandoned) lookup from the in-flight set.
pub(super) struct InFlight<'a> {
    pub(super) keys: &'a KeyCache,
    pub(super) hash: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut inflight) = self.keys.inflight.lock() {
            inflight.remove(&self.hash);
        }
    }
}
