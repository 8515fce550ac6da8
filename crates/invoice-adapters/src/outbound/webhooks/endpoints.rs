//! [`WebhookEndpoints`] on the webhook tables, in the transaction of the
//! store it is made from. Signing secrets are made and sealed here, so the
//! HTTP layer sees a new secret once, in plaintext, and never a stored one.

use chrono::Duration;
use invoice_domain::TenantId;

use super::rows::EndpointRow;
use super::{signing, store};
use crate::outbound::db::named::Named;
use crate::outbound::db::rows::to_json;
use crate::outbound::db::{DbConnection, DieselStore};
use crate::outbound::secrets::{endpoint_context, SecretBox};
use crate::ports::{
    Delivery, DeliveryPage, Endpoint, EndpointStatus, EndpointWithSecret, NewEndpoint, WebhookEndpoints, WebhookError,
};

type Result<T> = std::result::Result<T, WebhookError>;

/// The webhook tables as seen from one transaction, with the box that
/// seals new secrets at rest.
pub struct EndpointStore<'a> {
    conn: &'a mut DbConnection,
    secrets: &'a SecretBox,
}

impl<'a> EndpointStore<'a> {
    /// Works in the transaction `store` is bound to; secrets it makes are
    /// stored sealed with `secrets` (as given when it holds no key).
    pub fn new(store: &'a mut DieselStore<'_>, secrets: &'a SecretBox) -> Self {
        EndpointStore {
            conn: store.connection(),
            secrets,
        }
    }

    /// A new signing secret: (plaintext, as stored). The context binds the
    /// stored copy to its endpoint, so it opens nowhere else.
    fn new_secret(&self, tenant: i64, endpoint: &str) -> (String, String) {
        let secret = signing::generate_secret();
        let sealed = self.secrets.seal(&endpoint_context(tenant, endpoint), &secret);
        (secret, sealed)
    }
}

impl WebhookEndpoints for EndpointStore<'_> {
    fn create_endpoint(&mut self, tenant: TenantId, new: NewEndpoint, cap: usize) -> Result<EndpointWithSecret> {
        let tenant = tenant.get();
        // Held to the end of the transaction, so concurrent creations count
        // one after the other and cannot all pass the cap.
        store::lock_endpoints(self.conn, tenant)?;
        if store::count_endpoints(self.conn, tenant)? >= i64::try_from(cap).unwrap_or(i64::MAX) {
            return Err(WebhookError::TooManyEndpoints { cap });
        }
        let now = store::now();
        let id = store::new_id();
        let (secret, sealed) = self.new_secret(tenant, &id);
        let row = EndpointRow {
            tenant_id: tenant,
            id,
            url: new.url,
            description: new.description,
            event_types: to_json(&new.events),
            secret: sealed,
            previous_secret: None,
            previous_secret_expires_at: None,
            status: Named(EndpointStatus::Enabled),
            disabled_reason: None,
            disabled_at: None,
            active_since: now,
            failed_deliveries: 0,
            failing_since: None,
            created_at: now,
            updated_at: now,
        };
        store::insert_endpoint(self.conn, &row)?;
        Ok(EndpointWithSecret {
            endpoint: row.endpoint()?,
            secret,
        })
    }

    fn endpoints(&mut self, tenant: TenantId) -> Result<Vec<Endpoint>> {
        let rows = store::list_endpoints(self.conn, tenant.get())?;
        Ok(rows
            .iter()
            .map(EndpointRow::endpoint)
            .collect::<std::result::Result<_, _>>()?)
    }

    fn endpoint(&mut self, tenant: TenantId, id: &str) -> Result<Endpoint> {
        let row = store::find_endpoint(self.conn, tenant.get(), id)?.ok_or(WebhookError::EndpointNotFound)?;
        Ok(row.endpoint()?)
    }

    fn delete_endpoint(&mut self, tenant: TenantId, id: &str) -> Result<()> {
        if store::delete_endpoint(self.conn, tenant.get(), id)? {
            Ok(())
        } else {
            Err(WebhookError::EndpointNotFound)
        }
    }

    fn rotate_secret(&mut self, tenant: TenantId, id: &str, keep_previous: Duration) -> Result<EndpointWithSecret> {
        let tenant = tenant.get();
        let now = store::now();
        let previous_until = (keep_previous > Duration::zero()).then(|| now + keep_previous);
        // The old stored value moves to previous_secret as it is: sealed or
        // not, it opens under the same endpoint's context.
        let (secret, sealed) = self.new_secret(tenant, id);
        let row = store::rotate_secret(self.conn, tenant, id, &sealed, previous_until, now)?
            .ok_or(WebhookError::EndpointNotFound)?;
        Ok(EndpointWithSecret {
            endpoint: row.endpoint()?,
            secret,
        })
    }

    fn enable_endpoint(&mut self, tenant: TenantId, id: &str) -> Result<Endpoint> {
        let row =
            store::enable_endpoint(self.conn, tenant.get(), id, store::now())?.ok_or(WebhookError::EndpointNotFound)?;
        Ok(row.endpoint()?)
    }

    fn deliveries(
        &mut self,
        tenant: TenantId,
        endpoint: &str,
        limit: u32,
        starting_after: Option<&str>,
    ) -> Result<DeliveryPage> {
        let tenant = tenant.get();
        if store::find_endpoint(self.conn, tenant, endpoint)?.is_none() {
            return Err(WebhookError::EndpointNotFound);
        }
        // One more than asked tells whether another page follows.
        let mut rows = store::list_deliveries(self.conn, tenant, endpoint, i64::from(limit) + 1, starting_after)?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let ids: Vec<String> = rows.iter().map(|d| d.id.clone()).collect();
        let attempts = store::attempts_of(self.conn, tenant, &ids)?;
        Ok(DeliveryPage {
            deliveries: rows.iter().map(|d| d.delivery(&attempts)).collect(),
            has_more,
        })
    }

    fn retry_delivery(&mut self, tenant: TenantId, endpoint: &str, delivery: &str) -> Result<Delivery> {
        let tenant = tenant.get();
        let ep = store::find_endpoint(self.conn, tenant, endpoint)?.ok_or(WebhookError::EndpointNotFound)?;
        if ep.status.0 == EndpointStatus::Disabled {
            return Err(WebhookError::EndpointDisabled);
        }
        let row = store::schedule_retry(self.conn, tenant, endpoint, delivery, store::now())?
            .ok_or(WebhookError::DeliveryNotFound)?;
        let attempts = store::attempts_of(self.conn, tenant, std::slice::from_ref(&row.id))?;
        Ok(row.delivery(&attempts))
    }
}
