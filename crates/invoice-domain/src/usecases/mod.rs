//! Use cases: load, decide, save — the application's operations over the ports.
//!
//! [`InvoiceService`] is generic over the [`Clock`] and [`IdGenerator`] ports
//! and receives the store (repository plus number allocator) per call, so an
//! adapter can hand it a store bound to one open transaction.

mod access;
mod cancel;
mod create;
mod finalize;
mod payments;
mod query;
mod review;

use crate::error::{Refusal, ValidationError};
use crate::model::event::Actor;
use crate::model::invoice::Invoice;
use crate::ports::{Clock, IdGenerator, InvoiceRef, InvoiceRepository, RepositoryError};
use crate::rules::{Context, NumberedError, Transition};

pub use access::{Action, PartyRole, Scope};
pub use query::{Page, MAX_PAGE};

/// Everything a use case can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UseCaseError {
    /// No invoice (or credit note) of this tenant matches.
    #[error("not found")]
    NotFound,
    /// The invoice exists but the caller's party is neither its issuer nor its customer.
    #[error("the invoice belongs to another party")]
    NotOwned,
    /// The caller's party is on the invoice, but not on a side that may take
    /// this action (see [`Action::roles`]); or it tried to create an invoice
    /// it does not issue.
    #[error("this party may not {} this invoice", .0.verb())]
    NotPermitted(Action),
    /// The caller's expected version is not the current one, or a
    /// concurrent writer won the race.
    #[error("{}", version_mismatch_text(*expected, *current))]
    VersionMismatch {
        /// The version the caller expected.
        expected: Option<u64>,
        /// The version found, when known.
        current: Option<u64>,
    },
    /// A business rule refused the transition.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Input failed to parse into domain values.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Storage failed.
    #[error(transparent)]
    Repository(RepositoryError),
}

/// Words a version mismatch as a sentence, saying only what is known.
fn version_mismatch_text(expected: Option<u64>, current: Option<u64>) -> String {
    match (expected, current) {
        (Some(e), Some(c)) => format!("the invoice is at version {c}, not the expected version {e}"),
        (Some(e), None) => format!("the invoice is no longer at the expected version {e}"),
        (None, _) => "the invoice was changed by a concurrent request".to_string(),
    }
}

impl From<RepositoryError> for UseCaseError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::VersionConflict => UseCaseError::VersionMismatch {
                expected: None,
                current: None,
            },
            other => UseCaseError::Repository(other),
        }
    }
}

impl From<NumberedError<RepositoryError>> for UseCaseError {
    fn from(e: NumberedError<RepositoryError>) -> Self {
        match e {
            NumberedError::Refused(r) => UseCaseError::Refused(r),
            NumberedError::Invalid(v) => UseCaseError::Invalid(v),
            NumberedError::Number(e) => e.into(),
        }
    }
}

impl UseCaseError {
    /// The stable snake_case code APIs expose.
    pub fn code(&self) -> &'static str {
        match self {
            UseCaseError::NotFound => "not_found",
            UseCaseError::NotOwned | UseCaseError::NotPermitted(_) => "invoice_not_owned",
            UseCaseError::VersionMismatch { .. } => "version_mismatch",
            UseCaseError::Refused(r) => r.code(),
            UseCaseError::Invalid(_) => "validation_failed",
            UseCaseError::Repository(RepositoryError::Unavailable(_)) => "service_unavailable",
            UseCaseError::Repository(_) => "internal_error",
        }
    }
}

/// The invoice a command acts on, who acts, and the version they saw.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// The caller's visibility.
    pub scope: &'a Scope,
    /// Which invoice.
    pub reference: &'a InvoiceRef,
    /// Who acts.
    pub actor: &'a Actor,
    /// When set, the invoice must be at exactly this version.
    pub expected_version: Option<u64>,
}

impl<'a> Target<'a> {
    /// Acts on the invoice `reference` names, as `actor` within `scope`,
    /// whatever its current version.
    pub fn new(scope: &'a Scope, reference: &'a InvoiceRef, actor: &'a Actor) -> Self {
        Target {
            scope,
            reference,
            actor,
            expected_version: None,
        }
    }

    /// Requires the invoice to be at exactly `version` (an `If-Match`), so
    /// a change decided on an older copy is refused with
    /// [`UseCaseError::VersionMismatch`].
    pub fn expecting(mut self, version: u64) -> Self {
        self.expected_version = Some(version);
        self
    }
}

/// The application service: one method per use case.
#[derive(Debug, Clone, Default)]
pub struct InvoiceService<C, G> {
    clock: C,
    ids: G,
}

impl<C: Clock, G: IdGenerator> InvoiceService<C, G> {
    /// Builds the service over a clock and an id generator.
    pub fn new(clock: C, ids: G) -> Self {
        InvoiceService { clock, ids }
    }

    fn context<'a>(&'a self, actor: &'a Actor) -> Context<'a> {
        Context {
            now: self.clock.now(),
            actor,
            ids: &self.ids,
        }
    }

    /// Loads the target invoice and checks that the caller may take
    /// `action` on it and saw its current version.
    fn load<S: InvoiceRepository>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        action: Action,
    ) -> Result<Invoice, UseCaseError> {
        let invoice = store
            .find(target.scope.tenant, target.reference)?
            .ok_or(UseCaseError::NotFound)?;
        target.scope.authorize(&invoice, action)?;
        if let Some(expected) = target.expected_version {
            if expected != invoice.version {
                return Err(UseCaseError::VersionMismatch {
                    expected: Some(expected),
                    current: Some(invoice.version),
                });
            }
        }
        Ok(invoice)
    }

    /// Load, authorize `action`, decide with `decide`, save: the skeleton of
    /// every transition. Each use case names its own action here, so no API
    /// face can run it under another's rule.
    fn transition<S, F>(
        &self,
        store: &mut S,
        target: &Target<'_>,
        action: Action,
        decide: F,
    ) -> Result<Transition, UseCaseError>
    where
        S: InvoiceRepository,
        F: FnOnce(&Invoice, Context<'_>, &mut S) -> Result<Transition, UseCaseError>,
    {
        let invoice = self.load(store, target, action)?;
        let transition = decide(&invoice, self.context(target.actor), store)?;
        store.save(&transition)?;
        Ok(transition)
    }
}

#[cfg(test)]
mod tests;
