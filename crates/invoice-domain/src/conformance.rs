//! The store conformance suite: the contract of the storage ports
//! ([`crate::ports`]), written once as tests that run against any store.
//!
//! Each test is a function generic over a [`Harness`], which tells it how to
//! add a tenant and how to run work in a write or a read transaction of the
//! store under test. [`store_conformance_tests!`](crate::store_conformance_tests)
//! turns the whole suite into `#[test]` functions of the calling crate, one
//! per test, each running on every harness the given expression yields:
//!
//! ```ignore
//! // In a test file of the crate that implements the store:
//! invoice_domain::store_conformance_tests!([MyHarness::new()]);
//! ```
//!
//! The in-memory store runs it in this crate's own tests, the Diesel store on
//! SQLite and PostgreSQL in the adapters' integration tests. What only one
//! kind of store can show (threads racing on a shared database, a fault
//! injected mid-save) is tested beside that store instead.
//!
//! The functions panic on a broken contract, naming the harness; they are
//! meant to be called from tests only.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration, SubsecRound, Utc};

use crate::commands::{
    CancelRequest, CreditPortion, CreditRequest, LineCreditRequest, NewInvoice, NewPayment, RefundRequest,
    ReissueLines, ReissueRequest, Settlement,
};
use crate::model::event::{Actor, Event};
use crate::model::ids::{InvoiceId, PartyId, ProductId, TenantId};
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::line::{LineRef, NewLine};
use crate::model::money::{Amount, Currency, PositiveAmount};
use crate::model::number::{DocumentCode, DocumentNumber, NumberFormat, SeriesPrefix};
use crate::model::party::Party;
use crate::model::reason::{Reason, ReasonCode};
use crate::model::tenant::{TenantSettings, VoidPolicy};
use crate::ports::{
    BalanceRepository, DocumentKind, InvoiceRef, InvoiceRepository, ListQuery, NumberAllocator, RepositoryError,
    SettingsRepository, SystemClock, UuidV7,
};
use crate::rules::{Change, Context, Transition};
use crate::usecases::{InvoiceService, Scope, Target, UseCaseError};

/// How the suite reaches one store under test: tenants, and transactions.
pub trait Harness {
    /// The store a transaction hands out: every storage port.
    type Store<'s>: InvoiceRepository + NumberAllocator + SettingsRepository + BalanceRepository;

    /// A short name for failure messages (`sqlite`, `in-memory`).
    fn name(&self) -> &str;

    /// Adds a tenant with default settings and returns its id; `slug` is
    /// unique within one harness.
    fn add_tenant(&mut self, slug: &str) -> TenantId;

    /// Replaces a tenant's settings.
    fn set_settings(&mut self, tenant: TenantId, settings: &TenantSettings);

    /// Runs `work` in one write transaction, committed only when it returns
    /// `Ok` (see the transaction contract in [`crate::ports`]).
    fn write<T, E: From<RepositoryError>>(
        &mut self,
        work: impl FnOnce(&mut Self::Store<'_>) -> Result<T, E>,
    ) -> Result<T, E>;

    /// Runs `work` in one read transaction.
    fn read<T, E: From<RepositoryError>>(
        &mut self,
        work: impl FnOnce(&mut Self::Store<'_>) -> Result<T, E>,
    ) -> Result<T, E>;
}

#[cfg(any(test, feature = "in-memory"))]
impl Harness for crate::memory::InMemoryStore {
    type Store<'s> = crate::memory::InMemoryStore;

    fn name(&self) -> &str {
        "in-memory"
    }

    fn add_tenant(&mut self, _slug: &str) -> TenantId {
        let mut next = 1;
        while self.settings(TenantId::new(next)).is_ok() {
            next += 1;
        }
        let tenant = TenantId::new(next);
        crate::memory::InMemoryStore::add_tenant(self, tenant);
        tenant
    }

    fn set_settings(&mut self, tenant: TenantId, settings: &TenantSettings) {
        crate::memory::InMemoryStore::set_settings(self, tenant, settings.clone()).expect("the tenant was added");
    }

    fn write<T, E: From<RepositoryError>>(
        &mut self,
        work: impl FnOnce(&mut Self::Store<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(work)
    }

    fn read<T, E: From<RepositoryError>>(
        &mut self,
        work: impl FnOnce(&mut Self::Store<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.transaction(work)
    }
}

/// Generates one `#[test]` per conformance test, each running it on every
/// harness that `$harnesses` (an expression evaluated afresh in each test,
/// yielding something iterable of [`Harness`] values) yields.
#[macro_export]
macro_rules! store_conformance_tests {
    ($harnesses:expr) => {
        $crate::__store_conformance_each!(
            $harnesses;
            a_saved_invoice_reloads_identically_by_id_and_by_number,
            an_invoice_is_found_by_any_of_its_references,
            every_saved_version_reads_back_as_it_was,
            external_references_and_serials_are_unique_per_tenant,
            payments_refunds_cancels_and_credit_notes_persist,
            number_series_are_gapless_per_tenant_kind_and_prefix,
            listing_filters_and_paginates_newest_first,
            listing_filters_by_party_and_creation_time,
            tenants_never_see_or_change_each_others_invoices,
            a_stale_version_is_refused_at_save,
            save_inserts_new_invoices_and_updates_only_stored_ones,
            numbers_and_ids_are_unique_per_tenant,
            a_failed_transaction_leaves_nothing_and_gives_its_number_back,
            tenant_settings_are_read_in_the_transaction,
            credit_balances_equal_their_ledger_and_refuse_a_stale_entry,
            a_reissue_saves_both_invoices_together,
        );
    };
}

/// The per-test expansion of [`store_conformance_tests!`]; not for direct use.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_each {
    ($harnesses:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                for mut harness in $harnesses {
                    $crate::conformance::$name(&mut harness);
                }
            }
        )*
    };
}

type Service = InvoiceService<SystemClock, UuidV7>;

fn service() -> Service {
    InvoiceService::new(SystemClock, UuidV7)
}

fn actor() -> Actor {
    Actor::new("key_test", "test")
}

fn line(product: &str, quantity: i64, unit: i64, rate: &str) -> NewLine {
    NewLine::builder(&format!("item {product}"))
        .product_id(product)
        .quantity(quantity)
        .unit_amount(unit)
        .tax_rate(rate)
        .build()
        .expect("a valid line")
}

/// A client's own code for an invoice, different each call: external
/// references are unique per tenant.
fn fresh_external_reference() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("SUP-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A draft request of customer `cust-1`, issued by `trp-1`, with the given
/// (product, quantity, unit amount, rate) lines and a fresh external
/// reference.
fn new_invoice(lines: &[(&str, i64, i64, &str)]) -> NewInvoice {
    NewInvoice::builder(
        Currency::parse("EUR").expect("EUR"),
        Party::parse(
            "cust-1",
            "Customer GmbH",
            Some("ap@customer.example"),
            Some("DE999"),
            Some("Main St 1"),
        )
        .expect("a valid party"),
    )
    .issuer(Party::parse("trp-1", "Transporter Ltd", None, None, None).expect("a valid party"))
    .lines(lines.iter().map(|(p, q, u, r)| line(p, *q, *u, r)))
    .external_reference(&fresh_external_reference())
    .metadata([("loadCount".to_string(), "3".to_string())].into_iter().collect())
    .build()
    .expect("a valid invoice")
}

fn create_from<H: Harness>(h: &mut H, tenant: TenantId, new: NewInvoice) -> Invoice {
    let scope = Scope::tenant(tenant);
    h.write(|s| service().create_draft(s, &scope, &actor(), new))
        .expect("create a draft")
        .invoice
}

fn create<H: Harness>(h: &mut H, tenant: TenantId, lines: &[(&str, i64, i64, &str)]) -> Invoice {
    create_from(h, tenant, new_invoice(lines))
}

/// Runs a use case on invoice `id` of `tenant` in one write transaction.
fn act<H, T>(
    h: &mut H,
    tenant: TenantId,
    id: InvoiceId,
    f: impl FnOnce(&Service, &mut H::Store<'_>, &Target<'_>) -> Result<T, UseCaseError>,
) -> Result<T, UseCaseError>
where
    H: Harness,
{
    let scope = Scope::tenant(tenant);
    let reference = InvoiceRef::Id(id);
    let actor = actor();
    let target = Target {
        scope: &scope,
        reference: &reference,
        actor: &actor,
        expected_version: None,
    };
    h.write(|s| f(&service(), s, &target))
}

fn open<H: Harness>(h: &mut H, tenant: TenantId, lines: &[(&str, i64, i64, &str)]) -> Invoice {
    let draft = create(h, tenant, lines);
    act(h, tenant, draft.id, |svc, s, t| svc.finalize(s, t))
        .expect("finalize")
        .invoice
}

fn pay<H: Harness>(h: &mut H, tenant: TenantId, id: InvoiceId, minor: u64) -> Invoice {
    let payment = NewPayment::new(PositiveAmount::new(minor).expect("positive"), None, None).expect("a payment");
    act(h, tenant, id, |svc, s, t| svc.record_payment(s, t, payment))
        .expect("record a payment")
        .invoice
}

fn get<H: Harness>(h: &mut H, tenant: TenantId, id: InvoiceId) -> Result<Invoice, UseCaseError> {
    h.read(|s| service().get(s, &Scope::tenant(tenant), &InvoiceRef::Id(id)))
}

fn events_of<H: Harness>(h: &mut H, tenant: TenantId, id: InvoiceId) -> Vec<Event> {
    h.read(|s| s.events(tenant, id)).expect("read events")
}

fn event_types<H: Harness>(h: &mut H, tenant: TenantId, id: InvoiceId) -> Vec<&'static str> {
    events_of(h, tenant, id).iter().map(|e| e.kind.type_name()).collect()
}

fn list_ids<H: Harness>(h: &mut H, tenant: TenantId, query: ListQuery) -> Vec<InvoiceId> {
    h.read(|s| service().list(s, &Scope::tenant(tenant), query))
        .expect("list")
        .invoices
        .into_iter()
        .map(|i| i.id)
        .collect()
}

fn draw<H: Harness>(h: &mut H, tenant: TenantId, kind: DocumentKind, prefix: &str) -> u64 {
    let counter = format!("{prefix}-{{SEQ}}");
    h.write(|s| s.next_number(tenant, kind, &counter))
        .expect("draw a number")
}

/// Decides a transition outside any store, as a racing writer would, for
/// saving it later.
fn decide<T>(f: impl FnOnce(Context<'_>) -> T) -> T {
    let actor = actor();
    let ids = UuidV7;
    f(Context {
        now: Utc::now().trunc_subsecs(6),
        actor: &actor,
        ids: &ids,
    })
}

fn credit_request(product: &str, net: u64, settle: Settlement) -> CreditRequest {
    CreditRequest::new(
        vec![LineCreditRequest::new(
            LineRef::ProductId(ProductId::parse(product).expect("a product id")),
            CreditPortion::Net(PositiveAmount::new(net).expect("positive")),
        )
        .expect("a line credit")],
        None,
        None,
        settle,
    )
    .expect("a credit request")
}

/// `find` returns what was saved, field for field, by id and by number.
pub fn a_saved_invoice_reloads_identically_by_id_and_by_number<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let draft = create(h, tenant, &[("a", 2, 1_999, "19"), ("b", 1, 500, "7.5")]);
    assert_eq!(get(h, tenant, draft.id).unwrap(), draft, "{backend}");
    let open = act(h, tenant, draft.id, |svc, s, t| svc.finalize(s, t))
        .unwrap()
        .invoice;
    let number = open.number.clone().unwrap();
    assert_eq!(number.to_string(), "INV-000001");
    let by_number = h.read(|s| s.find(tenant, &by_code(number.as_str()))).unwrap().unwrap();
    assert_eq!(by_number, open, "{backend}");
    assert_eq!(by_number.metadata.get("loadCount").map(String::as_str), Some("3"));
    assert_eq!(
        h.read(|s| s.find(tenant, &by_code("INV-000002"))),
        Ok(None),
        "{backend}"
    );
}

/// A reference that names an invoice by code: its number, else its external
/// reference.
fn by_code(code: &str) -> InvoiceRef {
    InvoiceRef::Code(DocumentCode::parse(code).expect("a valid code"))
}

/// An invoice is found by id, by number, by the client's external reference
/// and by serial; a serial that names no invoice falls back to a code of
/// the same digits, and a reference that matches nothing finds nothing.
pub fn an_invoice_is_found_by_any_of_its_references<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let first = create(h, tenant, &[("a", 1, 100, "19")]);
    let numbered = create_from(
        h,
        tenant,
        NewInvoice::builder(
            Currency::parse("EUR").expect("EUR"),
            Party::parse("cust-1", "Customer GmbH", None, None, None).expect("a valid party"),
        )
        .line(line("a", 1, 100, "19"))
        .external_reference("77")
        .build()
        .expect("a valid invoice"),
    );
    let open = act(h, tenant, numbered.id, |svc, s, t| svc.finalize(s, t))
        .unwrap()
        .invoice;
    assert_eq!(
        (first.serial, open.serial),
        (1, 2),
        "{backend}: serials count per tenant"
    );
    let find = |h: &mut H, reference: InvoiceRef| h.read(|s| s.find(tenant, &reference)).unwrap().map(|i| i.id);
    let serial = |n: u64| InvoiceRef::Serial(n, DocumentCode::parse(&n.to_string()).unwrap());
    assert_eq!(find(h, InvoiceRef::Id(open.id)), Some(open.id), "{backend}");
    let number = open.number.clone().unwrap();
    assert_eq!(find(h, by_code(number.as_str())), Some(open.id), "{backend}");
    let external = first.external_reference.clone().unwrap();
    assert_eq!(find(h, by_code(&external)), Some(first.id), "{backend}");
    assert_eq!(find(h, serial(1)), Some(first.id), "{backend}");
    assert_eq!(find(h, serial(2)), Some(open.id), "{backend}");
    // No invoice has serial 77; the invoice whose own code is "77" does.
    assert_eq!(find(h, serial(77)), Some(open.id), "{backend}");
    assert_eq!(find(h, serial(3)), None, "{backend}");
    assert_eq!(find(h, by_code("INV-999999")), None, "{backend}");
    let other = h.add_tenant("other");
    assert_eq!(
        h.read(|s| s.find(other, &by_code(number.as_str()))),
        Ok(None),
        "{backend}"
    );
}

/// Each version an invoice had reads back as it was saved, whatever came
/// after it; a version it never had, or another tenant's, finds nothing.
pub fn every_saved_version_reads_back_as_it_was<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let draft = create(h, tenant, &[("a", 1, 100, "19"), ("b", 2, 250, "7")]);
    let open = act(h, tenant, draft.id, |svc, s, t| svc.finalize(s, t))
        .unwrap()
        .invoice;
    let request = CancelRequest::lines(vec![LineRef::ProductId(ProductId::parse("b").unwrap())], None).unwrap();
    let partial = act(h, tenant, draft.id, |svc, s, t| svc.cancel(s, t, &request))
        .unwrap()
        .invoice;
    let void = act(h, tenant, draft.id, |svc, s, t| svc.void(s, t, None))
        .unwrap()
        .invoice;
    for past in [&draft, &open, &partial, &void] {
        assert_eq!(
            h.read(|s| s.find_version(tenant, draft.id, past.version)),
            Ok(Some(past.clone())),
            "{backend}: version {}",
            past.version
        );
    }
    assert_eq!(
        h.read(|s| s.find_version(tenant, draft.id, void.version + 1)),
        Ok(None),
        "{backend}"
    );
    assert_eq!(h.read(|s| s.find_version(tenant, draft.id, 0)), Ok(None), "{backend}");
    let other = h.add_tenant("other");
    assert_eq!(h.read(|s| s.find_version(other, draft.id, 1)), Ok(None), "{backend}");
}

/// Two invoices of one tenant never share an external reference or a
/// serial; another tenant may use the same ones.
pub fn external_references_and_serials_are_unique_per_tenant<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let a = h.add_tenant("a");
    let b = h.add_tenant("b");
    let first = create(h, a, &[("a", 1, 100, "19")]);
    let code = first.external_reference.clone().unwrap();
    let same_code = NewInvoice::builder(
        Currency::parse("EUR").expect("EUR"),
        Party::parse("cust-1", "Customer GmbH", None, None, None).expect("a valid party"),
    )
    .line(line("a", 1, 100, "19"))
    .external_reference(&code)
    .build()
    .expect("a valid invoice");
    let err = h
        .write(|s| service().create_draft(s, &Scope::tenant(a), &actor(), same_code.clone()))
        .unwrap_err();
    assert!(
        matches!(err, UseCaseError::Repository(RepositoryError::UniqueViolation(_))),
        "{backend}: {err:?}"
    );
    assert_eq!(
        list_ids(h, a, ListQuery::default()),
        vec![first.id],
        "{backend}: nothing was saved"
    );
    let elsewhere = create_from(h, b, same_code);
    assert_eq!(elsewhere.external_reference, Some(code), "{backend}");

    // A draft decided with a serial the tenant already gave out.
    let clash = decide(|ctx| Invoice::create_draft(a, first.serial, new_invoice(&[("a", 1, 100, "19")]), ctx));
    let err = h.write(|s| s.save(&clash)).unwrap_err();
    assert!(matches!(err, RepositoryError::UniqueViolation(_)), "{backend}: {err:?}");
    assert_eq!(
        list_ids(h, a, ListQuery::default()),
        vec![first.id],
        "{backend}: nothing was saved"
    );
}

/// Payments, refunds, a line cancel with its credit note and a void are
/// stored as the transitions left them, with their events in order.
pub fn payments_refunds_cancels_and_credit_notes_persist<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let inv = open(h, tenant, &[("a", 1, 10_000, "19"), ("b", 2, 1_250, "7")]);
    let paid = act(h, tenant, inv.id, |svc, s, t| {
        svc.record_payment(
            s,
            t,
            NewPayment::new(PositiveAmount::new(1_000).unwrap(), Some("card"), Some("ch_1")).unwrap(),
        )
    })
    .unwrap()
    .invoice;
    let pid = paid.payments[0].id;
    let refunded = act(h, tenant, inv.id, |svc, s, t| {
        svc.refund(
            s,
            t,
            RefundRequest::new(pid, PositiveAmount::new(1_000).unwrap(), Some("goodwill")).unwrap(),
        )
    })
    .unwrap()
    .invoice;
    assert_eq!(get(h, tenant, inv.id).unwrap(), refunded, "{backend}");

    let request = CancelRequest::lines(
        vec![LineRef::ProductId(ProductId::parse("b").unwrap())],
        Some(Reason::new(ReasonCode::OrderChange, Some("toll waived")).unwrap()),
    )
    .unwrap();
    let partial = act(h, tenant, inv.id, |svc, s, t| svc.cancel(s, t, &request)).unwrap();
    let stored = get(h, tenant, inv.id).unwrap();
    assert_eq!(stored, partial.invoice, "{backend}");
    let totals = stored.totals();
    assert_eq!(totals.total.minor(), 14_575, "the document stays as issued");
    assert_eq!(totals.amount_credited.minor(), 2_675);
    assert_eq!(totals.amount_due.minor(), 11_900);
    assert_eq!(stored.lines[1].credited.amounts, stored.lines[1].amounts);
    let cn = &stored.credit_notes[0];
    assert_eq!(cn.number.to_string(), "CN-000001");
    let loaded = h.read(|s| s.credit_note(tenant, cn.id)).unwrap().unwrap();
    assert_eq!(&loaded, cn, "{backend}");

    let voided = act(h, tenant, inv.id, |svc, s, t| svc.void(s, t, None)).unwrap();
    assert_eq!(get(h, tenant, inv.id).unwrap(), voided.invoice, "{backend}");
    assert_eq!(
        event_types(h, tenant, inv.id),
        [
            "invoice.created",
            "invoice.finalized",
            "invoice.payment_recorded",
            "invoice.payment_refunded",
            "invoice.lines_cancelled",
            "credit_note.issued",
            "invoice.voided",
            "credit_note.issued"
        ],
        "{backend}"
    );
}

/// Each tenant, kind and prefix counts from 1 on its own, and a rolled-back
/// draw gives its number back.
pub fn number_series_are_gapless_per_tenant_kind_and_prefix<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let a = h.add_tenant("a");
    let b = h.add_tenant("b");
    assert_eq!(draw(h, a, DocumentKind::Invoice, "INV"), 1);
    assert_eq!(draw(h, a, DocumentKind::Invoice, "INV"), 2);
    assert_eq!(draw(h, b, DocumentKind::Invoice, "INV"), 1);
    assert_eq!(draw(h, a, DocumentKind::CreditNote, "INV"), 1);
    assert_eq!(draw(h, a, DocumentKind::Invoice, "X"), 1);
    // A rolled-back allocation gives its number back.
    let rolled: Result<u64, RepositoryError> = h.write(|s| {
        s.next_number(a, DocumentKind::Invoice, "INV-{SEQ}")?;
        Err(RepositoryError::Other("abort".into()))
    });
    assert!(rolled.is_err());
    assert_eq!(draw(h, a, DocumentKind::Invoice, "INV"), 3, "{backend}");
}

/// `list` orders by id, highest (newest) first, and pages with
/// `starting_after`.
pub fn listing_filters_and_paginates_newest_first<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let ids: Vec<InvoiceId> = (0..7).map(|_| create(h, tenant, &[("a", 1, 100, "19")]).id).collect();
    act(h, tenant, ids[2], |svc, s, t| svc.finalize(s, t)).unwrap();
    let page1 = list_ids(
        h,
        tenant,
        ListQuery {
            limit: 3,
            ..Default::default()
        },
    );
    assert_eq!(page1, vec![ids[6], ids[5], ids[4]], "{backend}");
    let page2 = list_ids(
        h,
        tenant,
        ListQuery {
            limit: 3,
            starting_after: Some(ids[4]),
            ..Default::default()
        },
    );
    assert_eq!(page2, vec![ids[3], ids[2], ids[1]], "{backend}");
    let open_only = list_ids(
        h,
        tenant,
        ListQuery {
            limit: 10,
            status: Some(InvoiceStatus::Open),
            ..Default::default()
        },
    );
    assert_eq!(open_only, vec![ids[2]], "{backend}");
    let nobody = list_ids(
        h,
        tenant,
        ListQuery {
            limit: 10,
            customer_id: Some(PartyId::parse("someone-else").unwrap()),
            ..Default::default()
        },
    );
    assert!(nobody.is_empty(), "{backend}");
    // The port itself returns exactly `limit` rows, and none for 0.
    let raw = |limit| ListQuery {
        limit,
        ..Default::default()
    };
    assert_eq!(h.read(|s| s.list(tenant, &raw(2))).unwrap().len(), 2, "{backend}");
    assert!(h.read(|s| s.list(tenant, &raw(0))).unwrap().is_empty(), "{backend}");
}

/// The party filter matches the customer or the issuer; the creation-time
/// window includes its start and excludes its end.
pub fn listing_filters_by_party_and_creation_time<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let issued = create(h, tenant, &[("a", 1, 100, "19")]);
    let other = NewInvoice::builder(
        Currency::parse("EUR").unwrap(),
        Party::parse("cust-2", "Other AG", None, None, None).unwrap(),
    )
    .line(line("a", 1, 100, "19"))
    .build()
    .unwrap();
    let unrelated = create_from(h, tenant, other);
    let party = |id: &str| ListQuery {
        limit: 10,
        party: Some(PartyId::parse(id).unwrap()),
        ..Default::default()
    };
    assert_eq!(
        list_ids(h, tenant, party("cust-1")),
        vec![issued.id],
        "{backend}: as customer"
    );
    assert_eq!(
        list_ids(h, tenant, party("trp-1")),
        vec![issued.id],
        "{backend}: as issuer"
    );
    assert_eq!(list_ids(h, tenant, party("cust-2")), vec![unrelated.id], "{backend}");
    assert!(list_ids(h, tenant, party("nobody")).is_empty(), "{backend}");

    let window = |from, to| ListQuery {
        limit: 10,
        created_from: from,
        created_to: to,
        ..Default::default()
    };
    let at = issued.created_at;
    assert_eq!(
        list_ids(h, tenant, window(Some(at), Some(at + Duration::microseconds(1)))),
        vec![issued.id],
        "{backend}: the start is included"
    );
    assert!(
        !list_ids(h, tenant, window(None, Some(at))).contains(&issued.id),
        "{backend}: the end is excluded"
    );
    let everything = list_ids(h, tenant, window(Some(at - Duration::hours(1)), None));
    assert_eq!(everything, vec![unrelated.id, issued.id], "{backend}");
}

/// Nothing of one tenant is found, listed or changed through another.
pub fn tenants_never_see_or_change_each_others_invoices<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let a = h.add_tenant("a");
    let b = h.add_tenant("b");
    let inv = open(h, a, &[("a", 1, 100, "19")]);
    assert_eq!(get(h, b, inv.id).unwrap_err(), UseCaseError::NotFound, "{backend}");
    let number = by_code(inv.number.as_ref().unwrap().as_str());
    assert!(h.read(|s| s.find(b, &number)).unwrap().is_none(), "{backend}");
    let err = act(h, b, inv.id, |svc, s, t| svc.void(s, t, None)).unwrap_err();
    assert_eq!(err, UseCaseError::NotFound, "{backend}");
    assert!(h.read(|s| s.events(b, inv.id)).unwrap().is_empty(), "{backend}");
    assert_eq!(
        get(h, a, inv.id).unwrap(),
        inv,
        "{backend}: tenant A's invoice is unchanged"
    );
    let list = h
        .read(|s| service().list(s, &Scope::tenant(b), ListQuery::default()))
        .unwrap();
    assert!(list.invoices.is_empty(), "{backend}");
    let cancelled = act(h, a, inv.id, |svc, s, t| svc.cancel(s, t, &CancelRequest::whole(None)))
        .unwrap()
        .invoice;
    let note = cancelled.credit_notes[0].id;
    assert!(h.read(|s| s.credit_note(a, note)).unwrap().is_some(), "{backend}");
    assert!(h.read(|s| s.credit_note(b, note)).unwrap().is_none(), "{backend}");
}

/// A transition decided on a stale copy never overwrites the newer state.
pub fn a_stale_version_is_refused_at_save<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let inv = open(h, tenant, &[("a", 1, 100, "19")]);
    act(h, tenant, inv.id, |svc, s, t| svc.void(s, t, None)).unwrap();
    let stale = decide(|ctx| {
        inv.cancel(&CancelRequest::whole(None), ctx, || {
            DocumentNumber::new(SeriesPrefix::credit_notes(), 99)
        })
        .unwrap()
    });
    let err = h.write(|s| s.save(&stale)).unwrap_err();
    assert_eq!(err, RepositoryError::VersionConflict, "{backend}");
    assert_eq!(get(h, tenant, inv.id).unwrap().status, InvoiceStatus::Void, "{backend}");
}

/// A `Created` transition inserts at version 0 and never overwrites; any
/// other transition updates only an invoice that is stored, and an unknown
/// one is a `VersionConflict`, never `NotFound`.
pub fn save_inserts_new_invoices_and_updates_only_stored_ones<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let created = decide(|ctx| Invoice::create_draft(tenant, 1_001, new_invoice(&[("a", 1, 100, "19")]), ctx));
    assert_eq!(created.expected_version, 0);
    assert!(created.changes.contains(&Change::Created));
    h.write(|s| s.save(&created)).unwrap();
    let stored = get(h, tenant, created.invoice.id).unwrap();
    assert_eq!((stored.version, &stored), (1, &created.invoice), "{backend}");

    // The same insert again is a duplicate id, and changes nothing.
    let again = h.write(|s| s.save(&created)).unwrap_err();
    assert!(
        matches!(again, RepositoryError::UniqueViolation(_)),
        "{backend}: {again:?}"
    );
    assert_eq!(events_of(h, tenant, created.invoice.id).len(), 1, "{backend}");

    // An update of an invoice that was never saved.
    let never_saved =
        decide(|ctx| Invoice::create_draft(tenant, 1_002, new_invoice(&[("a", 1, 100, "19")]), ctx)).invoice;
    let update = decide(|ctx| {
        never_saved
            .finalize(ctx, || DocumentNumber::new(SeriesPrefix::invoices(), 7))
            .unwrap()
    });
    assert!(!update.changes.contains(&Change::Created));
    assert_eq!(
        h.write(|s| s.save(&update)),
        Err(RepositoryError::VersionConflict),
        "{backend}"
    );
    assert_eq!(h.read(|s| s.find(tenant, &InvoiceRef::Id(never_saved.id))), Ok(None));
    let number = by_code("INV-000007");
    assert_eq!(h.read(|s| s.find(tenant, &number)), Ok(None), "{backend}");
}

/// An invoice number and a credit-note number are used once per tenant.
pub fn numbers_and_ids_are_unique_per_tenant<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let a = h.add_tenant("a");
    let b = h.add_tenant("b");
    let first = open(h, a, &[("a", 1, 100, "19")]);
    let taken = first.number.clone().unwrap();

    // A second invoice finalized with a number already used in the tenant.
    let draft = create(h, a, &[("a", 1, 100, "19")]);
    let duplicate = decide(|ctx| draft.finalize(ctx, || Ok::<_, ()>(taken.clone())).unwrap());
    let err = h.write(|s| s.save(&duplicate)).unwrap_err();
    assert!(matches!(err, RepositoryError::UniqueViolation(_)), "{backend}: {err:?}");
    assert_eq!(get(h, a, draft.id).unwrap(), draft, "{backend}: nothing was saved");

    // The same number in another tenant is another number.
    let elsewhere = open(h, b, &[("a", 1, 100, "19")]);
    assert_eq!(elsewhere.number.as_ref(), Some(&taken), "{backend}");

    // A credit note numbered like one the tenant already issued.
    let cancelled = act(h, a, first.id, |svc, s, t| {
        svc.cancel(s, t, &CancelRequest::whole(None))
    })
    .unwrap()
    .invoice;
    let used = cancelled.credit_notes[0].number.clone();
    let other = open(h, a, &[("a", 1, 100, "19")]);
    let clash = decide(|ctx| {
        other
            .cancel(&CancelRequest::whole(None), ctx, || Ok::<_, ()>(used.clone()))
            .unwrap()
    });
    let err = h.write(|s| s.save(&clash)).unwrap_err();
    assert!(matches!(err, RepositoryError::UniqueViolation(_)), "{backend}: {err:?}");
    assert_eq!(get(h, a, other.id).unwrap(), other, "{backend}: nothing was saved");
}

/// Work that fails after a successful save leaves nothing: no invoice
/// change, no credit note, no event, and the number drawn is given back.
pub fn a_failed_transaction_leaves_nothing_and_gives_its_number_back<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let inv = open(h, tenant, &[("a", 1, 100, "19")]);
    let events_before = events_of(h, tenant, inv.id).len();
    let mut saved_note = None;
    let err = act(h, tenant, inv.id, |svc, s, t| {
        let cancelled = svc.cancel(s, t, &CancelRequest::whole(None))?;
        saved_note = Some(cancelled.invoice.credit_notes[0].id);
        // Inside the transaction the store reads its own writes.
        let seen = s.find(tenant, &InvoiceRef::Id(inv.id))?;
        assert_eq!(
            seen.map(|i| i.status),
            Some(InvoiceStatus::Cancelled),
            "read your writes"
        );
        Err::<Transition, _>(UseCaseError::Repository(RepositoryError::Other("fails later".into())))
    })
    .unwrap_err();
    assert!(matches!(err, UseCaseError::Repository(_)), "{backend}");
    assert_eq!(
        get(h, tenant, inv.id).unwrap(),
        inv,
        "{backend}: the save was rolled back"
    );
    assert_eq!(
        events_of(h, tenant, inv.id).len(),
        events_before,
        "{backend}: no event remains"
    );
    let note = saved_note.expect("the cancel ran");
    assert!(h.read(|s| s.credit_note(tenant, note)).unwrap().is_none(), "{backend}");

    // A refused call draws nothing either.
    let refused = act(h, tenant, inv.id, |svc, s, t| {
        let payment = NewPayment::new(PositiveAmount::new(10_000).unwrap(), None, None).unwrap();
        svc.record_payment(s, t, payment)
    })
    .unwrap_err();
    assert_eq!(refused.code(), "overpayment", "{backend}");

    let cancelled = act(h, tenant, inv.id, |svc, s, t| {
        svc.cancel(s, t, &CancelRequest::whole(None))
    })
    .unwrap()
    .invoice;
    assert_eq!(
        cancelled.credit_notes[0].number.to_string(),
        "CN-000001",
        "{backend}: the number drawn in the failed transaction was given back"
    );
}

/// Settings are the tenant's, read in the caller's transaction; an unknown
/// tenant has none (`NotFound`).
pub fn tenant_settings_are_read_in_the_transaction<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let a = h.add_tenant("a");
    let b = h.add_tenant("b");
    assert_eq!(h.read(|s| s.settings(a)), Ok(TenantSettings::default()), "{backend}");
    let custom = TenantSettings {
        credit_note_series: SeriesPrefix::parse("GS").unwrap(),
        void_credit_note: VoidPolicy::Never,
        apply_credit_balance: true,
        invoice_number_format: NumberFormat::parse("R{YYYY}-{SEQ:4}").unwrap(),
        credit_note_number_format: NumberFormat::parse("{SERIES}.{SEQ}").unwrap(),
        ..TenantSettings::default()
    };
    h.set_settings(a, &custom);
    assert_eq!(h.read(|s| s.settings(a)), Ok(custom.clone()), "{backend}");
    // Saved through the port, the settings count only if the transaction commits.
    let changed = TenantSettings {
        apply_credit_balance: false,
        ..custom.clone()
    };
    let aborted: Result<(), RepositoryError> = h.write(|s| {
        s.save_settings(a, &changed)?;
        Err(RepositoryError::Other("abort".into()))
    });
    assert!(aborted.is_err());
    assert_eq!(
        h.read(|s| s.settings(a)),
        Ok(custom),
        "{backend}: a rolled-back save leaves the settings"
    );
    h.write(|s| s.save_settings(a, &changed)).unwrap();
    assert_eq!(h.read(|s| s.settings(a)), Ok(changed), "{backend}");
    assert_eq!(h.read(|s| s.settings(b)), Ok(TenantSettings::default()), "{backend}");
    let missing = TenantId::new(987_654_321);
    assert_eq!(
        h.read(|s| s.settings(missing)),
        Err(RepositoryError::NotFound),
        "{backend}"
    );

    // The use cases follow them: numbers in the tenant's formats, credit
    // notes from `GS`, a void without one.
    let inv = open(h, a, &[("a", 1, 100, "19"), ("b", 1, 100, "19")]);
    let year = inv.issued_at.expect("issued").format("%Y");
    assert_eq!(inv.number_text(), Some(format!("R{year}-0001")), "{backend}");
    let request = CancelRequest::lines(vec![LineRef::ProductId(ProductId::parse("a").unwrap())], None).unwrap();
    let partial = act(h, a, inv.id, |svc, s, t| svc.cancel(s, t, &request))
        .unwrap()
        .invoice;
    assert_eq!(partial.credit_notes[0].number.to_string(), "GS.1", "{backend}");
    let void = act(h, a, inv.id, |svc, s, t| svc.void(s, t, None)).unwrap().invoice;
    assert_eq!(void.credit_notes.len(), 1, "{backend}: the policy `never` issues none");
}

/// Credits onto a customer's balance and the balance spent at finalize are
/// ledger entries whose `balance_after` chains; an entry decided on a balance
/// that has moved since is a `VersionConflict`, and nothing of its
/// transition remains.
pub fn credit_balances_equal_their_ledger_and_refuse_a_stale_entry<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let customer = PartyId::parse("cust-1").unwrap();
    let eur = Currency::parse("EUR").unwrap();
    assert_eq!(h.read(|s| s.balance(tenant, &customer, eur)), Ok(Amount::ZERO));
    assert!(
        h.read(|s| s.balances(tenant, &customer)).unwrap().is_empty(),
        "{backend}"
    );

    let first = open(h, tenant, &[("a", 1, 1_000, "0")]);
    let first = pay(h, tenant, first.id, 1_000);
    let credit_first = |h: &mut H, net| {
        act(h, tenant, first.id, |svc, s, t| {
            svc.credit(s, t, &credit_request("a", net, Settlement::CreditBalance))
        })
        .unwrap()
    };
    credit_first(h, 300);
    assert_eq!(
        h.read(|s| s.balance(tenant, &customer, eur)),
        Ok(Amount::from_minor(300)),
        "{backend}"
    );

    // A credit of another invoice decided on that balance of 300, saved
    // only after a second credit moved the balance to 500.
    let second = open(h, tenant, &[("a", 1, 1_000, "0")]);
    let second = pay(h, tenant, second.id, 1_000);
    let stale = decide(|ctx| {
        second
            .credit(
                &credit_request("a", 100, Settlement::CreditBalance),
                Amount::from_minor(300),
                ctx,
                || DocumentNumber::new(SeriesPrefix::credit_notes(), 90),
            )
            .unwrap()
    });
    assert_eq!(stale.balance_entries[0].balance_after.minor(), 400);
    credit_first(h, 200);
    assert_eq!(
        h.write(|s| s.save(&stale)),
        Err(RepositoryError::VersionConflict),
        "{backend}"
    );
    assert_eq!(
        get(h, tenant, second.id).unwrap(),
        second,
        "{backend}: nothing was saved"
    );
    assert_eq!(
        h.read(|s| s.balance(tenant, &customer, eur)),
        Ok(Amount::from_minor(500)),
        "{backend}"
    );

    // Finalizing with `apply_credit_balance` spends it: a debit.
    h.set_settings(
        tenant,
        &TenantSettings {
            apply_credit_balance: true,
            ..TenantSettings::default()
        },
    );
    let third = open(h, tenant, &[("a", 1, 150, "0")]);
    assert_eq!(third.status, InvoiceStatus::Paid, "{backend}: paid from the balance");

    let balances = h.read(|s| s.balances(tenant, &customer)).unwrap();
    assert_eq!(balances.len(), 1, "{backend}");
    let ledger = &balances[0];
    assert_eq!((ledger.currency, ledger.balance.minor()), (eur, 350), "{backend}");
    let moves: Vec<(&str, u64, u64)> = ledger
        .entries
        .iter()
        .map(|e| (e.direction.as_str(), e.amount.minor(), e.balance_after.minor()))
        .collect();
    assert_eq!(
        moves,
        [("credit", 300, 300), ("credit", 200, 500), ("debit", 150, 350)],
        "{backend}"
    );
    let other = PartyId::parse("cust-2").unwrap();
    assert!(h.read(|s| s.balances(tenant, &other)).unwrap().is_empty(), "{backend}");
}

/// Both halves of a reissue are saved in one transaction and point at
/// each other.
pub fn a_reissue_saves_both_invoices_together<H: Harness>(h: &mut H) {
    let backend = h.name().to_string();
    let tenant = h.add_tenant("acme");
    let inv = open(h, tenant, &[("a", 1, 100, "19"), ("b", 2, 50, "7")]);
    let request = ReissueRequest::new(ReissueLines::Copy, None).unwrap();
    let reissue = act(h, tenant, inv.id, |svc, s, t| svc.reissue(s, t, &request)).unwrap();
    let old = get(h, tenant, inv.id).unwrap();
    let new = get(h, tenant, reissue.replacement.invoice.id).unwrap();
    assert_eq!(old, reissue.cancelled.invoice, "{backend}");
    assert_eq!(new, reissue.replacement.invoice, "{backend}");
    assert_eq!(
        (old.status, new.status),
        (InvoiceStatus::Cancelled, InvoiceStatus::Draft)
    );
    assert_eq!(old.replaced_by, Some(new.id), "{backend}");
    assert_eq!(new.replaces, Some(old.id), "{backend}");
    assert_eq!(new.lines.len(), 2);
    assert!(
        event_types(h, tenant, new.id).contains(&"invoice.reissued"),
        "{backend}"
    );
    assert!(
        event_types(h, tenant, old.id).contains(&"invoice.reissued"),
        "{backend}"
    );
}
