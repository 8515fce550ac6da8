//! Outbound adapters: implementations of the domain's ports.

pub mod db;
pub mod documents;
pub mod housekeeping;
pub mod secrets;
pub mod webhooks;
