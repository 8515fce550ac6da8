//! An invoice's whole life on the in-memory store: create, finalize, pay,
//! a cancel refused while money is held, a refund, a line cancelled by a
//! credit note, a void that credits the rest, and the audit trail.
//!
//! Run it with `cargo run -p invoice-domain --example lifecycle --features in-memory`.
//! A fixed clock and sequential ids make its output the same on every run,
//! and show what implementing the `Clock` and `IdGenerator` ports takes.

use std::cell::Cell;
use std::io::{self, Write};

use invoice_domain::prelude::*;

/// A clock that starts at a fixed instant and moves one minute per reading.
struct TickingClock(Cell<DateTime<Utc>>);

impl Clock for TickingClock {
    fn now(&self) -> DateTime<Utc> {
        let now = self.0.get();
        self.0.set(now + chrono::Duration::minutes(1));
        now
    }
}

/// Ids 1, 2, 3… as UUIDs.
struct SequentialIds(Cell<u128>);

impl IdGenerator for SequentialIds {
    fn new_id(&self) -> Uuid {
        self.0.set(self.0.get() + 1);
        Uuid::from_u128(self.0.get())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&mut io::stdout().lock())
}

/// Walks one invoice through its life and writes what happens to `out`.
pub fn run(out: &mut impl Write) -> Result<(), Box<dyn std::error::Error>> {
    let start = "2026-03-02T09:00:00Z".parse::<DateTime<Utc>>()?;
    let service = InvoiceService::new(TickingClock(Cell::new(start)), SequentialIds(Cell::new(0)));
    let mut store = InMemoryStore::new();
    let tenant = TenantId::new(1);
    store.add_tenant(tenant);
    let scope = Scope::tenant(tenant);
    let actor = Actor::new("key_example", "example");

    let customer = Party::parse("cust-1", "ACME GmbH", Some("ap@acme.example"), None, None)?;
    let new = NewInvoice::builder(Currency::parse("EUR")?, customer)
        .line(
            NewLine::builder("Freight Berlin-Hamburg")
                .product_id("freight")
                .unit_amount(10_000)
                .tax_rate("19")
                .build()?,
        )
        .line(
            NewLine::builder("Motorway toll")
                .product_id("toll")
                .quantity(2)
                .unit_amount(1_250)
                .tax_rate("7")
                .build()?,
        )
        .build()?;
    // Every call runs in its own transaction: stored whole, or not at all.
    let draft = store
        .transaction(|s| service.create_draft(s, &scope, &actor, new))?
        .invoice;
    let eur = draft.currency;
    writeln!(out, "created a draft with {} lines", draft.lines.len())?;

    let reference = InvoiceRef::Id(draft.id);
    let target = Target::new(&scope, &reference, &actor);
    let open = store.transaction(|s| service.finalize(s, &target))?.invoice;
    writeln!(
        out,
        "finalized {}: total {}",
        open.number_text().unwrap_or_default(),
        open.totals().total.display(eur)
    )?;

    let payment = NewPayment::builder(PositiveAmount::new(5_000)?)
        .method("card")
        .reference("ch_1")
        .build()?;
    let paid = store
        .transaction(|s| service.record_payment(s, &target, payment))?
        .invoice;
    writeln!(
        out,
        "paid {}: due {}",
        paid.totals().amount_paid.display(eur),
        paid.totals().amount_due.display(eur)
    )?;

    // Money is held, so a full cancel is refused, and nothing is stored.
    let refused = store.transaction(|s| service.cancel(s, &target, &CancelRequest::whole(None)));
    if let Err(e) = &refused {
        writeln!(out, "cancel refused: {} ({e})", e.code())?;
    }

    let refund = RefundRequest::new(paid.payments[0].id, PositiveAmount::new(5_000)?, Some("paid twice"))?;
    let refunded = store.transaction(|s| service.refund(s, &target, refund))?.invoice;
    writeln!(
        out,
        "refunded {}: due {}",
        refunded.totals().amount_refunded.display(eur),
        refunded.totals().amount_due.display(eur)
    )?;

    let toll = CancelRequest::lines(
        vec![LineRef::ProductId(ProductId::parse("toll")?)],
        Some(Reason::new(ReasonCode::OrderChange, Some("toll waived"))?),
    )?;
    let partial = store.transaction(|s| service.cancel(s, &target, &toll))?.invoice;
    let note = &partial.credit_notes[0];
    writeln!(
        out,
        "cancelled the toll line: credit note {} of {}, due {}",
        note.number,
        note.total().display(eur),
        partial.totals().amount_due.display(eur)
    )?;

    let void = store.transaction(|s| service.void(s, &target, None))?.invoice;
    let note = &void.credit_notes[1];
    writeln!(
        out,
        "voided: credit note {} of {}",
        note.number,
        note.total().display(eur)
    )?;

    let credited =
        Amount::checked_sum(void.credit_notes.iter().map(CreditNote::total)).ok_or("credit notes overflow")?;
    writeln!(out, "status: {}", void.status.as_str())?;
    writeln!(out, "credit notes total: {}", credited.display(eur))?;
    writeln!(out, "events:")?;
    for event in store.transaction(|s| service.events(s, &scope, &reference))? {
        writeln!(out, "  v{} {}", event.invoice_version, event.kind.type_name())?;
    }
    Ok(())
}
