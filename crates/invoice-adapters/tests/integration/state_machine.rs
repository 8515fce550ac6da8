//! The real use cases and stores against the reference model of the domain
//! crate (`invoice-domain/src/rules/reference_model.rs`), on SQLite and on
//! PostgreSQL: generated cases aimed at the boundaries, and after every
//! operation the outcome (or exact refusal code), the events written, and
//! the invoice, payments, credit notes and customer balance read back from
//! the database must be what the model predicts. A refusal must leave the
//! stored invoice exactly as it was. Numbers must be gapless. The run must
//! reach every status and every refusal code.

use std::cell::RefCell;
use std::collections::BTreeSet;

use diesel::prelude::*;
use invoice_adapters::outbound::db::schema::{credit_notes, events, invoices};
use invoice_adapters::outbound::db::{repository_error, settings, Database};
use invoice_domain::*;
use proptest::test_runner::TestCaseError;

use crate::support::*;

use crate::reference_model::{self, Case, Cmd, Coverage, Model, Request, Snapshot};

/// Operations tried on an invoice once it is cancelled or void.
const TERMINAL_STEPS: usize = 3;

/// Generated cases per backend.
const CASES: u32 = 256;
/// Most operations per case.
const MAX_OPS: usize = 16;
/// Weight of "a thousand payments" among the operations (a few per run).
const FILL: u32 = 6;

/// One backend's run: the database, its tenant, the tenant settings last
/// written, and the counts that the gapless check needs.
struct Run<'a> {
    db: &'a Database,
    tenant: TenantId,
    settings: TenantSettings,
    customers: u64,
    finalized: u64,
    notes: u64,
}

impl Run<'_> {
    /// Writes the tenant settings a command needs (in their own
    /// transaction, so a refusal does not roll them back).
    fn settings_for(&mut self, cmd: &Cmd) {
        let mut wanted = self.settings.clone();
        match cmd {
            Cmd::Finalize { apply_balance } => wanted.apply_credit_balance = *apply_balance,
            Cmd::Void { always } => {
                wanted.void_credit_note = if *always { VoidPolicy::Always } else { VoidPolicy::Never }
            }
            _ => return,
        }
        if wanted != self.settings {
            self.db
                .write_conn(|c| settings::save(c, self.tenant, &wanted))
                .expect("save settings");
            self.settings = wanted;
        }
    }

    /// Runs `request` on invoice `id` through the use cases.
    fn run(&self, id: InvoiceId, request: Request) -> Result<Vec<Transition>, UseCaseError> {
        execute(self.db, self.tenant, id, request)
    }

    fn stored(&self, id: InvoiceId) -> Invoice {
        get(self.db, self.tenant, id).expect("stored invoice")
    }

    fn balance(&self, customer: &PartyId) -> u64 {
        self.db
            .read(|s| s.balance(self.tenant, customer, Currency::parse("EUR").unwrap()))
            .expect("balance")
            .minor()
    }

    /// Event types written for `id` after `version`, and every one's version.
    fn events_after(&self, id: InvoiceId, version: u64) -> Vec<(String, i64)> {
        self.db
            .read_conn(|c| {
                events::table
                    .filter(events::tenant_id.eq(self.tenant.get()))
                    .filter(events::invoice_id.eq(id.to_string()))
                    .filter(events::invoice_version.gt(i64::try_from(version).unwrap()))
                    .order(events::seq)
                    .select((events::event_type, events::invoice_version))
                    .load(c)
                    .map_err(repository_error)
            })
            .expect("events")
    }

    /// The invoice version the last event of `id` points at, as stored.
    fn last_snapshot(&self, id: InvoiceId) -> Invoice {
        let version: i64 = self
            .db
            .read_conn(|c| {
                events::table
                    .filter(events::tenant_id.eq(self.tenant.get()))
                    .filter(events::invoice_id.eq(id.to_string()))
                    .order(events::seq.desc())
                    .select(events::invoice_version)
                    .first(c)
                    .map_err(repository_error)
            })
            .expect("last event");
        let version = u64::try_from(version).expect("a positive version");
        self.db
            .read(|s| s.find_version(self.tenant, id, version))
            .expect("read the version")
            .expect("the last event's version row exists")
    }

    /// Checks what is stored of `id` against the model after an accepted
    /// command that emitted `predicted` events.
    fn check_stored(
        &self,
        id: InvoiceId,
        before: u64,
        predicted: &[&'static str],
        model: &Model,
    ) -> Result<Invoice, TestCaseError> {
        let stored = self.stored(id);
        proptest::prop_assert_eq!(observe(&stored), model.snapshot(), "the stored invoice");
        proptest::prop_assert_eq!(stored.version, before + 1, "the version went up by one");
        let written = self.events_after(id, before);
        let types: Vec<&str> = written.iter().map(|(t, _)| t.as_str()).collect();
        proptest::prop_assert_eq!(&types, &predicted.to_vec(), "the events written");
        let at = i64::try_from(stored.version).unwrap();
        proptest::prop_assert!(written.iter().all(|(_, v)| *v == at), "every event at the new version");
        proptest::prop_assert_eq!(&self.last_snapshot(id), &stored, "the last event's snapshot");
        Ok(stored)
    }
}

/// Runs `request` on invoice `id` of `tenant` through the use cases, in one
/// write transaction. Finalize and void follow the tenant's settings.
pub fn execute(
    db: &Database,
    tenant: TenantId,
    id: InvoiceId,
    request: Request,
) -> Result<Vec<Transition>, UseCaseError> {
    let svc = service();
    act_many(db, tenant, id, |s, t| {
        let one = |r: Result<Transition, UseCaseError>| r.map(|t| vec![t]);
        match request {
            Request::Finalize { .. } => one(svc.finalize(s, t)),
            Request::Pay(p) => one(svc.record_payment(s, t, p)),
            Request::Refund(r) => one(svc.refund(s, t, r)),
            Request::Cancel(r) => one(svc.cancel(s, t, &r)),
            Request::Credit(r) => one(svc.credit(s, t, &r)),
            Request::Void(_) => one(svc.void(s, t, None)),
            Request::WriteOff => one(svc.mark_uncollectible(s, t, None)),
            Request::Approve => one(svc.approve(s, t)),
            Request::Reject(r) => one(svc.reject(s, t, r)),
            Request::Reissue(r) => svc.reissue(s, t, &r).map(|r| vec![r.cancelled, r.replacement]),
            Request::MarkSent => one(svc.mark_sent(s, t)),
        }
    })
}

/// Runs `work` in one write transaction on invoice `id` of `tenant`.
fn act_many<T>(
    db: &Database,
    tenant: TenantId,
    id: InvoiceId,
    work: impl FnOnce(&mut invoice_adapters::outbound::db::DieselStore<'_>, &Target<'_>) -> Result<T, UseCaseError>,
) -> Result<T, UseCaseError> {
    let scope = Scope::tenant(tenant);
    let reference = InvoiceRef::Id(id);
    let actor = actor();
    let target = Target {
        scope: &scope,
        reference: &reference,
        actor: &actor,
        expected_version: None,
    };
    db.write(|s| work(s, &target))
}

fn observe(inv: &Invoice) -> Snapshot {
    reference_model::observe(inv)
}

fn code(e: UseCaseError) -> Result<&'static str, TestCaseError> {
    match e {
        UseCaseError::Refused(r) => Ok(r.code()),
        other => Err(TestCaseError::fail(format!(
            "only refusals are expected, got {other:?}"
        ))),
    }
}

/// A draft for `customer` in the run's tenant.
fn create_draft(run: &Run<'_>, lines: Vec<NewLine>, levels: u8, customer: &PartyId) -> Invoice {
    let new = NewInvoice::builder(
        Currency::parse("EUR").unwrap(),
        Party::parse(customer.as_str(), "Customer", None, None, None).unwrap(),
    )
    .issuer(Party::parse("trp-1", "Transporter Ltd", None, None, None).unwrap())
    .lines(lines)
    .approval_levels(levels)
    .build()
    .unwrap();
    let scope = Scope::tenant(run.tenant);
    run.db
        .write(|s| service().create_draft(s, &scope, &actor(), new))
        .expect("create draft")
        .invoice
}

/// Gives `customer` a credit balance of `amount` the way a customer gets
/// one: an invoice paid in full and credited onto the balance.
fn open_balance(run: &mut Run<'_>, customer: &PartyId, amount: u64) {
    let line = NewLine::builder("deposit")
        .unit_amount(i64::try_from(amount).unwrap())
        .build()
        .unwrap();
    let inv = create_draft(run, vec![line], 0, customer);
    let positive = PositiveAmount::new(amount).unwrap();
    run.settings_for(&Cmd::Finalize { apply_balance: false });
    act_many(run.db, run.tenant, inv.id, |s, t| {
        let svc = service();
        svc.finalize(s, t)?;
        svc.record_payment(s, t, NewPayment::new(positive, None, None)?)?;
        let goodwill = ExtraCredit::new("deposit", positive, LineTax::standard(TaxRate::ZERO))?;
        svc.credit(
            s,
            t,
            &CreditRequest::new(vec![], Some(goodwill), None, Settlement::CreditBalance)?,
        )
    })
    .expect("open a balance");
    run.finalized += 1;
    run.notes += 1;
    assert_eq!(run.balance(customer), amount, "the opening balance");
}

/// Runs one command on the model and the store; they must agree. Returns
/// the outcome for the coverage table.
fn step(
    run: &mut Run<'_>,
    model: &mut Model,
    inv: &mut Invoice,
    cmd: &Cmd,
    customer: &PartyId,
) -> Result<Result<(), &'static str>, TestCaseError> {
    run.settings_for(cmd);
    let predicted = model.apply(cmd);
    let before = inv.clone();
    let actual = run.run(inv.id, Request::of(cmd, inv));
    match (predicted, actual) {
        (Err(expected), Err(e)) => {
            let got = code(e)?;
            proptest::prop_assert_eq!(got, expected, "{:?}: the refusal code", cmd);
            proptest::prop_assert_eq!(&run.stored(inv.id), &before, "a refusal changes nothing");
            Ok(Err(got))
        }
        (Ok(effects), Ok(transitions)) => {
            let notes = transitions[0].invoice.credit_notes.len() - before.credit_notes.len();
            run.notes += u64::try_from(notes).unwrap();
            if matches!(cmd, Cmd::Finalize { .. }) {
                run.finalized += 1;
            }
            let stored = run.check_stored(inv.id, before.version, &effects.events, model)?;
            proptest::prop_assert_eq!(&transitions[0].invoice, &stored, "what the use case returned is stored");
            proptest::prop_assert_eq!(run.balance(customer), model.balance, "the customer's balance");
            *inv = stored;
            if let Some((draft, events)) = effects.replacement {
                let new_id = transitions
                    .get(1)
                    .map(|t| t.invoice.id)
                    .ok_or_else(|| TestCaseError::fail("a reissue made no new draft"))?;
                proptest::prop_assert_eq!(inv.replaced_by, Some(new_id));
                *model = draft;
                let stored = run.check_stored(new_id, 0, &events, model)?;
                proptest::prop_assert_eq!(stored.replaces, Some(inv.id));
                *inv = stored;
            }
            Ok(Ok(()))
        }
        (predicted, actual) => Err(TestCaseError::fail(format!(
            "{cmd:?} on {:?}: the model predicted {:?}, the store gave {:?}",
            model.snapshot(),
            predicted.map(|e| e.events),
            actual.map(|t| t.iter().map(|t| t.invoice.status).collect::<Vec<_>>())
        ))),
    }
}

/// A thousand payments of 1 and one more, in one transaction, each
/// predicted by the model; stops at the first refusal.
fn fill_payments(
    run: &mut Run<'_>,
    model: &mut Model,
    inv: &mut Invoice,
    coverage: &mut Coverage,
) -> Result<(), TestCaseError> {
    let before = inv.version;
    let mut mismatch = None;
    let mut accepted = 0;
    let mut events = Vec::new();
    let pay = Cmd::Pay(1);
    let svc = service();
    let committed = act_many(run.db, run.tenant, inv.id, |s, t| {
        while model.payment_count() <= reference_model::MAX_PAYMENTS {
            let predicted = model.apply(&pay);
            let Request::Pay(p) = Request::of(&pay, inv) else {
                unreachable!("a payment is a payment")
            };
            let actual = svc.record_payment(s, t, p).map_err(|e| e.code());
            match (predicted, actual) {
                (Ok(e), Ok(_)) => {
                    accepted += 1;
                    events.extend(e.events);
                    coverage.command("pay 1 (a thousand times)", &Ok(()));
                }
                (Err(expected), Err(got)) if expected == got => {
                    coverage.command("pay 1 (a thousand times)", &Err(got));
                    break;
                }
                (predicted, actual) => {
                    mismatch = Some(format!(
                        "payment {}: predicted {:?}, got {actual:?}",
                        accepted + 1,
                        predicted.map(|e| e.events)
                    ));
                    break;
                }
            }
        }
        Ok::<_, UseCaseError>(())
    });
    // A mismatch is the finding; a failed commit after it is its echo.
    match (mismatch, committed) {
        (Some(m), Ok(())) => return Err(TestCaseError::fail(m)),
        (Some(m), Err(e)) => return Err(TestCaseError::fail(format!("{m}; then the commit failed: {e:?}"))),
        (None, Err(e)) => return Err(TestCaseError::fail(format!("the payments did not commit: {e:?}"))),
        (None, Ok(())) => {}
    }
    let stored = run.stored(inv.id);
    proptest::prop_assert_eq!(observe(&stored), model.snapshot(), "after the payments");
    proptest::prop_assert_eq!(stored.version, before + accepted);
    let written: Vec<String> = run.events_after(inv.id, before).into_iter().map(|(t, _)| t).collect();
    proptest::prop_assert_eq!(written, events.iter().map(ToString::to_string).collect::<Vec<_>>());
    *inv = stored;
    Ok(())
}

fn run_case(run: &mut Run<'_>, case: &Case, coverage: &mut Coverage) -> Result<(), TestCaseError> {
    run.customers += 1;
    let customer = PartyId::parse(&format!("c{}", run.customers)).unwrap();
    let opening = case.opening_balance();
    if opening > 0 {
        open_balance(run, &customer, opening);
    }
    let lines = case.lines.iter().map(reference_model::LineSpec::new_line).collect();
    let mut inv = create_draft(run, lines, case.levels, &customer);
    let mut model = Model::draft(&case.lines, case.levels, opening);
    proptest::prop_assert_eq!(observe(&inv), model.snapshot(), "the new draft");
    coverage.cases += 1;
    coverage.status(model.status().name());
    let mut after_the_end = 0;
    for op in &case.ops {
        // A few operations on a cancelled or void invoice show it refuses
        // them (all but marking it sent, if it was issued); more would only
        // repeat that.
        if model.is_terminal() {
            after_the_end += 1;
            if after_the_end > TERMINAL_STEPS {
                break;
            }
        }
        match model.command(op) {
            Some(cmd) => {
                let outcome = step(run, &mut model, &mut inv, &cmd, &customer)?;
                coverage.command(cmd.name(), &outcome);
            }
            None => fill_payments(run, &mut model, &mut inv, coverage)?,
        }
        coverage.status(model.status().name());
    }
    // The balance is the sum of its ledger.
    let balances = run.db.read(|s| s.balances(run.tenant, &customer)).unwrap();
    for b in &balances {
        let (credits, debits) = b.entries.iter().fold((0u64, 0u64), |(c, d), e| match e.direction {
            BalanceDirection::Credit => (c + e.amount.minor(), d),
            BalanceDirection::Debit => (c, d + e.amount.minor()),
        });
        proptest::prop_assert_eq!(
            Some(b.balance.minor()),
            credits.checked_sub(debits),
            "the ledger sums to the balance"
        );
    }
    // Each event points at a stored version of the invoice, and the last
    // of them is the invoice as stored now.
    let (events, versions) = run
        .db
        .read(|s| {
            let events = s.events(run.tenant, inv.id)?;
            let mut versions = Vec::new();
            for e in &events {
                versions.push(s.find_version(run.tenant, inv.id, e.invoice_version)?);
            }
            Ok::<_, RepositoryError>((events, versions))
        })
        .unwrap();
    for (e, v) in events.iter().zip(&versions) {
        let v = v
            .as_ref()
            .ok_or_else(|| TestCaseError::fail(format!("no version row for {e:?}")))?;
        proptest::prop_assert_eq!(v.version, e.invoice_version, "the version row is the event's version");
    }
    let last = versions.last().cloned().flatten();
    proptest::prop_assert_eq!(
        last.as_ref(),
        Some(&inv),
        "the last event's version row is the stored invoice"
    );
    Ok(())
}

/// The numbers in `column` of the tenant's rows: 1 to n without a gap.
fn gapless(numbers: Vec<i64>, expected: u64, what: &str, backend: &str) {
    let set: BTreeSet<i64> = numbers.iter().copied().collect();
    let n = i64::try_from(expected).unwrap();
    assert_eq!(set.len(), numbers.len(), "{backend}: no {what} number twice");
    assert_eq!(
        set,
        (1..=n).collect(),
        "{backend}: {what} numbers are 1 to {n}, without gaps"
    );
}

fn run_backend(t: &TestDb) -> Coverage {
    let tenant = tenant(&t.db, "model");
    let run = Run {
        db: &t.db,
        tenant,
        settings: TenantSettings::default(),
        customers: 0,
        finalized: 0,
        notes: 0,
    };
    let (mut runner, seed) = reference_model::runner(CASES);
    let coverage = RefCell::new(Coverage::default());
    let shared = RefCell::new(run);
    let result = runner.run(&reference_model::arb_case(MAX_OPS, FILL), |case| {
        run_case(&mut shared.borrow_mut(), &case, &mut coverage.borrow_mut())
    });
    let run = shared.into_inner();
    if let Err(e) = result {
        panic!("{}: {e}\n(MODEL_SEED={seed} repeats this run)", t.backend);
    }
    let (invoice_numbers, note_numbers) =
        t.db.read_conn(|c| {
            let i = invoices::table
                .filter(invoices::tenant_id.eq(tenant.get()))
                .filter(invoices::number_seq.is_not_null())
                .select(invoices::number_seq.assume_not_null())
                .load::<i64>(c)
                .map_err(repository_error)?;
            let n = credit_notes::table
                .filter(credit_notes::tenant_id.eq(tenant.get()))
                .select(credit_notes::number_seq)
                .load::<i64>(c)
                .map_err(repository_error)?;
            Ok::<_, RepositoryError>((i, n))
        })
        .unwrap();
    gapless(invoice_numbers, run.finalized, "invoice", t.backend);
    gapless(note_numbers, run.notes, "credit-note", t.backend);
    let coverage = coverage.into_inner();
    let table = coverage.table(&format!(
        "store state machine [{}] (seed {seed}; {} invoices and {} credit notes numbered)",
        t.backend, run.finalized, run.notes
    ));
    eprintln!("{table}");
    let missing = coverage.missing();
    assert!(missing.is_empty(), "{}: never reached: {missing:?}\n{table}", t.backend);
    eprint!("{}", coverage.figures(t.backend, seed));
    eprintln!(
        "figure: state machine | {} | {} invoice numbers and {} credit-note numbers drawn, each series 1 to n without a gap",
        t.backend, run.finalized, run.notes
    );
    coverage
}

#[test]
fn the_sqlite_store_agrees_with_the_reference_model_on_every_step() {
    run_backend(&sqlite());
}

#[test]
#[cfg_attr(postgres_missing, ignore = "SKIPPED: PostgreSQL (initdb, pg_ctl) is not installed")]
fn the_postgres_store_agrees_with_the_reference_model_on_every_step() {
    run_backend(&postgres());
}
