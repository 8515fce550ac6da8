//! The one place where Diesel errors become the domain's repository errors.

use diesel::result::{DatabaseErrorKind, Error};
use invoice_domain::RepositoryError;

/// Maps a Diesel error to a [`RepositoryError`], telling apart unique
/// violations, missing rows, and an unreachable or busy database.
pub fn repository_error(error: Error) -> RepositoryError {
    match error {
        Error::NotFound => RepositoryError::NotFound,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            RepositoryError::UniqueViolation(info.constraint_name().unwrap_or(info.message()).to_string())
        }
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
            RepositoryError::Unavailable(format!("serialization failure: {}", info.message()))
        }
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
            RepositoryError::Unavailable(format!("connection closed: {}", info.message()))
        }
        Error::DatabaseError(_, info) if is_unavailable(info.message()) => {
            RepositoryError::Unavailable(info.message().to_string())
        }
        Error::BrokenTransactionManager => RepositoryError::Unavailable("broken transaction".into()),
        other => RepositoryError::Other(other.to_string()),
    }
}

/// Messages of errors that mean "try again later" rather than "bug".
fn is_unavailable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "database is locked",
        "database is busy",
        "server closed the connection",
        "terminating connection",
        "could not connect",
        "connection refused",
        "no connection to the server",
        "the database system is",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}
