//! The group commit of SQLite writes: queued writes share one transaction,
//! each in its own savepoint. Writers released together by a barrier, many
//! rounds, on real SQLite (and, for the same contract, on PostgreSQL, where
//! each write is its own transaction): a refused, failed or panicking write
//! leaves nothing behind and never undoes a neighbour's; numbers stay
//! gapless, events and version rows belong to the writes that were stored,
//! and idempotency records end as their requests did.

use std::sync::{Arc, Barrier};

use chrono::Utc;
use invoice_adapters::outbound::db::Database;
use invoice_adapters::ports::{
    Claim, IdempotencyRecords, Owner, ReplyRecorder, StoredReply, DEFAULT_IDEMPOTENCY_RETENTION,
};
use invoice_domain::*;

use crate::support::*;

const WRITERS: usize = 16;
const ROUNDS: usize = 25;

/// What each writer of a round does, by `i % 4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Claims an idempotency key, finalizes its draft and completes the
    /// record in the same write, as the HTTP layer does.
    Finalize,
    /// Claims a key, finalizes its draft (drawing a number, writing events
    /// and a version row), then fails; the HTTP layer then releases the key.
    FailAfterWriting,
    /// Finalizes its draft, then panics.
    PanicAfterWriting,
    /// Finalizes its draft, then asks to finalize it again in the same
    /// write, which the rules refuse.
    Refused,
}

fn role(i: usize) -> Role {
    match i % 4 {
        0 => Role::Finalize,
        1 => Role::FailAfterWriting,
        2 => Role::PanicAfterWriting,
        _ => Role::Refused,
    }
}

fn owner(tenant: TenantId) -> Owner {
    Owner {
        tenant,
        api_key_id: "key_batch".into(),
    }
}

fn claim(db: &Database, tenant: TenantId, key: &str) -> Result<Claim, RepositoryError> {
    db.claim(&owner(tenant), key, "hash", Utc::now(), DEFAULT_IDEMPOTENCY_RETENTION)
}

/// The reply the finalizing writers record.
fn ok_reply() -> StoredReply {
    StoredReply {
        status: 200,
        body: "{}".into(),
        content_type: "application/json".into(),
    }
}

/// One writer's write; `None` when it panicked.
fn writer(db: &Database, tenant: TenantId, draft: InvoiceId, i: usize) -> Option<Result<u64, UseCaseError>> {
    let key = format!("idem-{i}");
    let r = role(i);
    if matches!(r, Role::Finalize | Role::FailAfterWriting) {
        assert_eq!(claim(db, tenant, &key).expect("claim"), Claim::Claimed);
    }
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        act(db, tenant, draft, |svc, s, t| match r {
            Role::Refused => {
                svc.finalize(s, t)?;
                svc.finalize(s, t)
            }
            _ => {
                let done = svc.finalize(s, t)?;
                match r {
                    Role::Finalize => {
                        s.record_reply(&owner(tenant), &key, &ok_reply())?;
                        Ok(done)
                    }
                    Role::FailAfterWriting => Err(UseCaseError::Repository(RepositoryError::Other(
                        "failed after writing".into(),
                    ))),
                    _ => panic!("writer {i} panics after writing"),
                }
            }
        })
    }));
    let Ok(result) = run else { return None };
    if r == Role::FailAfterWriting {
        db.release(&owner(tenant), &key).expect("release");
    }
    Some(result.map(|t| t.invoice.number.map_or(0, |n| n.sequence)))
}

#[test]
fn refused_failed_and_panicking_writes_in_a_batch_never_undo_their_neighbours() {
    for t in backends() {
        let db = Arc::new(t.db.clone());
        for round in 0..ROUNDS {
            let tenant = tenant(&db, &format!("batch-{round}"));
            let drafts: Vec<Invoice> = (0..WRITERS)
                .map(|_| create(&db, tenant, &[("a", 1, 100, "19")]))
                .collect();
            let barrier = Arc::new(Barrier::new(WRITERS));
            let threads: Vec<_> = drafts
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let (db, barrier, id) = (db.clone(), barrier.clone(), d.id);
                    std::thread::spawn(move || {
                        barrier.wait();
                        writer(&db, tenant, id, i)
                    })
                })
                .collect();
            let results: Vec<_> = threads.into_iter().map(|h| h.join().expect("thread")).collect();
            let mut numbers = Vec::new();
            for (i, (result, draft)) in results.iter().zip(&drafts).enumerate() {
                let what = format!("{}: round {round}, writer {i} ({:?})", t.backend, role(i));
                let stored = get(&db, tenant, draft.id).expect("stored");
                let events: Vec<(String, u64)> = db
                    .read(|s| s.events(tenant, draft.id))
                    .expect("events")
                    .iter()
                    .map(|e| (e.kind.type_name().to_string(), e.invoice_version))
                    .collect();
                match role(i) {
                    Role::Finalize => {
                        let n = *result.as_ref().expect("not a panic").as_ref().expect(&what);
                        numbers.push(n);
                        assert_eq!(stored.status, InvoiceStatus::Open, "{what}");
                        assert_eq!(stored.number.as_ref().map(|x| x.sequence), Some(n), "{what}");
                        assert_eq!(stored.version, 2, "{what}");
                        assert_eq!(
                            events,
                            [("invoice.created".to_string(), 1), ("invoice.finalized".to_string(), 2)],
                            "{what}"
                        );
                        let v2 = db
                            .read(|s| s.find_version(tenant, draft.id, 2))
                            .expect("version 2")
                            .expect("version 2 stored");
                        assert_eq!(v2, stored, "{what}: the version row is the stored invoice");
                        let replay = claim(&db, tenant, &format!("idem-{i}")).expect("claim again");
                        assert!(
                            matches!(&replay, Claim::Replay(r) if r.status == 200),
                            "{what}: the completed record replays: {replay:?}"
                        );
                    }
                    other => {
                        match (other, result) {
                            (Role::PanicAfterWriting, None) => {}
                            (Role::FailAfterWriting, Some(Err(UseCaseError::Repository(_)))) => {}
                            (Role::Refused, Some(Err(e))) => {
                                assert!(!matches!(e, UseCaseError::Repository(_)), "{what}: a refusal: {e:?}")
                            }
                            _ => panic!("{what}: unexpected outcome {result:?}"),
                        }
                        assert_eq!(&stored, draft, "{what}: left nothing behind");
                        assert_eq!(events, [("invoice.created".to_string(), 1)], "{what}");
                        assert!(
                            db.read(|s| s.find_version(tenant, draft.id, 2))
                                .expect("read")
                                .is_none(),
                            "{what}: no version row"
                        );
                        if other == Role::FailAfterWriting {
                            assert_eq!(
                                claim(&db, tenant, &format!("idem-{i}")).expect("claim again"),
                                Claim::Claimed,
                                "{what}: the released key may be used again"
                            );
                        }
                    }
                }
            }
            numbers.sort_unstable();
            let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
            assert_eq!(
                numbers, expected,
                "{}: round {round}: the stored writes' numbers are gapless, none drawn twice",
                t.backend
            );
        }
        if let Some((commits, writes)) = db.write_batches() {
            assert!(
                writes > commits,
                "{}: writes queued together shared transactions ({writes} writes in {commits} commits)",
                t.backend
            );
        }
    }
}

#[test]
fn a_batch_of_one_write_commits_alone_and_sqlite_reports_its_batches() {
    for t in backends() {
        let before = t.db.write_batches();
        let tenant = tenant(&t.db, "alone");
        let inv = open(&t.db, tenant, &[("a", 1, 100, "19")]);
        // Committed before `write` returned: a read on another connection sees it.
        assert_eq!(get(&t.db, tenant, inv.id).expect("stored").status, InvoiceStatus::Open);
        match (t.backend, before, t.db.write_batches()) {
            ("sqlite", Some((c0, w0)), Some((c1, w1))) => {
                // Tenant, draft and finalize: three writes, one after another.
                assert_eq!((c1 - c0, w1 - w0), (3, 3), "{}", t.backend);
            }
            ("postgres", None, None) => {}
            other => panic!("{}: unexpected batch figures {other:?}", t.backend),
        }
        // A write started inside a write is refused, not a deadlock.
        let nested = t.db.write(|_| t.db.write_conn(|_| Ok::<_, RepositoryError>(())));
        if t.backend == "sqlite" {
            assert!(matches!(nested, Err(RepositoryError::Other(_))), "{nested:?}");
        }
    }
}
