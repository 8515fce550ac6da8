//! Diesel persistence for SQLite (the embedded default) and PostgreSQL.
//!
//! One repository implementation serves both backends through
//! [`DbConnection`], a `diesel::MultiConnection`; code matches on the variant
//! only where the backends differ (opening a write transaction, row locks,
//! migrations).

pub mod admin;
mod codec;
mod connection;
mod errors;
pub mod idempotency;
pub mod named;
pub mod rows;
#[allow(missing_docs)] // generated column types mirror the migrations
pub mod schema;
pub mod seller;
pub mod settings;
mod store;
pub mod versions;

pub(crate) use connection::on_backend;
pub use connection::{Backend, Database, DbConnection, DbError, MigrationStatus, PoolConfig};
pub use errors::repository_error;
pub use store::DieselStore;
#[cfg(feature = "testkit")]
pub use store::FaultPoint;
