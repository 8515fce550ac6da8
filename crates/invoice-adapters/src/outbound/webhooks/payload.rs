//! Renders a stored event row as the public event object
//! ([`EventObject`], defined with the rest of the public JSON): the body of
//! every webhook delivery and each entry of the `GET /v1/events` log.

use invoice_domain::{Invoice, RepositoryError};

use crate::outbound::db::rows::{corrupt, utc, StoredEvent};
use crate::representation::{ActorView, EventData, EventObject, InvoiceView};

impl EventObject {
    /// Renders a stored event with the version of the invoice it left.
    pub fn from_row(stored: &StoredEvent) -> Result<Self, RepositoryError> {
        let invoice: Invoice = stored.invoice()?;
        let row = &stored.event;
        let mut details: serde_json::Value = serde_json::from_str(&row.data).map_err(|e| corrupt("event data", e))?;
        if let Some(obj) = details.as_object_mut() {
            obj.remove("type");
        }
        crate::representation::add_document_url(&row.event_type, &row.invoice_id, &mut details);
        Ok(EventObject {
            id: row.id.clone(),
            object: "event",
            event_type: row.event_type.clone(),
            created_at: utc(row.occurred_at),
            tenant_id: row.tenant_id,
            invoice_id: row.invoice_id.clone(),
            invoice_version: row.invoice_version,
            actor: ActorView {
                id: row.actor_id.clone(),
                channel: row.channel.clone(),
            },
            data: EventData {
                object: InvoiceView::from(&invoice),
                details,
            },
        })
    }
}
