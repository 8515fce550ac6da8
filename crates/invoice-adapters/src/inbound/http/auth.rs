//! API-key authentication, tenant resolution and scopes.
//!
//! Keys look like `sk_<43 url-safe base64 chars>` and are stored only as
//! SHA-256 hashes. A key belongs to one tenant, carries scopes, and may be
//! restricted to one party, and may expire or be revoked. Valid keys are
//! cached for a short, configurable time so a request does not pay a
//! database round trip for authentication; a request the cache cannot
//! answer first passes the per-client-address limit, so floods of bad keys
//! never reach the database.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;
use chrono::{NaiveDateTime, Utc};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use invoice_domain::{Actor, PartyId, Scope, TenantId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::exec;
use super::problem::ApiError;
use super::rate_limit::client_bucket;
use super::state::AppState;
use crate::outbound::db::admin;

/// Every scope a key can hold.
pub const ALL_SCOPES: [&str; 5] = [
    "invoices:read",
    "invoices:write",
    "invoices:cancel",
    "webhooks:manage",
    "tenant:manage",
];

/// A freshly minted key: the secret (shown once), its id and its hash.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The secret to give to the client, `sk_…`.
    pub secret: String,
    /// The public id, `key_…`.
    pub id: String,
    /// Hex SHA-256 of the secret, what is stored.
    pub hash: String,
}

/// Mints a random key.
pub fn mint_key() -> NewKey {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let mut id = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut id);
    let secret = format!("sk_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    NewKey {
        hash: hash_key(&secret),
        id: format!("key_{}", hex::encode(id)),
        secret,
    }
}

/// Hex SHA-256 of a key.
pub fn hash_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Parses and checks a comma-separated scope list.
pub fn parse_scopes(text: &str) -> Result<Vec<String>, String> {
    let scopes: Vec<String> = text
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.is_empty() {
        return Err("at least one scope is required".into());
    }
    for s in &scopes {
        if !ALL_SCOPES.contains(&s.as_str()) {
            return Err(format!("unknown scope {s:?}; known scopes: {}", ALL_SCOPES.join(", ")));
        }
    }
    Ok(scopes)
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's tenant.
    pub tenant: TenantId,
    /// The tenant's slug.
    pub tenant_slug: String,
    /// The key id, recorded as actor.
    pub key_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Party restriction, if any.
    pub party: Option<PartyId>,
}

impl Principal {
    /// Refuses with 403 `insufficient_scope` unless the key holds `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("this key lacks the {scope} scope"),
            ))
        }
    }

    /// The domain scope: the tenant, and the party if the key is restricted.
    /// Which side of an invoice that party may act from is the domain's
    /// rule, the same on every API face.
    pub fn scope(&self) -> Scope {
        Scope {
            tenant: self.tenant,
            party: self.party.clone(),
        }
    }

    /// The actor recorded on events, with the API channel it came through.
    pub fn actor(&self, channel: &str) -> Actor {
        Actor::new(self.key_id.clone(), channel)
    }

    /// True when `name` (an id or slug) names this principal's tenant.
    pub fn is_tenant(&self, name: &str) -> bool {
        name == self.tenant_slug || name == self.tenant.get().to_string()
    }
}

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
type PendingLookup = Shared<BoxFuture<'static, Result<Option<Principal>, ApiError>>>;

/// A short-lived cache of validated keys, by hash, so a request does not
/// pay a database round trip for authentication.
pub struct KeyCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Cached>>,
    inflight: Mutex<HashMap<String, PendingLookup>>,
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

    fn get(&self, hash: &str, now: NaiveDateTime) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        let c = entries.get(hash)?;
        let fresh = c.loaded.elapsed() < self.ttl && c.expires_at.is_none_or(|at| at > now);
        fresh.then(|| c.principal.clone())
    }

    fn put(&self, hash: String, principal: Principal, expires_at: Option<NaiveDateTime>) {
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

/// Where the key came from, to word the 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `Authorization: Bearer <key>`.
    Bearer(&'a str),
    /// `Authorization: Basic base64(<key>:)`: the key as user name, the password empty.
    Basic(String),
    /// HTTP Basic with a non-empty password, which no key has: refused
    /// rather than ignored, so a client never believes a password is checked.
    BasicWithPassword,
    /// No usable Authorization header.
    Missing,
}

/// Reads the key from `Authorization`.
pub fn credentials(req: &HttpRequest) -> Credentials<'_> {
    let Some(value) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Credentials::Missing;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
        return Credentials::Bearer(rest.trim());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) {
            if let Ok(text) = String::from_utf8(decoded) {
                let (user, password) = text.split_once(':').unwrap_or((text.as_str(), ""));
                if !password.is_empty() {
                    return Credentials::BasicWithPassword;
                }
                if !user.is_empty() {
                    return Credentials::Basic(user.to_string());
                }
            }
        }
    }
    Credentials::Missing
}

/// The 429 of the per-client-address limit.
fn client_rate_limited(retry_after: u64) -> ApiError {
    ApiError {
        retry_after: Some(retry_after),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests without a valid API key from this address; retry after the Retry-After delay",
        )
    }
}

/// Takes one request from the client address's budget for requests the
/// key cache cannot answer; 429 when it is spent. Runs before any database
/// lookup, so a flood of missing or invented keys never reaches the database.
pub fn limit_client(state: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let addr = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| client_bucket(a.ip()));
    state.client_limiter.check(&addr).map_err(|retry_after| {
        state.metrics.rate_limited("client");
        client_rate_limited(retry_after)
    })
}

/// Looks `hash` up in the database, notes the key's use, and caches the
/// principal; `None` for a key that is unknown, revoked or expired.
async fn lookup(state: web::Data<AppState>, hash: String, now: NaiveDateTime) -> Result<Option<Principal>, ApiError> {
    state.metrics.key_lookup();
    let st = state.clone();
    let lookup_hash = hash.clone();
    let found = exec::blocking(move || {
        st.db.read_conn(|c| {
            let Some(key) = admin::find_api_key(c, &lookup_hash, now)? else {
                return Ok(None);
            };
            let tenant = admin::find_tenant(c, &key.tenant_id.to_string())?;
            Ok::<_, invoice_domain::RepositoryError>(tenant.map(|t| (key, t)))
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let Some((key, tenant)) = found else {
        return Ok(None);
    };
    // Defence in depth: compare the stored hash in constant time.
    if !bool::from(key.key_hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Ok(None);
    }
    // Off the request path and best effort: noting the last use must
    // neither slow nor fail the request.
    let st = state.clone();
    let (tenant_id, id) = (key.tenant_id, key.id.clone());
    actix_web::rt::spawn(exec::blocking(move || {
        if let Err(e) = st.db.write_conn(|c| admin::touch_api_key(c, tenant_id, &id, now)) {
            tracing::debug!(error = %e, "could not record the key's last use");
        }
    }));
    let principal = Principal {
        tenant: TenantId::new(tenant.id),
        tenant_slug: tenant.slug,
        key_id: key.id,
        scopes: key.scopes.split(',').map(str::to_string).collect(),
        party: key.party_id.as_deref().and_then(|p| PartyId::parse(p).ok()),
    };
    state.keys.put(hash, principal.clone(), key.expires_at);
    Ok(Some(principal))
}

/// Removes a finished (or abandoned) lookup from the in-flight set.
struct InFlight<'a> {
    keys: &'a KeyCache,
    hash: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut inflight) = self.keys.inflight.lock() {
            inflight.remove(&self.hash);
        }
    }
}

/// Authenticates `secret`: from the cache when possible; otherwise from
/// the database, once the client's address is within its limit. Requests
/// that need the same key while its lookup runs wait for that one lookup
/// (and do not spend their address's budget), so a burst of first uses of
/// a valid key costs one query and one token.
pub async fn authenticate(state: &web::Data<AppState>, req: &HttpRequest, secret: &str) -> Result<Principal, ApiError> {
    let hash = hash_key(secret);
    let now = Utc::now().naive_utc();
    if let Some(p) = state.keys.get(&hash, now) {
        return Ok(p);
    }
    let (pending, _leader) = {
        let mut inflight = state
            .keys
            .inflight
            .lock()
            .map_err(|_| ApiError::internal(&"the key cache lock is poisoned"))?;
        match inflight.get(&hash) {
            Some(pending) => (pending.clone(), None),
            None => {
                limit_client(state, req)?;
                let pending = lookup(state.clone(), hash.clone(), now).boxed().shared();
                inflight.insert(hash.clone(), pending.clone());
                let leader = InFlight {
                    keys: &state.keys,
                    hash,
                };
                (pending, Some(leader))
            }
        }
    };
    pending
        .await?
        .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))
}

/// Authenticates a request and checks `X-Tenant` (when sent) against the key's tenant.
pub async fn authenticate_request(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(&"application state missing"))?
        .clone();
    let principal = match credentials(req) {
        Credentials::Bearer(k) => authenticate(&state, req, k).await?,
        Credentials::Basic(k) => authenticate(&state, req, &k).await?,
        Credentials::BasicWithPassword => {
            limit_client(&state, req)?;
            return Err(ApiError::unauthorized(
                "send the API key as the HTTP Basic user name with an empty password",
            ));
        }
        Credentials::Missing => {
            limit_client(&state, req)?;
            return Err(ApiError::unauthorized(
                "send an API key as `Authorization: Bearer <key>` or as the HTTP Basic user name with an empty password",
            ));
        }
    };
    if let Err(retry_after) = state.rate_limiter.check(&principal.key_id) {
        state.metrics.rate_limited("key");
        return Err(ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests for this API key; retry after the Retry-After delay",
            )
        });
    }
    if let Some(t) = req.headers().get("x-tenant") {
        let name = t.to_str().unwrap_or_default().trim();
        if !principal.is_tenant(name) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "tenant_mismatch",
                "X-Tenant does not name this key's tenant",
            ));
        }
    }
    Ok(principal)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Principal, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate_request(&req).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_are_random_prefixed_and_hash_stably() {
        let a = mint_key();
        let b = mint_key();
        assert!(a.secret.starts_with("sk_") && a.secret.len() > 40);
        assert_ne!(a.secret, b.secret);
        assert_eq!(hash_key(&a.secret), a.hash);
        assert!(!a.hash.contains(&a.secret));
    }

    #[test]
    fn basic_credentials_need_an_empty_password() {
        let basic = |userpass: &str| {
            let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(userpass));
            actix_web::test::TestRequest::default()
                .insert_header((header::AUTHORIZATION, value))
                .to_http_request()
        };
        assert_eq!(credentials(&basic("sk_a:")), Credentials::Basic("sk_a".into()));
        assert_eq!(credentials(&basic("sk_a")), Credentials::Basic("sk_a".into()));
        assert_eq!(credentials(&basic("sk_a:x")), Credentials::BasicWithPassword);
        assert_eq!(credentials(&basic(":x")), Credentials::BasicWithPassword);
        assert_eq!(credentials(&basic(":")), Credentials::Missing);
    }

    #[test]
    fn scopes_parse_strictly() {
        assert_eq!(parse_scopes("invoices:read, invoices:cancel").unwrap().len(), 2);
        assert!(parse_scopes("invoices:admin").is_err());
        assert!(parse_scopes(" , ").is_err());
    }
}
