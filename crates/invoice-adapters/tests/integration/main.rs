//! Integration tests: every test in one binary, so the crate links once.

mod api;
mod batching;
mod browser;
mod conformance;
mod corrections;
mod dialects;
mod documents;
mod einvoice;
mod housekeeping;
mod http_support;
mod idempotency;
mod limits;
mod migrations;
mod operations;
mod parties;
mod races;
mod references;
mod reliability;
mod security;
mod state_machine;
mod support;
mod versions;
mod webhooks;
