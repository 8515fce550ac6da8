//! Diesel persistence for SQLite (the embedded default) and PostgreSQL.
//!
//! One repository implementation serves both backends through
//! [`DbConnection`], a `diesel::MultiConnection`; code matches on the variant
//! only where the backends differ (opening a write transaction, row locks,
//! migrations).

// Tables, rows and stored records are the storage's own. Outside
// `outbound` they are reachable only with the `testkit` feature, for tests
// that inspect or corrupt raw storage on purpose; the server is built
// without it, so a handler that names a row or a table fails to compile.
// The HTTP layer reaches storage through `crate::ports` and the domain's ports.

pub mod admin;
mod codec;
mod connection;
mod errors;
#[cfg(feature = "testkit")]
pub mod idempotency;
#[cfg(not(feature = "testkit"))]
pub(in crate::outbound) mod idempotency;
#[cfg(feature = "testkit")]
pub mod named;
#[cfg(not(feature = "testkit"))]
pub(in crate::outbound) mod named;
#[cfg(feature = "testkit")]
pub mod rows;
#[cfg(not(feature = "testkit"))]
pub(in crate::outbound) mod rows;
#[cfg(feature = "testkit")]
#[allow(missing_docs)] // generated column types mirror the migrations
pub mod schema;
#[cfg(not(feature = "testkit"))]
#[allow(missing_docs)]
pub(in crate::outbound) mod schema;
#[cfg(feature = "testkit")]
pub mod seller;
#[cfg(not(feature = "testkit"))]
pub(in crate::outbound) mod seller;
pub mod settings;
mod store;
#[cfg(feature = "testkit")]
pub mod versions;
#[cfg(not(feature = "testkit"))]
pub(in crate::outbound) mod versions;

pub(crate) use connection::on_backend;
pub use connection::{Backend, Database, DbConnection, DbError, MigrationStatus, PoolConfig};
pub use errors::repository_error;
pub use store::DieselStore;
#[cfg(feature = "testkit")]
pub use store::FaultPoint;
