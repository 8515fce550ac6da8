//! Property tests of the invariants that must hold after any sequence of
//! operations, starting from drafts as well as issued invoices: payments,
//! refunds, credits of whole lines, some units, part of a net and goodwill
//! (settled every way), voids under both policies, write-offs and reissues.

use proptest::prelude::*;

use crate::commands::{
    CancelRequest, CreditPortion, CreditRequest, ExtraCredit, LineCreditRequest, NewPayment, RefundRequest,
    ReissueRequest, Settlement,
};
use crate::model::balance::BalanceDirection;
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::line::{LineRef, NewLine};
use crate::model::money::{Amount, LineAmounts, PositiveAmount, TaxRate};
use crate::model::tax::LineTax;
use crate::model::tenant::VoidPolicy;
use crate::rules::test_support::*;
use crate::rules::Transition;

fn arb_line() -> impl Strategy<Value = NewLine> {
    (1i64..50, 0i64..200_000, 0u32..=30_000u32, any::<bool>(), 0u8..4).prop_map(|(q, unit, rate_units, incl, p)| {
        let rate = TaxRate::from_units(rate_units * 10).unwrap().to_string();
        NewLine::builder("item")
            .product_id(&format!("p{p}"))
            .quantity(q)
            .unit_amount(unit)
            .tax_rate(&rate)
            .tax_inclusive(incl)
            .build()
            .unwrap()
    })
}

/// How an amount relates to what it is measured against when used.
#[derive(Debug, Clone, Copy)]
enum Size {
    Exact,
    OneBelow,
    OneAbove,
    Any(u64),
}

#[derive(Debug, Clone, Copy)]
enum Portion {
    Rest,
    Units(u32),
    Net(Size),
}

#[derive(Debug, Clone)]
enum Op {
    Finalize(bool),
    Pay(Size),
    Refund(Size),
    CancelLine(usize),
    CancelAll,
    Credit(usize, Portion, Settlement),
    Goodwill(Size, Settlement),
    Void(bool),
    WriteOff,
    Reissue,
}

fn arb_size() -> impl Strategy<Value = Size> {
    prop_oneof![
        Just(Size::Exact),
        Just(Size::OneBelow),
        Just(Size::OneAbove),
        (1u64..50_000).prop_map(Size::Any),
    ]
}

fn arb_settlement() -> impl Strategy<Value = Settlement> {
    prop_oneof![
        Just(Settlement::ReduceDue),
        Just(Settlement::Refund),
        Just(Settlement::CreditBalance)
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    let portion = prop_oneof![
        Just(Portion::Rest),
        (1u32..5).prop_map(Portion::Units),
        arb_size().prop_map(Portion::Net)
    ];
    prop_oneof![
        2 => any::<bool>().prop_map(Op::Finalize),
        3 => arb_size().prop_map(Op::Pay),
        1 => arb_size().prop_map(Op::Refund),
        1 => (0usize..8).prop_map(Op::CancelLine),
        1 => Just(Op::CancelAll),
        3 => ((0usize..8), portion, arb_settlement()).prop_map(|(i, p, s)| Op::Credit(i, p, s)),
        1 => (arb_size(), arb_settlement()).prop_map(|(n, s)| Op::Goodwill(n, s)),
        1 => any::<bool>().prop_map(Op::Void),
        1 => Just(Op::WriteOff),
        1 => Just(Op::Reissue),
    ]
}

fn sized(size: Size, target: Amount) -> Option<PositiveAmount> {
    let n = match size {
        Size::Exact => target.minor(),
        Size::OneBelow => target.minor().saturating_sub(1),
        Size::OneAbove => target.minor() + 1,
        Size::Any(n) => n,
    };
    PositiveAmount::new(n).ok()
}

/// Applies `op`; `balance` is the customer's credit balance, which the
/// caller keeps as a store would. Returns the transition(s) made.
fn apply(inv: &Invoice, op: &Op, balance: Amount) -> Vec<Transition> {
    let (a, ids) = (actor(), SeqIds::default());
    let c = ctx(&a, &ids);
    let cn = || Ok::<_, ()>(number("CN", 1));
    fn one<E>(r: Result<Transition, E>) -> Vec<Transition> {
        r.ok().into_iter().collect()
    }
    match op {
        Op::Finalize(apply_balance) => {
            let available = if *apply_balance { balance } else { Amount::ZERO };
            one(inv.finalize_applying_balance(c, available, || Ok::<_, ()>(number("INV", 1))))
        }
        Op::Pay(size) => sized(*size, inv.totals().amount_due)
            .map(|n| one(inv.record_payment(NewPayment::new(n, None, None).unwrap(), c)))
            .unwrap_or_default(),
        Op::Refund(size) => inv
            .payments
            .last()
            .and_then(|p| {
                let n = sized(*size, p.net())?;
                Some(one(inv.refund_payment(RefundRequest::new(p.id, n, None).unwrap(), c)))
            })
            .unwrap_or_default(),
        Op::CancelLine(i) => inv
            .lines
            .get(*i)
            .map(|l| {
                let req = CancelRequest::lines(vec![LineRef::LineId(l.id)], None).unwrap();
                one(inv.cancel(&req, c, cn))
            })
            .unwrap_or_default(),
        Op::CancelAll => one(inv.cancel(&CancelRequest::whole(None), c, cn)),
        Op::Credit(i, portion, settle) => inv
            .lines
            .get(*i)
            .and_then(|l| {
                let portion = match portion {
                    Portion::Rest => CreditPortion::Rest,
                    Portion::Units(u) => CreditPortion::Quantity(*u),
                    Portion::Net(size) => CreditPortion::Net(sized(*size, l.uncredited().net)?),
                };
                let line = LineCreditRequest::new(LineRef::LineId(l.id), portion).ok()?;
                let req = CreditRequest::new(vec![line], None, None, *settle).unwrap();
                Some(one(inv.credit(&req, balance, c, cn)))
            })
            .unwrap_or_default(),
        Op::Goodwill(size, settle) => sized(*size, inv.totals().amount_due)
            .map(|n| {
                let extra = ExtraCredit::new("goodwill", n, LineTax::standard(TaxRate::ZERO)).unwrap();
                let req = CreditRequest::new(vec![], Some(extra), None, *settle).unwrap();
                one(inv.credit(&req, balance, c, cn))
            })
            .unwrap_or_default(),
        Op::Void(always) => {
            let policy = if *always { VoidPolicy::Always } else { VoidPolicy::Never };
            one(inv.void(None, policy, c, cn))
        }
        Op::WriteOff => one(inv.mark_uncollectible(None, c)),
        Op::Reissue => inv
            .reissue(&ReissueRequest::default(), 2, c, cn)
            .map(|r| vec![r.cancelled, r.replacement])
            .unwrap_or_default(),
    }
}

/// What an issued invoice froze at finalize: everything but the status,
/// the lines' credit marks, payments, credit notes and records.
fn document(inv: &Invoice) -> impl PartialEq + std::fmt::Debug {
    let lines: Vec<_> = inv
        .lines
        .iter()
        .map(|l| {
            (
                l.id,
                l.description.clone(),
                l.quantity,
                l.unit_amount,
                l.tax.clone(),
                l.amounts,
            )
        })
        .collect();
    let t = inv.totals();
    (
        lines,
        (t.subtotal, t.tax, t.total),
        inv.tax_breakdown(),
        (inv.customer.clone(), inv.issuer.clone()),
        (inv.number.clone(), inv.issued_at),
    )
}

fn sum(amounts: impl IntoIterator<Item = Amount>) -> Amount {
    Amount::checked_sum(amounts).unwrap()
}

fn check_invariants(inv: &Invoice) {
    let t = inv.totals();
    assert_eq!(t.subtotal.checked_add(t.tax), Some(t.total), "subtotal + tax = total");
    let b = inv.tax_breakdown();
    assert_eq!(sum(b.iter().map(|s| s.taxable_amount)), t.subtotal);
    assert_eq!(sum(b.iter().map(|s| s.tax_amount)), t.tax);
    assert!(t.amount_credited <= t.total, "credits never exceed the total");
    let credited_lines = sum(inv.lines.iter().map(|l| l.credited.amounts.gross));
    let credited_by_line = sum(inv
        .credit_notes
        .iter()
        .flat_map(|cn| cn.lines.iter().filter(|l| l.line_id.is_some()).map(|l| l.amounts.gross)));
    assert_eq!(
        credited_by_line, credited_lines,
        "Σ credit-note lines = Σ credited lines"
    );
    for l in &inv.lines {
        assert!(
            l.credited.amounts.fits_within(&l.amounts),
            "no line credited beyond its amount"
        );
        assert!(l.credited.quantity <= l.quantity);
        if inv.is_issued() {
            assert_eq!(
                !l.is_active(),
                l.credited.quantity == l.quantity,
                "cancelled exactly when credited in full"
            );
            if !l.is_active() {
                assert_eq!(l.credited.amounts, l.amounts);
            }
        } else {
            assert_eq!(l.credited, Default::default(), "nothing of a draft is ever credited");
            assert_eq!(l.is_active(), inv.status == InvoiceStatus::Draft);
        }
    }
    for p in &inv.payments {
        assert!(p.refunded() <= p.amount.amount(), "refunds never exceed their payment");
    }
    let paid_and_credited = t.amount_paid.checked_add(t.amount_credited).unwrap();
    match inv.status {
        InvoiceStatus::Void | InvoiceStatus::Cancelled => assert_eq!(t.amount_due, Amount::ZERO),
        _ => {
            assert!(paid_and_credited <= t.total, "credited + paid never exceed the total");
            assert_eq!(
                t.amount_due.checked_add(paid_and_credited),
                Some(t.total),
                "amount_due = total − credited − net paid"
            );
        }
    }
    if inv.status == InvoiceStatus::Paid {
        assert_eq!(t.amount_due, Amount::ZERO);
    }
    if inv.status == InvoiceStatus::Draft {
        assert!(inv.credit_notes.is_empty() && inv.payments.is_empty());
    }
    for cn in &inv.credit_notes {
        assert_eq!(cn.subtotal().checked_add(cn.tax()), Some(cn.total()));
        let cb = cn.tax_breakdown();
        assert_eq!(sum(cb.iter().map(|s| s.taxable_amount)), cn.subtotal());
        assert_eq!(sum(cb.iter().map(|s| s.tax_amount)), cn.tax());
        assert_eq!(Some(&cn.invoice_number), inv.number.as_ref());
    }
}

/// Follows the ledger entries of `t` from `balance`, checking each one.
fn follow_ledger(t: &Transition, mut balance: Amount) -> Amount {
    for entry in &t.balance_entries {
        balance = match entry.direction {
            BalanceDirection::Credit => balance.checked_add(entry.amount.amount()).unwrap(),
            BalanceDirection::Debit => balance
                .checked_sub(entry.amount.amount())
                .expect("a debit never takes the balance below zero"),
        };
        assert_eq!(entry.balance_after, balance, "each entry states the balance after it");
    }
    balance
}

proptest! {
    #[test]
    fn line_amounts_always_add_up(q in 1u32..1_000_000, unit in 0u64..1_000_000, units in 0u32..10_000_000, incl: bool) {
        let a = LineAmounts::compute(q, Amount::from_minor(unit), TaxRate::from_units(units).unwrap(), incl).unwrap();
        prop_assert_eq!(a.net.checked_add(a.tax), Some(a.gross));
    }

    #[test]
    fn tax_rates_round_trip_through_text(units in 0u32..=10_000_000) {
        let r = TaxRate::from_units(units).unwrap();
        prop_assert_eq!(TaxRate::parse(&r.to_string()).unwrap(), r);
    }

    #[test]
    fn amounts_print_exactly(minor: u64) {
        let eur = crate::model::money::Currency::parse("EUR").unwrap();
        let text = Amount::from_minor(minor).to_decimal_string(eur);
        let (int, frac) = text.split_once('.').unwrap();
        prop_assert_eq!(frac.len(), 2);
        prop_assert_eq!(format!("{int}{frac}").parse::<u128>().unwrap(), u128::from(minor));
    }

    #[test]
    fn invariants_hold_after_any_sequence(
        lines in prop::collection::vec(arb_line(), 1..8),
        from_draft: bool,
        opening_balance in 0u64..100_000,
        ops in prop::collection::vec(arb_op(), 0..20),
    ) {
        let mut inv = if from_draft { draft(lines) } else { open(lines) };
        let mut balance = Amount::from_minor(opening_balance);
        let mut ledger = (Amount::from_minor(opening_balance), Amount::ZERO);
        let mut issued = (!from_draft).then(|| document(&inv));
        check_invariants(&inv);
        for op in &ops {
            let was_terminal = inv.status.is_terminal();
            let made = apply(&inv, op, balance);
            let Some(first) = made.first() else {
                check_invariants(&inv);
                continue;
            };
            prop_assert!(!was_terminal, "terminal states accept no transition");
            prop_assert_eq!(first.invoice.version, inv.version + 1, "every transition bumps the version");
            prop_assert_eq!(first.expected_version, inv.version);
            for t in &made {
                balance = follow_ledger(t, balance);
                for e in &t.balance_entries {
                    match e.direction {
                        BalanceDirection::Credit => ledger.0 = ledger.0.checked_add(e.amount.amount()).unwrap(),
                        BalanceDirection::Debit => ledger.1 = ledger.1.checked_add(e.amount.amount()).unwrap(),
                    }
                }
            }
            prop_assert_eq!(ledger.0.checked_sub(ledger.1), Some(balance), "the ledger sums to the balance");
            let next = made.last().unwrap().invoice.clone();
            if made.len() == 2 {
                // A reissue: the old invoice is cancelled, its replacement a fresh draft.
                check_invariants(&first.invoice);
                prop_assert_eq!(first.invoice.status, InvoiceStatus::Cancelled);
                prop_assert_eq!(first.invoice.replaced_by, Some(next.id));
                prop_assert_eq!(next.replaces, Some(inv.id));
                prop_assert_eq!(next.status, InvoiceStatus::Draft);
                issued = None;
            } else if inv.status == InvoiceStatus::Draft && next.is_issued() {
                issued = Some(document(&next));
            }
            inv = next;
            check_invariants(&inv);
            if let Some(doc) = &issued {
                prop_assert_eq!(&document(&inv), doc, "an issued document never changes");
            }
        }
    }
}
