//! The repository conformance suite, run against SQLite and PostgreSQL.
//!
//! The store contract is defined once, in `invoice_domain::conformance`,
//! and runs here on both backends through [`Harness`]; the in-memory store
//! runs the same tests in the domain crate. What follows it is what only a
//! shared database can show: a fault injected mid-save, writers racing on
//! threads, API keys and idempotency records.

use std::sync::{Arc, Barrier};

use invoice_adapters::outbound::db::{admin, idempotency, settings, Database, DieselStore, FaultPoint};
use invoice_adapters::ports::{Claim, IdempotencyRecords, Owner, StoredReply, DEFAULT_IDEMPOTENCY_RETENTION};
use invoice_domain::conformance::Harness;
use invoice_domain::*;

use crate::support::*;

impl Harness for TestDb {
    type Store<'s> = DieselStore<'s>;

    fn name(&self) -> &str {
        self.backend
    }

    fn add_tenant(&mut self, slug: &str) -> TenantId {
        tenant(&self.db, slug)
    }

    fn set_settings(&mut self, tenant: TenantId, new: &TenantSettings) {
        self.db
            .write_conn(|c| settings::save(c, tenant, new))
            .expect("save the tenant's settings");
    }

    fn write<T, E: From<RepositoryError>>(
        &mut self,
        work: impl FnOnce(&mut DieselStore<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.db.write(work)
    }

    fn read<T, E: From<RepositoryError>>(
        &mut self,
        work: impl FnOnce(&mut DieselStore<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.db.read(work)
    }
}

invoice_domain::store_conformance_tests!(backends());

fn events_of(db: &Database, tenant: TenantId, id: InvoiceId) -> Vec<Event> {
    db.read(|s| s.events(tenant, id)).unwrap()
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_failure_after_the_invoice_update_leaves_nothing_behind() {
    for t in backends() {
        let tenant = tenant(&t.db, "acme");
        let inv = open(&t.db, tenant, &[("a", 1, 100, "19")]);
        let before = events_of(&t.db, tenant, inv.id).len();
        let err = act(&t.db, tenant, inv.id, |svc, s, target| {
            s.inject_fault(FaultPoint::AfterInvoiceUpdate);
            svc.cancel(s, target, &CancelRequest::whole(None))
        })
        .unwrap_err();
        assert!(matches!(err, UseCaseError::Repository(_)), "{}: {err:?}", t.backend);
        let after = get(&t.db, tenant, inv.id).unwrap();
        assert_eq!(after, inv, "{}: the invoice update was rolled back", t.backend);
        assert!(after.credit_notes.is_empty());
        assert_eq!(events_of(&t.db, tenant, inv.id).len(), before, "no event remains");
        // The credit-note number drawn in the failed transaction was given back.
        let cancelled = act(&t.db, tenant, inv.id, |svc, s, t| {
            svc.cancel(s, t, &CancelRequest::whole(None))
        })
        .unwrap()
        .invoice;
        assert_eq!(
            cancelled.credit_notes[0].number.to_string(),
            "CN-000001",
            "{}",
            t.backend
        );
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn thirty_two_racing_cancels_give_exactly_one_success() {
    for t in backends() {
        let tenant = tenant(&t.db, "acme");
        let inv = open(&t.db, tenant, &[("a", 1, 100, "19"), ("b", 1, 200, "19")]);
        let db = Arc::new(t.db.clone());
        let barrier = Arc::new(Barrier::new(32));
        let handles: Vec<_> = (0..32)
            .map(|_| {
                let (db, barrier) = (db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    act(&db, tenant, inv.id, |svc, s, t| {
                        svc.cancel(s, t, &CancelRequest::whole(None))
                    })
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{}: {results:?}", t.backend);
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(r.code(), "invoice_already_cancelled" | "version_mismatch"),
                "{}: unexpected loser error {r:?}",
                t.backend
            );
        }
        let events = events_of(&t.db, tenant, inv.id);
        let cancelled = events
            .iter()
            .filter(|e| e.kind.type_name() == "invoice.cancelled")
            .count();
        assert_eq!(cancelled, 1, "{}", t.backend);
        let stored = get(&t.db, tenant, inv.id).unwrap();
        assert_eq!(stored.credit_notes.len(), 1);
        assert_eq!(stored.version, inv.version + 1);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn fifty_concurrent_finalizes_number_one_to_fifty_without_gaps() {
    for t in backends() {
        let tenant = tenant(&t.db, "acme");
        let drafts: Vec<InvoiceId> = (0..50)
            .map(|_| create(&t.db, tenant, &[("a", 1, 100, "19")]).id)
            .collect();
        let db = Arc::new(t.db.clone());
        let barrier = Arc::new(Barrier::new(50));
        let handles: Vec<_> = drafts
            .into_iter()
            .map(|id| {
                let (db, barrier) = (db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    act(&db, tenant, id, |svc, s, t| svc.finalize(s, t)).map(|t| t.invoice.number.unwrap().sequence)
                })
            })
            .collect();
        let mut numbers: Vec<u64> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{}: finalize failed: {e:?}", t.backend))
            })
            .collect();
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=50).collect::<Vec<u64>>(), "{}", t.backend);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn tenants_and_api_keys_are_stored_and_found_by_hash() {
    for t in backends() {
        let row =
            t.db.write_conn(|c| admin::create_tenant(c, "shop", "Shop Inc"))
                .unwrap();
        let dup = t.db.write_conn(|c| admin::create_tenant(c, "shop", "Again"));
        assert!(
            matches!(dup, Err(RepositoryError::UniqueViolation(_))),
            "{}: {dup:?}",
            t.backend
        );
        let key = |id, hash, expires_at| admin::NewApiKey {
            tenant_id: row.id,
            id,
            key_hash: hash,
            scopes: "invoices:read",
            party_id: Some("p1"),
            expires_at,
        };
        // Microseconds: what both databases store.
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6).naive_utc();
        t.db.write_conn(|c| admin::insert_api_key(c, key("key_1", "hash1", None)))
            .unwrap();
        let found =
            t.db.read_conn(|c| admin::find_api_key(c, "hash1", now))
                .unwrap()
                .unwrap();
        assert_eq!((found.tenant_id, found.party_id.as_deref()), (row.id, Some("p1")));
        assert!(t
            .db
            .read_conn(|c| admin::find_api_key(c, "nope", now))
            .unwrap()
            .is_none());
        // An expiring key is found until it expires; a revoked key never again.
        let until = now + chrono::Duration::hours(1);
        t.db.write_conn(|c| admin::insert_api_key(c, key("key_2", "hash2", Some(until))))
            .unwrap();
        let found = |hash, at| t.db.read_conn(|c| admin::find_api_key(c, hash, at)).unwrap();
        assert!(found("hash2", now).is_some(), "{}", t.backend);
        assert!(found("hash2", until).is_none(), "{}: expired", t.backend);
        let revoke = |id| t.db.write_conn(|c| admin::revoke_api_key(c, id, now)).unwrap();
        assert_eq!(revoke("key_1"), admin::Revoked::Now);
        assert_eq!(revoke("key_1"), admin::Revoked::Already(now));
        assert_eq!(revoke("key_nope"), admin::Revoked::NotFound);
        assert!(found("hash1", now).is_none(), "{}: revoked", t.backend);
        let by_id = t.db.read_conn(|c| admin::find_tenant(c, &row.id.to_string())).unwrap();
        assert_eq!(by_id.unwrap().slug, "shop");
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn idempotency_keys_claim_replay_and_detect_misuse() {
    for t in backends() {
        let owner = Owner {
            tenant: tenant(&t.db, "acme"),
            api_key_id: "key_a".into(),
        };
        let now = chrono::Utc::now();
        let claim = |key: &str, hash: &str, at| {
            t.db.claim(&owner, key, hash, at, DEFAULT_IDEMPOTENCY_RETENTION)
                .unwrap()
        };
        assert_eq!(claim("k1", "h1", now), Claim::Claimed);
        assert_eq!(claim("k1", "h1", now), Claim::InUse, "{}", t.backend);
        assert_eq!(claim("k1", "other", now), Claim::Mismatch);
        // An abandoned claim (a crashed request) can be taken over after the lock expires.
        let later = now + chrono::Duration::seconds(idempotency::LOCK_SECONDS + 1);
        assert_eq!(claim("k1", "h1", later), Claim::Claimed);
        let reply = StoredReply {
            status: 201,
            body: "{\"ok\":true}".into(),
            content_type: "application/json".into(),
        };
        t.db.complete(&owner, "k1", &reply).unwrap();
        assert_eq!(claim("k1", "h1", later), Claim::Replay(reply));
        // Keys are scoped per tenant, and per API key within a tenant.
        let other = Owner {
            tenant: crate::support::tenant(&t.db, "other"),
            api_key_id: "key_a".into(),
        };
        let fresh =
            t.db.claim(&other, "k1", "h1", now, DEFAULT_IDEMPOTENCY_RETENTION)
                .unwrap();
        assert_eq!(fresh, Claim::Claimed);
        let sibling = Owner {
            api_key_id: "key_b".into(),
            ..owner.clone()
        };
        let fresh =
            t.db.claim(&sibling, "k1", "h1", later, DEFAULT_IDEMPOTENCY_RETENTION)
                .unwrap();
        assert_eq!(fresh, Claim::Claimed, "{}", t.backend);
        // An expired record is taken over as new, whatever it held.
        let expired =
            later + chrono::Duration::from_std(DEFAULT_IDEMPOTENCY_RETENTION).unwrap() + chrono::Duration::hours(1);
        assert_eq!(claim("k1", "another request", expired), Claim::Claimed);
        assert_eq!(claim("k1", "another request", expired), Claim::InUse);
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_customer_balance_moved_by_racing_credits_always_equals_its_ledger() {
    for t in backends() {
        let tenant = tenant(&t.db, "acme");
        // Eight paid invoices of one customer, each credited onto the
        // customer's balance at once, retried until they all go through.
        let ids: Vec<InvoiceId> = (0..8)
            .map(|_| {
                let inv = open(&t.db, tenant, &[("a", 1, 1_000, "0")]);
                act(&t.db, tenant, inv.id, |svc, s, t| {
                    svc.record_payment(
                        s,
                        t,
                        NewPayment::new(PositiveAmount::new(1_000).unwrap(), None, None).unwrap(),
                    )
                })
                .unwrap();
                inv.id
            })
            .collect();
        let barrier = Arc::new(Barrier::new(ids.len()));
        let handles: Vec<_> = ids
            .iter()
            .map(|&id| {
                let (db, barrier) = (t.db.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let request = CreditRequest::new(
                        vec![LineCreditRequest::new(
                            LineRef::ProductId(ProductId::parse("a").unwrap()),
                            CreditPortion::Net(PositiveAmount::new(300).unwrap()),
                        )
                        .unwrap()],
                        None,
                        None,
                        Settlement::CreditBalance,
                    )
                    .unwrap();
                    barrier.wait();
                    let mut conflicts = 0;
                    loop {
                        match act(&db, tenant, id, |svc, s, t| svc.credit(s, t, &request)) {
                            Ok(_) => return conflicts,
                            Err(UseCaseError::VersionMismatch { .. }) => conflicts += 1,
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                })
            })
            .collect();
        let conflicts: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        let customer = PartyId::parse("cust-1").unwrap();
        let balances = t.db.read(|s| s.balances(tenant, &customer)).unwrap();
        assert_eq!(balances.len(), 1, "{}", t.backend);
        let ledger = &balances[0];
        assert_eq!(
            ledger.balance.minor(),
            8 * 300,
            "{}: every credit landed once",
            t.backend
        );
        assert_eq!(ledger.entries.len(), 8);
        let mut running = 0;
        for e in &ledger.entries {
            running += e.amount.minor();
            assert_eq!(
                e.balance_after.minor(),
                running,
                "{}: entries chain in order",
                t.backend
            );
        }
        eprintln!(
            "balance race figures [{}]: 8 concurrent credits, {conflicts} retried after a version conflict",
            t.backend
        );
    }
}
