//! Inbound adapters: what calls into the domain.

pub mod http;
