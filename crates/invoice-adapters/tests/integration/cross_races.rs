//! Two different operations on one invoice, fired at once (a barrier
//! releases both threads) round after round on SQLite and PostgreSQL: pay
//! against cancel, pay against void, a partial cancel against a payment that
//! lands on the paid amount, a refund against a void, and a credit note
//! against a credit note. The reference model computes both serial orders;
//! the outcome of each operation and the stored invoice must be exactly
//! those of one of them, and the events written must be that order's.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use invoice_adapters::outbound::db::Database;
use invoice_domain::*;

use crate::reference_model::{observe, Cmd, LineSpec, Model, Portion, Predicted, Ref, Request, Settle, Snapshot};
use crate::state_machine::execute;
use crate::support::*;

/// Rounds of each race per backend.
const ROUNDS: usize = 12;

fn spec(product: u8, qty: u32, unit: u64) -> LineSpec {
    LineSpec {
        product: Some(product),
        variation: None,
        qty,
        unit,
        rate: 0,
        inclusive: false,
    }
}

/// One race: the invoice's lines, what happens to it before, and the two
/// operations fired at once.
struct Race {
    name: &'static str,
    lines: Vec<LineSpec>,
    before: Vec<Cmd>,
    a: Cmd,
    b: Cmd,
}

fn races() -> Vec<Race> {
    let two = || vec![spec(0, 1, 1_000), spec(1, 1, 500)];
    vec![
        Race {
            name: "pay in full vs cancel",
            lines: two(),
            before: vec![],
            a: Cmd::Pay(1_500),
            b: Cmd::CancelAll,
        },
        Race {
            name: "pay in part vs cancel",
            lines: two(),
            before: vec![],
            a: Cmd::Pay(700),
            b: Cmd::CancelAll,
        },
        Race {
            name: "pay in full vs void",
            lines: two(),
            before: vec![],
            a: Cmd::Pay(1_500),
            b: Cmd::Void { always: true },
        },
        Race {
            name: "partial cancel vs a payment landing on what the cancel leaves",
            lines: two(),
            before: vec![],
            a: Cmd::CancelLines(vec![Ref::Product(0)]),
            b: Cmd::Pay(500),
        },
        Race {
            name: "partial cancel vs a payment one above what the cancel leaves",
            lines: two(),
            before: vec![],
            a: Cmd::CancelLines(vec![Ref::Product(0)]),
            b: Cmd::Pay(501),
        },
        Race {
            name: "refund vs void",
            lines: two(),
            before: vec![Cmd::Pay(600)],
            a: Cmd::Refund(Some(0), 600),
            b: Cmd::Void { always: true },
        },
        Race {
            name: "credit note vs credit note on the same units",
            lines: vec![spec(0, 3, 1_000)],
            before: vec![],
            a: Cmd::Credit {
                lines: vec![(Ref::Line(0), Portion::Units(2))],
                goodwill: None,
                settle: Settle::ReduceDue,
            },
            b: Cmd::Credit {
                lines: vec![(Ref::Product(0), Portion::Units(2))],
                goodwill: None,
                settle: Settle::ReduceDue,
            },
        },
        Race {
            name: "refunded credit note vs credit note reducing what is due",
            lines: vec![spec(0, 4, 1_000)],
            before: vec![Cmd::Pay(1_000)],
            a: Cmd::Credit {
                lines: vec![(Ref::Line(0), Portion::Units(1))],
                goodwill: None,
                settle: Settle::Refund,
            },
            b: Cmd::Credit {
                lines: vec![],
                goodwill: Some((3_000, 0)),
                settle: Settle::ReduceDue,
            },
        },
    ]
}

/// What one serial order gives: each operation's outcome, and the invoice after.
#[derive(Debug, PartialEq)]
struct Serial {
    a: Result<(), &'static str>,
    b: Result<(), &'static str>,
    after: Snapshot,
}

fn outcome(p: &Predicted) -> Result<(), &'static str> {
    p.as_ref().map(|_| ()).map_err(|c| *c)
}

/// Both serial orders of `race` from `model`: a then b, and b then a.
fn serial_orders(model: &Model, race: &Race) -> [Serial; 2] {
    let mut first = model.clone();
    let a = first.apply(&race.a);
    let b = first.apply(&race.b);
    let mut second = model.clone();
    let b2 = second.apply(&race.b);
    let a2 = second.apply(&race.a);
    [
        Serial {
            a: outcome(&a),
            b: outcome(&b),
            after: first.snapshot(),
        },
        Serial {
            a: outcome(&a2),
            b: outcome(&b2),
            after: second.snapshot(),
        },
    ]
}

fn refusal(r: &Result<Vec<Transition>, UseCaseError>) -> Result<(), &'static str> {
    match r {
        Ok(_) => Ok(()),
        Err(UseCaseError::Refused(refusal)) => Err(refusal.code()),
        Err(other) => panic!("a racing operation may be refused by a rule, not fail with {other:?}"),
    }
}

/// A fresh invoice for `race` in `tenant`, with its model, after the
/// operations before the race.
fn fixture(db: &Database, tenant: TenantId, race: &Race) -> (Invoice, Model) {
    let new = NewInvoice::builder(
        Currency::parse("EUR").unwrap(),
        Party::parse("cust-1", "Customer", None, None, None).unwrap(),
    )
    .issuer(Party::parse("trp-1", "Transporter Ltd", None, None, None).unwrap())
    .lines(race.lines.iter().map(LineSpec::new_line))
    .build()
    .unwrap();
    let scope = Scope::tenant(tenant);
    let mut inv = db
        .write(|s| service().create_draft(s, &scope, &actor(), new))
        .unwrap()
        .invoice;
    let mut model = Model::draft(&race.lines, 0, 0);
    for cmd in std::iter::once(&Cmd::Finalize { apply_balance: false }).chain(&race.before) {
        assert!(model.apply(cmd).is_ok(), "{}: {cmd:?} before the race", race.name);
        execute(db, tenant, inv.id, Request::of(cmd, &inv)).expect("before the race");
        inv = get(db, tenant, inv.id).unwrap();
    }
    assert_eq!(observe(&inv), model.snapshot(), "{}: before the race", race.name);
    (inv, model)
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn different_operations_fired_at_once_end_as_one_of_their_serial_orders() {
    for t in backends() {
        let tenant = tenant(&t.db, "cross");
        let db = Arc::new(t.db.clone());
        let mut figures = Vec::new();
        for race in races() {
            let race = Arc::new(race);
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            for round in 0..ROUNDS {
                let (inv, model) = fixture(&db, tenant, &race);
                let orders = serial_orders(&model, &race);
                let barrier = Arc::new(Barrier::new(2));
                let fire = |cmd: Cmd| {
                    let (db, barrier, inv) = (db.clone(), barrier.clone(), inv.clone());
                    std::thread::spawn(move || {
                        let request = Request::of(&cmd, &inv);
                        barrier.wait();
                        execute(&db, tenant, inv.id, request)
                    })
                };
                let (ha, hb) = (fire(race.a.clone()), fire(race.b.clone()));
                let (ra, rb) = (ha.join().unwrap(), hb.join().unwrap());
                let stored = get(&db, tenant, inv.id).unwrap();
                let actual = Serial {
                    a: refusal(&ra),
                    b: refusal(&rb),
                    after: observe(&stored),
                };
                let which = orders.iter().position(|o| *o == actual).unwrap_or_else(|| {
                    panic!(
                        "{}: {} round {round}: {actual:?} is neither serial order:\n{:?}\n{:?}",
                        t.backend, race.name, orders[0], orders[1]
                    )
                });
                // Both orders may end alike; otherwise name the one seen.
                let label = match (which, orders[0] == orders[1]) {
                    (_, true) => "either order (same outcome)",
                    (0, false) => "first operation first",
                    _ => "second operation first",
                };
                *seen.entry(label).or_default() += 1;
                // Each accepted operation wrote its own version, once.
                let events = t.db.read(|s| s.events(tenant, inv.id)).unwrap();
                let versions: Vec<u64> = events.iter().map(|e| e.invoice_version).collect();
                assert!(
                    versions.windows(2).all(|w| w[0] <= w[1]),
                    "{}: events in order",
                    t.backend
                );
                assert_eq!(events.last().unwrap().invoice_version, stored.version, "{}", t.backend);
                let accepted = u64::from(actual.a.is_ok()) + u64::from(actual.b.is_ok());
                assert_eq!(stored.version, inv.version + accepted, "{}: {}", t.backend, race.name);
            }
            figures.push(format!(
                "{}: {}",
                race.name,
                seen.iter()
                    .map(|(k, n)| format!("{n} × {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for f in &figures {
            eprintln!("figure: cross races | {} | {ROUNDS} rounds of {f}", t.backend);
        }
    }
}
