//! Criterion benchmarks of the cancellation rules on a 1,000-line invoice.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::cell::Cell;
use std::hint::black_box;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use invoice_domain::rules::Context;
use invoice_domain::*;

struct SeqIds(Cell<u128>);

impl IdGenerator for SeqIds {
    fn new_id(&self) -> uuid::Uuid {
        self.0.set(self.0.get() + 1);
        uuid::Uuid::from_u128(self.0.get())
    }
}

fn number(series: &str, sequence: u64) -> Result<DocumentNumber, ()> {
    Ok(DocumentNumber::new(SeriesPrefix::parse(series).unwrap(), sequence).unwrap())
}

fn open_invoice(lines: usize, ctx: Context<'_>) -> Invoice {
    let new = NewInvoice::builder(
        Currency::parse("EUR").unwrap(),
        Party::parse("c", "Customer", None, None, None).unwrap(),
    )
    .lines((0..lines).map(|i| {
        NewLine::builder("item")
            .product_id(&format!("p{i}"))
            .quantity(3)
            .unit_amount(1_999)
            .tax_rate("19")
            .tax_inclusive(i % 2 == 0)
            .build()
            .unwrap()
    }))
    .build()
    .unwrap();
    let draft = Invoice::create_draft(TenantId::new(1), 1, new, ctx).invoice;
    draft.finalize(ctx, || number("INV", 1)).unwrap().invoice
}

fn bench(c: &mut Criterion) {
    let ids = SeqIds(Cell::new(0));
    let actor = Actor::new("bench", "bench");
    let ctx = Context {
        now: Utc::now(),
        actor: &actor,
        ids: &ids,
    };
    let invoice = open_invoice(1_000, ctx);
    let one_line = CancelRequest::lines(vec![LineRef::LineId(invoice.lines[500].id)], None).unwrap();
    c.bench_function("cancel 1 line of a 1000-line invoice", |b| {
        b.iter(|| black_box(&invoice).cancel(&one_line, ctx, || number("CN", 2)).unwrap())
    });
    c.bench_function("fully cancel a 1000-line invoice", |b| {
        b.iter(|| {
            black_box(&invoice)
                .cancel(&CancelRequest::whole(None), ctx, || number("CN", 2))
                .unwrap()
        })
    });
    c.bench_function("totals of a 1000-line invoice", |b| {
        b.iter(|| black_box(&invoice).totals())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
