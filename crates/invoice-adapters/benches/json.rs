//! Criterion benchmarks of the JSON every write and read pays for: the
//! `InvoiceView` response and the stored event snapshot of a 100-line invoice.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use invoice_adapters::inbound::http::views::InvoiceView;
use invoice_adapters::outbound::db::rows::to_json;
use invoice_domain::rules::Context;
use invoice_domain::*;

/// A finalized invoice of `lines` lines with a partial cancellation, so
/// every part of the view (lines, credit notes) has content.
fn invoice(lines: usize) -> Invoice {
    let ids = UuidV7;
    let actor = Actor::new("key_bench", "v1");
    let ctx = Context {
        now: SystemClock.now(),
        actor: &actor,
        ids: &ids,
    };
    let new = NewInvoice::builder(
        Currency::parse("EUR").unwrap(),
        Party::parse(
            "cust-1",
            "ACME GmbH",
            Some("ap@acme.example"),
            Some("DE811907980"),
            None,
        )
        .unwrap(),
    )
    .issuer(Party::parse("trp-001", "ABC Transport Ltd", None, None, None).unwrap())
    .lines((0..lines).map(|i| {
        NewLine::builder(&format!("Freight leg {i}"))
            .product_id(&format!("p{i}"))
            .quantity(1 + i64::try_from(i % 5).unwrap())
            .unit_amount(12_345)
            .tax_rate("19")
            .build()
            .unwrap()
    }))
    .external_reference("SUP-2026-118")
    .metadata([("loadCount".to_string(), "3".to_string())].into())
    .build()
    .unwrap();
    let number = |series: &str| Ok::<_, ()>(DocumentNumber::new(SeriesPrefix::parse(series).unwrap(), 1).unwrap());
    let draft = Invoice::create_draft(TenantId::new(1), 1, new, ctx).invoice;
    let open = draft.finalize(ctx, || number("INV")).unwrap().invoice;
    let one_line = CancelRequest::lines(vec![LineRef::LineId(open.lines[0].id)], None).unwrap();
    open.cancel(&one_line, ctx, || number("CN")).unwrap().invoice
}

fn bench(c: &mut Criterion) {
    let inv = invoice(100);
    c.bench_function("InvoiceView of a 100-line invoice: build + serialize", |b| {
        b.iter(|| serde_json::to_vec(&InvoiceView::from(black_box(&inv))).unwrap())
    });
    let view = InvoiceView::from(&inv);
    c.bench_function("InvoiceView of a 100-line invoice: serialize only", |b| {
        b.iter(|| serde_json::to_vec(black_box(&view)).unwrap())
    });
    c.bench_function("event snapshot of a 100-line invoice (stored on every write)", |b| {
        b.iter(|| to_json(black_box(&inv)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
