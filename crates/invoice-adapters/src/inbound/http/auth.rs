//! API-key authentication, tenant resolution and scopes.
//!
//! Keys look like `sk_<43 url-safe base64 chars>` and are stored only as
//! SHA-256 hashes. A key belongs to one tenant, carries scopes, and may be
//! restricted to one party. Valid keys are cached for a short time so a
//! request does not pay a database round trip for authentication.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;
use invoice_domain::{Actor, PartyId, Scope, TenantId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::problem::ApiError;
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

/// How long a validated key stays cached.
const CACHE_TTL: Duration = Duration::from_secs(30);

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

/// A short-lived cache of validated keys, by hash.
#[derive(Debug, Default)]
pub struct KeyCache {
    entries: RwLock<HashMap<String, (Principal, Instant)>>,
}

impl KeyCache {
    fn get(&self, hash: &str) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        let (p, at) = entries.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| p.clone())
    }

    fn put(&self, hash: String, principal: Principal) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 10_000 {
                entries.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            entries.insert(hash, (principal, Instant::now()));
        }
    }
}

/// Where the key came from, to word the 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `Authorization: Bearer <key>`.
    Bearer(&'a str),
    /// `Authorization: Basic base64(<key>:)`.
    Basic(String),
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
                let user = text.split_once(':').map_or(text.as_str(), |(u, _)| u);
                if !user.is_empty() {
                    return Credentials::Basic(user.to_string());
                }
            }
        }
    }
    Credentials::Missing
}

/// Authenticates `secret`, using the cache when possible.
pub async fn authenticate(state: &web::Data<AppState>, secret: &str) -> Result<Principal, ApiError> {
    let hash = hash_key(secret);
    if let Some(p) = state.keys.get(&hash) {
        return Ok(p);
    }
    let st = state.clone();
    let lookup_hash = hash.clone();
    let found = web::block(move || {
        st.db.read_conn(|c| {
            let Some(key) = admin::find_api_key(c, &lookup_hash)? else {
                return Ok(None);
            };
            let tenant = admin::find_tenant(c, &key.tenant_id.to_string())?;
            Ok::<_, invoice_domain::RepositoryError>(tenant.map(|t| (key, t)))
        })
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    let Some((key, tenant)) = found else {
        return Err(ApiError::unauthorized("the API key is not valid"));
    };
    // Defence in depth: compare the stored hash in constant time.
    if !bool::from(key.key_hash.as_bytes().ct_eq(hash.as_bytes())) {
        return Err(ApiError::unauthorized("the API key is not valid"));
    }
    let principal = Principal {
        tenant: TenantId::new(tenant.id),
        tenant_slug: tenant.slug,
        key_id: key.id,
        scopes: key.scopes.split(',').map(str::to_string).collect(),
        party: key.party_id.as_deref().and_then(|p| PartyId::parse(p).ok()),
    };
    state.keys.put(hash, principal.clone());
    Ok(principal)
}

/// Authenticates a request and checks `X-Tenant` (when sent) against the key's tenant.
pub async fn authenticate_request(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(&"application state missing"))?
        .clone();
    let principal = match credentials(req) {
        Credentials::Bearer(k) => authenticate(&state, k).await?,
        Credentials::Basic(k) => authenticate(&state, &k).await?,
        Credentials::Missing => {
            return Err(ApiError::unauthorized(
                "send an API key as `Authorization: Bearer <key>` or as the HTTP Basic user name",
            ))
        }
    };
    if let Err(retry_after) = state.rate_limiter.check(&principal.key_id) {
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
    fn scopes_parse_strictly() {
        assert_eq!(parse_scopes("invoices:read, invoices:cancel").unwrap().len(), 2);
        assert!(parse_scopes("invoices:admin").is_err());
        assert!(parse_scopes(" , ").is_err());
    }
}
