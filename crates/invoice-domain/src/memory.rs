//! [`InMemoryStore`]: every storage port in memory, for examples, tests and
//! tools that need no database. Standard library only.
//!
//! It keeps the contract of [`crate::ports`] the way the Diesel store does,
//! and passes the same conformance suite: the same uniqueness rules, the
//! same version check on save, the same order of listings, the same check of
//! each balance entry's `balance_after`. What a database gives for free it
//! gives through [`InMemoryStore::transaction`]: run a use case inside it,
//! and a refused or failed call leaves nothing behind and gives back the
//! number it drew.
//!
//! ```
//! use invoice_domain::memory::InMemoryStore;
//! use invoice_domain::prelude::*;
//!
//! let mut store = InMemoryStore::new();
//! let tenant = TenantId::new(1);
//! store.add_tenant(tenant);
//! let drawn = store.transaction(|s| s.next_number(tenant, DocumentKind::Invoice, "INV-{SEQ}"))?;
//! assert_eq!(drawn, 1);
//!
//! // A transaction that fails gives its number back.
//! let failed: Result<u64, RepositoryError> = store.transaction(|s| {
//!     s.next_number(tenant, DocumentKind::Invoice, "INV-{SEQ}")?;
//!     Err(RepositoryError::Other("refused later on".into()))
//! });
//! assert!(failed.is_err());
//! assert_eq!(store.next_number(tenant, DocumentKind::Invoice, "INV-{SEQ}")?, 2);
//! # Ok::<(), RepositoryError>(())
//! ```
//!
//! The store is a plain value: share it between threads behind a `Mutex`
//! and hold the lock for a whole transaction, which makes transactions run
//! one after another. Each transaction copies the whole state once, so it
//! suits thousands of invoices, not millions.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::balance::{BalanceDirection, CustomerBalance};
use crate::model::credit_note::CreditNote;
use crate::model::event::Event;
use crate::model::ids::{BalanceEntryId, CreditNoteId, EventId, InvoiceId, PartyId, TenantId};
use crate::model::invoice::Invoice;
use crate::model::money::{Amount, Currency};
use crate::model::tenant::TenantSettings;
use crate::ports::{
    BalanceRepository, DocumentKind, InvoiceRef, InvoiceRepository, ListQuery, NumberAllocator, RepositoryError,
    SettingsRepository,
};
use crate::rules::{Change, Transition};

/// Invoices, number series, settings and credit balances of any number of
/// tenants, held in memory.
///
/// A tenant must be added ([`InMemoryStore::add_tenant`]) before anything is
/// written for it, as a database's foreign keys would demand; reads of an
/// unknown tenant find nothing.
#[derive(Debug, Clone, Default)]
pub struct InMemoryStore {
    tenants: BTreeMap<TenantId, TenantData>,
}

/// Everything one tenant holds, with the indexes that make lookups by
/// number and the uniqueness checks cheap.
#[derive(Debug, Clone, Default)]
struct TenantData {
    settings: TenantSettings,
    invoices: BTreeMap<InvoiceId, Invoice>,
    /// Every version each invoice had, as saved, for the audit view.
    versions: BTreeMap<(InvoiceId, u64), Invoice>,
    /// Issued numbers by their printed text, unique per tenant.
    invoice_numbers: BTreeMap<String, InvoiceId>,
    /// The clients' own codes, unique per tenant.
    external_references: BTreeMap<String, InvoiceId>,
    serials: BTreeMap<u64, InvoiceId>,
    credit_notes: BTreeMap<CreditNoteId, InvoiceId>,
    credit_note_numbers: BTreeSet<String>,
    events: BTreeMap<InvoiceId, Vec<Event>>,
    event_ids: BTreeSet<EventId>,
    /// The last number drawn from each counter.
    counters: BTreeMap<(DocumentKind, String), u64>,
    /// The last serial drawn.
    last_serial: u64,
    /// Keyed by customer and currency code, which orders `balances` by code.
    balances: BTreeMap<(PartyId, &'static str), CustomerBalance>,
    balance_entry_ids: BTreeSet<BalanceEntryId>,
}

/// Puts the state saved at the start of a transaction back when dropped
/// armed: on an `Err`, and on a panic while unwinding.
struct Rollback<'a> {
    store: &'a mut InMemoryStore,
    snapshot: Option<BTreeMap<TenantId, TenantData>>,
}

impl Drop for Rollback<'_> {
    fn drop(&mut self) {
        if let Some(snapshot) = self.snapshot.take() {
            self.store.tenants = snapshot;
        }
    }
}

impl InMemoryStore {
    /// An empty store, with no tenant yet.
    pub fn new() -> Self {
        InMemoryStore::default()
    }

    /// Adds `tenant` with the default settings; a tenant already present
    /// keeps what it has.
    pub fn add_tenant(&mut self, tenant: TenantId) {
        self.tenants.entry(tenant).or_default();
    }

    /// Replaces the settings of `tenant`.
    /// Errors: `NotFound` when the tenant was never added.
    pub fn set_settings(&mut self, tenant: TenantId, settings: TenantSettings) -> Result<(), RepositoryError> {
        let data = self.tenants.get_mut(&tenant).ok_or(RepositoryError::NotFound)?;
        data.settings = settings;
        Ok(())
    }

    /// Runs `work` as one all-or-nothing transaction: when it returns `Err`
    /// or panics, the store is put back exactly as it was before, numbers
    /// drawn included; when it returns `Ok`, everything it did stays.
    ///
    /// Run each use case inside one, as a database adapter runs it inside a
    /// database transaction. Transactions nest: an inner one that fails
    /// undoes only its own work.
    pub fn transaction<T, E>(&mut self, work: impl FnOnce(&mut InMemoryStore) -> Result<T, E>) -> Result<T, E> {
        let snapshot = Some(self.tenants.clone());
        let mut guard = Rollback { store: self, snapshot };
        let result = work(&mut *guard.store);
        if result.is_ok() {
            guard.snapshot = None;
        }
        result
    }

    fn tenant_mut(&mut self, tenant: TenantId) -> Result<&mut TenantData, RepositoryError> {
        self.tenants
            .get_mut(&tenant)
            .ok_or_else(|| RepositoryError::Other(format!("tenant {tenant} does not exist in this store")))
    }
}

/// Checks that `transition` may be saved into `data` as it stands, without
/// changing anything, so that a refused save leaves the store untouched even
/// outside a transaction.
fn check_save(data: &TenantData, transition: &Transition) -> Result<(), RepositoryError> {
    let invoice = &transition.invoice;
    let stored = data.invoices.get(&invoice.id);
    if transition.changes.contains(&Change::Created) {
        if stored.is_some() {
            return Err(RepositoryError::UniqueViolation(format!("invoice id {}", invoice.id)));
        }
    } else if stored.map(|s| s.version) != Some(transition.expected_version) {
        return Err(RepositoryError::VersionConflict);
    }
    let taken =
        |index: &BTreeMap<String, InvoiceId>, key: &str| index.get(key).is_some_and(|owner| *owner != invoice.id);
    if let Some(number) = &invoice.number {
        if taken(&data.invoice_numbers, number.as_str()) {
            return Err(RepositoryError::UniqueViolation(format!("invoices.number {number}")));
        }
    }
    if let Some(code) = &invoice.external_reference {
        if taken(&data.external_references, code) {
            return Err(RepositoryError::UniqueViolation(format!(
                "invoices.external_reference {code}"
            )));
        }
    }
    if data
        .serials
        .get(&invoice.serial)
        .is_some_and(|owner| *owner != invoice.id)
    {
        return Err(RepositoryError::UniqueViolation(format!(
            "invoices.serial {}",
            invoice.serial
        )));
    }
    let mut note_ids = BTreeSet::new();
    let mut note_numbers = BTreeSet::new();
    for note in new_credit_notes(stored, invoice) {
        let id_taken = data.credit_notes.contains_key(&note.id) || !note_ids.insert(note.id);
        if id_taken {
            return Err(RepositoryError::UniqueViolation(format!("credit note id {}", note.id)));
        }
        let number_taken =
            data.credit_note_numbers.contains(note.number.as_str()) || !note_numbers.insert(note.number.as_str());
        if number_taken {
            return Err(RepositoryError::UniqueViolation(format!(
                "credit note number {}",
                note.number
            )));
        }
    }
    let mut event_ids = BTreeSet::new();
    for event in &transition.events {
        if event.tenant != invoice.tenant {
            return Err(RepositoryError::Other("an event of another tenant".into()));
        }
        if data.event_ids.contains(&event.id) || !event_ids.insert(event.id) {
            return Err(RepositoryError::UniqueViolation(format!("event id {}", event.id)));
        }
    }
    let mut balances: BTreeMap<(PartyId, &'static str), Amount> = BTreeMap::new();
    let mut entry_ids = BTreeSet::new();
    for entry in &transition.balance_entries {
        if entry.tenant != invoice.tenant {
            return Err(RepositoryError::Other("a balance entry of another tenant".into()));
        }
        if data.balance_entry_ids.contains(&entry.id) || !entry_ids.insert(entry.id) {
            return Err(RepositoryError::UniqueViolation(format!(
                "balance entry id {}",
                entry.id
            )));
        }
        let key = (entry.customer.clone(), entry.currency.code());
        let before = match balances.get(&key) {
            Some(amount) => *amount,
            None => data.balances.get(&key).map_or(Amount::ZERO, |b| b.balance),
        };
        let after = match entry.direction {
            BalanceDirection::Credit => before
                .checked_add(entry.amount.amount())
                .ok_or_else(|| RepositoryError::Other("a customer balance would overflow".into()))?,
            // A debit larger than the balance is a balance that moved since
            // it was read, as the Diesel store reports it.
            BalanceDirection::Debit => before
                .checked_sub(entry.amount.amount())
                .ok_or(RepositoryError::VersionConflict)?,
        };
        if after != entry.balance_after {
            return Err(RepositoryError::VersionConflict);
        }
        balances.insert(key, after);
    }
    Ok(())
}

/// The credit notes `invoice` holds that its stored version did not.
fn new_credit_notes<'a>(stored: Option<&Invoice>, invoice: &'a Invoice) -> impl Iterator<Item = &'a CreditNote> {
    let known: BTreeSet<CreditNoteId> = stored
        .map(|s| s.credit_notes.iter().map(|n| n.id).collect())
        .unwrap_or_default();
    invoice.credit_notes.iter().filter(move |n| !known.contains(&n.id))
}

impl InvoiceRepository for InMemoryStore {
    fn find(&mut self, tenant: TenantId, reference: &InvoiceRef) -> Result<Option<Invoice>, RepositoryError> {
        let Some(data) = self.tenants.get(&tenant) else {
            return Ok(None);
        };
        let by_code = |code: &str| {
            data.invoice_numbers
                .get(code)
                .or_else(|| data.external_references.get(code))
                .copied()
        };
        let id = match reference {
            InvoiceRef::Id(id) => Some(*id),
            InvoiceRef::Code(code) => by_code(code.as_str()),
            InvoiceRef::Serial(serial, code) => data.serials.get(serial).copied().or_else(|| by_code(code.as_str())),
        };
        Ok(id.and_then(|id| data.invoices.get(&id)).cloned())
    }

    fn find_version(
        &mut self,
        tenant: TenantId,
        id: InvoiceId,
        version: u64,
    ) -> Result<Option<Invoice>, RepositoryError> {
        Ok(self
            .tenants
            .get(&tenant)
            .and_then(|data| data.versions.get(&(id, version)))
            .cloned())
    }

    /// Stores the invoice whole, as an aggregate store may: the changes
    /// other than `Created` need no writing of their own here.
    fn save(&mut self, transition: &Transition) -> Result<(), RepositoryError> {
        let invoice = &transition.invoice;
        let data = self.tenant_mut(invoice.tenant)?;
        check_save(data, transition)?;

        let previous = data.invoices.get(&invoice.id);
        let added: Vec<(CreditNoteId, String)> = new_credit_notes(previous, invoice)
            .map(|n| (n.id, n.number.as_str().to_owned()))
            .collect();
        if let Some(old) = previous {
            if let Some(number) = &old.number {
                data.invoice_numbers.remove(number.as_str());
            }
            if let Some(code) = &old.external_reference {
                data.external_references.remove(code);
            }
            data.serials.remove(&old.serial);
        }
        if let Some(number) = &invoice.number {
            data.invoice_numbers.insert(number.as_str().to_owned(), invoice.id);
        }
        if let Some(code) = &invoice.external_reference {
            data.external_references.insert(code.clone(), invoice.id);
        }
        data.serials.insert(invoice.serial, invoice.id);
        for (id, number) in added {
            data.credit_notes.insert(id, invoice.id);
            data.credit_note_numbers.insert(number);
        }
        data.versions.insert((invoice.id, invoice.version), invoice.clone());
        data.invoices.insert(invoice.id, invoice.clone());

        for event in &transition.events {
            data.event_ids.insert(event.id);
            data.events.entry(event.invoice_id).or_default().push(event.clone());
        }
        for entry in &transition.balance_entries {
            data.balance_entry_ids.insert(entry.id);
            let key = (entry.customer.clone(), entry.currency.code());
            let ledger = data.balances.entry(key).or_insert_with(|| CustomerBalance {
                customer: entry.customer.clone(),
                currency: entry.currency,
                balance: Amount::ZERO,
                entries: Vec::new(),
            });
            ledger.balance = entry.balance_after;
            ledger.entries.push(entry.clone());
        }
        Ok(())
    }

    fn list(&mut self, tenant: TenantId, query: &ListQuery) -> Result<Vec<Invoice>, RepositoryError> {
        let Some(data) = self.tenants.get(&tenant) else {
            return Ok(Vec::new());
        };
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let upper = match query.starting_after {
            Some(after) => std::ops::Bound::Excluded(after),
            None => std::ops::Bound::Unbounded,
        };
        Ok(data
            .invoices
            .range((std::ops::Bound::Unbounded, upper))
            .rev()
            .map(|(_, invoice)| invoice)
            .filter(|i| query.status.is_none_or(|s| i.status == s))
            .filter(|i| query.customer_id.as_ref().is_none_or(|c| &i.customer.id == c))
            .filter(|i| {
                query
                    .party
                    .as_ref()
                    .is_none_or(|p| &i.customer.id == p || i.issued_by(p))
            })
            .filter(|i| query.created_from.is_none_or(|from| i.created_at >= from))
            .filter(|i| query.created_to.is_none_or(|to| i.created_at < to))
            .take(limit)
            .cloned()
            .collect())
    }

    fn events(&mut self, tenant: TenantId, invoice: InvoiceId) -> Result<Vec<Event>, RepositoryError> {
        Ok(self
            .tenants
            .get(&tenant)
            .and_then(|data| data.events.get(&invoice))
            .cloned()
            .unwrap_or_default())
    }

    fn credit_note(&mut self, tenant: TenantId, id: CreditNoteId) -> Result<Option<CreditNote>, RepositoryError> {
        let Some(data) = self.tenants.get(&tenant) else {
            return Ok(None);
        };
        Ok(data
            .credit_notes
            .get(&id)
            .and_then(|invoice| data.invoices.get(invoice))
            .and_then(|invoice| invoice.credit_notes.iter().find(|n| n.id == id))
            .cloned())
    }
}

impl NumberAllocator for InMemoryStore {
    fn next_number(&mut self, tenant: TenantId, kind: DocumentKind, counter: &str) -> Result<u64, RepositoryError> {
        let last = self
            .tenant_mut(tenant)?
            .counters
            .entry((kind, counter.to_owned()))
            .or_insert(0);
        *last = last
            .checked_add(1)
            .ok_or_else(|| RepositoryError::Other(format!("the counter {counter} is exhausted")))?;
        Ok(*last)
    }

    fn next_serial(&mut self, tenant: TenantId) -> Result<u64, RepositoryError> {
        let data = self.tenant_mut(tenant)?;
        data.last_serial = data
            .last_serial
            .checked_add(1)
            .ok_or_else(|| RepositoryError::Other("the invoice serials are exhausted".into()))?;
        Ok(data.last_serial)
    }
}

impl SettingsRepository for InMemoryStore {
    fn settings(&mut self, tenant: TenantId) -> Result<TenantSettings, RepositoryError> {
        self.tenants
            .get(&tenant)
            .map(|data| data.settings.clone())
            .ok_or(RepositoryError::NotFound)
    }

    fn save_settings(&mut self, tenant: TenantId, settings: &TenantSettings) -> Result<(), RepositoryError> {
        self.set_settings(tenant, settings.clone())
    }
}

impl BalanceRepository for InMemoryStore {
    fn balance(&mut self, tenant: TenantId, customer: &PartyId, currency: Currency) -> Result<Amount, RepositoryError> {
        Ok(self
            .tenants
            .get(&tenant)
            .and_then(|data| data.balances.get(&(customer.clone(), currency.code())))
            .map_or(Amount::ZERO, |b| b.balance))
    }

    fn balances(&mut self, tenant: TenantId, customer: &PartyId) -> Result<Vec<CustomerBalance>, RepositoryError> {
        let Some(data) = self.tenants.get(&tenant) else {
            return Ok(Vec::new());
        };
        Ok(data
            .balances
            .iter()
            .filter(|((owner, _), _)| owner == customer)
            .map(|(_, balance)| balance.clone())
            .collect())
    }
}

#[cfg(test)]
mod tests;
