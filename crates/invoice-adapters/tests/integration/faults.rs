//! A fault injected at every step of a write, on SQLite and PostgreSQL:
//! after the invoice row, after the lines, after each payment and refund,
//! after a credit note's row and after its lines, after each ledger entry of
//! a customer's balance, and after each event, in each save of the use case.
//! Whatever the step, nothing of the write may remain: no partial credit
//! note, no orphan event, no ledger entry, no number drawn.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use invoice_adapters::outbound::db::schema::{
    balance_entries, credit_note_lines, credit_notes, customer_balances, events, invoice_lines, invoices,
    number_series, payments, refunds,
};
use invoice_adapters::outbound::db::{repository_error, settings, Database, DieselStore, FaultPoint};
use invoice_domain::*;

use crate::support::*;

/// Every row of `tenant` a write can add to, counted, plus the balances and
/// the number series' next values.
fn census(db: &Database, tenant: TenantId) -> BTreeMap<&'static str, i64> {
    let t = tenant.get();
    db.read_conn(|c| {
        let mut m = BTreeMap::new();
        let e = repository_error;
        m.insert(
            "invoices",
            invoices::table
                .filter(invoices::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        m.insert(
            "invoice_lines",
            invoice_lines::table
                .filter(invoice_lines::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        m.insert(
            "payments",
            payments::table
                .filter(payments::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        m.insert(
            "refunds",
            refunds::table
                .filter(refunds::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        m.insert(
            "credit_notes",
            credit_notes::table
                .filter(credit_notes::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        m.insert(
            "credit_note_lines",
            credit_note_lines::table
                .filter(credit_note_lines::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        m.insert(
            "events",
            events::table
                .filter(events::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        m.insert(
            "balance_entries",
            balance_entries::table
                .filter(balance_entries::tenant_id.eq(t))
                .count()
                .get_result(c)
                .map_err(e)?,
        );
        let balances: Vec<i64> = customer_balances::table
            .filter(customer_balances::tenant_id.eq(t))
            .select(customer_balances::balance)
            .load(c)
            .map_err(e)?;
        m.insert("Σ customer balances", balances.iter().sum());
        let series: Vec<i64> = number_series::table
            .filter(number_series::tenant_id.eq(t))
            .select(number_series::next_value)
            .load(c)
            .map_err(e)?;
        m.insert("Σ next numbers", series.iter().sum());
        Ok::<_, RepositoryError>(m)
    })
    .expect("census")
}

/// The write under test, on the store, as the transitions it saved.
type Write = fn(&Service, &mut DieselStore<'_>, &Target<'_>) -> Result<Vec<Transition>, UseCaseError>;

/// A write and the invoice it needs, built fresh for every fault.
struct Scenario {
    name: &'static str,
    setup: fn(&Database, TenantId) -> InvoiceId,
    write: Write,
}

fn pay(db: &Database, tenant: TenantId, id: InvoiceId, amount: u64) {
    act(db, tenant, id, |svc, s, t| {
        svc.record_payment(s, t, NewPayment::new(PositiveAmount::new(amount).unwrap(), None, None)?)
    })
    .expect("payment");
}

fn open_two_lines(db: &Database, tenant: TenantId) -> InvoiceId {
    open(db, tenant, &[("a", 2, 1_000, "19"), ("b", 1, 500, "7")]).id
}

fn paid_in_two_payments(db: &Database, tenant: TenantId) -> InvoiceId {
    let inv = open(db, tenant, &[("a", 2, 1_000, "0")]);
    pay(db, tenant, inv.id, 500);
    pay(db, tenant, inv.id, 1_500);
    inv.id
}

/// A draft for a customer with a credit balance of 800, in a tenant that
/// spends balances at finalize.
fn draft_with_a_balance(db: &Database, tenant: TenantId) -> InvoiceId {
    let spend = |on: bool| {
        db.write_conn(|c| {
            let mut s = settings::load(c, tenant)?;
            s.apply_credit_balance = on;
            settings::save(c, tenant, &s)
        })
        .expect("settings")
    };
    spend(false);
    let earlier = paid_in_two_payments(db, tenant);
    act(db, tenant, earlier, |svc, s, t| {
        let goodwill = ExtraCredit::new(
            "deposit",
            PositiveAmount::new(800).unwrap(),
            LineTax::standard(TaxRate::ZERO),
        )?;
        svc.credit(
            s,
            t,
            &CreditRequest::new(vec![], Some(goodwill), None, Settlement::CreditBalance)?,
        )
    })
    .expect("credit onto the balance");
    spend(true);
    create(db, tenant, &[("a", 1, 1_000, "0")]).id
}

fn one(r: Result<Transition, UseCaseError>) -> Result<Vec<Transition>, UseCaseError> {
    r.map(|t| vec![t])
}

fn product(p: &str) -> LineRef {
    LineRef::ProductId(ProductId::parse(p).unwrap())
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "full cancel",
            setup: open_two_lines,
            write: |svc, s, t| one(svc.cancel(s, t, &CancelRequest::whole(None))),
        },
        Scenario {
            name: "partial cancel",
            setup: open_two_lines,
            write: |svc, s, t| one(svc.cancel(s, t, &CancelRequest::lines(vec![product("a")], None)?)),
        },
        Scenario {
            name: "credit of a unit onto the customer's balance",
            setup: paid_in_two_payments,
            write: |svc, s, t| {
                let line = LineCreditRequest::new(product("a"), CreditPortion::Quantity(1))?;
                one(svc.credit(
                    s,
                    t,
                    &CreditRequest::new(vec![line], None, None, Settlement::CreditBalance)?,
                ))
            },
        },
        Scenario {
            name: "credit of everything refunded across two payments",
            setup: paid_in_two_payments,
            write: |svc, s, t| {
                let line = LineCreditRequest::new(product("a"), CreditPortion::Rest)?;
                one(svc.credit(s, t, &CreditRequest::new(vec![line], None, None, Settlement::Refund)?))
            },
        },
        Scenario {
            name: "finalize spending the customer's balance",
            setup: draft_with_a_balance,
            write: |svc, s, t| one(svc.finalize(s, t)),
        },
        Scenario {
            name: "void with a credit note",
            setup: open_two_lines,
            write: |svc, s, t| one(svc.void(s, t, None)),
        },
        Scenario {
            name: "payment that settles the invoice",
            setup: |db, tenant| open(db, tenant, &[("a", 1, 700, "0")]).id,
            write: |svc, s, t| {
                one(svc.record_payment(s, t, NewPayment::new(PositiveAmount::new(700).unwrap(), None, None)?))
            },
        },
        Scenario {
            name: "reissue (two saves)",
            setup: open_two_lines,
            write: |svc, s, t| {
                svc.reissue(s, t, &ReissueRequest::default())
                    .map(|r| vec![r.cancelled, r.replacement])
            },
        },
    ]
}

/// The fault points a save of `transitions` passes, each with the number of
/// times it was passed before (for the second save of a reissue).
fn points(transitions: &[Transition]) -> Vec<(FaultPoint, usize)> {
    let mut seen: HashMap<FaultPoint, usize> = HashMap::new();
    let mut out = Vec::new();
    let mut pass = |p: FaultPoint, out: &mut Vec<(FaultPoint, usize)>| {
        let n = seen.entry(p).or_default();
        out.push((p, *n));
        *n += 1;
    };
    for t in transitions {
        pass(FaultPoint::AfterInvoiceUpdate, &mut out);
        for change in &t.changes {
            match change {
                Change::Created => {}
                Change::LinesUpdated(_) | Change::LinesRemoved(_) => pass(FaultPoint::AfterLines, &mut out),
                Change::PaymentRecorded(_) => pass(FaultPoint::AfterPayment, &mut out),
                Change::RefundRecorded { .. } => pass(FaultPoint::AfterRefund, &mut out),
                Change::CreditNoteIssued(_) => {
                    pass(FaultPoint::AfterCreditNoteRow, &mut out);
                    pass(FaultPoint::AfterCreditNote, &mut out);
                }
            }
        }
        for n in 0..t.balance_entries.len() {
            pass(FaultPoint::AfterBalanceEntry(n), &mut out);
        }
        for n in 0..t.events.len() {
            pass(FaultPoint::AfterEvent(n), &mut out);
        }
    }
    out
}

/// Runs `write` on invoice `id`, failing at `fault` when given.
fn run(
    db: &Database,
    tenant: TenantId,
    id: InvoiceId,
    write: Write,
    fault: Option<(FaultPoint, usize)>,
) -> Result<Vec<Transition>, UseCaseError> {
    let scope = Scope::tenant(tenant);
    let reference = InvoiceRef::Id(id);
    let actor = actor();
    let target = Target {
        scope: &scope,
        reference: &reference,
        actor: &actor,
        expected_version: None,
    };
    db.write(|s| {
        if let Some((point, skip)) = fault {
            s.inject_fault_after(point, skip);
        }
        write(&service(), s, &target)
    })
}

/// The kind of a fault point, for the tally of which steps were tried.
fn kind(p: FaultPoint) -> &'static str {
    match p {
        FaultPoint::AfterInvoiceUpdate => "after the invoice row",
        FaultPoint::AfterLines => "after the lines",
        FaultPoint::AfterPayment => "after a payment",
        FaultPoint::AfterRefund => "after a refund",
        FaultPoint::AfterCreditNoteRow => "after a credit note's row, before its lines",
        FaultPoint::AfterCreditNote => "after a credit note and its lines",
        FaultPoint::AfterBalanceEntry(_) => "after a balance ledger entry",
        FaultPoint::AfterEvent(_) => "after an event",
    }
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn a_fault_at_any_step_of_a_write_leaves_nothing_of_it_behind() {
    for t in backends() {
        let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
        let mut injected = 0;
        let mut left_behind = 0;
        for (i, scenario) in scenarios().iter().enumerate() {
            let tenant = tenant(&t.db, &format!("faults-{i}"));
            // A clean run on a twin shows which steps this write passes.
            let twin = (scenario.setup)(&t.db, tenant);
            let made = run(&t.db, tenant, twin, scenario.write, None)
                .unwrap_or_else(|e| panic!("{}: {}: {e:?}", t.backend, scenario.name));
            let steps = points(&made);
            assert!(steps.len() >= 3, "{}: {} passes few steps", t.backend, scenario.name);
            for (point, skip) in steps {
                let id = (scenario.setup)(&t.db, tenant);
                let before = census(&t.db, tenant);
                let invoice = get(&t.db, tenant, id).unwrap();
                let err = run(&t.db, tenant, id, scenario.write, Some((point, skip)))
                    .expect_err("the fault must stop the write");
                let what = format!("{}: {} with a fault {point:?} (pass {skip})", t.backend, scenario.name);
                assert!(
                    matches!(&err, UseCaseError::Repository(RepositoryError::Other(m)) if m.contains(&format!("{point:?}"))),
                    "{what}: the injected fault, not {err:?}"
                );
                let after = census(&t.db, tenant);
                left_behind += after.iter().filter(|(count, n)| before.get(*count) != Some(*n)).count();
                assert_eq!(after, before, "{what}: no row of the write remains");
                assert_eq!(
                    get(&t.db, tenant, id).unwrap(),
                    invoice,
                    "{what}: the invoice is as it was"
                );
                *tally.entry(kind(point)).or_default() += 1;
                injected += 1;
            }
            // Without a fault the write goes through, with the numbers the
            // failed attempts gave back.
            let id = (scenario.setup)(&t.db, tenant);
            run(&t.db, tenant, id, scenario.write, None).expect("the write without a fault");
            let (invoice_numbers, note_numbers) = numbers(&t.db, tenant);
            assert_eq!(
                invoice_numbers,
                (1..=i64::try_from(invoice_numbers.len()).unwrap()).collect::<Vec<_>>(),
                "{}: {}: invoice numbers without gaps",
                t.backend,
                scenario.name
            );
            assert_eq!(
                note_numbers,
                (1..=i64::try_from(note_numbers.len()).unwrap()).collect::<Vec<_>>(),
                "{}: {}: credit-note numbers without gaps",
                t.backend,
                scenario.name
            );
        }
        for step in [
            "after the invoice row",
            "after the lines",
            "after a payment",
            "after a refund",
            "after a credit note's row, before its lines",
            "after a credit note and its lines",
            "after a balance ledger entry",
            "after an event",
        ] {
            assert!(tally.contains_key(step), "{}: no fault was injected {step}", t.backend);
        }
        eprintln!(
            "figure: faults | {} | {injected} faults injected over {} writes ({}); row counts, balances and number series that differed after a fault: {left_behind}",
            t.backend,
            scenarios().len(),
            tally
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// The tenant's invoice and credit-note numbers, in order.
fn numbers(db: &Database, tenant: TenantId) -> (Vec<i64>, Vec<i64>) {
    db.read_conn(|c| {
        let i = invoices::table
            .filter(invoices::tenant_id.eq(tenant.get()))
            .filter(invoices::number_seq.is_not_null())
            .select(invoices::number_seq.assume_not_null())
            .order(invoices::number_seq)
            .load(c)
            .map_err(repository_error)?;
        let n = credit_notes::table
            .filter(credit_notes::tenant_id.eq(tenant.get()))
            .select(credit_notes::number_seq)
            .order(credit_notes::number_seq)
            .load(c)
            .map_err(repository_error)?;
        Ok::<_, RepositoryError>((i, n))
    })
    .unwrap()
}
