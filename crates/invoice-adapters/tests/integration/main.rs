//! Integration tests: every test in one binary, so the crate links once.

mod api;
mod conformance;
mod dialects;
mod housekeeping;
mod http_support;
mod idempotency;
mod limits;
mod migrations;
mod operations;
mod races;
mod reliability;
mod security;
mod state_machine;
mod support;
mod webhooks;
