//! Runs the code of `examples/lifecycle.rs` and checks what it prints: the
//! final status, every event type in order, and the credit notes' total.

#[path = "../examples/lifecycle.rs"]
#[allow(dead_code)] // the example's `main` is not called here, its `run` is
mod lifecycle;

fn output() -> String {
    let mut out = Vec::new();
    lifecycle::run(&mut out).expect("the example runs to the end");
    String::from_utf8(out).expect("utf-8 output")
}

#[test]
fn the_lifecycle_example_ends_void_with_its_events_in_order() {
    let text = output();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"status: void"), "{text}");
    assert!(lines.contains(&"credit notes total: 145.75 EUR"), "{text}");
    let events: Vec<&str> = lines
        .iter()
        .skip_while(|l| **l != "events:")
        .skip(1)
        .map(|l| l.trim())
        .collect();
    assert_eq!(
        events,
        [
            "v1 invoice.created",
            "v2 invoice.finalized",
            "v3 invoice.payment_recorded",
            "v4 invoice.payment_refunded",
            "v5 invoice.lines_cancelled",
            "v5 credit_note.issued",
            "v6 invoice.voided",
            "v6 credit_note.issued",
        ],
        "{text}"
    );
}

#[test]
fn the_lifecycle_example_tells_each_step_with_its_money() {
    let text = output();
    let steps: Vec<&str> = text.lines().take_while(|l| !l.starts_with("status:")).collect();
    assert_eq!(
        steps,
        [
            "created a draft with 2 lines",
            "finalized INV-000001: total 145.75 EUR",
            "paid 50.00 EUR: due 95.75 EUR",
            "cancel refused: invoice_has_payments (the invoice has payments that are not refunded; refund them first)",
            "refunded 50.00 EUR: due 145.75 EUR",
            "cancelled the toll line: credit note CN-000001 of 26.75 EUR, due 119.00 EUR",
            "voided: credit note CN-000002 of 119.00 EUR",
        ],
        "{text}"
    );
}
