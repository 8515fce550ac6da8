//! Unit tests of corrections after issue and after payment: credit notes by
//! line, units, part of a net and goodwill, their settlement, voids under
//! each policy, reissues, and credit balances spent at finalize.

use crate::commands::{
    CreditPortion, CreditRequest, ExtraCredit, LineCreditRequest, LineEdit, NewPayment, ReissueLines, ReissueRequest,
    Settlement,
};
use crate::error::Refusal;
use crate::model::balance::BalanceDirection;
use crate::model::ids::{ProductId, TenantId};
use crate::model::invoice::{Invoice, InvoiceStatus};
use crate::model::line::{LineRef, LineStatus, NewLine};
use crate::model::money::{Amount, PositiveAmount, TaxRate};
use crate::model::payment::RefundDestination;
use crate::model::reason::ReasonCode;
use crate::model::tax::LineTax;
use crate::model::tenant::VoidPolicy;
use crate::rules::test_support::*;
use crate::rules::{NumberedError, Transition};

fn amount(n: u64) -> PositiveAmount {
    PositiveAmount::new(n).unwrap()
}

fn product(p: &str) -> LineRef {
    LineRef::ProductId(ProductId::parse(p).unwrap())
}

fn kinds(t: &Transition) -> Vec<&'static str> {
    t.events.iter().map(|e| e.kind.type_name()).collect()
}

fn refused<T: std::fmt::Debug>(r: Result<T, NumberedError<()>>) -> Refusal {
    match r {
        Err(NumberedError::Refused(r)) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Lines a (1 × 100.00 at 19 %), b (3 × 3.33 at 19 %), c (2 × 12.50 at 7 %):
/// gross 119.00 + 11.89 + 26.75 = 157.64.
fn three_lines() -> Vec<NewLine> {
    vec![
        line("a", 1, 10_000, "19"),
        line("b", 3, 333, "19"),
        line("c", 2, 1_250, "7"),
    ]
}

fn credit_with(
    inv: &Invoice,
    lines: Vec<(&str, CreditPortion)>,
    extra: Option<ExtraCredit>,
    settle: Settlement,
    balance: u64,
) -> Result<Transition, NumberedError<()>> {
    let (a, ids) = (actor(), SeqIds::default());
    let lines = lines
        .into_iter()
        .map(|(p, portion)| LineCreditRequest::new(product(p), portion).unwrap())
        .collect();
    let request = CreditRequest::new(lines, extra, None, settle).unwrap();
    inv.credit(&request, Amount::from_minor(balance), ctx(&a, &ids), || {
        Ok(number("CN", 5))
    })
}

fn credit(
    inv: &Invoice,
    lines: Vec<(&str, CreditPortion)>,
    settle: Settlement,
) -> Result<Transition, NumberedError<()>> {
    credit_with(inv, lines, None, settle, 0)
}

fn pay(inv: &Invoice, n: u64) -> Invoice {
    let (a, ids) = (actor(), SeqIds::default());
    inv.record_payment(NewPayment::new(amount(n), Some("card"), None).unwrap(), ctx(&a, &ids))
        .unwrap()
        .invoice
}

fn goodwill(n: u64) -> ExtraCredit {
    ExtraCredit::new(
        "Goodwill for the late delivery",
        amount(n),
        LineTax::standard(TaxRate::parse("19").unwrap()),
    )
    .unwrap()
}

#[test]
fn some_units_of_a_line_are_credited_at_its_price_and_the_last_ones_take_the_rest() {
    let inv = open(three_lines());
    let one = credit(&inv, vec![("b", CreditPortion::Quantity(1))], Settlement::ReduceDue).unwrap();
    let b = &one.invoice.lines[1];
    assert_eq!(b.status, LineStatus::Active);
    assert_eq!(b.credited.quantity, 1);
    // 1 × 3.33 at 19 %: net 3.33, tax 0.6327 → 0.63, gross 3.96.
    assert_eq!(
        (b.credited.amounts.net.minor(), b.credited.amounts.tax.minor()),
        (333, 63)
    );
    let cn = &one.invoice.credit_notes[0];
    assert_eq!((cn.lines[0].quantity, cn.lines[0].unit_amount.minor()), (1, 333));
    assert_eq!(cn.total().minor(), 396);
    assert_eq!(one.invoice.totals().amount_due.minor(), 15_764 - 396);
    assert_eq!(kinds(&one), ["invoice.credited", "credit_note.issued"]);
    // The last two units take exactly what is left: 6.66 net, 1.27 tax.
    let rest = credit(
        &one.invoice,
        vec![("b", CreditPortion::Quantity(2))],
        Settlement::ReduceDue,
    )
    .unwrap();
    let b = &rest.invoice.lines[1];
    assert_eq!(b.status, LineStatus::Cancelled);
    assert_eq!(b.credited.amounts, b.amounts, "credited in full, to the minor unit");
    assert_eq!(rest.invoice.credit_notes[1].total().minor(), 1_189 - 396);
    assert_eq!(
        refused(credit(
            &rest.invoice,
            vec![("b", CreditPortion::Quantity(1))],
            Settlement::ReduceDue
        )),
        Refusal::LineAlreadyCancelled("product_id b".into())
    );
}

#[test]
fn a_line_is_never_credited_beyond_what_is_left_of_it() {
    let inv = open(three_lines());
    let exceeds = Refusal::CreditExceedsLine("product_id b".into());
    assert_eq!(
        refused(credit(
            &inv,
            vec![("b", CreditPortion::Quantity(4))],
            Settlement::ReduceDue
        )),
        exceeds
    );
    assert_eq!(
        refused(credit(
            &inv,
            vec![("b", CreditPortion::Net(amount(1_000)))],
            Settlement::ReduceDue
        )),
        exceeds
    );
    // Two shares of one request add up against the same line.
    assert_eq!(
        refused(credit(
            &inv,
            vec![("b", CreditPortion::Quantity(2)), ("b", CreditPortion::Quantity(2))],
            Settlement::ReduceDue
        )),
        exceeds
    );
    let two = credit(&inv, vec![("b", CreditPortion::Quantity(2))], Settlement::ReduceDue)
        .unwrap()
        .invoice;
    assert_eq!(
        refused(credit(
            &two,
            vec![("b", CreditPortion::Net(amount(334)))],
            Settlement::ReduceDue
        )),
        exceeds
    );
    assert!(credit(
        &two,
        vec![("b", CreditPortion::Net(amount(333)))],
        Settlement::ReduceDue
    )
    .is_ok());
}

#[test]
fn part_of_a_net_is_credited_with_its_own_tax() {
    let inv = open(three_lines());
    let t = credit(
        &inv,
        vec![("a", CreditPortion::Net(amount(2_500)))],
        Settlement::ReduceDue,
    )
    .unwrap();
    let a = &t.invoice.lines[0];
    assert_eq!(a.status, LineStatus::Active);
    assert_eq!(a.credited.quantity, 0, "no units were credited");
    assert_eq!(
        (a.credited.amounts.net.minor(), a.credited.amounts.tax.minor()),
        (2_500, 475)
    );
    let cn_line = &t.invoice.credit_notes[0].lines[0];
    assert_eq!(
        (cn_line.quantity, cn_line.unit_amount.minor(), cn_line.tax_inclusive),
        (1, 2_500, false)
    );
    // Crediting the rest of the net closes the line.
    let rest = credit(
        &t.invoice,
        vec![("a", CreditPortion::Net(amount(7_500)))],
        Settlement::ReduceDue,
    )
    .unwrap();
    assert_eq!(rest.invoice.lines[0].status, LineStatus::Cancelled);
    assert_eq!(rest.invoice.lines[0].credited.amounts, rest.invoice.lines[0].amounts);
}

#[test]
fn goodwill_credits_tie_to_no_line_and_all_credits_stay_within_the_total() {
    let inv = open(three_lines());
    let t = credit_with(&inv, vec![], Some(goodwill(1_000)), Settlement::ReduceDue, 0).unwrap();
    let cn = &t.invoice.credit_notes[0];
    assert_eq!(cn.lines[0].line_id, None);
    assert_eq!(
        (cn.subtotal().minor(), cn.tax().minor(), cn.total().minor()),
        (1_000, 190, 1_190)
    );
    assert!(t.invoice.lines.iter().all(|l| l.credited.amounts.is_zero()));
    assert_eq!(t.invoice.totals().amount_credited.minor(), 1_190);
    // Everything by line now would pass the total: refused as such.
    assert_eq!(
        refused(credit(
            &t.invoice,
            vec![
                ("a", CreditPortion::Rest),
                ("b", CreditPortion::Rest),
                ("c", CreditPortion::Rest)
            ],
            Settlement::ReduceDue
        )),
        Refusal::CreditExceedsTotal
    );
    // A whole cancel still works: it credits what is left of the total.
    let (a, ids) = (actor(), SeqIds::default());
    let cancelled = t
        .invoice
        .cancel(&crate::commands::CancelRequest::whole(None), ctx(&a, &ids), || {
            Ok::<_, ()>(number("CN", 6))
        })
        .unwrap();
    let totals = cancelled.invoice.totals();
    assert_eq!(cancelled.invoice.status, InvoiceStatus::Cancelled);
    assert!(totals.amount_credited <= totals.total);
    assert!(
        totals.total.minor() - totals.amount_credited.minor() <= 1,
        "at most a rounding cent is left uncredited"
    );
}

#[test]
fn a_paid_invoice_is_credited_with_a_refund_from_its_newest_payments() {
    let inv = open(three_lines());
    let paid = pay(&pay(&inv, 10_000), 5_764);
    assert_eq!(paid.status, InvoiceStatus::Paid);
    // Crediting line c (26.75) by refund: the newest payment pays it back.
    let t = credit(&paid, vec![("c", CreditPortion::Rest)], Settlement::Refund).unwrap();
    assert_eq!(t.invoice.status, InvoiceStatus::Paid, "nothing is due; it stays paid");
    let totals = t.invoice.totals();
    assert_eq!(
        (
            totals.amount_credited.minor(),
            totals.amount_paid.minor(),
            totals.amount_refunded.minor(),
            totals.amount_due.minor()
        ),
        (2_675, 15_764 - 2_675, 2_675, 0)
    );
    let refund = &t.invoice.payments[1].refunds[0];
    assert_eq!(
        (refund.amount.minor(), refund.destination),
        (2_675, RefundDestination::OriginalMethod)
    );
    assert!(t.invoice.payments[0].refunds.is_empty());
    assert_eq!(
        kinds(&t),
        ["invoice.credited", "credit_note.issued", "invoice.payment_refunded"]
    );
    // A refund spanning both payments: 5,764 − 2,675 left on the newest, the rest from the first.
    let more = credit(&t.invoice, vec![("a", CreditPortion::Rest)], Settlement::Refund).unwrap();
    assert_eq!(more.invoice.payments[1].net(), Amount::ZERO);
    assert_eq!(more.invoice.payments[0].refunded().minor(), 11_900 - (5_764 - 2_675));
    // Crediting everything left, by refund, reverses the invoice: cancelled.
    let all = credit(&more.invoice, vec![("b", CreditPortion::Rest)], Settlement::Refund).unwrap();
    assert_eq!(all.invoice.status, InvoiceStatus::Cancelled);
    assert_eq!(all.invoice.totals().amount_paid, Amount::ZERO);
    assert!(kinds(&all).contains(&"invoice.cancelled"));
}

#[test]
fn settlements_have_their_own_refusals() {
    let inv = open(three_lines());
    let part = pay(&inv, 1_000);
    assert_eq!(
        refused(credit(&part, vec![("a", CreditPortion::Rest)], Settlement::Refund)),
        Refusal::CreditExceedsAmountPaid,
        "a refund never exceeds the net paid"
    );
    assert_eq!(
        refused(credit(
            &part,
            vec![("a", CreditPortion::Rest)],
            Settlement::CreditBalance
        )),
        Refusal::CreditExceedsAmountPaid
    );
    let paid = pay(&inv, 15_764);
    assert_eq!(
        refused(credit(&paid, vec![("c", CreditPortion::Rest)], Settlement::ReduceDue)),
        Refusal::CreditExceedsAmountDue,
        "nothing is due on a paid invoice"
    );
    assert_eq!(
        refused(credit(
            &draft(three_lines()),
            vec![("a", CreditPortion::Rest)],
            Settlement::ReduceDue
        )),
        Refusal::InvoiceIsDraft
    );
    let (a, ids) = (actor(), SeqIds::default());
    let voided = inv
        .void(None, VoidPolicy::Never, ctx(&a, &ids), || Ok::<_, ()>(number("CN", 9)))
        .unwrap()
        .invoice;
    assert_eq!(
        refused(credit(&voided, vec![("a", CreditPortion::Rest)], Settlement::ReduceDue)),
        Refusal::InvoiceAlreadyVoid
    );
}

#[test]
fn a_credit_onto_the_balance_is_recorded_in_the_customers_ledger() {
    let paid = pay(&open(three_lines()), 15_764);
    let t = credit_with(
        &paid,
        vec![("c", CreditPortion::Rest)],
        None,
        Settlement::CreditBalance,
        500,
    )
    .unwrap();
    assert_eq!(t.invoice.status, InvoiceStatus::Paid);
    let entry = &t.balance_entries[..];
    assert_eq!(entry.len(), 1);
    assert_eq!(
        (
            entry[0].direction,
            entry[0].amount.minor(),
            entry[0].balance_after.minor()
        ),
        (BalanceDirection::Credit, 2_675, 500 + 2_675)
    );
    assert_eq!(entry[0].customer.as_str(), "cust-1");
    assert_eq!(entry[0].credit_note_id, Some(t.invoice.credit_notes[0].id));
    assert_eq!(
        t.invoice.payments[0].refunds[0].destination,
        RefundDestination::CustomerBalance
    );
    assert_eq!(
        kinds(&t),
        [
            "invoice.credited",
            "credit_note.issued",
            "invoice.payment_refunded",
            "customer.balance_changed"
        ]
    );
}

#[test]
fn finalize_spends_the_customers_balance_when_asked() {
    let (a, ids) = (actor(), SeqIds::default());
    let inv = draft(three_lines());
    let some = inv
        .finalize_applying_balance(ctx(&a, &ids), Amount::from_minor(5_000), || {
            Ok::<_, ()>(number("INV", 1))
        })
        .unwrap();
    assert_eq!(some.invoice.status, InvoiceStatus::Open);
    assert_eq!(some.invoice.totals().amount_due.minor(), 15_764 - 5_000);
    let p = &some.invoice.payments[0];
    assert_eq!((p.amount.minor(), p.method.as_deref()), (5_000, Some("credit_balance")));
    assert_eq!(
        (some.balance_entries[0].direction, some.balance_entries[0].balance_after),
        (BalanceDirection::Debit, Amount::ZERO)
    );
    assert_eq!(
        kinds(&some),
        [
            "invoice.finalized",
            "invoice.payment_recorded",
            "customer.balance_changed"
        ]
    );
    let all = inv
        .finalize_applying_balance(ctx(&a, &ids), Amount::from_minor(20_000), || {
            Ok::<_, ()>(number("INV", 1))
        })
        .unwrap();
    assert_eq!(all.invoice.status, InvoiceStatus::Paid);
    assert_eq!(all.balance_entries[0].balance_after.minor(), 20_000 - 15_764);
    // Crediting a balance-paid invoice by "refund" puts the money back on the balance.
    let back = credit_with(
        &all.invoice,
        vec![("c", CreditPortion::Rest)],
        None,
        Settlement::Refund,
        4_236,
    )
    .unwrap();
    assert_eq!(
        back.invoice.payments[0].refunds[0].destination,
        RefundDestination::CustomerBalance
    );
    assert_eq!(back.balance_entries[0].balance_after.minor(), 4_236 + 2_675);
    // Nothing is spent before the payer approves.
    let pending = Invoice::create_draft(TenantId::new(1), 1, new_invoice(three_lines(), 1), ctx(&a, &ids)).invoice;
    let waiting = pending
        .finalize_applying_balance(ctx(&a, &ids), Amount::from_minor(20_000), || {
            Ok::<_, ()>(number("INV", 2))
        })
        .unwrap();
    assert!(waiting.invoice.payments.is_empty() && waiting.balance_entries.is_empty());
}

#[test]
fn a_void_writes_a_credit_note_unless_the_tenant_says_never() {
    let (a, ids) = (actor(), SeqIds::default());
    let inv = open(three_lines());
    let reason = Some(crate::model::reason::Reason::new(ReasonCode::Duplicate, Some("sent twice")).unwrap());
    let always = inv
        .void(reason.clone(), VoidPolicy::Always, ctx(&a, &ids), || {
            Ok::<_, ()>(number("CN", 3))
        })
        .unwrap();
    let cn = &always.invoice.credit_notes[0];
    assert_eq!(cn.total().minor(), 15_764);
    let because = cn.reason.as_ref().unwrap();
    assert_eq!(
        (because.code, because.text.as_deref()),
        (ReasonCode::IssuedInError, Some("sent twice"))
    );
    assert_eq!(always.invoice.totals().amount_credited, always.invoice.totals().total);
    assert_eq!(kinds(&always), ["invoice.voided", "credit_note.issued"]);
    let mut drawn = false;
    let never = inv
        .void(reason, VoidPolicy::Never, ctx(&a, &ids), || {
            drawn = true;
            Ok::<_, ()>(number("CN", 3))
        })
        .unwrap();
    assert!(!drawn && never.invoice.credit_notes.is_empty());
    assert_eq!(kinds(&never), ["invoice.voided"]);
    // After a goodwill credit, the void credits only what is left of the total.
    let partly = credit_with(&inv, vec![], Some(goodwill(1_000)), Settlement::ReduceDue, 0)
        .unwrap()
        .invoice;
    let rest = partly
        .void(None, VoidPolicy::Always, ctx(&a, &ids), || Ok::<_, ()>(number("CN", 4)))
        .unwrap();
    let totals = rest.invoice.totals();
    assert!(totals.amount_credited <= totals.total);
    assert!(totals.total.minor() - totals.amount_credited.minor() <= 1);
}

#[test]
fn a_reissue_cancels_with_a_credit_note_and_starts_a_linked_draft() {
    let (a, ids) = (actor(), SeqIds::default());
    let mut inv = open(three_lines());
    inv.buyer_reference = Some("PO-4711".into());
    let edits = vec![
        LineEdit::Remove(product("b")),
        LineEdit::Change {
            line: product("a"),
            quantity: Some(2),
            unit_amount: None,
            description: Some("Freight, two legs".into()),
        },
    ];
    let r = inv
        .reissue(
            &ReissueRequest::new(ReissueLines::Edited(edits), None).unwrap(),
            7,
            ctx(&a, &ids),
            || Ok::<_, ()>(number("CN", 2)),
        )
        .unwrap();
    let old = &r.cancelled.invoice;
    let new = &r.replacement.invoice;
    assert_eq!(old.status, InvoiceStatus::Cancelled);
    assert_eq!(old.totals().amount_credited, old.totals().total);
    assert_eq!(old.replaced_by, Some(new.id));
    assert_eq!(new.replaces, Some(old.id));
    assert_eq!(new.status, InvoiceStatus::Draft);
    assert_eq!(
        new.buyer_reference.as_deref(),
        Some("PO-4711"),
        "the buyer's reference carries over"
    );
    assert_eq!(new.lines.len(), 2);
    assert_eq!(
        (new.lines[0].quantity, new.lines[0].description.as_str()),
        (2, "Freight, two legs")
    );
    assert_eq!(new.lines[1].product_id.as_ref().unwrap().as_str(), "c");
    assert_eq!(
        (new.customer.clone(), new.issuer.clone()),
        (inv.customer.clone(), inv.issuer.clone())
    );
    assert_eq!(
        kinds(&r.cancelled),
        ["invoice.cancelled", "credit_note.issued", "invoice.reissued"]
    );
    assert_eq!(kinds(&r.replacement), ["invoice.created", "invoice.reissued"]);
    // Payments stay with the old invoice, which must hold none.
    let paid = pay(&inv, 100);
    let held = paid.reissue(&ReissueRequest::default(), 2, ctx(&a, &ids), || {
        Ok::<_, ()>(number("CN", 2))
    });
    assert_eq!(refused(held), Refusal::ReissueHasPayments);
    // Bad edits are refused without a number drawn.
    let unknown = ReissueRequest::new(ReissueLines::Edited(vec![LineEdit::Remove(product("zz"))]), None).unwrap();
    assert_eq!(
        refused(inv.reissue(&unknown, 2, ctx(&a, &ids), || Ok::<_, ()>(number("CN", 2)))),
        Refusal::LineNotFound("product_id zz".into())
    );
    let zero = ReissueRequest::new(
        ReissueLines::Edited(vec![LineEdit::Change {
            line: product("a"),
            quantity: Some(0),
            unit_amount: None,
            description: None,
        }]),
        None,
    )
    .unwrap();
    assert!(matches!(
        inv.reissue(&zero, 2, ctx(&a, &ids), || Ok::<_, ()>(number("CN", 2))),
        Err(NumberedError::Invalid(e)) if e.field == "lines[0].quantity"
    ));
    assert_eq!(
        refused(
            draft(three_lines()).reissue(&ReissueRequest::default(), 2, ctx(&a, &ids), || Ok::<_, ()>(number(
                "CN", 2
            )))
        ),
        Refusal::InvoiceIsDraft
    );
}
