//! A reference model of one invoice, written apart from the rules it checks.
//!
//! Plain integers and one function per operation: each predicts either the
//! exact refusal code or success, with the events emitted and the money
//! afterwards (lines, payments, credit notes, status, the customer's
//! balance). The state-machine tests drive the rules, and the real stores,
//! with the same commands and require the system to agree exactly, so a
//! rule that refuses too much, too little or with the wrong code fails.
//!
//! The file is shared: `rules::state_machine` in the domain crate and the
//! adapters' integration tests include it, each naming the domain crate
//! `domain_crate` in the including module. The model uses nothing of
//! the domain but what it observes and the requests it builds.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use proptest::prelude::*;

use super::domain_crate as api;

/// Largest line gross and document total the domain accepts.
const MAX: u64 = 1_000_000_000_000_000;
/// Most payments one invoice takes.
pub const MAX_PAYMENTS: usize = 1_000;
/// 100 % in the rate unit (1/10,000 of a percent) times 100.
const HUNDRED_PERCENT: u128 = 1_000_000;

/// Every status an invoice can have, as its wire name.
pub const STATUSES: [&str; 6] = ["draft", "open", "uncollectible", "paid", "cancelled", "void"];

/// Every refusal code of the rules (docs/domain.md, "Rules and their codes").
pub const CODES: [&str; 27] = [
    "invoice_not_draft",
    "invoice_has_no_lines",
    "invoice_has_payments",
    "invoice_paid",
    "invoice_already_cancelled",
    "invoice_already_void",
    "invoice_approved",
    "invoice_is_draft",
    "line_not_found",
    "line_reference_ambiguous",
    "line_already_cancelled",
    "cancellation_below_paid_amount",
    "invoice_not_collectible",
    "invoice_not_open",
    "overpayment",
    "payment_not_found",
    "refund_exceeds_payment",
    "approval_not_pending",
    "invoice_awaiting_approval",
    "invoice_rejected",
    "invoice_already_uncollectible",
    "too_many_payments",
    "credit_exceeds_line",
    "credit_exceeds_total",
    "credit_exceeds_amount_due",
    "credit_exceeds_amount_paid",
    "reissue_has_payments",
];

// ---------------------------------------------------------------- arithmetic

/// `n / d` rounded half up (all values here are non-negative).
fn half_up(n: u128, d: u128) -> u128 {
    (2 * n + d) / (2 * d)
}

/// Net, tax and gross of an amount, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amt {
    /// Before tax.
    pub net: u64,
    /// The tax.
    pub tax: u64,
    /// Net plus tax.
    pub gross: u64,
}

impl Amt {
    fn plus(self, o: Amt) -> Amt {
        Amt {
            net: self.net + o.net,
            tax: self.tax + o.tax,
            gross: self.gross + o.gross,
        }
    }

    /// Component-wise difference, or all zero if any component would be negative.
    fn minus(self, o: Amt) -> Amt {
        match (
            self.net.checked_sub(o.net),
            self.tax.checked_sub(o.tax),
            self.gross.checked_sub(o.gross),
        ) {
            (Some(net), Some(tax), Some(gross)) => Amt { net, tax, gross },
            _ => Amt::default(),
        }
    }

    fn within(self, limit: Amt) -> bool {
        self.net <= limit.net && self.tax <= limit.tax && self.gross <= limit.gross
    }
}

/// A line's amounts by the rounding rule of docs/domain.md: tax per line,
/// half away from zero; `None` beyond the bound.
pub fn line_amounts(qty: u32, unit: u64, rate: u32, inclusive: bool) -> Option<Amt> {
    let base = u128::from(qty) * u128::from(unit);
    let rate = u128::from(rate);
    let (net, gross) = if inclusive {
        (half_up(base * HUNDRED_PERCENT, HUNDRED_PERCENT + rate), base)
    } else {
        (base, base + half_up(base * rate, HUNDRED_PERCENT))
    };
    let gross = u64::try_from(gross).ok().filter(|g| *g <= MAX)?;
    let net = u64::try_from(net).ok()?;
    Some(Amt {
        net,
        tax: gross - net,
        gross,
    })
}

/// A net amount taxed at `rate`, exclusive.
fn from_net(net: u64, rate: u32) -> Option<Amt> {
    line_amounts(1, net, rate, false)
}

/// The largest part of `rest` (by net at `rate`) whose gross fits `available`.
fn largest_part(rest: Amt, rate: u32, available: u64) -> Option<Amt> {
    let fits = |net: u64| from_net(net, rate).filter(|a| a.gross <= available && a.within(rest));
    fits(1)?;
    let (mut lo, mut hi) = (1, rest.net);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid).is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    fits(lo)
}

// ------------------------------------------------------------------ the model

/// Where the invoice is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not issued.
    Draft,
    /// Issued and owing.
    Open,
    /// Written off, still payable.
    Uncollectible,
    /// Nothing due.
    Paid,
    /// Terminal.
    Cancelled,
    /// Terminal.
    Void,
}

impl Status {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Open => "open",
            Status::Uncollectible => "uncollectible",
            Status::Paid => "paid",
            Status::Cancelled => "cancelled",
            Status::Void => "void",
        }
    }

    fn takes_money(self) -> bool {
        matches!(self, Status::Open | Status::Uncollectible)
    }
}

/// Payer approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Not needed.
    None,
    /// Waiting at `level` of `required`.
    Pending(u8, u8),
    /// Every level approved.
    Approved,
    /// Rejected; `required` levels were asked.
    Rejected(u8),
}

impl Approval {
    fn requiring(levels: u8) -> Self {
        if levels == 0 {
            Approval::None
        } else {
            Approval::Pending(1, levels)
        }
    }

    /// How the approval reads in a snapshot.
    pub fn describe(self) -> String {
        match self {
            Approval::None => "not_required".into(),
            Approval::Pending(l, r) => format!("pending {l}/{r}"),
            Approval::Approved => "approved".into(),
            Approval::Rejected(r) => format!("rejected ({r} levels)"),
        }
    }
}

/// A line as generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSpec {
    /// Product id `p{n}`, if any (a small set, so references can be ambiguous).
    pub product: Option<u8>,
    /// Variation id `v{n}`, if any.
    pub variation: Option<u8>,
    /// Units.
    pub qty: u32,
    /// Price of one unit in minor units (0 makes a zero-amount line).
    pub unit: u64,
    /// Rate in 1/10,000 of a percent.
    pub rate: u32,
    /// True when the unit price includes tax.
    pub inclusive: bool,
}

impl LineSpec {
    /// The rate as the text a line is built from.
    pub fn rate_text(&self) -> String {
        let (int, frac) = (self.rate / 10_000, self.rate % 10_000);
        if frac == 0 {
            int.to_string()
        } else {
            format!("{int}.{}", format!("{frac:04}").trim_end_matches('0'))
        }
    }

    /// The line as a request.
    pub fn new_line(&self) -> api::NewLine {
        let mut b = api::NewLine::builder("item")
            .quantity(i64::from(self.qty))
            .unit_amount(i64::try_from(self.unit).expect("generated units fit i64"))
            .tax_rate(&self.rate_text())
            .tax_inclusive(self.inclusive);
        if let Some(p) = self.product {
            b = b.product_id(&format!("p{p}"));
        }
        if let Some(v) = self.variation {
            b = b.variation_id(&format!("v{v}"));
        }
        b.build().expect("generated lines are valid")
    }
}

#[derive(Debug, Clone, Copy)]
struct MLine {
    spec: LineSpec,
    amounts: Amt,
    credited_qty: u32,
    credited: Amt,
    active: bool,
}

impl MLine {
    fn new(spec: LineSpec) -> Self {
        MLine {
            spec,
            amounts: line_amounts(spec.qty, spec.unit, spec.rate, spec.inclusive).expect("generated lines fit"),
            credited_qty: 0,
            credited: Amt::default(),
            active: true,
        }
    }

    fn rest(&self) -> Amt {
        self.amounts.minus(self.credited)
    }

    fn rest_qty(&self) -> u32 {
        self.spec.qty.saturating_sub(self.credited_qty)
    }
}

#[derive(Debug, Clone, Copy)]
struct MPayment {
    amount: u64,
    refunded: u64,
    from_balance: bool,
}

impl MPayment {
    fn net(&self) -> u64 {
        self.amount - self.refunded
    }
}

/// The reference state of one invoice and its customer's credit balance.
#[derive(Debug, Clone)]
pub struct Model {
    status: Status,
    issued: bool,
    sent: bool,
    lines: Vec<MLine>,
    payments: Vec<MPayment>,
    credit_notes: Vec<u64>,
    approval: Approval,
    /// The customer's credit balance in the invoice's currency.
    pub balance: u64,
}

/// What the model and the system must agree on after every step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Status wire name.
    pub status: &'static str,
    /// True once numbered and issued.
    pub issued: bool,
    /// True once marked as sent to the customer.
    pub sent: bool,
    /// total, credited, paid, refunded, due.
    pub money: [u64; 5],
    /// Per line: amounts as issued, active, units credited, amounts credited.
    pub lines: Vec<(Amt, bool, u32, Amt)>,
    /// Per payment: amount, refunded, from the customer's balance.
    pub payments: Vec<(u64, u64, bool)>,
    /// Credit-note totals, oldest first.
    pub credit_notes: Vec<u64>,
    /// The approval, described.
    pub approval: String,
}

/// A reference to a line as a command names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    /// Line `i` by its id.
    Line(usize),
    /// By product id `p{n}`.
    Product(u8),
    /// By variation id `v{n}`.
    Variation(u8),
    /// An id no line has.
    MissingLine,
}

/// How much of a line a credit takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portion {
    /// What is left of it.
    Rest,
    /// Some units.
    Units(u32),
    /// Part of its net.
    Net(u64),
}

/// How a credit is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// The customer owes less.
    ReduceDue,
    /// Money goes back.
    Refund,
    /// Money goes onto the customer's balance.
    CreditBalance,
}

/// An edit of a reissue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Leave the line out.
    Remove(Ref),
    /// Change its quantity.
    Quantity(Ref, u32),
}

/// A concrete command, with every amount and reference fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    /// Finalize, spending the customer's balance or not.
    Finalize {
        /// Spend the balance.
        apply_balance: bool,
    },
    /// Record a payment.
    Pay(u64),
    /// Refund part of payment `i` (`None`: an id no payment has).
    Refund(Option<usize>, u64),
    /// Cancel the named lines.
    CancelLines(Vec<Ref>),
    /// Cancel everything.
    CancelAll,
    /// Issue a credit note.
    Credit {
        /// Line shares.
        lines: Vec<(Ref, Portion)>,
        /// Goodwill: net and rate.
        goodwill: Option<(u64, u32)>,
        /// Settlement.
        settle: Settle,
    },
    /// Void, with a credit note (`always`) or without.
    Void {
        /// The tenant's policy is `always`.
        always: bool,
    },
    /// Mark uncollectible.
    WriteOff,
    /// Approve the pending level.
    Approve,
    /// Reject.
    Reject,
    /// Reissue, with at most one edit.
    Reissue(Option<Edit>),
    /// Record that the invoice was sent to its customer.
    MarkSent,
}

impl Cmd {
    /// A short name for coverage tables.
    pub fn name(&self) -> &'static str {
        match self {
            Cmd::Finalize { apply_balance: false } => "finalize",
            Cmd::Finalize { apply_balance: true } => "finalize (spend balance)",
            Cmd::Pay(_) => "pay",
            Cmd::Refund(..) => "refund",
            Cmd::CancelLines(_) => "cancel lines",
            Cmd::CancelAll => "cancel",
            Cmd::Credit {
                settle: Settle::ReduceDue,
                ..
            } => "credit (reduce_due)",
            Cmd::Credit {
                settle: Settle::Refund, ..
            } => "credit (refund)",
            Cmd::Credit {
                settle: Settle::CreditBalance,
                ..
            } => "credit (credit_balance)",
            Cmd::Void { always: true } => "void (credit note)",
            Cmd::Void { always: false } => "void (no credit note)",
            Cmd::WriteOff => "mark uncollectible",
            Cmd::Approve => "approve",
            Cmd::Reject => "reject",
            Cmd::Reissue(_) => "reissue",
            Cmd::MarkSent => "mark sent",
        }
    }
}

/// What an accepted command did, as the model predicts it.
#[derive(Debug, Clone)]
pub struct Effects {
    /// Event types emitted, in order.
    pub events: Vec<&'static str>,
    /// For a reissue: the new draft and its events.
    pub replacement: Option<(Model, Vec<&'static str>)>,
}

/// A model outcome: effects, or the refusal code.
pub type Predicted = Result<Effects, &'static str>;

struct Plan {
    shares: Vec<(usize, u32, Amt)>,
    total: u64,
}

impl Model {
    /// A new draft of `lines`, needing `levels` approvals, for a customer
    /// whose balance is `balance`.
    pub fn draft(lines: &[LineSpec], levels: u8, balance: u64) -> Self {
        Model {
            status: Status::Draft,
            issued: false,
            sent: false,
            lines: lines.iter().copied().map(MLine::new).collect(),
            payments: Vec::new(),
            credit_notes: Vec::new(),
            approval: Approval::requiring(levels),
            balance,
        }
    }

    /// Current status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// True once cancelled or void: nothing but refusals (and marking it
    /// sent, once issued) can follow.
    pub fn is_terminal(&self) -> bool {
        matches!(self.status, Status::Cancelled | Status::Void)
    }

    /// Number of payments.
    pub fn payment_count(&self) -> usize {
        self.payments.len()
    }

    fn total(&self) -> u64 {
        self.lines.iter().map(|l| l.amounts.gross).sum()
    }

    fn credited(&self) -> u64 {
        self.credit_notes.iter().sum()
    }

    fn paid(&self) -> u64 {
        self.payments.iter().map(MPayment::net).sum()
    }

    /// What is still owed.
    pub fn due(&self) -> u64 {
        match self.status {
            Status::Cancelled | Status::Void => 0,
            _ => self.total().saturating_sub(self.credited()).saturating_sub(self.paid()),
        }
    }

    /// The state to compare with the system's.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            status: self.status.name(),
            issued: self.issued,
            sent: self.sent,
            money: [
                self.total(),
                self.credited(),
                self.paid(),
                self.payments.iter().map(|p| p.refunded).sum(),
                self.due(),
            ],
            lines: self
                .lines
                .iter()
                .map(|l| (l.amounts, l.active, l.credited_qty, l.credited))
                .collect(),
            payments: self
                .payments
                .iter()
                .map(|p| (p.amount, p.refunded, p.from_balance))
                .collect(),
            credit_notes: self.credit_notes.clone(),
            approval: self.approval.describe(),
        }
    }

    // ---- refusals shared by several operations

    fn not_terminal(&self) -> Result<(), &'static str> {
        match self.status {
            Status::Paid => Err("invoice_paid"),
            Status::Cancelled => Err("invoice_already_cancelled"),
            Status::Void => Err("invoice_already_void"),
            _ => Ok(()),
        }
    }

    fn collectible(&self) -> Result<(), &'static str> {
        match self.status {
            Status::Open | Status::Uncollectible => Ok(()),
            Status::Draft => Err("invoice_not_open"),
            Status::Paid => Err("invoice_paid"),
            Status::Cancelled | Status::Void => Err("invoice_not_collectible"),
        }
    }

    fn matches(&self, r: Ref, i: usize) -> bool {
        let s = self.lines[i].spec;
        match r {
            Ref::Line(j) => i == j,
            Ref::Product(p) => s.product == Some(p),
            Ref::Variation(v) => s.variation == Some(v),
            Ref::MissingLine => false,
        }
    }

    /// The one active line `r` names.
    fn resolve(&self, r: Ref) -> Result<usize, &'static str> {
        let named: Vec<usize> = (0..self.lines.len()).filter(|&i| self.matches(r, i)).collect();
        let active: Vec<usize> = named.iter().copied().filter(|&i| self.lines[i].active).collect();
        match (active.as_slice(), named.is_empty()) {
            ([i], _) => Ok(*i),
            ([_, _, ..], _) => Err("line_reference_ambiguous"),
            ([], false) => Err("line_already_cancelled"),
            ([], true) => Err("line_not_found"),
        }
    }

    // ---- credits

    fn plan(&self, requests: &[(Ref, Portion)], goodwill: Option<(u64, u32)>) -> Result<Plan, &'static str> {
        let mut done: Vec<(u32, Amt)> = self.lines.iter().map(|l| (l.credited_qty, l.credited)).collect();
        let mut shares = Vec::new();
        for &(r, portion) in requests {
            let i = self.resolve(r)?;
            let line = &self.lines[i];
            let (done_qty, done_amt) = done[i];
            if done_qty >= line.spec.qty {
                return Err("line_already_cancelled");
            }
            let left = line.amounts.minus(done_amt);
            let left_qty = line.spec.qty - done_qty;
            let (qty, amt) = match portion {
                Portion::Rest => (left_qty, left),
                Portion::Units(q) if q > left_qty => return Err("credit_exceeds_line"),
                Portion::Units(q) if q == left_qty => (q, left),
                Portion::Units(q) => {
                    let a = line_amounts(q, line.spec.unit, line.spec.rate, line.spec.inclusive)
                        .ok_or("credit_exceeds_line")?;
                    if !a.within(left) {
                        return Err("credit_exceeds_line");
                    }
                    (q, a)
                }
                Portion::Net(n) if n > left.net => return Err("credit_exceeds_line"),
                Portion::Net(n) if n == left.net => (left_qty, left),
                Portion::Net(n) => {
                    let a = from_net(n, line.spec.rate).ok_or("credit_exceeds_line")?;
                    if !a.within(left) {
                        return Err("credit_exceeds_line");
                    }
                    (0, a)
                }
            };
            done[i] = (done_qty + qty, done_amt.plus(amt));
            shares.push((i, qty, amt));
        }
        let extra = match goodwill {
            Some((net, rate)) => from_net(net, rate).ok_or("credit_exceeds_total")?.gross,
            None => 0,
        };
        let total = shares.iter().map(|s| s.2.gross).sum::<u64>() + extra;
        if self.credited() + total > self.total() {
            return Err("credit_exceeds_total");
        }
        Ok(Plan { shares, total })
    }

    fn full_plan(&self) -> Plan {
        let mut available = self.total().saturating_sub(self.credited());
        let mut shares = Vec::new();
        for (i, line) in self.lines.iter().enumerate().filter(|(_, l)| l.active) {
            let rest = line.rest();
            if rest.gross <= available {
                available -= rest.gross;
                shares.push((i, line.rest_qty(), rest));
                continue;
            }
            if let Some(part) = largest_part(rest, line.spec.rate, available) {
                shares.push((i, 0, part));
            }
            break;
        }
        let total = shares.iter().map(|s| s.2.gross).sum();
        Plan { shares, total }
    }

    /// Applies a plan: lines credited, the credit note, the settlement's events.
    fn issue(&mut self, plan: &Plan, settle: Settle) -> Vec<&'static str> {
        for &(i, qty, amt) in &plan.shares {
            let line = &mut self.lines[i];
            line.credited_qty += qty;
            line.credited = line.credited.plus(amt);
            if line.credited_qty >= line.spec.qty {
                line.active = false;
            }
        }
        self.credit_notes.push(plan.total);
        let mut events = Vec::new();
        if settle == Settle::ReduceDue {
            return events;
        }
        let mut left = plan.total;
        for p in self.payments.iter_mut().rev() {
            if left == 0 {
                break;
            }
            let take = p.net().min(left);
            if take == 0 {
                continue;
            }
            p.refunded += take;
            left -= take;
            events.push("invoice.payment_refunded");
            if settle == Settle::CreditBalance || p.from_balance {
                self.balance += take;
                events.push("customer.balance_changed");
            }
        }
        events
    }

    /// Cancels when no line is left and nothing is held; pays when nothing is due.
    fn settle_status(&mut self, events: &mut Vec<&'static str>) {
        if self.lines.iter().all(|l| !l.active) && self.paid() == 0 {
            self.status = Status::Cancelled;
            events.push("invoice.cancelled");
        } else if self.status.takes_money() && self.due() == 0 {
            self.status = Status::Paid;
            events.push("invoice.paid");
        }
    }

    /// Credits everything still uncredited, reducing what is due; true when
    /// a credit note was issued.
    fn credit_everything(&mut self) -> bool {
        let plan = self.full_plan();
        if plan.shares.is_empty() {
            return false;
        }
        self.issue(&plan, Settle::ReduceDue);
        true
    }

    // ---- operations

    /// Predicts `cmd` and, when it is accepted, applies it.
    pub fn apply(&mut self, cmd: &Cmd) -> Predicted {
        let mut next = self.clone();
        let result = next.step(cmd);
        if result.is_ok() {
            *self = next;
        }
        result
    }

    fn done(events: Vec<&'static str>) -> Predicted {
        Ok(Effects {
            events,
            replacement: None,
        })
    }

    fn step(&mut self, cmd: &Cmd) -> Predicted {
        match cmd {
            Cmd::Finalize { apply_balance } => self.finalize(*apply_balance),
            Cmd::Pay(amount) => self.pay(*amount),
            Cmd::Refund(payment, amount) => self.refund(*payment, *amount),
            Cmd::CancelLines(refs) => self.cancel(Some(refs)),
            Cmd::CancelAll => self.cancel(None),
            Cmd::Credit {
                lines,
                goodwill,
                settle,
            } => self.credit(lines, *goodwill, *settle),
            Cmd::Void { always } => self.void(*always),
            Cmd::WriteOff => self.write_off(),
            Cmd::Approve => self.review(true),
            Cmd::Reject => self.review(false),
            Cmd::Reissue(edit) => self.reissue(*edit),
            Cmd::MarkSent => self.mark_sent(),
        }
    }

    fn finalize(&mut self, apply_balance: bool) -> Predicted {
        if self.status != Status::Draft {
            self.not_terminal()?;
            return Err("invoice_not_draft");
        }
        if self.lines.is_empty() {
            return Err("invoice_has_no_lines");
        }
        self.status = Status::Open;
        self.issued = true;
        let mut events = vec!["invoice.finalized"];
        let spend = if apply_balance { self.balance.min(self.due()) } else { 0 };
        if spend > 0 && self.approval == Approval::None {
            self.payments.push(MPayment {
                amount: spend,
                refunded: 0,
                from_balance: true,
            });
            self.balance -= spend;
            events.extend(["invoice.payment_recorded", "customer.balance_changed"]);
        }
        if self.due() == 0 {
            self.status = Status::Paid;
            events.push("invoice.paid");
        }
        Self::done(events)
    }

    fn pay(&mut self, amount: u64) -> Predicted {
        self.collectible()?;
        match self.approval {
            Approval::Pending(..) => return Err("invoice_awaiting_approval"),
            Approval::Rejected(_) => return Err("invoice_rejected"),
            Approval::None | Approval::Approved => {}
        }
        if self.payments.len() >= MAX_PAYMENTS {
            return Err("too_many_payments");
        }
        if amount > self.due() {
            return Err("overpayment");
        }
        self.payments.push(MPayment {
            amount,
            refunded: 0,
            from_balance: false,
        });
        let mut events = vec!["invoice.payment_recorded"];
        if self.due() == 0 {
            self.status = Status::Paid;
            events.push("invoice.paid");
        }
        Self::done(events)
    }

    fn refund(&mut self, payment: Option<usize>, amount: u64) -> Predicted {
        self.collectible()?;
        let p = payment
            .and_then(|i| self.payments.get_mut(i))
            .ok_or("payment_not_found")?;
        if amount > p.net() {
            return Err("refund_exceeds_payment");
        }
        p.refunded += amount;
        Self::done(vec!["invoice.payment_refunded"])
    }

    fn cancel(&mut self, refs: Option<&[Ref]>) -> Predicted {
        self.not_terminal()?;
        if self.approval == Approval::Approved {
            return Err("invoice_approved");
        }
        if !self.issued {
            let mut chosen = Vec::new();
            for &r in refs.unwrap_or_default() {
                let i = self.resolve(r)?;
                if !chosen.contains(&i) {
                    chosen.push(i);
                }
            }
            if refs.is_none() || chosen.len() == self.lines.len() {
                for l in &mut self.lines {
                    l.active = false;
                }
                self.status = Status::Cancelled;
                return Self::done(vec!["invoice.cancelled"]);
            }
            let mut i = 0;
            self.lines.retain(|_| {
                i += 1;
                !chosen.contains(&(i - 1))
            });
            return Self::done(vec!["invoice.lines_removed"]);
        }
        let Some(refs) = refs else {
            if self.paid() != 0 {
                return Err("invoice_has_payments");
            }
            let note = self.credit_everything();
            self.status = Status::Cancelled;
            let mut events = vec!["invoice.cancelled"];
            if note {
                events.push("credit_note.issued");
            }
            return Self::done(events);
        };
        let requests: Vec<(Ref, Portion)> = refs.iter().map(|&r| (r, Portion::Rest)).collect();
        let plan = self.plan(&requests, None)?;
        if plan.total > self.due() {
            return Err("cancellation_below_paid_amount");
        }
        self.issue(&plan, Settle::ReduceDue);
        let mut events = vec!["invoice.lines_cancelled", "credit_note.issued"];
        self.settle_status(&mut events);
        Self::done(events)
    }

    fn credit(&mut self, lines: &[(Ref, Portion)], goodwill: Option<(u64, u32)>, settle: Settle) -> Predicted {
        match self.status {
            Status::Open | Status::Uncollectible | Status::Paid => {}
            Status::Draft => return Err("invoice_is_draft"),
            Status::Cancelled => return Err("invoice_already_cancelled"),
            Status::Void => return Err("invoice_already_void"),
        }
        let plan = self.plan(lines, goodwill)?;
        match settle {
            Settle::ReduceDue if plan.total > self.due() => return Err("credit_exceeds_amount_due"),
            Settle::Refund | Settle::CreditBalance if plan.total > self.paid() => {
                return Err("credit_exceeds_amount_paid")
            }
            _ => {}
        }
        let mut events = vec!["invoice.credited", "credit_note.issued"];
        events.extend(self.issue(&plan, settle));
        self.settle_status(&mut events);
        Self::done(events)
    }

    fn void(&mut self, always: bool) -> Predicted {
        self.not_terminal()?;
        if self.status == Status::Draft {
            return Err("invoice_is_draft");
        }
        if self.approval == Approval::Approved {
            return Err("invoice_approved");
        }
        if self.paid() != 0 {
            return Err("invoice_has_payments");
        }
        let note = always && self.credit_everything();
        self.status = Status::Void;
        let mut events = vec!["invoice.voided"];
        if note {
            events.push("credit_note.issued");
        }
        Self::done(events)
    }

    fn write_off(&mut self) -> Predicted {
        self.not_terminal()?;
        match self.status {
            Status::Open => {}
            Status::Uncollectible => return Err("invoice_already_uncollectible"),
            _ => return Err("invoice_not_open"),
        }
        self.status = Status::Uncollectible;
        Self::done(vec!["invoice.marked_uncollectible"])
    }

    fn review(&mut self, approve: bool) -> Predicted {
        self.not_terminal()?;
        if !self.status.takes_money() {
            return Err("invoice_not_open");
        }
        let Approval::Pending(level, required) = self.approval else {
            return Err("approval_not_pending");
        };
        if !approve {
            self.approval = Approval::Rejected(required);
            return Self::done(vec!["invoice.rejected"]);
        }
        self.approval = if level >= required {
            Approval::Approved
        } else {
            Approval::Pending(level + 1, required)
        };
        Self::done(vec!["invoice.approved"])
    }

    /// Any issued invoice may be sent, again too, whatever its status; one
    /// never issued (a draft, or a draft discarded by a cancel) is refused.
    fn mark_sent(&mut self) -> Predicted {
        if !self.issued {
            return Err("invoice_is_draft");
        }
        self.sent = true;
        Self::done(vec!["invoice.sent"])
    }

    fn reissue(&mut self, edit: Option<Edit>) -> Predicted {
        match self.status {
            Status::Open | Status::Uncollectible | Status::Paid => {}
            Status::Draft => return Err("invoice_is_draft"),
            Status::Cancelled => return Err("invoice_already_cancelled"),
            Status::Void => return Err("invoice_already_void"),
        }
        if self.approval == Approval::Approved {
            return Err("invoice_approved");
        }
        if self.paid() != 0 {
            return Err("reissue_has_payments");
        }
        let mut specs: Vec<Option<LineSpec>> = self.lines.iter().map(|l| Some(l.spec)).collect();
        if let Some(edit) = edit {
            let r = match edit {
                Edit::Remove(r) | Edit::Quantity(r, _) => r,
            };
            let named: Vec<usize> = (0..self.lines.len()).filter(|&i| self.matches(r, i)).collect();
            let i = match named.as_slice() {
                [] => return Err("line_not_found"),
                [i] => *i,
                _ => return Err("line_reference_ambiguous"),
            };
            match edit {
                Edit::Remove(_) => specs[i] = None,
                Edit::Quantity(_, q) => {
                    if let Some(s) = specs[i].as_mut() {
                        s.qty = q;
                    }
                }
            }
        }
        let levels = match self.approval {
            Approval::Pending(_, r) | Approval::Rejected(r) => r,
            Approval::None | Approval::Approved => 0,
        };
        let new_lines: Vec<LineSpec> = specs.into_iter().flatten().collect();
        let note = self.credit_everything();
        self.status = Status::Cancelled;
        let mut events = vec!["invoice.cancelled"];
        if note {
            events.push("credit_note.issued");
        }
        events.push("invoice.reissued");
        let replacement = Model::draft(&new_lines, levels, self.balance);
        Ok(Effects {
            events,
            replacement: Some((replacement, vec!["invoice.created", "invoice.reissued"])),
        })
    }
}

// ------------------------------------------------------------- the generators

/// An amount relative to what it is measured against.
#[derive(Debug, Clone, Copy)]
pub enum Size {
    /// Exactly the target.
    Exact,
    /// One minor unit (or unit) less.
    OneBelow,
    /// One more.
    OneAbove,
    /// `k`/8 of the target.
    Eighths(u8),
    /// A small fixed amount.
    Small(u64),
}

impl Size {
    fn of(self, target: u64) -> u64 {
        match self {
            Size::Exact => target,
            Size::OneBelow => target.saturating_sub(1),
            Size::OneAbove => target + 1,
            Size::Eighths(k) => target / 8 * u64::from(k),
            Size::Small(n) => n,
        }
    }
}

/// Which line a command points at, and how.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    /// By the id of line `n` (modulo the line count).
    Line(u8),
    /// By the product id of line `n`, or product `p{n}` if it has none.
    Product(u8),
    /// By the variation id of line `n`, or `v{n}` if it has none.
    Variation(u8),
    /// By an id no line has.
    Missing,
}

/// What a payment aims at.
#[derive(Debug, Clone, Copy)]
pub enum PayAim {
    /// Relative to the amount due.
    Due(Size),
    /// So that what is left due is what is left of line `n` (give or take
    /// one), which makes a cancel of that line land on the paid amount.
    LeaveLine(u8, Size),
}

/// What a credit takes of a line.
#[derive(Debug, Clone, Copy)]
pub enum PortionAim {
    /// The rest.
    Rest,
    /// Units, relative to the units left.
    Units(Size),
    /// Net, relative to the net left.
    Net(Size),
}

/// What a goodwill credit is measured against.
#[derive(Debug, Clone, Copy)]
pub enum Against {
    /// The amount due.
    Due,
    /// The net paid.
    Paid,
    /// The total not yet credited.
    Remaining,
}

/// An abstract operation; [`Model::command`] fixes its amounts and
/// references against the current state.
#[derive(Debug, Clone)]
pub enum Op {
    /// Finalize.
    Finalize(bool),
    /// Pay.
    Pay(PayAim),
    /// Refund payment `n` (newest first; 4 names no payment).
    Refund(u8, Size),
    /// Cancel lines.
    CancelLines(Vec<Pick>),
    /// Cancel everything.
    CancelAll,
    /// Credit lines and goodwill (against, size, rate), settled.
    Credit(Vec<(Pick, PortionAim)>, Option<(Against, Size, u32)>, Settle),
    /// Void under a policy.
    Void(bool),
    /// Mark uncollectible.
    WriteOff,
    /// Approve.
    Approve,
    /// Reject.
    Reject,
    /// Reissue, with an edit that removes or re-sizes a line.
    Reissue(Option<(Pick, Option<u32>)>),
    /// Mark sent.
    MarkSent,
    /// Payments of 1 until the invoice holds as many as it may, and one more.
    FillPayments,
}

impl Model {
    fn pick(&self, pick: Pick) -> Ref {
        let n = self.lines.len();
        match pick {
            Pick::Missing => Ref::MissingLine,
            _ if n == 0 => Ref::MissingLine,
            Pick::Line(i) => Ref::Line(usize::from(i) % n),
            Pick::Product(i) => Ref::Product(self.lines[usize::from(i) % n].spec.product.unwrap_or(i % 4)),
            Pick::Variation(i) => Ref::Variation(self.lines[usize::from(i) % n].spec.variation.unwrap_or(i % 3)),
        }
    }

    fn line_of(&self, pick: Pick) -> Option<&MLine> {
        match self.pick(pick) {
            Ref::Line(i) => self.lines.get(i),
            r => (0..self.lines.len())
                .find(|&i| self.matches(r, i) && self.lines[i].active)
                .map(|i| &self.lines[i]),
        }
    }

    /// Fixes the amounts and references of `op` against the current state.
    /// `FillPayments` has no single command; it gives `None`.
    pub fn command(&self, op: &Op) -> Option<Cmd> {
        let positive = |n: u64| n.max(1);
        Some(match op {
            Op::Finalize(apply) => Cmd::Finalize { apply_balance: *apply },
            Op::Pay(PayAim::Due(size)) => Cmd::Pay(positive(size.of(self.due()))),
            Op::Pay(PayAim::LeaveLine(i, size)) => {
                let rest = self.line_of(Pick::Line(*i)).map_or(0, |l| l.rest().gross);
                let exact = self.due().saturating_sub(rest);
                Cmd::Pay(positive(match size {
                    Size::OneBelow => exact.saturating_sub(1),
                    Size::OneAbove => exact + 1,
                    _ => exact,
                }))
            }
            Op::Refund(k, size) => {
                let n = self.payments.len();
                let index = (*k < 4 && n > 0).then(|| n - 1 - usize::from(*k) % n);
                let net = index.map_or(1, |i| self.payments[i].net());
                Cmd::Refund(index, positive(size.of(net)))
            }
            Op::CancelLines(picks) => Cmd::CancelLines(picks.iter().map(|p| self.pick(*p)).collect()),
            Op::CancelAll => Cmd::CancelAll,
            Op::Credit(picks, goodwill, settle) => Cmd::Credit {
                lines: picks
                    .iter()
                    .map(|(pick, aim)| {
                        let line = self.line_of(*pick);
                        let portion = match aim {
                            PortionAim::Rest => Portion::Rest,
                            PortionAim::Units(s) => {
                                let left = line.map_or(1, MLine::rest_qty);
                                Portion::Units(u32::try_from(positive(s.of(u64::from(left)))).unwrap_or(u32::MAX))
                            }
                            PortionAim::Net(s) => Portion::Net(positive(s.of(line.map_or(1, |l| l.rest().net)))),
                        };
                        (self.pick(*pick), portion)
                    })
                    .collect(),
                goodwill: goodwill.map(|(against, size, rate)| {
                    let target = match against {
                        Against::Due => self.due(),
                        Against::Paid => self.paid(),
                        Against::Remaining => self.total().saturating_sub(self.credited()),
                    };
                    (positive(size.of(target)), rate)
                }),
                settle: *settle,
            },
            Op::Void(always) => Cmd::Void { always: *always },
            Op::WriteOff => Cmd::WriteOff,
            Op::Approve => Cmd::Approve,
            Op::Reject => Cmd::Reject,
            Op::Reissue(edit) => Cmd::Reissue(edit.map(|(pick, qty)| {
                let r = self.pick(pick);
                match qty {
                    Some(q) => Edit::Quantity(r, q),
                    None => Edit::Remove(r),
                }
            })),
            Op::MarkSent => Cmd::MarkSent,
            Op::FillPayments => return None,
        })
    }
}

fn arb_size() -> impl Strategy<Value = Size> {
    prop_oneof![
        3 => Just(Size::Exact),
        3 => Just(Size::OneBelow),
        3 => Just(Size::OneAbove),
        2 => (0u8..=8).prop_map(Size::Eighths),
        1 => (1u64..100).prop_map(Size::Small),
    ]
}

fn arb_pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => (0u8..6).prop_map(Pick::Line),
        3 => (0u8..6).prop_map(Pick::Product),
        2 => (0u8..6).prop_map(Pick::Variation),
        1 => Just(Pick::Missing),
    ]
}

fn arb_settle() -> impl Strategy<Value = Settle> {
    prop_oneof![
        Just(Settle::ReduceDue),
        Just(Settle::Refund),
        Just(Settle::CreditBalance)
    ]
}

/// Tax rates: zero, reduced, standard, an odd one and the maximum.
fn arb_rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => Just(0u32),
        2 => Just(70_000u32),
        3 => Just(190_000u32),
        1 => Just(55_000u32),
        1 => Just(10_000_000u32),
    ]
}

/// A line: small quantities mostly, zero-amount lines, product and
/// variation ids from small sets so that references collide.
pub fn arb_line() -> impl Strategy<Value = LineSpec> {
    (
        prop_oneof![1 => Just(None), 3 => (0u8..3).prop_map(Some)],
        prop_oneof![3 => Just(None), 1 => (0u8..2).prop_map(Some)],
        prop_oneof![6 => 1u32..=5, 2 => 6u32..=1_000, 1 => Just(1_000_000u32)],
        prop_oneof![1 => Just(0u64), 5 => 1u64..=2_000, 2 => 2_000u64..=200_000],
        arb_rate(),
        any::<bool>(),
    )
        .prop_map(|(product, variation, qty, unit, rate, inclusive)| LineSpec {
            product,
            variation,
            qty,
            unit,
            rate,
            inclusive,
        })
}

/// An operation; `fill` weighs `FillPayments` (slow: a thousand payments).
pub fn arb_op(fill: u32) -> impl Strategy<Value = Op> {
    let portion = prop_oneof![
        Just(PortionAim::Rest),
        arb_size().prop_map(PortionAim::Units),
        arb_size().prop_map(PortionAim::Net),
    ];
    let against = prop_oneof![Just(Against::Due), Just(Against::Paid), Just(Against::Remaining)];
    let goodwill = prop::option::weighted(
        0.4,
        (against, arb_size(), prop_oneof![3 => Just(0u32), 1 => Just(190_000u32)]),
    );
    let credit = (
        prop::collection::vec((arb_pick(), portion), 0..3),
        goodwill,
        arb_settle(),
    )
        .prop_map(|(lines, goodwill, settle)| {
            // A credit names at least one line or gives a goodwill amount.
            let goodwill = if lines.is_empty() && goodwill.is_none() {
                Some((Against::Due, Size::Exact, 0))
            } else {
                goodwill
            };
            Op::Credit(lines, goodwill, settle)
        });
    let pay = prop_oneof![
        3 => arb_size().prop_map(PayAim::Due),
        1 => ((0u8..6), arb_size()).prop_map(|(i, s)| PayAim::LeaveLine(i, s)),
    ];
    let edit = prop::option::weighted(0.5, (arb_pick(), prop::option::of(1u32..=4)));
    prop_oneof![
        150 => any::<bool>().prop_map(Op::Finalize),
        300 => pay.prop_map(Op::Pay),
        120 => ((0u8..5), arb_size()).prop_map(|(k, s)| Op::Refund(k, s)),
        150 => prop::collection::vec(arb_pick(), 1..3).prop_map(Op::CancelLines),
        50 => Just(Op::CancelAll),
        350 => credit,
        60 => any::<bool>().prop_map(Op::Void),
        50 => Just(Op::WriteOff),
        100 => Just(Op::Approve),
        30 => Just(Op::Reject),
        50 => edit.prop_map(Op::Reissue),
        40 => Just(Op::MarkSent),
        fill => Just(Op::FillPayments),
    ]
}

/// One generated case: the draft, its approval levels, the customer's
/// opening balance (relative to the draft's total) and the operations.
#[derive(Debug, Clone)]
pub struct Case {
    /// The draft's lines (none sometimes: such a draft cannot be finalized).
    pub lines: Vec<LineSpec>,
    /// Approval levels, 0 to 3.
    pub levels: u8,
    /// The customer's balance before the case, relative to the total.
    pub balance: Option<Size>,
    /// What happens to the invoice.
    pub ops: Vec<Op>,
}

impl Case {
    /// The opening balance in minor units.
    pub fn opening_balance(&self) -> u64 {
        let total = Model::draft(&self.lines, 0, 0).total();
        self.balance.map_or(0, |s| s.of(total))
    }
}

/// Cases of up to `max_ops` operations, most finalized first. Some
/// operations come twice in a row, the boundary where a repeat is refused
/// (a second write-off, cancel, void or approval).
pub fn arb_case(max_ops: usize, fill: u32) -> impl Strategy<Value = Case> {
    (
        prop_oneof![1 => Just(0usize), 12 => 1usize..=4],
        prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => 2u8..=3],
        prop::option::weighted(0.3, arb_size()),
        any::<bool>(),
        prop::collection::vec(arb_line(), 5),
        prop::collection::vec((arb_op(fill), prop::bool::weighted(0.15)), 1..max_ops),
        0u8..5,
    )
        .prop_map(|(count, levels, balance, finalize, mut lines, drawn, start)| {
            lines.truncate(count);
            let mut ops = Vec::with_capacity(drawn.len() + 1);
            for (op, twice) in drawn {
                if twice && !matches!(op, Op::FillPayments) {
                    ops.push(op.clone());
                }
                ops.push(op);
            }
            if finalize || start == 0 {
                ops.insert(0, Op::Finalize(start == 1));
            }
            Case {
                lines,
                levels,
                balance,
                ops,
            }
        })
}

// ------------------------------------------------------ observing the system

/// The system's invoice as a [`Snapshot`].
pub fn observe(inv: &api::Invoice) -> Snapshot {
    let amt = |a: api::LineAmounts| Amt {
        net: a.net.minor(),
        tax: a.tax.minor(),
        gross: a.gross.minor(),
    };
    let t = inv.totals();
    Snapshot {
        status: inv.status.as_str(),
        issued: inv.is_issued(),
        sent: inv.sent_at.is_some(),
        money: [
            t.total.minor(),
            t.amount_credited.minor(),
            t.amount_paid.minor(),
            t.amount_refunded.minor(),
            t.amount_due.minor(),
        ],
        lines: inv
            .lines
            .iter()
            .map(|l| {
                (
                    amt(l.amounts),
                    l.is_active(),
                    l.credited.quantity,
                    amt(l.credited.amounts),
                )
            })
            .collect(),
        payments: inv
            .payments
            .iter()
            .map(|p| {
                (
                    p.amount.minor(),
                    p.refunded().minor(),
                    p.source == api::PaymentSource::CustomerBalance,
                )
            })
            .collect(),
        credit_notes: inv.credit_notes.iter().map(|c| c.total().minor()).collect(),
        approval: match &inv.approval {
            api::Approval::NotRequired => Approval::None,
            api::Approval::Pending { level, required } => Approval::Pending(*level, *required),
            api::Approval::Approved { .. } => Approval::Approved,
            api::Approval::Rejected { required, .. } => Approval::Rejected(*required),
        }
        .describe(),
    }
}

/// The event types of `events`, in order.
pub fn event_types(events: &[api::Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.type_name()).collect()
}

/// An id no line or payment of any invoice has.
fn missing_uuid() -> api::uuid::Uuid {
    api::uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_dead_beef_0001)
}

/// A command as the domain's requests, addressed to `inv`'s lines and payments.
#[derive(Debug, Clone)]
pub enum Request {
    /// Finalize.
    Finalize {
        /// Spend the customer's balance.
        apply_balance: bool,
    },
    /// Pay.
    Pay(api::NewPayment),
    /// Refund.
    Refund(api::RefundRequest),
    /// Cancel.
    Cancel(api::CancelRequest),
    /// Credit.
    Credit(api::CreditRequest),
    /// Void under a policy.
    Void(api::VoidPolicy),
    /// Mark uncollectible.
    WriteOff,
    /// Approve.
    Approve,
    /// Reject.
    Reject(api::Rejection),
    /// Reissue.
    Reissue(api::ReissueRequest),
    /// Mark sent.
    MarkSent,
}

fn line_ref(r: Ref, inv: &api::Invoice) -> api::LineRef {
    match r {
        Ref::Line(i) => api::LineRef::LineId(inv.lines[i].id),
        Ref::MissingLine => api::LineRef::LineId(api::LineId::from_uuid(missing_uuid())),
        Ref::Product(p) => api::LineRef::ProductId(api::ProductId::parse(&format!("p{p}")).expect("product id")),
        Ref::Variation(v) => {
            api::LineRef::VariationId(api::VariationId::parse(&format!("v{v}")).expect("variation id"))
        }
    }
}

fn positive(n: u64) -> api::PositiveAmount {
    api::PositiveAmount::new(n).expect("commands carry positive amounts")
}

impl Request {
    /// Builds the requests of `cmd` for the system's `inv`.
    pub fn of(cmd: &Cmd, inv: &api::Invoice) -> Request {
        match cmd {
            Cmd::Finalize { apply_balance } => Request::Finalize {
                apply_balance: *apply_balance,
            },
            Cmd::Pay(n) => Request::Pay(api::NewPayment::new(positive(*n), Some("transfer"), None).expect("payment")),
            Cmd::Refund(i, n) => {
                let id = i.map_or(api::PaymentId::from_uuid(missing_uuid()), |i| inv.payments[i].id);
                Request::Refund(api::RefundRequest::new(id, positive(*n), None).expect("refund"))
            }
            Cmd::CancelLines(refs) => Request::Cancel(
                api::CancelRequest::lines(refs.iter().map(|r| line_ref(*r, inv)).collect(), None).expect("cancel"),
            ),
            Cmd::CancelAll => Request::Cancel(api::CancelRequest::whole(None)),
            Cmd::Credit {
                lines,
                goodwill,
                settle,
            } => {
                let lines = lines
                    .iter()
                    .map(|(r, portion)| {
                        let portion = match portion {
                            Portion::Rest => api::CreditPortion::Rest,
                            Portion::Units(q) => api::CreditPortion::Quantity(*q),
                            Portion::Net(n) => api::CreditPortion::Net(positive(*n)),
                        };
                        api::LineCreditRequest::new(line_ref(*r, inv), portion).expect("line credit")
                    })
                    .collect();
                let extra = goodwill.map(|(net, rate)| {
                    let rate = api::TaxRate::from_units(rate).expect("rate");
                    api::ExtraCredit::new("goodwill", positive(net), api::LineTax::standard(rate)).expect("goodwill")
                });
                let settle = match settle {
                    Settle::ReduceDue => api::Settlement::ReduceDue,
                    Settle::Refund => api::Settlement::Refund,
                    Settle::CreditBalance => api::Settlement::CreditBalance,
                };
                Request::Credit(api::CreditRequest::new(lines, extra, None, settle).expect("credit"))
            }
            Cmd::Void { always } => Request::Void(if *always {
                api::VoidPolicy::Always
            } else {
                api::VoidPolicy::Never
            }),
            Cmd::WriteOff => Request::WriteOff,
            Cmd::Approve => Request::Approve,
            Cmd::Reject => {
                Request::Reject(api::Rejection::parse(vec!["wrong amount".into()], None).expect("rejection"))
            }
            Cmd::Reissue(edit) => {
                let lines = match edit {
                    None => api::ReissueLines::Copy,
                    Some(Edit::Remove(r)) => api::ReissueLines::Edited(vec![api::LineEdit::Remove(line_ref(*r, inv))]),
                    Some(Edit::Quantity(r, q)) => api::ReissueLines::Edited(vec![api::LineEdit::Change {
                        line: line_ref(*r, inv),
                        quantity: Some(i64::from(*q)),
                        unit_amount: None,
                        description: None,
                    }]),
                };
                Request::Reissue(api::ReissueRequest::new(lines, None).expect("reissue"))
            }
            Cmd::MarkSent => Request::MarkSent,
        }
    }
}

// ------------------------------------------------------------------ running

/// A test runner for `cases` cases (`MODEL_CASES` overrides it), seeded so
/// that a run and its coverage can be repeated: `MODEL_SEED=<n>` picks
/// another seed, `MODEL_SEED=random` a fresh one. Returns the runner and
/// the seed, to print.
pub fn runner(cases: u32) -> (proptest::test_runner::TestRunner, u64) {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let seed = match std::env::var("MODEL_SEED").as_deref() {
        Ok("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() ^ u64::from(d.subsec_nanos())),
        Ok(n) => n.parse().expect("MODEL_SEED is a number or `random`"),
        Err(_) => 19,
    };
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let cases = std::env::var("MODEL_CASES").map_or(cases, |n| n.parse().expect("MODEL_CASES is a number"));
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    (
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)),
        seed,
    )
}

// ------------------------------------------------------------------ coverage

/// What the runs reached: statuses, refusal codes, and each command's
/// accepted and refused counts.
#[derive(Debug, Default)]
pub struct Coverage {
    /// Cases run.
    pub cases: u64,
    /// Commands run.
    pub steps: u64,
    statuses: BTreeMap<&'static str, u64>,
    codes: BTreeMap<&'static str, u64>,
    commands: BTreeMap<&'static str, (u64, u64)>,
}

impl Coverage {
    /// Counts one command (by its name) and what it gave.
    pub fn command(&mut self, name: &'static str, outcome: &Result<(), &'static str>) {
        self.steps += 1;
        let entry = self.commands.entry(name).or_default();
        match outcome {
            Ok(()) => entry.0 += 1,
            Err(code) => {
                entry.1 += 1;
                *self.codes.entry(code).or_default() += 1;
            }
        }
    }

    /// Counts a status the invoice was seen in.
    pub fn status(&mut self, status: &'static str) {
        *self.statuses.entry(status).or_default() += 1;
    }

    /// Statuses and codes never reached.
    pub fn missing(&self) -> Vec<&'static str> {
        STATUSES
            .iter()
            .filter(|s| !self.statuses.contains_key(*s))
            .chain(CODES.iter().filter(|c| !self.codes.contains_key(*c)))
            .copied()
            .collect()
    }

    /// The run's figures, one `figure:` line each, for the documentation's
    /// generated tables: the summary, and how often each status and
    /// refusal code was reached, in column `column`.
    pub fn figures(&self, column: &str, seed: u64) -> String {
        let reached = |names: &[&'static str], seen: &BTreeMap<&'static str, u64>| {
            names.iter().filter(|n| seen.contains_key(*n)).count()
        };
        let mut out = format!(
            "figure: state machine | {column} | {} cases (seed {seed}), {} commands, every outcome as the model \
             predicted; {} of {} statuses and {} of {} refusal codes reached\n",
            self.cases,
            self.steps,
            reached(&STATUSES, &self.statuses),
            STATUSES.len(),
            reached(&CODES, &self.codes),
            CODES.len()
        );
        for s in STATUSES {
            let n = self.statuses.get(s).copied().unwrap_or(0);
            let _ = writeln!(out, "figure: state machine coverage | {column} | status `{s}` | {n}");
        }
        for c in CODES {
            let n = self.codes.get(c).copied().unwrap_or(0);
            let _ = writeln!(out, "figure: state machine coverage | {column} | refusal `{c}` | {n}");
        }
        out
    }

    /// The coverage as Markdown tables, headed by `title`.
    pub fn table(&self, title: &str) -> String {
        let mut out = format!(
            "{title}: {} cases, {} commands, every result as the model predicted\n\n",
            self.cases, self.steps
        );
        out.push_str("| status reached | times |\n|---|---:|\n");
        for s in STATUSES {
            let _ = writeln!(out, "| `{s}` | {} |", self.statuses.get(s).copied().unwrap_or(0));
        }
        out.push_str("\n| refusal code | times |\n|---|---:|\n");
        for c in CODES {
            let _ = writeln!(out, "| `{c}` | {} |", self.codes.get(c).copied().unwrap_or(0));
        }
        out.push_str("\n| command | accepted | refused |\n|---|---:|---:|\n");
        for (name, (ok, refused)) in &self.commands {
            let _ = writeln!(out, "| {name} | {ok} | {refused} |");
        }
        out
    }
}
