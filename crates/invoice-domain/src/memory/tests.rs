//! The in-memory store against the conformance suite, and what only it has
//! to show: rollback on a panic, nested transactions, atomic saves outside
//! a transaction, and writes for a tenant it does not know.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::InMemoryStore;
use crate::conformance::Harness;
use crate::model::ids::TenantId;
use crate::ports::{DocumentKind, InvoiceRef, InvoiceRepository, NumberAllocator, RepositoryError};
use crate::rules::test_support::{actor, ctx, draft, line, SeqIds};

crate::store_conformance_tests!([InMemoryStore::new()]);

fn store_with_tenant() -> (InMemoryStore, TenantId) {
    let mut store = InMemoryStore::new();
    let tenant = Harness::add_tenant(&mut store, "acme");
    (store, tenant)
}

fn draw(store: &mut InMemoryStore, tenant: TenantId) -> Result<u64, RepositoryError> {
    store.next_number(tenant, DocumentKind::Invoice, "INV-{SEQ}")
}

#[test]
fn a_panic_inside_a_transaction_rolls_it_back() {
    let (mut store, tenant) = store_with_tenant();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        let _: Result<(), RepositoryError> = store.transaction(|s| {
            draw(s, tenant)?;
            panic!("the use case panicked");
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(
        draw(&mut store, tenant),
        Ok(1),
        "the number drawn before the panic is back"
    );
}

#[test]
fn a_failed_inner_transaction_undoes_only_its_own_work() {
    let (mut store, tenant) = store_with_tenant();
    let outer: Result<(u64, u64), RepositoryError> = store.transaction(|s| {
        let first = draw(s, tenant)?;
        let inner: Result<u64, RepositoryError> = s.transaction(|s| {
            draw(s, tenant)?;
            Err(RepositoryError::Other("inner fails".into()))
        });
        assert!(inner.is_err());
        Ok((first, draw(s, tenant)?))
    });
    assert_eq!(outer, Ok((1, 2)));
    assert_eq!(draw(&mut store, tenant), Ok(3), "the outer transaction committed");
}

#[test]
fn a_refused_save_outside_a_transaction_changes_nothing() {
    let (mut store, tenant) = store_with_tenant();
    let ids = SeqIds::default();
    let actor = actor();
    let mut invoice = draft(vec![line("a", 1, 100, "19")]);
    invoice.tenant = tenant;
    let created = crate::rules::Transition {
        invoice: invoice.clone(),
        expected_version: 0,
        events: Vec::new(),
        changes: vec![crate::rules::Change::Created],
        balance_entries: Vec::new(),
    };
    store.save(&created).unwrap();
    // A finalize whose second event reuses the first one's id: refused as a
    // whole, so the invoice is not finalized either.
    let mut finalized = invoice
        .finalize(ctx(&actor, &ids), || {
            Ok::<_, ()>(crate::rules::test_support::number("INV", 1))
        })
        .unwrap();
    let first = finalized.events[0].clone();
    finalized.events.push(first);
    let err = store.save(&finalized).unwrap_err();
    assert!(matches!(err, RepositoryError::UniqueViolation(_)), "{err:?}");
    assert_eq!(store.find(tenant, &InvoiceRef::Id(invoice.id)), Ok(Some(invoice)));
    assert!(store.events(tenant, finalized.invoice.id).unwrap().is_empty());
}

#[test]
fn writes_for_an_unknown_tenant_are_refused_and_reads_find_nothing() {
    let mut store = InMemoryStore::new();
    let stranger = TenantId::new(42);
    assert!(matches!(draw(&mut store, stranger), Err(RepositoryError::Other(_))));
    let mut invoice = draft(vec![line("a", 1, 100, "19")]);
    invoice.tenant = stranger;
    let created = crate::rules::Transition {
        invoice: invoice.clone(),
        expected_version: 0,
        events: Vec::new(),
        changes: vec![crate::rules::Change::Created],
        balance_entries: Vec::new(),
    };
    assert!(matches!(store.save(&created), Err(RepositoryError::Other(_))));
    assert_eq!(store.find(stranger, &InvoiceRef::Id(invoice.id)), Ok(None));
    assert_eq!(
        store.set_settings(stranger, Default::default()),
        Err(RepositoryError::NotFound)
    );
}
