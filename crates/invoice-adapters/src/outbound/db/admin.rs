//! Tenants and API keys: the adapter-level data behind authentication.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use invoice_domain::{RepositoryError, TenantId};

use super::connection::{Database, DbConnection};
use super::errors::repository_error;
use super::rows::ts;
use super::schema::{api_keys, tenants};
use crate::ports::{KeyDirectory, KeyHolder, TenantName};

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
    /// When it stops working, if it does.
    pub expires_at: Option<NaiveDateTime>,
    /// When a server last loaded it to authenticate a request (about once
    /// per key-cache period while the key is in use).
    pub last_used_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    /// True when the key may authenticate at `now`: not revoked, not expired.
    pub fn is_active(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A key to store: everything but the secret, which is never stored.
#[derive(Debug, Clone, Copy)]
pub struct NewApiKey<'a> {
    /// Owning tenant.
    pub tenant_id: i64,
    /// Public key id (`key_…`).
    pub id: &'a str,
    /// Hex SHA-256 of the secret.
    pub key_hash: &'a str,
    /// Comma-separated scopes.
    pub scopes: &'a str,
    /// Party restriction, if any.
    pub party_id: Option<&'a str>,
    /// When the key stops working, if it should.
    pub expires_at: Option<NaiveDateTime>,
}

/// On an empty database, creates tenant `default` with `key` (whose
/// `tenant_id` is ignored); true when it did. Instances starting together
/// on one PostgreSQL database take turns on an advisory lock, so exactly one
/// creates it and the others see it; on SQLite the write transaction
/// (`BEGIN IMMEDIATE`) already excludes other writers. Run it in a write
/// transaction.
pub fn create_first_tenant(conn: &mut DbConnection, key: NewApiKey<'_>) -> Result<bool, RepositoryError> {
    if let DbConnection::Pg(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(BOOTSTRAP_LOCK)
            .execute(conn)
            .map_err(repository_error)?;
    }
    if count_tenants(conn)? > 0 {
        return Ok(false);
    }
    let tenant = create_tenant(conn, "default", "Default tenant")?;
    insert_api_key(
        conn,
        NewApiKey {
            tenant_id: tenant.id,
            ..key
        },
    )?;
    Ok(true)
}

/// Advisory lock key of the first-start bootstrap ("StornoB1" in ASCII).
const BOOTSTRAP_LOCK: i64 = 0x5374_6f72_6e6f_4231;

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

/// Every tenant id, for housekeeping that works tenant by tenant.
pub fn tenant_ids(conn: &mut DbConnection) -> Result<Vec<i64>, RepositoryError> {
    tenants::table
        .select(tenants::id)
        .order(tenants::id)
        .load(conn)
        .map_err(repository_error)
}

/// Counts tenants (first start creates `default` when there are none).
pub fn count_tenants(conn: &mut DbConnection) -> Result<i64, RepositoryError> {
    tenants::table.count().get_result(conn).map_err(repository_error)
}

/// Stores a new key hash.
pub fn insert_api_key(conn: &mut DbConnection, key: NewApiKey<'_>) -> Result<(), RepositoryError> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::tenant_id.eq(key.tenant_id),
            api_keys::id.eq(key.id),
            api_keys::key_hash.eq(key.key_hash),
            api_keys::scopes.eq(key.scopes),
            api_keys::party_id.eq(key.party_id),
            api_keys::created_at.eq(ts(Utc::now())),
            api_keys::expires_at.eq(key.expires_at),
        ))
        .execute(conn)
        .map_err(repository_error)?;
    Ok(())
}

/// Finds a key that may authenticate at `now` (not revoked, not expired) by
/// the hash of its secret.
pub fn find_api_key(
    conn: &mut DbConnection,
    key_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<ApiKeyRow>, RepositoryError> {
    api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(now)))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
        .map_err(repository_error)
}

/// Records that a key was used at `now`.
pub fn touch_api_key(
    conn: &mut DbConnection,
    tenant: i64,
    id: &str,
    now: NaiveDateTime,
) -> Result<(), RepositoryError> {
    diesel::update(
        api_keys::table
            .filter(api_keys::tenant_id.eq(tenant))
            .filter(api_keys::id.eq(id)),
    )
    .set(api_keys::last_used_at.eq(Some(now)))
    .execute(conn)
    .map(drop)
    .map_err(repository_error)
}

/// Every key with its tenant's slug, oldest first; only `tenant`'s when given.
pub fn list_api_keys(
    conn: &mut DbConnection,
    tenant: Option<i64>,
) -> Result<Vec<(ApiKeyRow, String)>, RepositoryError> {
    let mut q = api_keys::table
        .inner_join(tenants::table.on(tenants::id.eq(api_keys::tenant_id)))
        .select((ApiKeyRow::as_select(), tenants::slug))
        .order((api_keys::created_at, api_keys::id))
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(api_keys::tenant_id.eq(t));
    }
    q.load(conn).map_err(repository_error)
}

/// What revoking a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The key was active and is revoked from now on.
    Now,
    /// The key had already been revoked at this time; nothing changed.
    Already(NaiveDateTime),
    /// No key has this id.
    NotFound,
}

/// Revokes the key with public id `id` (ids are unique across tenants).
pub fn revoke_api_key(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<Revoked, RepositoryError> {
    let updated = diesel::update(
        api_keys::table
            .filter(api_keys::id.eq(id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now)))
    .execute(conn)
    .map_err(repository_error)?;
    if updated > 0 {
        return Ok(Revoked::Now);
    }
    let at: Option<Option<NaiveDateTime>> = api_keys::table
        .filter(api_keys::id.eq(id))
        .select(api_keys::revoked_at)
        .first(conn)
        .optional()
        .map_err(repository_error)?;
    Ok(match at {
        Some(Some(at)) => Revoked::Already(at),
        // Revoked concurrently between the two statements, or absent.
        Some(None) => Revoked::Now,
        None => Revoked::NotFound,
    })
}

impl From<TenantRow> for TenantName {
    fn from(row: TenantRow) -> Self {
        TenantName {
            id: TenantId::new(row.id),
            slug: row.slug,
        }
    }
}

impl KeyDirectory for Database {
    fn key_holder(&self, key_hash: &str, now: NaiveDateTime) -> Result<Option<KeyHolder>, RepositoryError> {
        self.read_conn(|c| {
            let Some(key) = find_api_key(c, key_hash, now)? else {
                return Ok(None);
            };
            let Some(tenant) = find_tenant(c, &key.tenant_id.to_string())? else {
                return Ok(None);
            };
            Ok(Some(KeyHolder {
                tenant: tenant.into(),
                key_id: key.id,
                key_hash: key.key_hash,
                scopes: key.scopes,
                party: key.party_id,
                expires_at: key.expires_at,
            }))
        })
    }

    fn note_key_use(&self, tenant: TenantId, key_id: &str, now: NaiveDateTime) -> Result<(), RepositoryError> {
        self.write_conn(|c| touch_api_key(c, tenant.get(), key_id, now))
    }

    fn tenant_named(&self, name: &str) -> Result<Option<TenantName>, RepositoryError> {
        self.read_conn(|c| find_tenant(c, name))
            .map(|t| t.map(TenantName::from))
    }
}
