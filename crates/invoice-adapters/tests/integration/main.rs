//! Integration tests: every test binary target in one, so the crate links once.

mod conformance;
mod migrations;
mod support;
