//! Use-case tests against mocked ports: nothing is saved on refusal, and
//! conflicts surface as `version_mismatch`.

use chrono::{TimeZone, Utc};
use mockall::predicate::*;

use crate::commands::CancelRequest;
use crate::commands::{NewPayment, RefundRequest, Rejection};
use crate::model::balance::CustomerBalance;
use crate::model::credit_note::CreditNote;
use crate::model::event::{Actor, Event};
use crate::model::ids::PaymentId;
use crate::model::ids::{CreditNoteId, InvoiceId, PartyId, TenantId};
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::money::{Amount, Currency};
use crate::model::number::SeriesPrefix;
use crate::model::tenant::TenantSettings;
use crate::ports::{BalanceRepository, SettingsRepository};
use crate::ports::{
    DocumentKind, InvoiceRef, InvoiceRepository, ListQuery, MockClock, MockIdGenerator, NumberAllocator,
    RepositoryError,
};
use crate::rules::test_support::{draft, line, open};
use crate::rules::Transition;
use crate::usecases::{Action, InvoiceService, Scope, Target, UseCaseError};

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
        fn next_number(&mut self, tenant: TenantId, kind: DocumentKind, counter: &str) -> Result<u64, RepositoryError>;
        fn next_serial(&mut self, tenant: TenantId) -> Result<u64, RepositoryError>;
    }
    impl SettingsRepository for Store {
        fn settings(&mut self, tenant: TenantId) -> Result<TenantSettings, RepositoryError>;
        fn save_settings(&mut self, tenant: TenantId, settings: &TenantSettings) -> Result<(), RepositoryError>;
    }
    impl BalanceRepository for Store {
        fn balance(&mut self, tenant: TenantId, customer: &PartyId, currency: Currency) -> Result<Amount, RepositoryError>;
        fn balances(&mut self, tenant: TenantId, customer: &PartyId) -> Result<Vec<CustomerBalance>, RepositoryError>;
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
        credit_note_series: series,
        ..TenantSettings::default()
    };
    store
        .expect_settings()
        .with(eq(inv.tenant))
        .times(1)
        .returning(move |_| Ok(settings.clone()));
    store
        .expect_next_number()
        .with(eq(inv.tenant), eq(DocumentKind::CreditNote), eq("GS-{SEQ}"))
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
    store.expect_settings().returning(|_| {
        Ok(TenantSettings {
            void_credit_note: crate::model::tenant::VoidPolicy::Never,
            ..TenantSettings::default()
        })
    });
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
    store.expect_settings().returning(|_| Ok(TenantSettings::default()));
    store.expect_balance().never();
    store
        .expect_next_number()
        .returning(|_, _, _| Err(RepositoryError::Unavailable("down".into())));
    store.expect_settings().returning(|_| Ok(TenantSettings::default()));
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
    let stranger = Scope::party(inv.tenant, PartyId::parse("someone-else").unwrap());
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
    // Another tenant's scope never learns the invoice exists.
    let foreign = Scope::party(TenantId::new(99), PartyId::parse("trp-1").unwrap());
    assert_eq!(
        service().get(&mut store, &foreign, &reference).unwrap_err(),
        UseCaseError::NotFound
    );
}

fn one() -> crate::model::money::PositiveAmount {
    crate::model::money::PositiveAmount::new(1).unwrap()
}

/// Runs the use case of `action` for `scope` on a fresh store holding a
/// suitable invoice (a draft for finalize, an open one awaiting approval
/// otherwise) and reports whether it saved.
fn attempt(action: Action, scope: &Scope) -> (Result<(), UseCaseError>, bool) {
    use crate::rules::test_support::{ctx, new_invoice, SeqIds};
    let (a, ids) = (crate::rules::test_support::actor(), SeqIds::default());
    let pending = {
        let d = Invoice::create_draft(
            TenantId::new(1),
            1,
            new_invoice(vec![line("a", 1, 100, "19")], 1),
            ctx(&a, &ids),
        )
        .invoice;
        crate::rules::test_support::finalize(d)
    };
    let invoice = match action {
        Action::Finalize => draft(vec![line("a", 1, 100, "19")]),
        Action::RecordPayment | Action::Refund => open(vec![line("a", 1, 100, "19")]),
        _ => pending,
    };
    let saved = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut store = store_with(invoice.clone());
    let flag = saved.clone();
    store.expect_save().returning(move |_| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    });
    store.expect_next_number().returning(|_, _, _| Ok(1));
    store.expect_next_serial().returning(|_| Ok(2));
    store.expect_settings().returning(|_| Ok(TenantSettings::default()));
    store.expect_events().returning(|_, _| Ok(vec![]));
    let reference = InvoiceRef::Id(invoice.id);
    let actor = Actor::new("k", "test");
    let t = target(scope, &reference, &actor, None);
    let svc = service();
    let result = match action {
        Action::Read => svc.get(&mut store, scope, &reference).map(drop),
        Action::Create => svc
            .create_draft(&mut store, scope, &actor, new_invoice(vec![], 0))
            .map(drop),
        Action::Finalize => svc.finalize(&mut store, &t).map(drop),
        Action::Cancel => svc.cancel(&mut store, &t, &CancelRequest::whole(None)).map(drop),
        Action::Credit => svc
            .credit(
                &mut store,
                &t,
                &crate::commands::CreditRequest::new(
                    vec![crate::commands::LineCreditRequest::new(
                        crate::model::line::LineRef::LineId(invoice.lines[0].id),
                        crate::commands::CreditPortion::Quantity(1),
                    )
                    .unwrap()],
                    None,
                    None,
                    crate::commands::Settlement::ReduceDue,
                )
                .unwrap(),
            )
            .map(drop),
        Action::Reissue => svc
            .reissue(&mut store, &t, &crate::commands::ReissueRequest::default())
            .map(drop),
        Action::Void => svc.void(&mut store, &t, None).map(drop),
        Action::MarkUncollectible => svc.mark_uncollectible(&mut store, &t, None).map(drop),
        Action::MarkSent => svc.mark_sent(&mut store, &t).map(drop),
        Action::RecordPayment => svc
            .record_payment(&mut store, &t, NewPayment::new(one(), None, None).unwrap())
            .map(drop),
        Action::Refund => svc
            .refund(
                &mut store,
                &t,
                RefundRequest::new(PaymentId::from_uuid(uuid::Uuid::nil()), one(), None).unwrap(),
            )
            .map(drop),
        Action::Approve => svc.approve(&mut store, &t).map(drop),
        Action::Reject => svc
            .reject(&mut store, &t, Rejection::parse(vec!["x".into()], None).unwrap())
            .map(drop),
    };
    (result, saved.load(std::sync::atomic::Ordering::SeqCst))
}

#[test]
fn each_use_case_lets_each_side_do_exactly_what_the_party_table_says() {
    // (action, issuer may, customer may): the table in docs/api.md.
    let table = [
        (Action::Read, true, true),
        (Action::Create, true, false),
        (Action::Finalize, true, false),
        (Action::Cancel, true, false),
        (Action::Credit, true, false),
        (Action::Reissue, true, false),
        (Action::Void, true, false),
        (Action::MarkUncollectible, true, false),
        (Action::MarkSent, true, false),
        (Action::RecordPayment, true, false),
        (Action::Refund, true, false),
        (Action::Approve, false, true),
        (Action::Reject, false, true),
    ];
    assert_eq!(table.map(|row| row.0), Action::ALL, "every action is in the table");
    let tenant = TenantId::new(1);
    let issuer = Scope::party(tenant, PartyId::parse("trp-1").unwrap());
    let customer = Scope::party(tenant, PartyId::parse("cust-1").unwrap());
    let stranger = Scope::party(tenant, PartyId::parse("trp-2").unwrap());
    let refused =
        |r: &Result<(), UseCaseError>| matches!(r, Err(UseCaseError::NotOwned | UseCaseError::NotPermitted(_)));
    for (action, issuer_may, customer_may) in table {
        for (who, scope, may) in [
            ("tenant-wide", Scope::tenant(tenant), true),
            ("issuer", issuer.clone(), issuer_may),
            ("customer", customer.clone(), customer_may),
            ("stranger", stranger.clone(), false),
        ] {
            let (result, saved) = attempt(action, &scope);
            if may {
                assert!(!refused(&result), "{action:?} as {who}: {result:?}");
            } else {
                assert!(refused(&result), "{action:?} as {who} must be refused: {result:?}");
                assert_eq!(result.unwrap_err().code(), "invoice_not_owned", "{action:?} as {who}");
                assert!(!saved, "{action:?} as {who}: a refusal saves nothing");
            }
        }
        let (result, _) = attempt(action, &customer);
        if !customer_may {
            assert_eq!(
                result,
                Err(UseCaseError::NotPermitted(action)),
                "{action:?}: the customer is told why"
            );
        }
    }
}

#[test]
fn a_party_key_cannot_create_an_invoice_in_another_issuers_name() {
    use crate::model::party::Party;
    use crate::rules::test_support::new_invoice;
    let tenant = TenantId::new(1);
    let trp1 = Scope::party(tenant, PartyId::parse("trp-001").unwrap());
    let actor = Actor::new("k", "test");
    let forged = |issuer: Option<&str>| {
        let mut new = new_invoice(vec![], 0);
        new.issuer = issuer.map(|id| Party::parse(id, "Forged", None, None, None).unwrap());
        new
    };
    for (issuer, customer) in [
        (Some("trp-002"), "cust-1"),
        (Some("trp-002"), "trp-001"),
        (None, "trp-001"),
    ] {
        let mut store = MockStore::new();
        store.expect_save().never();
        // The serial is drawn in the caller's transaction, which the refusal rolls back.
        store.expect_next_serial().returning(|_| Ok(1));
        let mut new = forged(issuer);
        new.customer = Party::parse(customer, "C", None, None, None).unwrap();
        assert_eq!(
            service().create_draft(&mut store, &trp1, &actor, new).unwrap_err(),
            UseCaseError::NotPermitted(Action::Create),
            "issuer {issuer:?}, customer {customer}"
        );
    }
    let mut store = MockStore::new();
    store.expect_save().times(1).returning(|_| Ok(()));
    store.expect_next_serial().times(1).returning(|_| Ok(41));
    let own = service()
        .create_draft(&mut store, &trp1, &actor, forged(Some("trp-001")))
        .unwrap();
    assert_eq!(own.invoice.serial, 41, "the draft carries the serial drawn for it");
    assert_eq!(own.invoice.issuer.unwrap().id.as_str(), "trp-001");
}

#[test]
fn list_clamps_the_page_and_forces_the_party_filter() {
    let mut store = MockStore::new();
    store
        .expect_list()
        .withf(|_, q| q.limit == 101 && q.party.as_ref().map(PartyId::as_str) == Some("cust-1"))
        .times(1)
        .returning(|_, _| Ok(vec![]));
    let scope = Scope::party(TenantId::new(1), PartyId::parse("cust-1").unwrap());
    let q = ListQuery {
        limit: 5_000,
        ..Default::default()
    };
    let page = service().list(&mut store, &scope, q).unwrap();
    assert!(page.invoices.is_empty() && !page.has_more);
}

/// A seller profile complete enough for EN 16931.
fn complete_seller() -> crate::model::seller::SellerProfile {
    crate::model::seller::SellerProfile {
        name: Some("Seller GmbH".into()),
        vat_id: Some(crate::model::seller::VatId::parse("DE123456789").unwrap()),
        address: Some(crate::model::address::PostalAddress::parse(None, None, None, None, Some("DE")).unwrap()),
        ..Default::default()
    }
}

#[test]
fn finalize_freezes_the_seller_and_under_require_en16931_refuses_an_incomplete_draft_without_a_number() {
    let mut d = draft(vec![line("a", 1, 100, "19")]);
    d.issuer = None;
    let run = |settings: TenantSettings, invoice: Invoice, refuses: bool| {
        let mut store = store_with(invoice.clone());
        store.expect_settings().returning(move |_| Ok(settings.clone()));
        if refuses {
            store.expect_next_number().never();
            store.expect_save().never();
        } else {
            store.expect_next_number().returning(|_, _, _| Ok(1));
            store.expect_save().returning(|_| Ok(()));
        }
        let scope = Scope::tenant(invoice.tenant);
        let reference = InvoiceRef::Id(invoice.id);
        let actor = Actor::new("k", "test");
        service().finalize(&mut store, &target(&scope, &reference, &actor, None))
    };
    // Off by default: an incomplete invoice is issued, its seller frozen.
    let t = run(TenantSettings::default(), d.clone(), false).unwrap();
    assert_eq!(t.invoice.seller, Some(Default::default()));
    // Required: the buyer's country and the seller are missing, named with their ids.
    let strict = TenantSettings {
        require_en16931: true,
        ..TenantSettings::default()
    };
    let err = run(strict.clone(), d.clone(), true).unwrap_err();
    assert_eq!(err.code(), "document_incomplete");
    let UseCaseError::Refused(crate::error::Refusal::DocumentIncomplete(incomplete)) = err else {
        panic!("not incomplete")
    };
    let fields: Vec<(&str, &str)> = incomplete.missing.iter().map(|m| (m.field.as_str(), m.rule)).collect();
    assert!(fields.contains(&("seller.name", "BR-06")), "{fields:?}");
    assert!(fields.contains(&("seller.vat_id", "BR-S-02")), "{fields:?}");
    assert!(fields.contains(&("customer.address.country", "BR-11")), "{fields:?}");
    // Complete: issued, with that seller frozen.
    let mut complete = d.clone();
    complete.customer = complete
        .customer
        .clone()
        .with_address(crate::model::address::PostalAddress::parse(None, None, None, None, Some("FR")).unwrap());
    let t = run(
        TenantSettings {
            seller: complete_seller(),
            ..strict
        },
        complete,
        false,
    )
    .unwrap();
    assert_eq!(t.invoice.seller, Some(complete_seller()));
}

#[test]
fn a_drafts_document_is_refused_and_an_issued_one_is_checked_against_its_profile() {
    let d = draft(vec![line("a", 1, 100, "19")]);
    let mut store = store_with(d.clone());
    store.expect_settings().never();
    let scope = Scope::tenant(d.tenant);
    let err = service()
        .invoice_document(
            &mut store,
            &scope,
            &InvoiceRef::Id(d.id),
            crate::einvoice::Profile::En16931,
        )
        .unwrap_err();
    assert_eq!(err.code(), "invoice_not_issued");

    let mut o = open(vec![line("a", 1, 100, "19")]);
    o.issuer = None;
    o.seller = Some(complete_seller());
    o.customer = o
        .customer
        .clone()
        .with_address(crate::model::address::PostalAddress::parse(None, None, None, None, Some("FR")).unwrap());
    let mut store = store_with(o.clone());
    store.expect_settings().returning(|_| Ok(TenantSettings::default()));
    let doc = service()
        .invoice_document(
            &mut store,
            &scope,
            &InvoiceRef::Id(o.id),
            crate::einvoice::Profile::En16931,
        )
        .unwrap();
    assert_eq!(doc.seller, complete_seller(), "the frozen seller, not today's profile");
    let err = service()
        .invoice_document(
            &mut store,
            &scope,
            &InvoiceRef::Id(o.id),
            crate::einvoice::Profile::XRechnung,
        )
        .unwrap_err();
    let UseCaseError::Refused(crate::error::Refusal::DocumentIncomplete(incomplete)) = err else {
        panic!("not incomplete")
    };
    assert!(incomplete.missing.iter().any(|m| m.rule == "BR-DE-15"));
}
