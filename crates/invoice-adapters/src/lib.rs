//! # invoice-adapters
//!
//! The outside of Storno's hexagon: Diesel repositories for SQLite and
//! PostgreSQL (`outbound::db`) and the actix-web HTTP API (`inbound::http`).
//! Both translate to and from `invoice-domain`, which holds every rule.

pub mod inbound;
pub mod outbound;
#[cfg(feature = "testkit")]
pub mod testkit;
