//! The event object: the body of every webhook delivery and each entry of
//! the `GET /v1/events` log, rendered the same way from a stored event row.

use chrono::{DateTime, Utc};
use invoice_domain::{Invoice, RepositoryError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::inbound::http::views::{ActorView, InvoiceView};
use crate::outbound::db::rows::{corrupt, from_json, utc, EventRow};

/// One event, as delivered and as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventObject {
    /// Event id; also the `webhook-id` header, the same on every retry.
    pub id: String,
    /// Always `event`.
    pub object: &'static str,
    /// Dotted type, e.g. `invoice.cancelled`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// The tenant it belongs to.
    pub tenant_id: i64,
    /// The invoice concerned.
    pub invoice_id: String,
    /// The invoice's version right after the event.
    pub invoice_version: i64,
    /// Who caused it, through which API.
    pub actor: ActorView,
    /// The invoice right after the event, and the event's own facts.
    pub data: EventData,
}

/// The `data` member of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventData {
    /// The invoice as it was right after the event.
    pub object: InvoiceView,
    /// Facts specific to the event type (e.g. the cancelled line ids);
    /// `invoice.finalized` and `credit_note.issued` carry `document_url`,
    /// the path of the UBL document.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl EventObject {
    /// Renders a stored event; the snapshot is the domain `Invoice` as JSON.
    pub fn from_row(row: &EventRow) -> Result<Self, RepositoryError> {
        let invoice: Invoice = from_json("event snapshot", &row.snapshot)?;
        let mut details: serde_json::Value = serde_json::from_str(&row.data).map_err(|e| corrupt("event data", e))?;
        if let Some(obj) = details.as_object_mut() {
            obj.remove("type");
        }
        crate::inbound::http::v1::add_document_url(&row.event_type, &row.invoice_id, &mut details);
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

    /// The invoice snapshot's parties involve `party` (for party-restricted keys).
    pub fn involves(&self, party: &str) -> bool {
        self.data.object.customer.id == party || self.data.object.issuer.as_ref().is_some_and(|i| i.id == party)
    }
}
