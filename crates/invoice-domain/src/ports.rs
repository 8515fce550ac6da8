//! Ports: the traits the use cases need from the outside world.
//!
//! Adapters implement them (Diesel for storage, the system clock, UUID v7
//! ids; `InMemoryStore` behind the `in-memory` feature). A use case receives one *store* that implements the
//! storage ports it needs ([`InvoiceRepository`], [`NumberAllocator`],
//! [`SettingsRepository`], [`BalanceRepository`]) and is bound to one
//! transaction.
//!
//! # The transaction contract
//!
//! A use case never begins or ends a transaction: the caller runs the whole
//! call inside one and commits only when it returns `Ok`. Everything the
//! call did through the store (numbers drawn, invoices saved, balance
//! entries, events) then becomes visible together, or, on an `Err` or a
//! panic, not at all. A refused call and a failed one therefore leave the
//! store as it was, and a number drawn during them is given back, so series
//! stay gapless.
//!
//! A database store gets this from its database transaction. A store
//! without one must provide it itself, for example by working on a copy of
//! its state and replacing the original only on `Ok`, or by keeping an undo
//! log; `InMemoryStore::transaction` snapshots and restores. Each method below must also see the writes made
//! earlier in the same transaction (read-your-writes), and when several
//! transactions run at once, a writer that decided on state another
//! transaction has since changed must fail with
//! [`RepositoryError::VersionConflict`] at [`InvoiceRepository::save`]
//! rather than overwrite it. A store used by one thread at a time meets the
//! last rule trivially.
//!
//! The conformance suite (`conformance` module, feature `conformance`)
//! checks a store against this contract; the Diesel store and the in-memory
//! store both pass it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ValidationError;
use crate::model::balance::CustomerBalance;
use crate::model::credit_note::CreditNote;
use crate::model::event::Event;
/// Named here too, beside the other ports adapters implement.
pub use crate::model::ids::IdGenerator;
#[cfg(any(test, feature = "mock"))]
pub use crate::model::ids::MockIdGenerator;
use crate::model::ids::{CreditNoteId, InvoiceId, PartyId, TenantId};
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::money::{Amount, Currency};
use crate::model::number::DocumentCode;
use crate::model::tenant::TenantSettings;
use crate::rules::Transition;

/// What a storage adapter may report. Adapters map their own errors here, once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepositoryError {
    /// The stored version differs from the expected one: someone else won.
    #[error("the invoice was changed concurrently (version conflict)")]
    VersionConflict,
    /// A uniqueness constraint was violated (e.g. a duplicate id or number).
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// Something the call needs does not exist, such as the tenant whose
    /// settings are read. `find`, `credit_note` and `save` never return it:
    /// the first two answer `Ok(None)`, and `save` reports a missing
    /// invoice as a `VersionConflict`.
    #[error("not found")]
    NotFound,
    /// The database cannot be reached or is overloaded; retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, corrupted data, or a write that breaks a rule
    /// of the store (such as an invoice of a tenant it does not know).
    #[error("storage failure: {0}")]
    Other(String),
}

/// How a caller names an invoice. Parsed at the edge, so a store only ever
/// looks up well-formed references, and one that matches nothing is simply
/// not found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum InvoiceRef {
    /// By id.
    Id(InvoiceId),
    /// By document number (`INV-2024-001`), else by the client's external
    /// reference, which is unique per tenant.
    Code(DocumentCode),
    /// By the integer id that APIs naming invoices by integers use (the
    /// invoice's `serial`), else by a number or external reference of those
    /// digits.
    Serial(u64, DocumentCode),
}

impl InvoiceRef {
    /// A UUID names an invoice by id; any other text is a code (number or
    /// external reference). Empty, over-long or control-character text is refused.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if let Ok(id) = text.parse::<InvoiceId>() {
            return Ok(InvoiceRef::Id(id));
        }
        DocumentCode::parse(text).map(InvoiceRef::Code)
    }

    /// Like [`InvoiceRef::parse`], for APIs whose ids are integers: a
    /// positive integer names the invoice's serial first.
    pub fn parse_integer_id(text: &str) -> Result<Self, ValidationError> {
        let reference = InvoiceRef::parse(text)?;
        let serial = (text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
            .filter(|n| *n >= 1);
        Ok(match (serial, reference) {
            (Some(serial), InvoiceRef::Code(code)) => InvoiceRef::Serial(serial, code),
            (_, other) => other,
        })
    }
}

/// Which kind of document a number series numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DocumentKind {
    /// Invoices.
    Invoice,
    /// Credit notes.
    CreditNote,
}

impl DocumentKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        }
    }
}

/// Filters and cursor for listing invoices, newest first (see
/// [`InvoiceRepository::list`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<InvoiceStatus>,
    /// Only this customer.
    pub customer_id: Option<PartyId>,
    /// Only invoices visible to this party (issuer or customer).
    pub party: Option<PartyId>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
    /// Page size, 1 to 100.
    pub limit: u32,
    /// Only invoices older than this one (the previous page's last id).
    pub starting_after: Option<InvoiceId>,
}

/// Loads and saves invoices with their lines, payments, credit notes and
/// events.
///
/// Every method is scoped to one tenant: nothing of another tenant is ever
/// found, listed, returned or changed, and another tenant's invoice is
/// indistinguishable from a missing one.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait InvoiceRepository {
    /// Loads an invoice of `tenant`, with everything it holds, by any of its
    /// references: [`InvoiceRef::Id`] by id; [`InvoiceRef::Code`] by
    /// number (drafts have none), else by external reference;
    /// [`InvoiceRef::Serial`] by serial, else as its code.
    ///
    /// Returns `Ok(None)` when no invoice of *this tenant* matches. The
    /// invoice returned equals the one last saved (`==`, every field). Inside
    /// a write transaction the adapter must lock the row, or otherwise make a
    /// racing writer fail with `VersionConflict` on save.
    /// Errors: `Unavailable`, `Other`; never `NotFound`.
    fn find(&mut self, tenant: TenantId, reference: &InvoiceRef) -> Result<Option<Invoice>, RepositoryError>;

    /// The invoice `id` of `tenant` as it was right after the transition
    /// that gave it `version` (the audit view: what did it look like when
    /// it was cancelled?). `Ok(None)` when there is no such version, or
    /// no such invoice of this tenant. Errors: `Unavailable`, `Other`.
    fn find_version(
        &mut self,
        tenant: TenantId,
        id: InvoiceId,
        version: u64,
    ) -> Result<Option<Invoice>, RepositoryError>;

    /// Persists a transition, all or nothing: the invoice, the listed
    /// changes, the balance entries and the events.
    ///
    /// * **Insert or update.** When `transition.changes` holds
    ///   [`Change::Created`](crate::rules::Change::Created) the invoice is new:
    ///   its `expected_version` is 0 (its `version` 1), and it is inserted.
    ///   Otherwise the stored invoice is replaced only if its version is
    ///   still `expected_version`.
    /// * **Changes.** `changes` names what changed besides the invoice's own
    ///   fields (lines, payments, refunds, credit notes), so a store that
    ///   keeps them in rows of their own writes only those. A store that
    ///   keeps each invoice as one aggregate may ignore every change but
    ///   `Created` and store `transition.invoice` whole: it carries the
    ///   complete new state.
    /// * **Balance entries** are applied in order to the balance of their
    ///   tenant, customer and currency (created at zero when missing): a
    ///   credit adds its amount, a debit subtracts it, and the result must be
    ///   exactly the entry's `balance_after`. Each entry is then appended to
    ///   that balance's ledger.
    /// * **Events** are appended in order after the invoice's earlier ones.
    ///
    /// Errors:
    /// * `VersionConflict` when the stored version is not
    ///   `expected_version`, including an update of an invoice that is not
    ///   stored at all (it has no version); and when a balance entry's
    ///   `balance_after` does not follow from the stored balance (another
    ///   transaction moved it since it was read, or a debit would take it
    ///   below zero).
    /// * `UniqueViolation` when an inserted invoice's id is taken, or an
    ///   invoice's serial, number or external reference, a credit-note
    ///   number, a credit-note id or an event id is already used in the
    ///   tenant.
    /// * `Unavailable`, `Other`.
    ///
    /// `save` never returns `NotFound`. On any error nothing of the
    /// transition may remain once the caller's transaction is rolled back.
    fn save(&mut self, transition: &Transition) -> Result<(), RepositoryError>;

    /// Lists at most `query.limit` invoices of `tenant` that match every
    /// filter of `query`, ordered by invoice id, highest first. Ids are
    /// UUID v7, so that is newest first; `starting_after` keeps only ids
    /// below it, which makes the last id of a page the cursor of the next.
    /// A `limit` of 0 lists nothing.
    /// Errors: `Unavailable`, `Other`.
    fn list(&mut self, tenant: TenantId, query: &ListQuery) -> Result<Vec<Invoice>, RepositoryError>;

    /// The audit trail of one invoice of `tenant`, oldest first (the order
    /// they were saved in); empty for an unknown invoice or another
    /// tenant's.
    /// Errors: `Unavailable`, `Other`.
    fn events(&mut self, tenant: TenantId, invoice: InvoiceId) -> Result<Vec<Event>, RepositoryError>;

    /// Loads a credit note of `tenant`, equal to the one in its invoice's
    /// `credit_notes`; `Ok(None)` when the tenant has none with this id.
    /// Errors: `Unavailable`, `Other`.
    fn credit_note(&mut self, tenant: TenantId, id: CreditNoteId) -> Result<Option<CreditNote>, RepositoryError>;
}

/// Draws numbers from gapless per-tenant series.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait NumberAllocator {
    /// Returns the next sequence number (1, 2, 3…) of the tenant's counter
    /// `counter` for `kind` (a [`NumberSlot::counter`](crate::NumberSlot::counter), e.g.
    /// `INV-2024-{SEQ}`). Must run in the caller's transaction, so a
    /// rolled-back transition gives its number back and the counter stays
    /// gapless. Errors: `Unavailable`, `Other`.
    fn next_number(&mut self, tenant: TenantId, kind: DocumentKind, counter: &str) -> Result<u64, RepositoryError>;

    /// Returns the next serial of the tenant's invoices (1, 2, 3…): the
    /// integer id of APIs that name invoices by integers. Must run in the
    /// caller's transaction. Errors: `Unavailable`, `Other`.
    fn next_serial(&mut self, tenant: TenantId) -> Result<u64, RepositoryError>;
}

/// Reads the settings a tenant chose for its documents.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SettingsRepository {
    /// The settings of `tenant`, or [`TenantSettings::default`] for a tenant
    /// that set nothing. Inside a write transaction it must read the state
    /// of that transaction.
    /// Errors: `NotFound` when the tenant does not exist; `Unavailable`, `Other`.
    fn settings(&mut self, tenant: TenantId) -> Result<TenantSettings, RepositoryError>;

    /// Replaces the settings of `tenant`, inside the caller's transaction.
    /// Errors: `NotFound` when the tenant does not exist; `Unavailable`, `Other`.
    fn save_settings(&mut self, tenant: TenantId, settings: &TenantSettings) -> Result<(), RepositoryError>;
}

/// Reads customers' credit balances. Changes to them are written by
/// [`InvoiceRepository::save`], with the transition that caused them
/// (`Transition::balance_entries`), so a balance and its invoice never
/// disagree.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait BalanceRepository {
    /// The balance `customer` holds with `tenant` in `currency`; zero when
    /// it never had one. Inside a write transaction the adapter must make a
    /// racing writer of the same balance fail with `VersionConflict` on
    /// save (a row lock, or the check of `balance_after` that `save` makes).
    /// Errors: `Unavailable`, `Other`.
    fn balance(&mut self, tenant: TenantId, customer: &PartyId, currency: Currency) -> Result<Amount, RepositoryError>;

    /// Every balance of `customer` with `tenant`, one per currency it ever
    /// had an entry in, ordered by currency code, each with its ledger
    /// oldest first; empty when it never had one. A balance is always the
    /// last entry's `balance_after`.
    /// Errors: `Unavailable`, `Other`.
    fn balances(&mut self, tenant: TenantId, customer: &PartyId) -> Result<Vec<CustomerBalance>, RepositoryError>;
}

/// Tells the time; a port so tests can fix it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Clock {
    /// The current instant. Never fails.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, truncated to microseconds (what databases store), so a
/// saved and reloaded invoice equals the one in memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        Utc::now().trunc_subsecs(6)
    }
}

/// UUID v7 ids from the system clock and randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7;

impl IdGenerator for UuidV7 {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}
