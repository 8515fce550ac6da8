//! Property tests of the invariants that must hold after any sequence of operations.

use proptest::prelude::*;

use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::line::{LineRef, NewLine};
use crate::model::money::{Amount, LineAmounts, TaxRate};
use crate::rules::test_support::*;
use crate::rules::{CancelRequest, NewPayment};

fn arb_line() -> impl Strategy<Value = NewLine> {
    (1i64..50, 0i64..200_000, 0u32..=30_000u32, any::<bool>(), 0u8..4).prop_map(|(q, unit, rate_units, incl, p)| {
        let rate = TaxRate::from_units(rate_units * 10).unwrap().to_string();
        NewLine::parse(Some(&format!("p{p}")), None, "item", q, unit, &rate, incl).unwrap()
    })
}

#[derive(Debug, Clone)]
enum Op {
    Pay(i64),
    Refund(i64),
    CancelLine(usize),
    CancelAll,
    Void,
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1i64..50_000).prop_map(Op::Pay),
        (1i64..50_000).prop_map(Op::Refund),
        (0usize..8).prop_map(Op::CancelLine),
        Just(Op::CancelAll),
        Just(Op::Void),
    ]
}

fn apply(inv: &Invoice, op: &Op) -> Option<Invoice> {
    let (a, ids) = (actor(), SeqIds::default());
    let c = ctx(&a, &ids);
    let r = match op {
        Op::Pay(n) => inv
            .record_payment(
                NewPayment {
                    amount: Amount::from_minor(*n),
                    method: None,
                    reference: None,
                },
                c,
            )
            .ok(),
        Op::Refund(n) => inv
            .payments
            .first()
            .and_then(|p| inv.refund_payment(p.id, Amount::from_minor(*n), None, c).ok()),
        Op::CancelLine(i) => inv.lines.get(*i).and_then(|l| {
            let req = CancelRequest {
                lines: vec![LineRef::LineId(l.id)],
                reason: None,
            };
            inv.cancel(&req, c, || Ok::<_, ()>(1)).ok()
        }),
        Op::CancelAll => inv.cancel(&CancelRequest::default(), c, || Ok::<_, ()>(1)).ok(),
        Op::Void => inv.void(None, c).ok(),
    };
    r.map(|t| {
        assert_eq!(t.invoice.version, inv.version + 1, "every transition bumps the version");
        t.invoice
    })
}

fn check_invariants(original_total: Amount, inv: &Invoice) {
    let t = inv.totals();
    assert_eq!(t.subtotal + t.tax, t.total, "subtotal + tax = total");
    if inv.status == InvoiceStatus::Open {
        assert_eq!(t.amount_due, t.total - t.amount_paid, "amount due = total - net paid");
    }
    assert!(t.amount_paid >= Amount::ZERO && t.amount_paid <= t.total || inv.status == InvoiceStatus::Cancelled);
    let credited: Amount = inv.credit_notes.iter().map(|c| c.total()).sum();
    assert!(
        credited <= original_total,
        "credit notes never exceed the invoiced total"
    );
    assert_eq!(credited, t.amount_cancelled, "credit notes sum to the cancelled amount");
    for cn in &inv.credit_notes {
        assert_eq!(cn.subtotal() + cn.tax(), cn.total());
    }
}

proptest! {
    #[test]
    fn line_amounts_always_add_up(q in 1u32..1_000_000, unit in 0i64..1_000_000, units in 0u32..10_000_000, incl: bool) {
        let a = LineAmounts::compute(q, Amount::from_minor(unit), TaxRate::from_units(units).unwrap(), incl);
        prop_assert_eq!(a.net + a.tax, a.gross);
        prop_assert!(a.tax >= Amount::ZERO && a.net >= Amount::ZERO);
    }

    #[test]
    fn tax_rates_round_trip_through_text(units in 0u32..=10_000_000) {
        let r = TaxRate::from_units(units).unwrap();
        prop_assert_eq!(TaxRate::parse(&r.to_string()).unwrap(), r);
    }

    #[test]
    fn invariants_hold_after_any_sequence(lines in prop::collection::vec(arb_line(), 1..8), ops in prop::collection::vec(arb_op(), 0..12)) {
        let mut inv = open(lines);
        let original_total = inv.totals().total;
        check_invariants(original_total, &inv);
        for op in &ops {
            let before = inv.totals();
            let was_terminal = inv.status.is_terminal();
            if let Some(next) = apply(&inv, op) {
                prop_assert!(!was_terminal, "terminal states accept no transition");
                if matches!(op, Op::CancelLine(_) | Op::CancelAll) {
                    let after = next.totals();
                    prop_assert!(after.total <= before.total && after.subtotal <= before.subtotal && after.tax <= before.tax,
                        "cancelling lines never increases a total");
                }
                inv = next;
            }
            check_invariants(original_total, &inv);
        }
    }
}
