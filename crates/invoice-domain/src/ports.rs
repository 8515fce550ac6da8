//! Ports: the traits the use cases need from the outside world.
//!
//! Adapters implement them (Diesel for storage, the system clock, UUID v7
//! ids). A use case receives a *store* that implements both
//! [`InvoiceRepository`] and [`NumberAllocator`]; the adapter runs the whole
//! use case inside one database transaction, so the number drawn, the
//! invoice update, its events and its credit note commit together or not at
//! all.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ValidationError;
use crate::model::balance::CustomerBalance;
use crate::model::credit_note::CreditNote;
use crate::model::event::Event;
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
    /// The row to change does not exist.
    #[error("not found")]
    NotFound,
    /// The database cannot be reached or is overloaded; retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else; a bug or corrupted data.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Filters and cursor for listing invoices, newest first.
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

/// Loads and saves invoices with their lines, payments, credit notes and events.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait InvoiceRepository {
    /// Loads an invoice of `tenant` by id or number.
    ///
    /// Returns `Ok(None)` when no invoice of *this tenant* matches (another
    /// tenant's invoice is indistinguishable from a missing one). Inside a
    /// write transaction the adapter must lock the row (or otherwise make a
    /// racing writer fail with `VersionConflict` on save).
    /// Errors: `Unavailable`, `Other`.
    fn find(&mut self, tenant: TenantId, reference: &InvoiceRef) -> Result<Option<Invoice>, RepositoryError>;

    /// Persists a transition: inserts or version-checked updates the invoice,
    /// writes the listed changes, applies its balance entries and appends the
    /// events, all or nothing.
    ///
    /// Errors: `VersionConflict` when the stored version is not
    /// `transition.expected_version`, or a balance entry was built on a
    /// balance that changed since (its `balance_after` no longer follows);
    /// `UniqueViolation` on a duplicate id or number; `Unavailable`, `Other`.
    fn save(&mut self, transition: &Transition) -> Result<(), RepositoryError>;

    /// Lists invoices of `tenant` matching `query`, newest first.
    /// Errors: `Unavailable`, `Other`.
    fn list(&mut self, tenant: TenantId, query: &ListQuery) -> Result<Vec<Invoice>, RepositoryError>;

    /// The audit trail of one invoice, oldest first.
    /// Errors: `Unavailable`, `Other`.
    fn events(&mut self, tenant: TenantId, invoice: InvoiceId) -> Result<Vec<Event>, RepositoryError>;

    /// Loads a credit note of `tenant`; `Ok(None)` when not this tenant's.
    /// Errors: `Unavailable`, `Other`.
    fn credit_note(&mut self, tenant: TenantId, id: CreditNoteId) -> Result<Option<CreditNote>, RepositoryError>;
}

/// Draws numbers from gapless per-tenant series.
#[cfg_attr(feature = "mock", mockall::automock)]
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
#[cfg_attr(feature = "mock", mockall::automock)]
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
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait BalanceRepository {
    /// The balance `customer` holds with `tenant` in `currency`; zero when
    /// it never had one. Inside a write transaction the adapter must make a
    /// racing writer of the same balance fail with `VersionConflict` on
    /// save (a row lock, or a check of the balance the entry was built on).
    /// Errors: `Unavailable`, `Other`.
    fn balance(&mut self, tenant: TenantId, customer: &PartyId, currency: Currency) -> Result<Amount, RepositoryError>;
    /// Every balance of `customer`, one per currency it ever held, each with
    /// its ledger oldest first; empty when it never had one.
    /// Errors: `Unavailable`, `Other`.
    fn balances(&mut self, tenant: TenantId, customer: &PartyId) -> Result<Vec<CustomerBalance>, RepositoryError>;
}

/// Tells the time; a port so tests can fix it.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock {
    /// The current instant. Never fails.
    fn now(&self) -> DateTime<Utc>;
}

/// Makes fresh ids; a port so tests can make them predictable.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait IdGenerator {
    /// A new unique id (UUID v7 in production, so ids sort by time). Never fails.
    fn new_id(&self) -> Uuid;
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
