//! Unit tests: every rule and every refusal.

use crate::commands::{CancelRequest, NewPayment, RefundRequest, Rejection};
use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::ids::{LineId, PaymentId, ProductId, TenantId, VariationId};
use crate::model::invoice::{Approval, Invoice, InvoiceStatus};
use crate::model::line::{LineRef, LineStatus, NewLine};
use crate::model::money::{Amount, PositiveAmount};
use crate::model::reason::{Reason, ReasonCode};
use crate::model::tax::TaxCategory;
use crate::model::tenant::VoidPolicy;
use crate::rules::test_support::*;
use crate::rules::{Change, NumberedError, Transition};

fn reason() -> Option<Reason> {
    Some(Reason::new(ReasonCode::CustomerRequest, Some("asked")).unwrap())
}

fn cancel(inv: &Invoice, lines: Vec<LineRef>) -> Result<Transition, Refusal> {
    let (a, ids) = (actor(), SeqIds::default());
    let req = if lines.is_empty() {
        CancelRequest::whole(reason())
    } else {
        CancelRequest::lines(lines, reason()).unwrap()
    };
    inv.cancel(&req, ctx(&a, &ids), || Ok::<_, ()>(number("CN", 7)))
        .map_err(refused)
}

/// The refusal inside a numbered error (the tests' number source never fails).
fn refused(e: NumberedError<()>) -> Refusal {
    match e {
        NumberedError::Refused(r) => r,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn amount(n: u64) -> PositiveAmount {
    PositiveAmount::new(n).unwrap()
}

fn pay(inv: &Invoice, n: u64) -> Result<Transition, Refusal> {
    let (a, ids) = (actor(), SeqIds::default());
    inv.record_payment(NewPayment::new(amount(n), Some("card"), None).unwrap(), ctx(&a, &ids))
}

fn void(inv: &Invoice) -> Result<Transition, Refusal> {
    void_with(inv, VoidPolicy::Never)
}

fn void_with(inv: &Invoice, policy: VoidPolicy) -> Result<Transition, Refusal> {
    let (a, ids) = (actor(), SeqIds::default());
    inv.void(None, policy, ctx(&a, &ids), || Ok::<_, ()>(number("CN", 8)))
        .map_err(refused)
}

fn write_off(inv: &Invoice) -> Result<Transition, Refusal> {
    let (a, ids) = (actor(), SeqIds::default());
    inv.mark_uncollectible(reason(), ctx(&a, &ids))
}

fn refund(inv: &Invoice, payment: PaymentId, n: u64) -> Result<Transition, Refusal> {
    let (a, ids) = (actor(), SeqIds::default());
    inv.refund_payment(RefundRequest::new(payment, amount(n), None).unwrap(), ctx(&a, &ids))
}

fn kinds(t: &Transition) -> Vec<&'static str> {
    t.events.iter().map(|e| e.kind.type_name()).collect()
}

fn product(p: &str) -> LineRef {
    LineRef::ProductId(ProductId::parse(p).unwrap())
}

fn two_lines() -> Vec<NewLine> {
    vec![line("a", 1, 10_000, "19"), line("b", 2, 1_250, "7")]
}

/// (subtotal, tax, total) of the document.
fn document(inv: &Invoice) -> (u64, u64, u64) {
    let t = inv.totals();
    (t.subtotal.minor(), t.tax.minor(), t.total.minor())
}

#[test]
fn a_draft_has_no_number_and_owes_its_total() {
    let d = draft(two_lines());
    assert_eq!(d.status, InvoiceStatus::Draft);
    assert_eq!(d.number, None);
    assert_eq!(d.version, 1);
    let t = d.totals();
    assert_eq!(
        (t.subtotal.minor(), t.tax.minor(), t.total.minor()),
        (12_500, 1_900 + 175, 14_575)
    );
    assert_eq!(t.amount_due, t.total);
}

#[test]
fn finalize_numbers_the_invoice_and_starts_collection() {
    let (a, ids) = (actor(), SeqIds::default());
    let t = draft(two_lines())
        .finalize(ctx(&a, &ids), || Ok::<_, ()>(number("INV", 52)))
        .unwrap();
    let inv = &t.invoice;
    assert_eq!(inv.status, InvoiceStatus::Open);
    assert_eq!(inv.number_text().as_deref(), Some("INV-000052"));
    assert_eq!(inv.issued_at, Some(t0()));
    assert!(inv.collection.next_payment_attempt.is_some());
    assert!(!inv.collection.halted);
    assert_eq!((t.expected_version, inv.version), (1, 2));
    assert_eq!(kinds(&t), ["invoice.finalized"]);
}

#[test]
fn finalize_refusals_draw_no_number() {
    let (a, ids) = (actor(), SeqIds::default());
    let mut drawn = false;
    let empty = draft(vec![]);
    let r = empty.finalize(ctx(&a, &ids), || {
        drawn = true;
        Ok::<_, ()>(number("INV", 1))
    });
    assert_eq!(r, Err(NumberedError::Refused(Refusal::InvoiceHasNoLines)));
    assert!(!drawn, "a refused finalize must not consume a number");
    let open = open(two_lines());
    assert_eq!(open.check_finalize(), Err(Refusal::InvoiceNotDraft));
    let voided = void(&open).unwrap().invoice;
    assert_eq!(voided.check_finalize(), Err(Refusal::InvoiceAlreadyVoid));
}

#[test]
fn cancelling_a_draft_discards_it_without_number_credit_note_or_money() {
    let t = cancel(&draft(two_lines()), vec![]).unwrap();
    let inv = &t.invoice;
    assert_eq!(inv.status, InvoiceStatus::Cancelled);
    assert_eq!(inv.number, None);
    assert!(inv.credit_notes.is_empty());
    assert!(inv.lines.iter().all(|l| l.status == LineStatus::Cancelled));
    assert!(inv.lines.iter().all(|l| l.credited.amounts.is_zero()));
    let totals = inv.totals();
    assert_eq!(document(inv), (12_500, 2_075, 14_575), "the draft reads as drafted");
    assert_eq!(
        (totals.amount_credited, totals.amount_due),
        (Amount::ZERO, Amount::ZERO)
    );
    assert_eq!(kinds(&t), ["invoice.cancelled"]);
    assert!(inv.cancellation.as_ref().unwrap().reason.is_some());
}

#[test]
fn cancelling_an_open_invoice_issues_a_credit_note_for_every_line() {
    let open = open(two_lines());
    let t = cancel(&open, vec![]).unwrap();
    let inv = &t.invoice;
    assert_eq!(inv.status, InvoiceStatus::Cancelled);
    assert_eq!(inv.number_text().as_deref(), Some("INV-000001"), "the number is kept");
    let cn = &inv.credit_notes[0];
    assert_eq!(cn.number.to_string(), "CN-000007");
    assert_eq!(cn.invoice_number.to_string(), "INV-000001");
    assert_eq!(cn.invoice_issued_at, t0());
    assert_eq!(cn.lines.len(), 2);
    assert_eq!(
        (cn.subtotal().minor(), cn.tax().minor(), cn.total().minor()),
        (12_500, 2_075, 14_575)
    );
    // The document stays as issued; the credit note carries the correction.
    assert_eq!(document(inv), document(&open));
    let totals = inv.totals();
    assert_eq!(totals.amount_credited, totals.total);
    assert_eq!(totals.amount_due, Amount::ZERO);
    assert!(inv.collection.halted);
    assert_eq!(inv.collection.next_payment_attempt, None);
    assert_eq!(inv.cancelled_at, Some(t0()));
    assert_eq!(kinds(&t), ["invoice.cancelled", "credit_note.issued"]);
    assert!(t.changes.contains(&Change::CreditNoteIssued(cn.id)));
}

#[test]
fn full_cancel_refusals() {
    let open = open(two_lines());
    let partly_paid = pay(&open, 100).unwrap().invoice;
    assert_eq!(cancel(&partly_paid, vec![]).unwrap_err(), Refusal::InvoiceHasPayments);
    let paid = pay(&open, 14_575).unwrap().invoice;
    assert_eq!(paid.status, InvoiceStatus::Paid);
    assert_eq!(cancel(&paid, vec![]).unwrap_err(), Refusal::InvoicePaid);
    let cancelled = cancel(&open, vec![]).unwrap().invoice;
    assert_eq!(
        cancel(&cancelled, vec![]).unwrap_err(),
        Refusal::InvoiceAlreadyCancelled
    );
    let voided = void(&open).unwrap().invoice;
    assert_eq!(cancel(&voided, vec![]).unwrap_err(), Refusal::InvoiceAlreadyVoid);
}

#[test]
fn a_fully_refunded_invoice_can_be_cancelled_and_voided() {
    let open = open(two_lines());
    let paid = pay(&open, 500).unwrap().invoice;
    let pid = paid.payments[0].id;
    let refunded = refund(&paid, pid, 500).unwrap().invoice;
    assert_eq!(refunded.amount_paid(), Amount::ZERO);
    assert!(cancel(&refunded, vec![]).is_ok());
    assert!(void(&refunded).is_ok());
}

#[test]
fn approved_invoices_cannot_be_cancelled_or_voided() {
    let (a, ids) = (actor(), SeqIds::default());
    let d = Invoice::create_draft(TenantId::new(1), 1, new_invoice(two_lines(), 1), ctx(&a, &ids)).invoice;
    let approved = finalize(d).approve(ctx(&a, &ids)).unwrap().invoice;
    assert!(matches!(approved.approval, Approval::Approved { .. }));
    assert_eq!(cancel(&approved, vec![]).unwrap_err(), Refusal::InvoiceApproved);
    assert_eq!(
        cancel(&approved, vec![product("a")]).unwrap_err(),
        Refusal::InvoiceApproved
    );
    assert_eq!(void(&approved).unwrap_err(), Refusal::InvoiceApproved);
}

#[test]
fn partial_cancel_keeps_the_document_and_credits_only_those_lines() {
    let open = open(vec![
        line("a", 1, 10_000, "19"),
        line("b", 3, 333, "19"),
        line("c", 1, 500, "0"),
    ]);
    let t = cancel(&open, vec![product("b")]).unwrap();
    let inv = &t.invoice;
    assert_eq!(inv.status, InvoiceStatus::Open);
    assert_eq!(document(inv), document(&open), "the issued totals never change");
    assert_eq!(document(inv), (11_499, 2_090, 13_589));
    let totals = inv.totals();
    assert_eq!(totals.amount_credited.minor(), 999 + 190);
    assert_eq!(totals.amount_due.minor(), 13_589 - 1_189);
    assert_eq!(inv.lines[1].status, LineStatus::Cancelled);
    assert_eq!(inv.lines[1].credited.amounts, inv.lines[1].amounts);
    assert_eq!(inv.lines[1].credited.quantity, 3);
    assert_eq!(inv.tax_breakdown(), open.tax_breakdown(), "the breakdown is frozen too");
    assert!(t.changes.contains(&Change::LinesUpdated(vec![inv.lines[1].id])));
    let cn = &inv.credit_notes[0];
    assert_eq!(cn.lines.len(), 1);
    assert_eq!(
        (cn.subtotal().minor(), cn.tax().minor(), cn.total().minor()),
        (999, 190, 1_189)
    );
    assert_eq!(kinds(&t), ["invoice.lines_cancelled", "credit_note.issued"]);
    assert!(!inv.collection.halted);
}

#[test]
fn lines_can_be_referenced_by_line_product_or_variation_id() {
    let variant = |v: &str, unit| {
        NewLine::builder(v)
            .product_id("p")
            .variation_id(v)
            .unit_amount(unit)
            .tax_rate("19")
            .build()
            .unwrap()
    };
    let lines = vec![variant("v1", 100), variant("v2", 200), line("q", 1, 300, "19")];
    let open = open(lines);
    let by_variation = cancel(&open, vec![LineRef::VariationId(VariationId::parse("v2").unwrap())]).unwrap();
    assert_eq!(by_variation.invoice.lines[1].status, LineStatus::Cancelled);
    let by_id = cancel(&open, vec![LineRef::LineId(open.lines[0].id)]).unwrap();
    assert_eq!(by_id.invoice.lines[0].status, LineStatus::Cancelled);
    // product "p" matches two active lines: ambiguous…
    assert_eq!(
        cancel(&open, vec![product("p")]).unwrap_err().code(),
        "line_reference_ambiguous"
    );
    // …until one of them is cancelled.
    let after = by_variation.invoice;
    let t = cancel(&after, vec![product("p")]).unwrap();
    assert_eq!(t.invoice.lines[0].status, LineStatus::Cancelled);
}

#[test]
fn partial_cancel_refusals() {
    let open = open(two_lines());
    assert_eq!(
        cancel(&open, vec![product("zzz")]).unwrap_err().code(),
        "line_not_found"
    );
    assert_eq!(
        cancel(&open, vec![LineRef::LineId(LineId::from_uuid(uuid::Uuid::nil()))])
            .unwrap_err()
            .code(),
        "line_not_found"
    );
    let after = cancel(&open, vec![product("b")]).unwrap().invoice;
    assert_eq!(
        cancel(&after, vec![product("b")]).unwrap_err().code(),
        "line_already_cancelled"
    );
    // 10,000 paid; cancelling line a (11,900) would leave 2,675 < 10,000.
    let paid = pay(&open, 10_000).unwrap().invoice;
    assert_eq!(
        cancel(&paid, vec![product("a")]).unwrap_err(),
        Refusal::CancellationBelowPaidAmount
    );
}

#[test]
fn cancelling_the_last_active_line_cancels_the_invoice() {
    let open = open(two_lines());
    let one = cancel(&open, vec![product("a")]).unwrap().invoice;
    let t = cancel(&one, vec![product("b")]).unwrap();
    assert_eq!(t.invoice.status, InvoiceStatus::Cancelled);
    assert!(t.invoice.collection.halted);
    assert_eq!(t.invoice.credit_notes.len(), 2);
    assert_eq!(
        kinds(&t),
        ["invoice.lines_cancelled", "credit_note.issued", "invoice.cancelled"]
    );
    let sum: u64 = t.invoice.credit_notes.iter().map(|c| c.total().minor()).sum();
    assert_eq!(sum, open.totals().total.minor());
    assert_eq!(document(&t.invoice), document(&open));
    assert_eq!(t.invoice.totals().amount_due, Amount::ZERO);
}

#[test]
fn partial_cancel_leaving_nothing_due_makes_the_invoice_paid() {
    let open = open(two_lines());
    let paid = pay(&open, 11_900).unwrap().invoice;
    let t = cancel(&paid, vec![product("b")]).unwrap();
    assert_eq!(t.invoice.status, InvoiceStatus::Paid);
    assert_eq!(
        kinds(&t),
        ["invoice.lines_cancelled", "credit_note.issued", "invoice.paid"]
    );
    let totals = t.invoice.totals();
    assert_eq!(
        (
            totals.total.minor(),
            totals.amount_credited.minor(),
            totals.amount_paid.minor()
        ),
        (14_575, 2_675, 11_900)
    );
}

#[test]
fn a_partial_cancel_down_to_zero_due_makes_the_invoice_paid_even_without_payments() {
    // Line b is free: crediting line a leaves it active and nothing due.
    let open = open(vec![line("a", 1, 10_000, "19"), line("b", 1, 0, "19")]);
    let t = cancel(&open, vec![product("a")]).unwrap();
    assert_eq!(t.invoice.status, InvoiceStatus::Paid);
    assert_eq!(t.invoice.totals().amount_due, Amount::ZERO);
    assert!(t.invoice.lines[1].is_active());
    assert!(kinds(&t).contains(&"invoice.paid"));
}

#[test]
fn a_draft_is_not_a_document_so_its_cancelled_lines_are_removed_without_money() {
    let d = draft(two_lines());
    let t = cancel(&d, vec![product("a")]).unwrap();
    assert_eq!(t.invoice.status, InvoiceStatus::Draft);
    assert!(t.invoice.credit_notes.is_empty());
    assert_eq!(t.invoice.lines.len(), 1, "the line is gone from the draft");
    assert_eq!(document(&t.invoice), (2_500, 175, 2_675));
    assert_eq!(t.invoice.totals().amount_credited, Amount::ZERO);
    assert_eq!(kinds(&t), ["invoice.lines_removed"]);
    assert_eq!(t.changes, vec![Change::LinesRemoved(vec![d.lines[0].id])]);
    // Finalizing it issues only what is left: nothing counts as credited.
    let issued = finalize(t.invoice);
    assert_eq!(document(&issued), (2_500, 175, 2_675));
    let totals = issued.totals();
    assert_eq!(
        (totals.amount_credited, totals.amount_due.minor()),
        (Amount::ZERO, 2_675)
    );
    assert!(issued.credit_notes.is_empty());
    // Naming every line of a draft discards it, like a whole cancel.
    let all = cancel(&d, vec![product("a"), product("b")]).unwrap();
    assert_eq!(all.invoice.status, InvoiceStatus::Cancelled);
    assert_eq!(kinds(&all), ["invoice.cancelled"]);
}

#[test]
fn a_zero_total_invoice_is_paid_at_finalize() {
    let (a, ids) = (actor(), SeqIds::default());
    let t = draft(vec![line("free", 1, 0, "19")])
        .finalize(ctx(&a, &ids), || Ok::<_, ()>(number("INV", 3)))
        .unwrap();
    assert_eq!(t.invoice.status, InvoiceStatus::Paid);
    assert_eq!(t.invoice.paid_at, Some(t0()));
    assert_eq!(t.invoice.collection.next_payment_attempt, None);
    assert_eq!(kinds(&t), ["invoice.finalized", "invoice.paid"]);
}

#[test]
fn void_zeroes_the_balance_and_halts_collection() {
    let open = open(two_lines());
    let t = void(&open).unwrap();
    let inv = &t.invoice;
    assert_eq!(inv.status, InvoiceStatus::Void);
    assert_eq!(inv.totals().amount_due, Amount::ZERO);
    assert_eq!(document(inv), document(&open), "the document stays as issued");
    assert!(inv.collection.halted);
    assert_eq!(inv.collection.next_payment_attempt, None);
    assert_eq!(inv.voided_at, Some(t0()));
    assert_eq!(kinds(&t), ["invoice.voided"]);
}

#[test]
fn void_refusals() {
    let open = open(two_lines());
    assert_eq!(void(&draft(two_lines())).unwrap_err(), Refusal::InvoiceIsDraft);
    let voided = void(&open).unwrap().invoice;
    assert_eq!(void(&voided).unwrap_err(), Refusal::InvoiceAlreadyVoid);
    assert_eq!(
        void(&pay(&open, 1).unwrap().invoice).unwrap_err(),
        Refusal::InvoiceHasPayments
    );
    assert_eq!(
        void(&pay(&open, 14_575).unwrap().invoice).unwrap_err(),
        Refusal::InvoicePaid
    );
    assert_eq!(
        void(&cancel(&open, vec![]).unwrap().invoice).unwrap_err(),
        Refusal::InvoiceAlreadyCancelled
    );
}

#[test]
fn halted_collection_refuses_payments() {
    let open = open(two_lines());
    let voided = void(&open).unwrap().invoice;
    assert_eq!(pay(&voided, 1).unwrap_err(), Refusal::InvoiceNotCollectible);
    let cancelled = cancel(&open, vec![]).unwrap().invoice;
    assert_eq!(pay(&cancelled, 1).unwrap_err(), Refusal::InvoiceNotCollectible);
}

#[test]
fn payment_rules() {
    let d = draft(two_lines());
    assert_eq!(pay(&d, 1).unwrap_err(), Refusal::InvoiceNotOpen);
    let open = open(two_lines());
    assert_eq!(pay(&open, 14_576).unwrap_err(), Refusal::Overpayment);
    let part = pay(&open, 4_575).unwrap();
    assert_eq!(part.invoice.totals().amount_due.minor(), 10_000);
    assert_eq!(kinds(&part), ["invoice.payment_recorded"]);
    let full = pay(&part.invoice, 10_000).unwrap();
    assert_eq!(full.invoice.status, InvoiceStatus::Paid);
    assert_eq!(full.invoice.paid_at, Some(t0()));
    assert_eq!(kinds(&full), ["invoice.payment_recorded", "invoice.paid"]);
    assert_eq!(pay(&full.invoice, 1).unwrap_err(), Refusal::InvoicePaid);
}

#[test]
fn refund_rules() {
    let open = open(two_lines());
    let paid = pay(&open, 1_000).unwrap().invoice;
    let pid = paid.payments[0].id;
    assert_eq!(refund(&paid, pid, 1_001).unwrap_err(), Refusal::RefundExceedsPayment);
    assert_eq!(
        refund(&paid, PaymentId::from_uuid(uuid::Uuid::nil()), 1).unwrap_err(),
        Refusal::PaymentNotFound
    );
    let t = refund(&paid, pid, 400).unwrap();
    assert_eq!(t.invoice.amount_paid().minor(), 600);
    assert_eq!(t.invoice.amount_refunded().minor(), 400);
    assert_eq!(t.invoice.totals().amount_due.minor(), 14_575 - 600);
    assert_eq!(kinds(&t), ["invoice.payment_refunded"]);
    assert_eq!(refund(&t.invoice, pid, 601).unwrap_err(), Refusal::RefundExceedsPayment);
}

#[test]
fn approval_goes_level_by_level_and_gates_payment() {
    let (a, ids) = (actor(), SeqIds::default());
    let d = Invoice::create_draft(TenantId::new(1), 1, new_invoice(two_lines(), 2), ctx(&a, &ids)).invoice;
    assert_eq!(d.approve(ctx(&a, &ids)).unwrap_err(), Refusal::InvoiceNotOpen);
    let open = finalize(d);
    assert_eq!(open.approval, Approval::Pending { level: 1, required: 2 });
    assert_eq!(pay(&open, 1).unwrap_err(), Refusal::InvoiceAwaitingApproval);
    let l1 = open.approve(ctx(&a, &ids)).unwrap();
    assert_eq!(l1.invoice.approval, Approval::Pending { level: 2, required: 2 });
    let l2 = l1.invoice.approve(ctx(&a, &ids)).unwrap();
    assert_eq!(l2.invoice.approval, Approval::Approved { at: t0() });
    assert!(matches!(
        l2.events[0].kind,
        EventKind::Approved {
            level: 2,
            fully_approved: true
        }
    ));
    assert_eq!(
        l2.invoice.approve(ctx(&a, &ids)).unwrap_err(),
        Refusal::ApprovalNotPending
    );
    assert!(pay(&l2.invoice, 1).is_ok());

    let rejected = open
        .reject(
            Rejection::parse(vec!["missing POD".into()], Some("send documents".into())).unwrap(),
            ctx(&a, &ids),
        )
        .unwrap();
    assert!(matches!(rejected.invoice.approval, Approval::Rejected { .. }));
    assert_eq!(kinds(&rejected), ["invoice.rejected"]);
    assert_eq!(pay(&rejected.invoice, 1).unwrap_err(), Refusal::InvoiceRejected);
    assert!(
        cancel(&rejected.invoice, vec![]).is_ok(),
        "a rejected invoice can be withdrawn"
    );
    let no_approval = super::test_support::open(two_lines());
    assert_eq!(
        no_approval.approve(ctx(&a, &ids)).unwrap_err(),
        Refusal::ApprovalNotPending
    );
}

#[test]
fn terminal_states_accept_no_transition() {
    let open = open(two_lines());
    let closed = [
        void(&open).unwrap().invoice,
        cancel(&open, vec![]).unwrap().invoice,
        pay(&open, 14_575).unwrap().invoice,
    ];
    let (a, ids) = (actor(), SeqIds::default());
    for inv in closed {
        assert!(write_off(&inv).is_err());
        assert!(cancel(&inv, vec![]).is_err());
        assert!(cancel(&inv, vec![product("a")]).is_err());
        assert!(void(&inv).is_err());
        assert!(pay(&inv, 1).is_err());
        assert!(inv.check_finalize().is_err());
        assert!(inv.approve(ctx(&a, &ids)).is_err());
        assert!(inv.reject(Rejection::default(), ctx(&a, &ids)).is_err());
    }
}

#[test]
fn every_event_carries_actor_time_and_new_version() {
    let t = cancel(&open(two_lines()), vec![product("a")]).unwrap();
    for e in &t.events {
        assert_eq!(e.actor, actor());
        assert_eq!(e.occurred_at, t0());
        assert_eq!(e.invoice_version, t.invoice.version);
        assert_eq!(e.invoice_id, t.invoice.id);
    }
}

#[test]
fn refusal_codes_are_snake_case_and_distinct() {
    let all = [
        Refusal::InvoiceNotDraft,
        Refusal::InvoiceHasNoLines,
        Refusal::InvoiceHasPayments,
        Refusal::InvoicePaid,
        Refusal::InvoiceAlreadyCancelled,
        Refusal::InvoiceAlreadyVoid,
        Refusal::InvoiceApproved,
        Refusal::InvoiceIsDraft,
        Refusal::LineNotFound(String::new()),
        Refusal::LineReferenceAmbiguous(String::new()),
        Refusal::LineAlreadyCancelled(String::new()),
        Refusal::CancellationBelowPaidAmount,
        Refusal::InvoiceNotCollectible,
        Refusal::InvoiceNotOpen,
        Refusal::Overpayment,
        Refusal::PaymentNotFound,
        Refusal::RefundExceedsPayment,
        Refusal::ApprovalNotPending,
        Refusal::InvoiceAwaitingApproval,
        Refusal::InvoiceRejected,
        Refusal::InvoiceAlreadyUncollectible,
        Refusal::TooManyPayments,
        Refusal::CreditExceedsLine(String::new()),
        Refusal::CreditExceedsTotal,
        Refusal::CreditExceedsAmountDue,
        Refusal::CreditExceedsAmountPaid,
        Refusal::ReissueHasPayments,
    ];
    let codes: std::collections::BTreeSet<_> = all.iter().map(Refusal::code).collect();
    assert_eq!(codes.len(), all.len());
    assert!(codes
        .iter()
        .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
}

#[test]
fn reasons_are_bounded_and_inputs_parse_strictly() {
    assert!(Reason::new(ReasonCode::Other, Some(&"x".repeat(500))).is_ok());
    assert!(Reason::new(ReasonCode::Other, Some(&"x".repeat(501))).is_err());
    assert!("fraudulent".parse::<ReasonCode>().is_ok());
    assert!("bogus".parse::<ReasonCode>().is_err());
    let base = || NewLine::builder("x").unit_amount(1).tax_rate("19");
    assert!(base().build().is_ok());
    assert_eq!(base().quantity(0).build().unwrap_err().field, "quantity");
    assert_eq!(base().quantity(-3).build().unwrap_err().field, "quantity");
    assert_eq!(
        base().quantity(i64::from(u32::MAX)).build().unwrap_err().field,
        "quantity"
    );
    assert_eq!(base().unit_amount(-1).build().unwrap_err().field, "unit_amount");
    assert_eq!(NewLine::builder(" ").build().unwrap_err().field, "description");
    assert_eq!(
        base()
            .quantity(1_000_000)
            .unit_amount(1_000_000_000_000)
            .build()
            .unwrap_err()
            .field,
        "unit_amount"
    );
    assert_eq!(base().tax_rate("19.00001").build().unwrap_err().field, "tax_rate");
    assert_eq!(base().tax_category("X").build().unwrap_err().field, "tax_category");
}

#[test]
fn lines_carry_a_tax_category_checked_against_the_rate() {
    let standard = NewLine::builder("x").unit_amount(100).tax_rate("19").build().unwrap();
    assert_eq!(standard.tax().category(), TaxCategory::Standard);
    let zero = NewLine::builder("x").unit_amount(100).build().unwrap();
    assert_eq!(zero.tax().category(), TaxCategory::ZeroRated);
    let reverse = NewLine::builder("x")
        .unit_amount(100)
        .tax_category("AE")
        .exemption_reason(Some("VATEX-EU-AE"), Some("Reverse charge"))
        .build()
        .unwrap();
    assert_eq!(reverse.tax().category(), TaxCategory::ReverseCharge);
    assert_eq!(reverse.amounts().tax, Amount::ZERO);
    let no_reason = NewLine::builder("x").unit_amount(100).tax_category("E").build();
    assert_eq!(no_reason.unwrap_err().field, "exemption_reason");
    let taxed_reverse = NewLine::builder("x")
        .unit_amount(100)
        .tax_rate("19")
        .tax_category("AE")
        .exemption_reason(None, Some("Reverse charge"))
        .build();
    assert_eq!(taxed_reverse.unwrap_err().field, "tax_rate");
}

#[test]
fn the_vat_breakdown_sums_to_the_document_and_credit_notes_carry_their_own() {
    let exempt = NewLine::builder("course")
        .product_id("e")
        .unit_amount(5_000)
        .tax_category("E")
        .exemption_reason(None, Some("Education, Art. 132 VAT Directive"))
        .build()
        .unwrap();
    let open = open(vec![
        line("a", 1, 10_000, "19"),
        line("b", 3, 333, "19"),
        line("c", 2, 1_250, "7"),
        exempt,
    ]);
    let breakdown = open.tax_breakdown();
    assert_eq!(breakdown.len(), 3);
    let (subtotal, tax, _) = document(&open);
    assert_eq!(
        breakdown.iter().map(|b| b.taxable_amount.minor()).sum::<u64>(),
        subtotal
    );
    assert_eq!(breakdown.iter().map(|b| b.tax_amount.minor()).sum::<u64>(), tax);
    let e = breakdown.iter().find(|b| b.category == TaxCategory::Exempt).unwrap();
    assert_eq!((e.taxable_amount.minor(), e.tax_amount.minor()), (5_000, 0));
    assert!(e.exemption.is_some());
    let t = cancel(&open, vec![product("b"), product("e")]).unwrap();
    let cn = &t.invoice.credit_notes[0];
    let cn_breakdown = cn.tax_breakdown();
    assert_eq!(cn_breakdown.len(), 2);
    assert_eq!(
        cn_breakdown.iter().map(|b| b.taxable_amount.minor()).sum::<u64>(),
        cn.subtotal().minor()
    );
    assert_eq!(
        cn_breakdown.iter().map(|b| b.tax_amount.minor()).sum::<u64>(),
        cn.tax().minor()
    );
    assert_eq!(cn.lines[1].tax.category(), TaxCategory::Exempt);
}

#[test]
fn uncollectible_halts_collection_but_can_still_be_paid_voided_or_cancelled() {
    let open = open(two_lines());
    let t = write_off(&open).unwrap();
    let inv = &t.invoice;
    assert_eq!(inv.status, InvoiceStatus::Uncollectible);
    assert!(inv.collection.halted);
    assert_eq!(inv.collection.next_payment_attempt, None);
    assert!(inv.uncollectible.is_some());
    assert_eq!(kinds(&t), ["invoice.marked_uncollectible"]);
    assert_eq!(inv.totals().amount_due.minor(), 14_575, "nothing is forgiven");
    assert_eq!(write_off(inv).unwrap_err(), Refusal::InvoiceAlreadyUncollectible);
    assert_eq!(write_off(&draft(two_lines())).unwrap_err(), Refusal::InvoiceNotOpen);
    // Paid in part it stays uncollectible; paid in full it is paid.
    let part = pay(inv, 575).unwrap().invoice;
    assert_eq!(part.status, InvoiceStatus::Uncollectible);
    let refunded = refund(&part, part.payments[0].id, 575).unwrap().invoice;
    assert_eq!(refunded.status, InvoiceStatus::Uncollectible);
    let paid = pay(&part, 14_000).unwrap();
    assert_eq!(paid.invoice.status, InvoiceStatus::Paid);
    assert_eq!(kinds(&paid), ["invoice.payment_recorded", "invoice.paid"]);
    assert_eq!(void(inv).unwrap().invoice.status, InvoiceStatus::Void);
    let cancelled = cancel(inv, vec![]).unwrap();
    assert_eq!(cancelled.invoice.status, InvoiceStatus::Cancelled);
    assert_eq!(cancelled.invoice.credit_notes.len(), 1);
    let partly = cancel(inv, vec![product("b")]).unwrap().invoice;
    assert_eq!(partly.status, InvoiceStatus::Uncollectible);
}

#[test]
fn payments_are_bounded_in_number() {
    let mut inv = open(vec![line("a", 1, 1_000_000, "0")]);
    for _ in 0..super::MAX_PAYMENTS {
        inv = pay(&inv, 1).unwrap().invoice;
    }
    assert_eq!(pay(&inv, 1).unwrap_err(), Refusal::TooManyPayments);
}

#[test]
fn any_issued_invoice_can_be_marked_sent_again_but_a_draft_cannot() {
    let (a, ids) = (actor(), SeqIds::default());
    assert_eq!(
        draft(two_lines()).mark_sent(ctx(&a, &ids)).unwrap_err(),
        Refusal::InvoiceIsDraft
    );
    let discarded = cancel(&draft(two_lines()), vec![]).unwrap().invoice;
    assert_eq!(discarded.status, InvoiceStatus::Cancelled);
    assert_eq!(
        discarded.mark_sent(ctx(&a, &ids)).unwrap_err(),
        Refusal::InvoiceIsDraft,
        "a draft discarded by a cancel was never issued, so never sent"
    );
    let inv = open(two_lines());
    let sent = inv.mark_sent(ctx(&a, &ids)).unwrap();
    assert_eq!(sent.invoice.sent_at, Some(t0()));
    assert_eq!(kinds(&sent), ["invoice.sent"]);
    assert_eq!(sent.invoice.status, InvoiceStatus::Open, "sending changes no status");
    let cancelled = cancel(&inv, vec![]).unwrap().invoice;
    let resent = cancelled.mark_sent(ctx(&a, &ids)).unwrap();
    assert_eq!(
        (resent.invoice.status, resent.invoice.sent_at),
        (InvoiceStatus::Cancelled, Some(t0())),
        "a cancelled invoice can be sent, with its credit note"
    );
}
