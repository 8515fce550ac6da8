//! Criterion benchmarks of the cancellation rules on a 1,000-line invoice.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::cell::Cell;
use std::hint::black_box;

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion};
use invoice_domain::rules::{CancelRequest, Context, NewInvoice};
use invoice_domain::*;

struct SeqIds(Cell<u128>);

impl IdGenerator for SeqIds {
    fn new_id(&self) -> uuid::Uuid {
        self.0.set(self.0.get() + 1);
        uuid::Uuid::from_u128(self.0.get())
    }
}

fn open_invoice(lines: usize, ctx: Context<'_>) -> Invoice {
    let new = NewInvoice {
        currency: Currency::parse("EUR").unwrap(),
        customer: Party::parse("c", "Customer", None, None, None).unwrap(),
        issuer: None,
        lines: (0..lines)
            .map(|i| NewLine::parse(Some(&format!("p{i}")), None, "item", 3, 1_999, "19", i % 2 == 0).unwrap())
            .collect(),
        due_date: None,
        series: None,
        external_reference: None,
        approval_levels: 0,
        collection_method: CollectionMethod::Automatic,
        metadata: Default::default(),
    };
    let draft = Invoice::create_draft(TenantId::new(1), new, ctx).unwrap().invoice;
    draft.finalize(ctx, || Ok::<_, ()>(1)).unwrap().invoice
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
    let one_line = CancelRequest {
        lines: vec![LineRef::LineId(invoice.lines[500].id)],
        reason: None,
    };
    c.bench_function("cancel 1 line of a 1000-line invoice", |b| {
        b.iter(|| black_box(&invoice).cancel(&one_line, ctx, || Ok::<_, ()>(2)).unwrap())
    });
    c.bench_function("fully cancel a 1000-line invoice", |b| {
        b.iter(|| {
            black_box(&invoice)
                .cancel(&CancelRequest::default(), ctx, || Ok::<_, ()>(2))
                .unwrap()
        })
    });
    c.bench_function("totals of a 1000-line invoice", |b| {
        b.iter(|| black_box(&invoice).totals())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
