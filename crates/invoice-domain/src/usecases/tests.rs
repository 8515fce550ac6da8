//! Use-case tests against mocked ports: nothing is saved on refusal, and
//! conflicts surface as `version_mismatch`.

use chrono::{TimeZone, Utc};
use mockall::predicate::*;

use crate::commands::CancelRequest;
use crate::model::credit_note::CreditNote;
use crate::model::event::{Actor, Event};
use crate::model::ids::{CreditNoteId, InvoiceId, PartyId, TenantId};
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::number::SeriesPrefix;
use crate::model::tenant::TenantSettings;
use crate::ports::SettingsRepository;
use crate::ports::{
    DocumentKind, InvoiceRef, InvoiceRepository, ListQuery, MockClock, MockIdGenerator, NumberAllocator,
    RepositoryError,
};
use crate::rules::test_support::{draft, line, open};
use crate::rules::Transition;
use crate::usecases::{InvoiceService, PartyRole, Scope, Target, UseCaseError};

mockall::mock! {
    Store {}
    impl InvoiceRepository for Store {
        fn find(&mut self, tenant: TenantId, reference: &InvoiceRef) -> Result<Option<Invoice>, RepositoryError>;
        fn save(&mut self, transition: &Transition) -> Result<(), RepositoryError>;
        fn list(&mut self, tenant: TenantId, query: &ListQuery) -> Result<Vec<Invoice>, RepositoryError>;
        fn events(&mut self, tenant: TenantId, invoice: InvoiceId) -> Result<Vec<Event>, RepositoryError>;
        fn credit_note(&mut self, tenant: TenantId, id: CreditNoteId) -> Result<Option<CreditNote>, RepositoryError>;
    }
    impl NumberAllocator for Store {
        fn next_number(&mut self, tenant: TenantId, kind: DocumentKind, series: &SeriesPrefix) -> Result<u64, RepositoryError>;
    }
    impl SettingsRepository for Store {
        fn settings(&mut self, tenant: TenantId) -> Result<TenantSettings, RepositoryError>;
    }
}

fn service() -> InvoiceService<MockClock, MockIdGenerator> {
    let mut clock = MockClock::new();
    clock
        .expect_now()
        .returning(|| Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0).unwrap());
    let mut ids = MockIdGenerator::new();
    ids.expect_new_id().returning(uuid::Uuid::now_v7);
    InvoiceService::new(clock, ids)
}

fn store_with(invoice: Invoice) -> MockStore {
    let mut store = MockStore::new();
    store.expect_find().returning(move |_, _| Ok(Some(invoice.clone())));
    store
}

fn target<'a>(scope: &'a Scope, reference: &'a InvoiceRef, actor: &'a Actor, version: Option<u64>) -> Target<'a> {
    Target {
        scope,
        reference,
        actor,
        expected_version: version,
    }
}

#[test]
fn a_refused_cancel_saves_nothing_and_draws_no_number() {
    let voided = {
        let o = open(vec![line("a", 1, 100, "19")]);
        let mut v = o.clone();
        v.status = InvoiceStatus::Void;
        v
    };
    let mut store = store_with(voided.clone());
    store.expect_save().never();
    store.expect_next_number().never();
    store.expect_settings().never();
    let scope = Scope::tenant(voided.tenant);
    let reference = InvoiceRef::Id(voided.id);
    let actor = Actor::new("k", "test");
    let err = service()
        .cancel(
            &mut store,
            &target(&scope, &reference, &actor, None),
            &CancelRequest::whole(None),
        )
        .unwrap_err();
    assert_eq!(err.code(), "invoice_already_void");
}

#[test]
fn a_cancel_draws_a_credit_note_number_and_saves_once() {
    let inv = open(vec![line("a", 1, 100, "19")]);
    let mut store = store_with(inv.clone());
    let series = SeriesPrefix::parse("GS").unwrap();
    let settings = TenantSettings {
        credit_note_series: series.clone(),
    };
    store
        .expect_settings()
        .with(eq(inv.tenant))
        .times(1)
        .returning(move |_| Ok(settings.clone()));
    store
        .expect_next_number()
        .with(eq(inv.tenant), eq(DocumentKind::CreditNote), eq(series))
        .times(1)
        .returning(|_, _, _| Ok(3));
    store
        .expect_save()
        .withf(|t| t.invoice.status == InvoiceStatus::Cancelled && t.expected_version == 2 && t.events.len() == 2)
        .times(1)
        .returning(|_| Ok(()));
    let scope = Scope::tenant(inv.tenant);
    let reference = InvoiceRef::Id(inv.id);
    let actor = Actor::new("k", "test");
    let t = service()
        .cancel(
            &mut store,
            &target(&scope, &reference, &actor, Some(2)),
            &CancelRequest::whole(None),
        )
        .unwrap();
    assert_eq!(
        t.invoice.credit_notes[0].number.to_string(),
        "GS-000003",
        "the tenant's credit-note series"
    );
}

#[test]
fn a_version_conflict_on_save_surfaces_as_version_mismatch() {
    let inv = open(vec![line("a", 1, 100, "19")]);
    let mut store = store_with(inv.clone());
    store
        .expect_save()
        .times(1)
        .returning(|_| Err(RepositoryError::VersionConflict));
    let scope = Scope::tenant(inv.tenant);
    let reference = InvoiceRef::Id(inv.id);
    let actor = Actor::new("k", "test");
    let err = service()
        .void(&mut store, &target(&scope, &reference, &actor, None), None)
        .unwrap_err();
    assert_eq!(err.code(), "version_mismatch");
}

#[test]
fn a_stale_expected_version_is_refused_before_deciding() {
    let inv = open(vec![line("a", 1, 100, "19")]);
    let mut store = store_with(inv.clone());
    store.expect_save().never();
    let scope = Scope::tenant(inv.tenant);
    let reference = InvoiceRef::Id(inv.id);
    let actor = Actor::new("k", "test");
    let err = service()
        .void(&mut store, &target(&scope, &reference, &actor, Some(1)), None)
        .unwrap_err();
    assert_eq!(
        err,
        UseCaseError::VersionMismatch {
            expected: Some(1),
            current: Some(2)
        }
    );
}

#[test]
fn a_failed_number_draw_aborts_finalize() {
    let d = draft(vec![line("a", 1, 100, "19")]);
    let mut store = store_with(d.clone());
    store
        .expect_next_number()
        .returning(|_, _, _| Err(RepositoryError::Unavailable("down".into())));
    store.expect_save().never();
    let scope = Scope::tenant(d.tenant);
    let reference = InvoiceRef::Id(d.id);
    let actor = Actor::new("k", "test");
    let err = service()
        .finalize(&mut store, &target(&scope, &reference, &actor, None))
        .unwrap_err();
    assert_eq!(err.code(), "service_unavailable");
}

#[test]
fn unknown_invoices_are_not_found_and_other_parties_are_not_owned() {
    let inv = open(vec![line("a", 1, 100, "19")]);
    let mut missing = MockStore::new();
    missing.expect_find().returning(|_, _| Ok(None));
    let scope = Scope::tenant(TenantId::new(1));
    let reference = InvoiceRef::Id(inv.id);
    assert_eq!(
        service().get(&mut missing, &scope, &reference).unwrap_err(),
        UseCaseError::NotFound
    );

    let mut store = store_with(inv.clone());
    store.expect_save().never();
    let stranger = Scope {
        tenant: inv.tenant,
        party: Some(PartyId::parse("someone-else").unwrap()),
        role: PartyRole::Any,
    };
    assert_eq!(
        service().get(&mut store, &stranger, &reference).unwrap_err(),
        UseCaseError::NotOwned
    );
    let actor = Actor::new("k", "test");
    assert_eq!(
        service()
            .void(&mut store, &target(&stranger, &reference, &actor, None), None)
            .unwrap_err(),
        UseCaseError::NotOwned
    );
    // The customer may read it, but only the issuer acts as issuer.
    let customer = Scope {
        tenant: inv.tenant,
        party: Some(PartyId::parse("cust-1").unwrap()),
        role: PartyRole::Issuer,
    };
    assert_eq!(
        service().get(&mut store, &customer, &reference).unwrap_err(),
        UseCaseError::NotOwned
    );
    let issuer = Scope {
        tenant: inv.tenant,
        party: Some(PartyId::parse("trp-1").unwrap()),
        role: PartyRole::Issuer,
    };
    assert!(service().get(&mut store, &issuer, &reference).is_ok());
}

#[test]
fn list_clamps_the_page_and_forces_the_party_filter() {
    let mut store = MockStore::new();
    store
        .expect_list()
        .withf(|_, q| q.limit == 101 && q.party.as_ref().map(PartyId::as_str) == Some("cust-1"))
        .times(1)
        .returning(|_, _| Ok(vec![]));
    let scope = Scope {
        tenant: TenantId::new(1),
        party: Some(PartyId::parse("cust-1").unwrap()),
        role: PartyRole::Any,
    };
    let q = ListQuery {
        limit: 5_000,
        ..Default::default()
    };
    let page = service().list(&mut store, &scope, q).unwrap();
    assert!(page.invoices.is_empty() && !page.has_more);
}
