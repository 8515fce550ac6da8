//! Property tests of the lifecycle against the real repository: random
//! operation sequences on SQLite and PostgreSQL, with the invariants checked
//! after every step from what is actually stored.

use std::cell::RefCell;
use std::collections::BTreeSet;

use invoice_adapters::outbound::db::Database;
use invoice_domain::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::*;

#[derive(Debug, Clone)]
enum Op {
    Finalize,
    Pay(u64),
    Refund(u64),
    CancelLine(usize),
    CancelAll,
    Void,
    WriteOff,
    Approve,
    Reject,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Finalize),
        2 => (1u64..20_000).prop_map(Op::Pay),
        1 => (1u64..20_000).prop_map(Op::Refund),
        2 => (0usize..5).prop_map(Op::CancelLine),
        1 => Just(Op::CancelAll),
        1 => Just(Op::Void),
        1 => Just(Op::WriteOff),
        1 => Just(Op::Approve),
        1 => Just(Op::Reject),
    ]
}

fn lines() -> impl Strategy<Value = Vec<(i64, i64, u32)>> {
    prop::collection::vec((1i64..5, 0i64..10_000, 0u32..4), 1..5)
}

/// Random invoices (each with up to 13 operations) per backend.
const CASES: u32 = 64;

const RATES: [&str; 4] = ["0", "7", "19", "5.5"];

/// The status the event history implies.
fn replayed_status(events: &[Event]) -> InvoiceStatus {
    events.iter().fold(InvoiceStatus::Draft, |s, e| match e.kind {
        EventKind::Finalized { .. } => InvoiceStatus::Open,
        EventKind::MarkedUncollectible { .. } => InvoiceStatus::Uncollectible,
        EventKind::Paid => InvoiceStatus::Paid,
        EventKind::Cancelled { .. } => InvoiceStatus::Cancelled,
        EventKind::Voided { .. } => InvoiceStatus::Void,
        _ => s,
    })
}

fn apply(db: &Database, tenant: TenantId, inv: &Invoice, op: &Op) -> Result<Transition, UseCaseError> {
    act(db, tenant, inv.id, |svc, s, t| match op {
        Op::Finalize => svc.finalize(s, t),
        Op::Pay(n) => svc.record_payment(
            s,
            t,
            NewPayment::new(PositiveAmount::new(*n).unwrap(), None, None).unwrap(),
        ),
        Op::Refund(n) => match inv.payments.first() {
            Some(p) => svc.refund(
                s,
                t,
                RefundRequest::new(p.id, PositiveAmount::new(*n).unwrap(), None).unwrap(),
            ),
            None => Err(UseCaseError::Refused(Refusal::PaymentNotFound)),
        },
        Op::CancelLine(i) => {
            let lines = inv
                .lines
                .get(*i)
                .map(|l| vec![LineRef::LineId(l.id)])
                .unwrap_or_default();
            if lines.is_empty() {
                return Err(UseCaseError::Refused(Refusal::LineNotFound(String::new())));
            }
            svc.cancel(s, t, &CancelRequest::lines(lines, None).unwrap())
        }
        Op::CancelAll => svc.cancel(s, t, &CancelRequest::whole(None)),
        Op::Void => svc.void(s, t, None),
        Op::WriteOff => svc.mark_uncollectible(s, t, None),
        Op::Approve => svc.approve(s, t),
        Op::Reject => svc.reject(s, t, Rejection::default()),
    })
}

/// Checks every invariant on the stored invoice and its stored history.
fn check(db: &Database, tenant: TenantId, issued: &Totals, inv: &Invoice) {
    let t = inv.totals();
    assert_eq!(t.subtotal.checked_add(t.tax), Some(t.total), "subtotal + tax = total");
    assert_eq!(
        (t.subtotal, t.tax, t.total),
        (issued.subtotal, issued.tax, issued.total),
        "the issued totals never change"
    );
    if inv.status.is_open_for_money() || inv.status == InvoiceStatus::Paid {
        let settled = t.amount_credited.checked_add(t.amount_paid).unwrap();
        assert_eq!(
            t.amount_due.checked_add(settled),
            Some(t.total),
            "due = total − credited − paid"
        );
    }
    let credited = Amount::checked_sum(inv.credit_notes.iter().map(|c| c.total())).unwrap();
    assert_eq!(credited, t.amount_credited);
    assert!(credited <= t.total, "credit notes never exceed the invoiced total");
    assert_eq!(
        Amount::checked_sum(inv.lines.iter().map(|l| l.credited.amounts.gross)),
        Some(credited),
        "credit notes sum to the credited lines"
    );
    for cn in &inv.credit_notes {
        assert_eq!(cn.subtotal().checked_add(cn.tax()), Some(cn.total()));
        assert_eq!(cn.invoice_number, inv.number.clone().unwrap());
    }
    let (events, versions, from_tables) = db
        .read(|s| {
            let events = s.events(tenant, inv.id)?;
            let mut versions = Vec::new();
            for e in &events {
                versions.push(s.find_version(tenant, inv.id, e.invoice_version)?);
            }
            let from_tables = s.find_from_tables(tenant, &inv.id.to_string())?;
            Ok::<_, RepositoryError>((events, versions, from_tables))
        })
        .unwrap();
    assert_eq!(
        replayed_status(&events),
        inv.status,
        "the events replay to the stored status"
    );
    assert_eq!(
        events.last().unwrap().invoice_version,
        inv.version,
        "the last event is the current version"
    );
    // Each event's version row shows the invoice as that event left it.
    for (i, (e, v)) in events.iter().zip(&versions).enumerate() {
        let v = v.as_ref().expect("every event's version row exists");
        assert_eq!(v.version, e.invoice_version, "the version row is the event's version");
        // The events of one transaction share its version.
        let last_of_version = events
            .iter()
            .rposition(|x| x.invoice_version == e.invoice_version)
            .unwrap_or(i);
        assert_eq!(
            v.status,
            replayed_status(&events[..=last_of_version]),
            "the version row's status is what the events up to it replay to"
        );
    }
    assert_eq!(
        versions.last().unwrap().as_ref(),
        Some(inv),
        "the last event's version row is the stored invoice"
    );
    assert_eq!(
        from_tables.as_ref(),
        Some(inv),
        "the current version row and the tables hold the same invoice"
    );
}

fn gapless(numbers: BTreeSet<u64>) {
    let expected: BTreeSet<u64> = (1..=u64::try_from(numbers.len()).unwrap()).collect();
    assert_eq!(numbers, expected, "numbers are gapless");
}

#[test]
fn random_operation_sequences_keep_every_invariant_in_the_real_store() {
    for t in backends() {
        let tenant = tenant(&t.db, "props");
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        let (invoice_numbers, note_numbers) = (RefCell::new(BTreeSet::new()), RefCell::new(BTreeSet::new()));
        runner
            .run(
                &(lines(), 0u8..3, prop::collection::vec(op(), 1..14)),
                |(spec, levels, ops)| {
                    let specs: Vec<(String, i64, i64, &str)> = spec
                        .iter()
                        .enumerate()
                        .map(|(i, (q, u, r))| (format!("p{i}"), *q, *u, RATES[*r as usize]))
                        .collect();
                    let refs: Vec<(&str, i64, i64, &str)> =
                        specs.iter().map(|(p, q, u, r)| (p.as_str(), *q, *u, *r)).collect();
                    let base = new_invoice(&refs);
                    let new = NewInvoice::builder(base.currency(), base.customer().clone())
                        .lines(base.lines().iter().cloned())
                        .approval_levels(levels)
                        .build()
                        .unwrap();
                    let scope = Scope::tenant(tenant);
                    let mut inv =
                        t.db.write(|s| service().create_draft(s, &scope, &actor(), new))
                            .unwrap()
                            .invoice;
                    let mut issued: Option<Totals> = None;
                    for op in &ops {
                        let was_terminal = matches!(inv.status, InvoiceStatus::Cancelled | InvoiceStatus::Void);
                        let before = inv.clone();
                        let result = apply(&t.db, tenant, &inv, op);
                        let stored = get(&t.db, tenant, inv.id).unwrap();
                        match result {
                            Ok(tr) => {
                                prop_assert!(!was_terminal, "terminal states accept no transition");
                                prop_assert_eq!(&tr.invoice, &stored);
                                prop_assert_eq!(stored.version, before.version + 1);
                            }
                            Err(e) => {
                                prop_assert!(matches!(e, UseCaseError::Refused(_)), "unexpected {:?}", e);
                                prop_assert_eq!(&stored, &before, "a refusal changes nothing");
                            }
                        }
                        inv = stored;
                        if inv.is_issued() {
                            let frozen = *issued.get_or_insert_with(|| inv.totals());
                            check(&t.db, tenant, &frozen, &inv);
                        }
                    }
                    if let Some(n) = &inv.number {
                        invoice_numbers.borrow_mut().insert(n.sequence);
                    }
                    for cn in &inv.credit_notes {
                        note_numbers.borrow_mut().insert(cn.number.sequence);
                    }
                    Ok(())
                },
            )
            .unwrap_or_else(|e| panic!("{}: {e}", t.backend));
        eprintln!(
            "state machine figures [{}]: {CASES} cases, {} invoices numbered, {} credit notes, 0 invariant violations",
            t.backend,
            invoice_numbers.borrow().len(),
            note_numbers.borrow().len()
        );
        gapless(invoice_numbers.into_inner());
        gapless(note_numbers.into_inner());
    }
}
