//! The rules against the reference model (`reference_model.rs`): thousands
//! of generated cases, each a draft and a sequence of operations aimed at
//! the boundaries. For every operation the model predicts success, with the
//! events and the money after it, or the exact refusal code; the rules must
//! agree exactly. The run must reach every status and every refusal code.

use std::cell::Cell;

use proptest::test_runner::TestCaseError;

use crate as domain_crate;
use crate::model::balance::BalanceDirection;
use crate::model::ids::TenantId;
use crate::model::invoice::Invoice;
use crate::model::money::Amount;
use crate::rules::test_support::{actor, new_invoice, number, t0, SeqIds};
use crate::rules::{Context, NumberedError, Transition};

#[allow(dead_code)]
#[path = "reference_model.rs"]
mod reference_model;

use reference_model::*;

/// Operations tried on an invoice once it is cancelled or void.
const TERMINAL_STEPS: usize = 3;

/// Generated cases: thousands, as the domain runs fast.
const CASES: u32 = 4_096;

/// The system under test: one invoice, the customer's balance as its
/// ledger entries leave it, and one id source for the whole case.
struct System {
    inv: Invoice,
    balance: Amount,
    ids: SeqIds,
    numbers_drawn: Cell<u64>,
    /// The last invoice serial given out.
    serials: Cell<u64>,
}

impl System {
    /// Runs `request` through the rules.
    fn run(&self, request: Request) -> Result<Vec<Transition>, &'static str> {
        let a = actor();
        let c = Context {
            now: t0(),
            actor: &a,
            ids: &self.ids,
        };
        let draw = |series: &str| {
            self.numbers_drawn.set(self.numbers_drawn.get() + 1);
            Ok::<_, ()>(number(series, self.numbers_drawn.get()))
        };
        let cn = || draw("CN");
        let inv = &self.inv;
        let refused = |e: NumberedError<()>| match e {
            NumberedError::Refused(r) => r.code(),
            other => panic!("only refusals are expected, got {other:?}"),
        };
        let code = |r: domain_crate::Refusal| r.code();
        match request {
            Request::Finalize { apply_balance } => {
                let balance = if apply_balance { self.balance } else { Amount::ZERO };
                inv.finalize_applying_balance(c, balance, || draw("INV"))
                    .map(|t| vec![t])
                    .map_err(refused)
            }
            Request::Pay(p) => inv.record_payment(p, c).map(|t| vec![t]).map_err(code),
            Request::Refund(r) => inv.refund_payment(r, c).map(|t| vec![t]).map_err(code),
            Request::Cancel(r) => inv.cancel(&r, c, cn).map(|t| vec![t]).map_err(refused),
            Request::Credit(r) => inv.credit(&r, self.balance, c, cn).map(|t| vec![t]).map_err(refused),
            Request::Void(policy) => inv.void(None, policy, c, cn).map(|t| vec![t]).map_err(refused),
            Request::WriteOff => inv.mark_uncollectible(None, c).map(|t| vec![t]).map_err(code),
            Request::Approve => inv.approve(c).map(|t| vec![t]).map_err(code),
            Request::Reject(r) => inv.reject(r, c).map(|t| vec![t]).map_err(code),
            Request::Reissue(r) => inv
                .reissue(&r, self.serials.get() + 1, c, cn)
                .map(|r| {
                    self.serials.set(self.serials.get() + 1);
                    vec![r.cancelled, r.replacement]
                })
                .map_err(refused),
            Request::MarkSent => inv.mark_sent(c).map(|t| vec![t]).map_err(code),
        }
    }
}

/// Follows the ledger entries of `t` from `balance`, each stating the balance after it.
fn follow_ledger(t: &Transition, mut balance: Amount) -> Result<Amount, TestCaseError> {
    for e in &t.balance_entries {
        balance = match e.direction {
            BalanceDirection::Credit => balance.checked_add(e.amount.amount()),
            BalanceDirection::Debit => balance.checked_sub(e.amount.amount()),
        }
        .ok_or_else(|| TestCaseError::fail("a ledger entry left the balance out of range"))?;
        proptest::prop_assert_eq!(e.balance_after, balance, "each entry states the balance after it");
    }
    Ok(balance)
}

/// Runs `cmd` on the model and the system and requires them to agree.
/// Returns the system's outcome for the coverage table.
fn step(
    model: &mut Model,
    sys: &mut System,
    cmd: &Cmd,
    compare: bool,
) -> Result<Result<(), &'static str>, TestCaseError> {
    let predicted = model.apply(cmd);
    let drawn = sys.numbers_drawn.get();
    let actual = sys.run(Request::of(cmd, &sys.inv));
    match (predicted, actual) {
        (Err(expected), Err(got)) => {
            proptest::prop_assert_eq!(got, expected, "{:?}: the refusal code", cmd);
            proptest::prop_assert_eq!(sys.numbers_drawn.get(), drawn, "a refusal draws no number");
            Ok(Err(got))
        }
        (Ok(effects), Ok(transitions)) => {
            let first = &transitions[0];
            proptest::prop_assert_eq!(first.expected_version, sys.inv.version);
            proptest::prop_assert_eq!(
                first.invoice.version,
                sys.inv.version + 1,
                "every transition bumps the version"
            );
            proptest::prop_assert_eq!(event_types(&first.events), effects.events, "{:?}: the events", cmd);
            for t in &transitions {
                sys.balance = follow_ledger(t, sys.balance)?;
            }
            proptest::prop_assert_eq!(sys.balance.minor(), model.balance, "{:?}: the customer's balance", cmd);
            if compare {
                proptest::prop_assert_eq!(observe(&first.invoice), model.snapshot(), "{:?}: the invoice", cmd);
            }
            match (effects.replacement, transitions.get(1)) {
                (Some((draft, events)), Some(second)) => {
                    proptest::prop_assert_eq!(first.invoice.replaced_by, Some(second.invoice.id));
                    proptest::prop_assert_eq!(second.invoice.replaces, Some(first.invoice.id));
                    proptest::prop_assert_eq!(event_types(&second.events), events, "the new draft's events");
                    proptest::prop_assert_eq!(observe(&second.invoice), draft.snapshot(), "the new draft");
                    *model = draft;
                    sys.inv = second.invoice.clone();
                }
                (None, None) => sys.inv = first.invoice.clone(),
                (predicted, made) => {
                    return Err(TestCaseError::fail(format!(
                        "{cmd:?}: predicted a new draft: {}, made one: {}",
                        predicted.is_some(),
                        made.is_some()
                    )))
                }
            }
            Ok(Ok(()))
        }
        (predicted, actual) => Err(TestCaseError::fail(format!(
            "{cmd:?} on {:?}: the model predicted {:?}, the rules gave {:?}",
            model.snapshot(),
            predicted.map(|e| e.events),
            actual.map(|t| event_types(&t[0].events))
        ))),
    }
}

fn run_case(case: &Case, coverage: &mut Coverage) -> Result<(), TestCaseError> {
    let lines: Vec<_> = case.lines.iter().map(LineSpec::new_line).collect();
    let ids = SeqIds::default();
    let a = actor();
    let created = Invoice::create_draft(
        TenantId::new(1),
        1,
        new_invoice(lines, case.levels),
        Context {
            now: t0(),
            actor: &a,
            ids: &ids,
        },
    );
    let opening = case.opening_balance();
    let mut model = Model::draft(&case.lines, case.levels, opening);
    proptest::prop_assert_eq!(observe(&created.invoice), model.snapshot(), "the new draft");
    let mut sys = System {
        inv: created.invoice,
        balance: Amount::from_minor(opening),
        ids,
        numbers_drawn: Cell::new(0),
        serials: Cell::new(1),
    };
    coverage.cases += 1;
    coverage.status(model.status().name());
    let mut after_the_end = 0;
    for op in &case.ops {
        // A few operations on a cancelled or void invoice show it refuses
        // them (all but marking it sent, if it was issued); more would only
        // repeat that.
        if model.is_terminal() {
            after_the_end += 1;
            if after_the_end > TERMINAL_STEPS {
                break;
            }
        }
        match model.command(op) {
            Some(cmd) => {
                let outcome = step(&mut model, &mut sys, &cmd, true)?;
                coverage.command(cmd.name(), &outcome);
            }
            None => {
                // A thousand payments of 1, and one more: stops at the first refusal.
                let mut outcome = Ok(());
                while outcome.is_ok() && model.payment_count() <= MAX_PAYMENTS {
                    outcome = step(&mut model, &mut sys, &Cmd::Pay(1), false)?;
                    coverage.command("pay 1 (a thousand times)", &outcome);
                }
                proptest::prop_assert_eq!(observe(&sys.inv), model.snapshot(), "after the payments");
            }
        }
        coverage.status(model.status().name());
    }
    Ok(())
}

#[test]
fn the_rules_agree_with_the_reference_model_on_every_step() {
    let (mut runner, seed) = runner(CASES);
    let coverage = std::cell::RefCell::new(Coverage::default());
    let result = runner.run(&arb_case(24, 2), |case| run_case(&case, &mut coverage.borrow_mut()));
    if let Err(e) = result {
        panic!("{e}\n(MODEL_SEED={seed} repeats this run)");
    }
    let coverage = coverage.into_inner();
    let table = coverage.table(&format!("domain state machine (seed {seed})"));
    eprintln!("{table}");
    let missing = coverage.missing();
    if missing.is_empty() {
        eprint!("{}", coverage.figures("domain", seed));
    }
    assert!(
        missing.is_empty(),
        "never reached: {missing:?} (MODEL_SEED={seed})\n{table}"
    );
}
