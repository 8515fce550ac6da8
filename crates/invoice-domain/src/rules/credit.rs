//! Credit notes: the one way an issued invoice is corrected, whatever made
//! the correction (a credit note request, a cancel, a void, a reissue).
//!
//! A credit is planned first ([`CreditPlan`]): what of each line, how much
//! goodwill, refusing anything beyond what is left of a line or of the total.
//! Only then is a number drawn and the plan applied: the lines' credited
//! amounts grow, the credit note is issued, and the settlement moves money
//! (nothing, a refund, or onto the customer's balance).

use crate::commands::{CreditPortion, CreditRequest, ExtraCredit, LineCreditRequest, Settlement};
use crate::error::Refusal;
use crate::model::balance::{BalanceDirection, BalanceEntry};
use crate::model::credit_note::{CreditNote, CreditNoteLine};
use crate::model::event::EventKind;
use crate::model::ids::{BalanceEntryId, CreditNoteId, RefundId};
use crate::model::invoice::{ActionRecord, Invoice, InvoiceStatus};
use crate::model::line::{LineCredit, LineStatus};
use crate::model::money::{bounded_sum, div_round_half_away, Amount, LineAmounts, PositiveAmount};
use crate::model::number::DocumentNumber;
use crate::model::payment::{PaymentSource, Refund, RefundDestination};
use crate::model::reason::Reason;
use crate::rules::{Builder, Change, Context, NumberedError, Transition};

/// One line's share of a credit.
#[derive(Debug, Clone, Copy)]
struct Share {
    /// Index of the line in the invoice.
    index: usize,
    /// Units credited (0 for a part of the net).
    quantity: u32,
    /// Net, tax and gross credited.
    amounts: LineAmounts,
    /// True when the share is a part of the net rather than units.
    by_net: bool,
}

/// What a credit will do, decided before any number is drawn.
#[derive(Debug, Clone)]
pub(super) struct CreditPlan {
    shares: Vec<Share>,
    extra: Option<(ExtraCredit, LineAmounts)>,
    total: Amount,
}

impl CreditPlan {
    /// The gross amount the credit note will carry.
    pub(super) fn total(&self) -> Amount {
        self.total
    }

    /// True when the credit names nothing at all.
    pub(super) fn is_empty(&self) -> bool {
        self.shares.is_empty() && self.extra.is_none()
    }
}

/// What crediting a part of the net costs: the net taxed at the line's rate.
fn net_share(net: PositiveAmount, rate: crate::model::money::TaxRate) -> Option<LineAmounts> {
    LineAmounts::from_net(net.amount(), rate).ok()
}

impl Invoice {
    /// Works out a credit of `requests` and `extra`: every line share within
    /// what is left of its line, and the whole within the invoice's total.
    pub(super) fn plan_credit(
        &self,
        requests: &[LineCreditRequest],
        extra: Option<&ExtraCredit>,
    ) -> Result<CreditPlan, Refusal> {
        let mut credited: Vec<LineCredit> = self.lines.iter().map(|l| l.credited).collect();
        let mut shares = Vec::with_capacity(requests.len());
        for request in requests {
            let index = self.resolve_line(request.line())?;
            let line = &self.lines[index];
            let done = credited[index];
            let exceeds = || Refusal::CreditExceedsLine(request.line().to_string());
            if done.quantity >= line.quantity {
                return Err(Refusal::LineAlreadyCancelled(request.line().to_string()));
            }
            let left = line.amounts.checked_sub(done.amounts).unwrap_or_default();
            let left_units = line.quantity - done.quantity;
            let (quantity, amounts, by_net) = match request.portion() {
                CreditPortion::Rest => (left_units, left, false),
                CreditPortion::Quantity(q) if q > left_units => return Err(exceeds()),
                CreditPortion::Quantity(q) if q == left_units => (q, left, false),
                CreditPortion::Quantity(q) => {
                    let a = LineAmounts::compute(q, line.unit_amount, line.tax.rate(), line.tax_inclusive)
                        .map_err(|_| exceeds())?;
                    if !a.fits_within(&left) {
                        return Err(exceeds());
                    }
                    (q, a, false)
                }
                CreditPortion::Net(n) if n.amount() > left.net => return Err(exceeds()),
                CreditPortion::Net(n) if n.amount() == left.net => (left_units, left, false),
                CreditPortion::Net(n) => {
                    let a = net_share(n, line.tax.rate()).ok_or_else(exceeds)?;
                    if !a.fits_within(&left) {
                        return Err(exceeds());
                    }
                    (0, a, true)
                }
            };
            credited[index] = LineCredit {
                quantity: done.quantity + quantity,
                amounts: done.amounts.checked_add(amounts).ok_or_else(exceeds)?,
            };
            shares.push(Share {
                index,
                quantity,
                amounts,
                by_net,
            });
        }
        let extra = match extra {
            Some(e) => {
                let amounts = net_share(e.net, e.tax.rate()).ok_or(Refusal::CreditExceedsTotal)?;
                Some((e.clone(), amounts))
            }
            None => None,
        };
        let total = bounded_sum(
            shares
                .iter()
                .map(|s| s.amounts.gross)
                .chain(extra.iter().map(|(_, a)| a.gross)),
        );
        let credited_total = self.amount_credited().checked_add(total);
        if credited_total.is_none_or(|c| c > self.totals().total) {
            return Err(Refusal::CreditExceedsTotal);
        }
        Ok(CreditPlan { shares, extra, total })
    }

    /// Plans a credit of everything still uncredited, as far as the total
    /// allows: every active line's rest, in document order. Only when
    /// goodwill credits already took part of the total does a line get
    /// less than its rest (a part of its net), and the lines after it none.
    pub(super) fn plan_full_credit(&self) -> CreditPlan {
        let mut available = self.totals().total.saturating_sub(self.amount_credited());
        let mut shares = Vec::new();
        for (index, line) in self.lines.iter().enumerate().filter(|(_, l)| l.is_active()) {
            let rest = line.uncredited();
            if rest.gross <= available {
                available = available.saturating_sub(rest.gross);
                shares.push(Share {
                    index,
                    quantity: line.uncredited_quantity(),
                    amounts: rest,
                    by_net: false,
                });
                continue;
            }
            if let Some(part) = largest_part(rest, line.tax.rate(), available) {
                shares.push(Share {
                    index,
                    quantity: 0,
                    amounts: part,
                    by_net: true,
                });
            }
            break;
        }
        let total = bounded_sum(shares.iter().map(|s| s.amounts.gross));
        CreditPlan {
            shares,
            extra: None,
            total,
        }
    }
}

/// The largest part of `rest` (by net, taxed at `rate`) whose gross fits in
/// `available`, if any.
fn largest_part(rest: LineAmounts, rate: crate::model::money::TaxRate, available: Amount) -> Option<LineAmounts> {
    const DIVISOR: u128 = 100 * 10_000;
    let guess = div_round_half_away(
        u128::from(available.minor()) * DIVISOR,
        DIVISOR + u128::from(rate.units()),
    );
    let mut net = u64::try_from(guess).ok()?.min(rest.net.minor());
    while net > 0 {
        let part = LineAmounts::from_net(Amount::from_minor(net), rate).ok()?;
        if part.gross <= available && part.fits_within(&rest) {
            return Some(part);
        }
        net -= 1;
    }
    None
}

/// What issuing a planned credit produced, for the caller's events.
pub(super) struct Issued {
    /// The credit note.
    pub credit_note: CreditNote,
    /// Events of the settlement (refunds, balance changes), in order.
    pub settlement_events: Vec<EventKind>,
}

/// Applies `plan` to the invoice being built: the lines' credited amounts
/// and statuses, the credit note numbered `number`, and the settlement.
/// `balance` is the customer's current balance in the invoice's currency,
/// read in the same transaction.
pub(super) fn issue(
    b: &mut Builder<'_>,
    document: &IssuedAs,
    plan: CreditPlan,
    number: DocumentNumber,
    reason: Option<Reason>,
    settlement: Settlement,
    balance: Amount,
) -> Issued {
    let ctx = b.ctx;
    let inv = b.invoice();
    let mut lines = Vec::with_capacity(plan.shares.len() + 1);
    let mut touched = Vec::new();
    for share in &plan.shares {
        let line = &mut inv.lines[share.index];
        line.credited = LineCredit {
            quantity: line.credited.quantity + share.quantity,
            amounts: line.credited.amounts.checked_add(share.amounts).unwrap_or(line.amounts),
        };
        if line.credited.quantity >= line.quantity {
            line.status = LineStatus::Cancelled;
        }
        if !touched.contains(&line.id) {
            touched.push(line.id);
        }
        let (quantity, unit_amount, tax_inclusive) = if share.by_net {
            (1, share.amounts.net, false)
        } else {
            (share.quantity, line.unit_amount, line.tax_inclusive)
        };
        lines.push(CreditNoteLine {
            line_id: Some(line.id),
            description: line.description.clone(),
            quantity,
            unit_amount,
            tax: line.tax.clone(),
            tax_inclusive,
            amounts: share.amounts,
        });
    }
    if let Some((extra, amounts)) = &plan.extra {
        lines.push(CreditNoteLine {
            line_id: None,
            description: extra.description.clone(),
            quantity: 1,
            unit_amount: amounts.net,
            tax: extra.tax.clone(),
            tax_inclusive: false,
            amounts: *amounts,
        });
    }
    let credit_note = CreditNote {
        id: CreditNoteId::from_uuid(ctx.ids.new_id()),
        tenant: inv.tenant,
        number,
        invoice_id: inv.id,
        invoice_number: document.number.clone(),
        invoice_issued_at: document.issued_at,
        currency: inv.currency,
        lines,
        reason: reason.clone(),
        settlement,
        issued_at: ctx.now,
    };
    inv.credit_notes.push(credit_note.clone());
    if !touched.is_empty() {
        b.change(Change::LinesUpdated(touched));
    }
    b.change(Change::CreditNoteIssued(credit_note.id));
    let settlement_events = match settlement {
        Settlement::ReduceDue => Vec::new(),
        Settlement::Refund | Settlement::CreditBalance => {
            settle_from_payments(b, &credit_note, settlement, plan.total, balance)
        }
    };
    Issued {
        credit_note,
        settlement_events,
    }
}

/// Takes `amount` back from the invoice's payments, newest first: to the
/// payer (a refund) or onto the customer's balance. Money that came from the
/// balance always goes back to it.
fn settle_from_payments(
    b: &mut Builder<'_>,
    credit_note: &CreditNote,
    settlement: Settlement,
    amount: Amount,
    mut balance: Amount,
) -> Vec<EventKind> {
    let ctx = b.ctx;
    let mut left = amount;
    let mut events = Vec::new();
    let reason_text = credit_note
        .reason
        .as_ref()
        .and_then(|r| r.text.clone())
        .or_else(|| Some(format!("credit note {}", credit_note.number)));
    let count = b.invoice().payments.len();
    for index in (0..count).rev() {
        if left.is_zero() {
            break;
        }
        let payment = &b.invoice().payments[index];
        let take = payment.net().min(left);
        let Ok(take) = PositiveAmount::new(take.minor()) else {
            continue;
        };
        let destination = match (settlement, payment.source) {
            (Settlement::Refund, PaymentSource::External) => RefundDestination::OriginalMethod,
            _ => RefundDestination::CustomerBalance,
        };
        let payment_id = payment.id;
        let refund_id = RefundId::from_uuid(ctx.ids.new_id());
        b.invoice().payments[index].refunds.push(Refund {
            id: refund_id,
            amount: take,
            reason: reason_text.clone(),
            refunded_at: ctx.now,
            destination,
        });
        left = left.saturating_sub(take.amount());
        b.change(Change::RefundRecorded {
            payment: payment_id,
            refund: refund_id,
        });
        events.push(EventKind::PaymentRefunded {
            payment_id,
            refund_id,
            amount: take.amount(),
        });
        if destination == RefundDestination::CustomerBalance {
            balance = balance.checked_add(take.amount()).unwrap_or(balance);
            let inv = b.invoice();
            let entry = BalanceEntry {
                id: BalanceEntryId::from_uuid(ctx.ids.new_id()),
                tenant: inv.tenant,
                customer: inv.customer.id.clone(),
                currency: inv.currency,
                direction: BalanceDirection::Credit,
                amount: take,
                balance_after: balance,
                invoice_id: inv.id,
                credit_note_id: Some(credit_note.id),
                payment_id: None,
                refund_id: Some(refund_id),
                at: ctx.now,
            };
            events.push(EventKind::BalanceChanged {
                customer_id: entry.customer.clone(),
                currency: entry.currency,
                direction: BalanceDirection::Credit,
                amount: take.amount(),
                balance,
            });
            b.balance_entry(entry);
        }
    }
    events
}

/// The number and issue date of an issued invoice: what its credit notes reference.
pub(super) struct IssuedAs {
    number: DocumentNumber,
    issued_at: chrono::DateTime<chrono::Utc>,
}

/// After a credit: an invoice with no active line and nothing paid is
/// cancelled; one that owes nothing more is paid. Emits the event.
pub(super) fn settle_status(b: &mut Builder<'_>, reason: Option<Reason>) -> Option<InvoiceStatus> {
    let ctx = b.ctx;
    let totals = b.invoice().totals();
    let closes_every_line = !b.invoice().lines.iter().any(|l| l.is_active());
    if closes_every_line && totals.amount_paid.is_zero() {
        let inv = b.invoice();
        inv.status = InvoiceStatus::Cancelled;
        inv.cancelled_at = Some(ctx.now);
        inv.cancellation = Some(ActionRecord {
            at: ctx.now,
            actor: ctx.actor.clone(),
            reason: reason.clone(),
        });
        inv.collection.halted = true;
        inv.collection.next_payment_attempt = None;
        b.event(EventKind::Cancelled { reason });
        return Some(InvoiceStatus::Cancelled);
    }
    if b.invoice().status.is_open_for_money() && totals.amount_due.is_zero() {
        b.mark_paid();
        return Some(InvoiceStatus::Paid);
    }
    None
}

impl Invoice {
    /// The number and issue date the credit notes of this invoice
    /// reference; a draft has none and is refused.
    pub(super) fn issued_as(&self) -> Result<IssuedAs, Refusal> {
        match (&self.number, self.issued_at) {
            (Some(number), Some(issued_at)) => Ok(IssuedAs {
                number: number.clone(),
                issued_at,
            }),
            _ => Err(Refusal::InvoiceIsDraft),
        }
    }

    /// Refuses a credit note on anything but an issued invoice that can
    /// still be corrected: open, uncollectible or paid.
    pub(super) fn ensure_creditable(&self) -> Result<IssuedAs, Refusal> {
        match self.status {
            InvoiceStatus::Open | InvoiceStatus::Uncollectible | InvoiceStatus::Paid => self.issued_as(),
            InvoiceStatus::Draft => Err(Refusal::InvoiceIsDraft),
            InvoiceStatus::Cancelled => Err(Refusal::InvoiceAlreadyCancelled),
            InvoiceStatus::Void => Err(Refusal::InvoiceAlreadyVoid),
        }
    }

    /// Checks that a credit of `total` can be settled as asked.
    fn check_settlement(&self, settlement: Settlement, total: Amount) -> Result<(), Refusal> {
        let totals = self.totals();
        match settlement {
            Settlement::ReduceDue if total > totals.amount_due => Err(Refusal::CreditExceedsAmountDue),
            Settlement::Refund | Settlement::CreditBalance if total > totals.amount_paid => {
                Err(Refusal::CreditExceedsAmountPaid)
            }
            _ => Ok(()),
        }
    }

    /// Issues a credit note on an open, uncollectible or paid invoice: whole
    /// lines, some of their units, a part of their net, and a goodwill
    /// amount, settled by reducing what is due, by a refund, or onto the
    /// customer's credit balance. Never beyond what is left of a line, never
    /// more than the total in all, never a refund beyond what was paid.
    ///
    /// `balance` is the customer's current credit balance in the invoice's
    /// currency (read in the same transaction); the number is drawn from
    /// `next_number` only once every check passed.
    pub fn credit<E>(
        &self,
        request: &CreditRequest,
        balance: Amount,
        ctx: Context<'_>,
        next_number: impl FnOnce() -> Result<DocumentNumber, E>,
    ) -> Result<Transition, NumberedError<E>> {
        let document = self.ensure_creditable()?;
        let plan = self.plan_credit(request.lines(), request.extra())?;
        self.check_settlement(request.settle(), plan.total())?;
        let number = next_number().map_err(NumberedError::Number)?;
        let total = plan.total();
        let mut b = Builder::new(self, ctx);
        let issued = issue(
            &mut b,
            &document,
            plan,
            number,
            request.reason().cloned(),
            request.settle(),
            balance,
        );
        b.event(EventKind::Credited {
            credit_note_id: issued.credit_note.id,
            amount: total,
            settlement: request.settle(),
            reason: request.reason().cloned(),
        });
        b.event(credit_note_issued(&issued.credit_note));
        for event in issued.settlement_events {
            b.event(event);
        }
        settle_status(&mut b, request.reason().cloned());
        Ok(b.finish())
    }
}

/// The `credit_note.issued` event of `note`.
pub(super) fn credit_note_issued(note: &CreditNote) -> EventKind {
    EventKind::CreditNoteIssued {
        credit_note_id: note.id,
        number: note.number.to_string(),
        total: note.total(),
    }
}

/// Plans the credit of a whole cancel, a void or a reissue, checks it can be
/// settled by reducing what is due, and issues it; `None` when nothing is
/// left to credit. Shared so that all three write the same document.
pub(super) fn credit_everything<E>(
    invoice: &Invoice,
    document: &IssuedAs,
    b: &mut Builder<'_>,
    reason: Option<Reason>,
    next_number: impl FnOnce() -> Result<DocumentNumber, E>,
) -> Result<Option<CreditNote>, NumberedError<E>> {
    let plan = invoice.plan_full_credit();
    if plan.is_empty() {
        return Ok(None);
    }
    let number = next_number().map_err(NumberedError::Number)?;
    let issued = issue(b, document, plan, number, reason, Settlement::ReduceDue, Amount::ZERO);
    Ok(Some(issued.credit_note))
}

impl Builder<'_> {
    /// Records a ledger entry of a customer's balance with the transition.
    pub(super) fn balance_entry(&mut self, entry: BalanceEntry) {
        self.transition.balance_entries.push(entry);
    }
}
