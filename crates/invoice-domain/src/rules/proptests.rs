//! Property tests of the invariants that must hold after any sequence of
//! operations, starting from drafts as well as issued invoices.

use proptest::prelude::*;

use crate::commands::{CancelRequest, NewPayment, RefundRequest};
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::line::{LineRef, NewLine};
use crate::model::money::{Amount, LineAmounts, PositiveAmount, TaxRate};
use crate::rules::test_support::*;

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

/// How a payment's amount relates to what is due when it is made.
#[derive(Debug, Clone, Copy)]
enum Size {
    Exact,
    OneBelow,
    OneAbove,
    Any(u64),
}

#[derive(Debug, Clone)]
enum Op {
    Finalize,
    Pay(Size),
    Refund(Size),
    CancelLine(usize),
    CancelAll,
    Void,
    WriteOff,
}

fn arb_size() -> impl Strategy<Value = Size> {
    prop_oneof![
        Just(Size::Exact),
        Just(Size::OneBelow),
        Just(Size::OneAbove),
        (1u64..50_000).prop_map(Size::Any),
    ]
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Finalize),
        arb_size().prop_map(Op::Pay),
        arb_size().prop_map(Op::Refund),
        (0usize..8).prop_map(Op::CancelLine),
        Just(Op::CancelAll),
        Just(Op::Void),
        Just(Op::WriteOff),
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

fn apply(inv: &Invoice, op: &Op) -> Option<Invoice> {
    let (a, ids) = (actor(), SeqIds::default());
    let c = ctx(&a, &ids);
    let r = match op {
        Op::Finalize => inv.finalize(c, || Ok::<_, ()>(number("INV", 1))).ok(),
        Op::Pay(size) => sized(*size, inv.totals().amount_due)
            .and_then(|n| inv.record_payment(NewPayment::new(n, None, None).unwrap(), c).ok()),
        Op::Refund(size) => inv.payments.last().and_then(|p| {
            let n = sized(*size, p.net())?;
            inv.refund_payment(RefundRequest::new(p.id, n, None).unwrap(), c).ok()
        }),
        Op::CancelLine(i) => inv.lines.get(*i).and_then(|l| {
            let req = CancelRequest::lines(vec![LineRef::LineId(l.id)], None).unwrap();
            inv.cancel(&req, c, || Ok::<_, ()>(number("CN", 1))).ok()
        }),
        Op::CancelAll => inv
            .cancel(&CancelRequest::whole(None), c, || Ok::<_, ()>(number("CN", 1)))
            .ok(),
        Op::Void => inv.void(None, c).ok(),
        Op::WriteOff => inv.mark_uncollectible(None, c).ok(),
    };
    r.map(|t| {
        assert_eq!(t.invoice.version, inv.version + 1, "every transition bumps the version");
        assert_eq!(t.expected_version, inv.version);
        t.invoice
    })
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

fn check_invariants(inv: &Invoice) {
    let t = inv.totals();
    assert_eq!(t.subtotal.checked_add(t.tax), Some(t.total), "subtotal + tax = total");
    let b = inv.tax_breakdown();
    assert_eq!(
        Amount::checked_sum(b.iter().map(|s| s.taxable_amount)),
        Some(t.subtotal)
    );
    assert_eq!(Amount::checked_sum(b.iter().map(|s| s.tax_amount)), Some(t.tax));
    let credited_lines = Amount::checked_sum(inv.lines.iter().map(|l| l.credited.amounts.gross)).unwrap();
    assert_eq!(t.amount_credited, credited_lines, "Σ credit notes = Σ credited lines");
    assert!(t.amount_credited <= t.total, "credits never exceed the total");
    for l in &inv.lines {
        assert!(l.credited.amounts.gross <= l.amounts.gross && l.credited.quantity <= l.quantity);
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
        assert_eq!(
            Amount::checked_sum(cb.iter().map(|s| s.taxable_amount)),
            Some(cn.subtotal())
        );
        assert_eq!(Amount::checked_sum(cb.iter().map(|s| s.tax_amount)), Some(cn.tax()));
        assert_eq!(Some(&cn.invoice_number), inv.number.as_ref());
    }
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
        ops in prop::collection::vec(arb_op(), 0..16),
    ) {
        let mut inv = if from_draft { draft(lines) } else { open(lines) };
        let mut issued = (!from_draft).then(|| document(&inv));
        check_invariants(&inv);
        for op in &ops {
            let was_terminal = inv.status.is_terminal();
            if let Some(next) = apply(&inv, op) {
                prop_assert!(!was_terminal, "terminal states accept no transition");
                if inv.status == InvoiceStatus::Draft && next.status != InvoiceStatus::Draft && next.is_issued() {
                    issued = Some(document(&next));
                }
                inv = next;
            }
            check_invariants(&inv);
            if let Some(doc) = &issued {
                prop_assert_eq!(&document(&inv), doc, "an issued document never changes");
            }
        }
    }
}
