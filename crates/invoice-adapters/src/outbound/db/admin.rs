//! Tenants and API keys: the adapter-level data behind authentication.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use invoice_domain::RepositoryError;

use super::connection::DbConnection;
use super::errors::repository_error;
use super::schema::{api_keys, tenants};

/// A stored tenant.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct TenantRow {
    /// Integer id (what `X-Tenant` may carry).
    pub id: i64,
    /// Unique slug (what `X-Tenant` or the host's first label may carry).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: NaiveDateTime,
}

/// A stored API key (the secret itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    /// Owning tenant.
    pub tenant_id: i64,
    /// Public key id, recorded as the actor on events.
    pub id: String,
    /// Hex SHA-256 of the secret key.
    pub key_hash: String,
    /// Comma-separated scopes.
    pub scopes: String,
    /// When set, the key only sees invoices of this party.
    pub party_id: Option<String>,
    /// When it was created.
    pub created_at: NaiveDateTime,
    /// When it was revoked, if it was.
    pub revoked_at: Option<NaiveDateTime>,
}

/// Creates a tenant; a duplicate slug is a `UniqueViolation`.
pub fn create_tenant(conn: &mut DbConnection, slug: &str, name: &str) -> Result<TenantRow, RepositoryError> {
    diesel::insert_into(tenants::table)
        .values((
            tenants::slug.eq(slug),
            tenants::name.eq(name),
            tenants::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)
        .map_err(repository_error)?;
    find_tenant(conn, slug)?.ok_or(RepositoryError::NotFound)
}

/// Finds a tenant by slug, or by id when `key` is all digits.
pub fn find_tenant(conn: &mut DbConnection, key: &str) -> Result<Option<TenantRow>, RepositoryError> {
    let q = tenants::table.select(TenantRow::as_select()).into_boxed();
    let q = match key.parse::<i64>() {
        Ok(id) => q.filter(tenants::id.eq(id).or(tenants::slug.eq(key.to_string()))),
        Err(_) => q.filter(tenants::slug.eq(key.to_string())),
    };
    q.first(conn).optional().map_err(repository_error)
}

/// Counts tenants (first start creates `default` when there are none).
pub fn count_tenants(conn: &mut DbConnection) -> Result<i64, RepositoryError> {
    tenants::table.count().get_result(conn).map_err(repository_error)
}

/// Stores a new key hash.
pub fn insert_api_key(
    conn: &mut DbConnection,
    tenant_id: i64,
    id: &str,
    key_hash: &str,
    scopes: &str,
    party_id: Option<&str>,
) -> Result<(), RepositoryError> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::tenant_id.eq(tenant_id),
            api_keys::id.eq(id),
            api_keys::key_hash.eq(key_hash),
            api_keys::scopes.eq(scopes),
            api_keys::party_id.eq(party_id),
            api_keys::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)
        .map_err(repository_error)?;
    Ok(())
}

/// Finds an unrevoked key by the hash of its secret.
pub fn find_api_key(conn: &mut DbConnection, key_hash: &str) -> Result<Option<ApiKeyRow>, RepositoryError> {
    api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)
}
