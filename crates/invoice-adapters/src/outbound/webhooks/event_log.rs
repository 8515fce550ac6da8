//! The event log read from the events table and the invoice versions the
//! events point at: [`EventLog`] for `GET /v1/events`.

use invoice_domain::RepositoryError;

use crate::outbound::db::Database;
use crate::ports::{EventListing, EventLog, EventQuery};
use crate::representation::EventObject;

impl EventLog for Database {
    fn events(&self, query: &EventQuery<'_>) -> Result<EventListing, RepositoryError> {
        self.read(|store| {
            let after = match query.starting_after {
                Some(id) => match store.event_seq(query.tenant, id)? {
                    Some(seq) => Some(seq),
                    None => return Ok(EventListing::UnknownCursor),
                },
                None => None,
            };
            // One more than asked tells whether another page follows.
            let fetch = i64::from(query.limit) + 1;
            let party = query.party.map(|p| p.as_str());
            let rows = store.event_rows(query.tenant, party, query.event_type, after, fetch)?;
            let mut events = rows.iter().map(EventObject::from_row).collect::<Result<Vec<_>, _>>()?;
            let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
            let has_more = events.len() > limit;
            events.truncate(limit);
            Ok(EventListing::Page { events, has_more })
        })
    }
}
