//! End-to-end tests of webhooks and the event log.
