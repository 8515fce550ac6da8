//! Builders shared by the rule tests.

use std::cell::Cell;

use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

use crate::commands::NewInvoice;
use crate::model::event::Actor;
use crate::model::ids::TenantId;
use crate::model::invoice::Invoice;
use crate::model::line::NewLine;
use crate::model::money::Currency;
use crate::model::number::{DocumentNumber, SeriesPrefix};
use crate::model::party::Party;
use crate::ports::IdGenerator;
use crate::rules::Context;

/// Sequential ids, so tests are deterministic.
#[derive(Default)]
pub struct SeqIds(Cell<u128>);

impl IdGenerator for SeqIds {
    fn new_id(&self) -> Uuid {
        self.0.set(self.0.get() + 1);
        Uuid::from_u128(self.0.get())
    }
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 9, 0, 0).unwrap()
}

pub fn actor() -> Actor {
    Actor::new("key_test", "test")
}

pub fn ctx<'a>(actor: &'a Actor, ids: &'a SeqIds) -> Context<'a> {
    Context { now: t0(), actor, ids }
}

/// A line: (product id, quantity, unit amount, rate).
pub fn line(product: &str, qty: i64, unit: i64, rate: &str) -> NewLine {
    NewLine::builder(&format!("item {product}"))
        .product_id(product)
        .quantity(qty)
        .unit_amount(unit)
        .tax_rate(rate)
        .build()
        .unwrap()
}

/// A number of `series` for a numbering closure.
pub fn number(series: &str, sequence: u64) -> DocumentNumber {
    DocumentNumber::new(SeriesPrefix::parse(series).unwrap(), sequence).unwrap()
}

pub fn new_invoice(lines: Vec<NewLine>, approval_levels: u8) -> NewInvoice {
    NewInvoice::builder(
        Currency::parse("EUR").unwrap(),
        Party::parse("cust-1", "Customer", Some("ap@customer.example"), None, None).unwrap(),
    )
    .issuer(Party::parse("trp-1", "Transporter", None, Some("DE123"), None).unwrap())
    .lines(lines)
    .approval_levels(approval_levels)
    .build()
    .unwrap()
}

pub fn draft(lines: Vec<NewLine>) -> Invoice {
    let (a, ids) = (actor(), SeqIds::default());
    Invoice::create_draft(TenantId::new(1), 1, new_invoice(lines, 0), ctx(&a, &ids)).invoice
}

pub fn open(lines: Vec<NewLine>) -> Invoice {
    finalize(draft(lines))
}

pub fn finalize(d: Invoice) -> Invoice {
    let (a, ids) = (actor(), SeqIds::default());
    d.finalize(ctx(&a, &ids), || Ok::<_, ()>(number("INV", 1)))
        .unwrap()
        .invoice
}
