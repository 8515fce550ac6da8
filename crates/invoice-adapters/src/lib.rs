//! # invoice-adapters
//!
//! The outside of Storno's hexagon: Diesel repositories for SQLite and
//! PostgreSQL (`outbound::db`) and the actix-web HTTP API (`inbound::http`).
//! Both translate to and from `invoice-domain`, which holds every rule;
//! `representation` is the public JSON they share, and `ports` the stores
//! the HTTP layer reaches through traits besides the domain's.

pub mod inbound;
pub mod outbound;
pub mod ports;
pub mod representation;
#[cfg(feature = "testkit")]
pub mod testkit;
