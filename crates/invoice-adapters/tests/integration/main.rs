//! Integration tests: every test in one binary, so the crate links once.

mod api;
mod browser;
mod conformance;
mod dialects;
mod documents;
mod einvoice;
mod http_support;
mod idempotency;
mod migrations;
mod parties;
mod reliability;
mod security;
mod state_machine;
mod support;
mod webhooks;
