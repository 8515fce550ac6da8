//! Tests that mutation testing showed were missing: each pins a behaviour of
//! the rules that a plausible slip would change without any other test
//! noticing.

use chrono::Duration;

use crate::commands::{CancelRequest, CreditRequest, ExtraCredit, Settlement};
use crate::model::money::{Amount, PositiveAmount, TaxRate};
use crate::model::tax::LineTax;
use crate::rules::finalize::FIRST_ATTEMPT_DELAY_HOURS;
use crate::rules::test_support::*;

#[test]
fn a_full_cancel_after_goodwill_credits_the_largest_part_of_a_line_that_fits_what_is_left() {
    // 1 × 10.00 at 19 %: gross 11.90. Goodwill of 11.87 at 0 % leaves 0.03.
    let inv = open(vec![line("a", 1, 1_000, "19")]);
    let (a, ids) = (actor(), SeqIds::default());
    let goodwill = ExtraCredit::new(
        "goodwill",
        PositiveAmount::new(1_187).unwrap(),
        LineTax::standard(TaxRate::ZERO),
    )
    .unwrap();
    let request = CreditRequest::new(vec![], Some(goodwill), None, Settlement::ReduceDue).unwrap();
    let credited = inv
        .credit(&request, Amount::ZERO, ctx(&a, &ids), || Ok::<_, ()>(number("CN", 1)))
        .unwrap()
        .invoice;
    let cancelled = credited
        .cancel(&CancelRequest::whole(None), ctx(&a, &ids), || {
            Ok::<_, ()>(number("CN", 2))
        })
        .unwrap()
        .invoice;
    // A net of 0.03 would carry 0.01 tax: 0.04 is more than is left. A net
    // of 0.02 carries no tax (0.0038 rounds to 0): 0.02 fits.
    let last = cancelled.credit_notes.last().unwrap();
    assert_eq!(
        (last.subtotal().minor(), last.tax().minor(), last.total().minor()),
        (2, 0, 2)
    );
    let t = cancelled.totals();
    assert!(t.amount_credited <= t.total, "credits never exceed the total");
    assert_eq!(t.amount_credited.minor(), 1_189);
}

#[test]
fn finalizing_schedules_the_first_automatic_attempt_after_the_issue_date() {
    let inv = open(vec![line("a", 1, 1_000, "19")]);
    assert_eq!(inv.issued_at, Some(t0()));
    assert_eq!(
        inv.collection.next_payment_attempt,
        Some(t0() + Duration::hours(FIRST_ATTEMPT_DELAY_HOURS))
    );
}
