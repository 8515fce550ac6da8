//! Integration tests: every test in one binary, so the crate links once.

mod api;
mod batching;
mod browser;
mod conformance;
mod corrections;
mod cross_races;
mod dialects;
mod documents;
mod einvoice;
mod faults;
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

/// The domain crate under the name the shared reference model uses.
use invoice_domain as domain_crate;

/// The reference model of the domain's state-machine test, shared with it.
#[allow(dead_code)]
#[path = "../../../invoice-domain/src/rules/reference_model.rs"]
mod reference_model;
