//! Who is calling: the authenticated key's tenant, scopes and party, and
//! the scopes a key can hold. Authentication itself is in `auth`; this
//! module is what every handler needs of its result.

use actix_web::http::StatusCode;
use invoice_domain::{Actor, PartyId, Scope, TenantId};

use super::problem::{ApiError, ErrorCode};

/// What a key may do. One variant per scope, so a handler that asks for a
/// scope no key can hold fails to compile; the text is what keys store
/// and what the CLI takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyScope {
    /// Read invoices, credit notes, documents, balances and events.
    InvoicesRead,
    /// Create invoices and drive them through finalize, payments and review.
    InvoicesWrite,
    /// Cancel, void, credit and reissue.
    InvoicesCancel,
    /// Manage webhook endpoints and deliveries.
    WebhooksManage,
    /// Read and change the tenant's settings.
    TenantManage,
}

impl KeyScope {
    /// Every scope, in the order they are listed to users.
    pub const ALL: [KeyScope; 5] = [
        KeyScope::InvoicesRead,
        KeyScope::InvoicesWrite,
        KeyScope::InvoicesCancel,
        KeyScope::WebhooksManage,
        KeyScope::TenantManage,
    ];

    /// The stored and displayed name, e.g. `invoices:read`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyScope::InvoicesRead => "invoices:read",
            KeyScope::InvoicesWrite => "invoices:write",
            KeyScope::InvoicesCancel => "invoices:cancel",
            KeyScope::WebhooksManage => "webhooks:manage",
            KeyScope::TenantManage => "tenant:manage",
        }
    }

    /// The scope a name stands for; `None` for a name no scope has.
    pub fn parse(name: &str) -> Option<KeyScope> {
        KeyScope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Scopes as keys store them: comma-separated names.
    pub fn join(scopes: &[KeyScope]) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    }
}

/// Parses and checks a comma-separated scope list, as typed by a user.
pub fn parse_scopes(text: &str) -> Result<Vec<KeyScope>, String> {
    let names: Vec<&str> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if names.is_empty() {
        return Err("at least one scope is required".into());
    }
    names
        .into_iter()
        .map(|name| {
            KeyScope::parse(name).ok_or_else(|| {
                format!(
                    "unknown scope {name:?}; known scopes: {}",
                    KeyScope::join(&KeyScope::ALL).replace(',', ", ")
                )
            })
        })
        .collect()
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
    pub scopes: Vec<KeyScope>,
    /// Party restriction, if any.
    pub party: Option<PartyId>,
}

impl Principal {
    /// Refuses with 403 `insufficient_scope` unless the key holds `scope`.
    pub fn require(&self, scope: KeyScope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::InsufficientScope,
                format!("this key lacks the {} scope", scope.as_str()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_strictly_and_round_trip() {
        assert_eq!(
            parse_scopes("invoices:read, invoices:cancel"),
            Ok(vec![KeyScope::InvoicesRead, KeyScope::InvoicesCancel])
        );
        assert!(parse_scopes("invoices:admin").is_err());
        assert!(parse_scopes(" , ").is_err());
        for scope in KeyScope::ALL {
            assert_eq!(KeyScope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(
            parse_scopes(&KeyScope::join(&KeyScope::ALL)),
            Ok(KeyScope::ALL.to_vec())
        );
    }
}
