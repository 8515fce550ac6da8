//! Builds and runs a small crate outside the workspace that depends on this
//! one by path, as a program reusing the domain would, and names every item
//! of the prelude. An item made private, renamed or dropped by mistake
//! breaks this build, and so CI.
//!
//! It runs cargo offline, from the registry the workspace has already
//! fetched, with the workspace's lock file, and keeps its build in the
//! target directory between runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAIN: &str = r#"
#![allow(unused_imports)] // naming each item is the check; not all are used
use std::cell::Cell;

use invoice_domain::prelude::{
    Action, Actor, Amount, Approval, BalanceDirection, BalanceEntry, BalanceEntryId, BalanceRepository,
    CancelRequest, Change, Clock, Collection, CollectionMethod, CreditNote, CreditNoteId, CreditNoteLine,
    CreditPortion, CreditRequest, CreditRequestBuilder, Currency, CustomerBalance, DateTime, DocumentKind,
    DocumentNumber, Event, EventId, EventKind, ExemptionReason, ExtraCredit, IdGenerator, InMemoryStore, Invoice,
    InvoiceId, InvoiceRef, InvoiceRepository, InvoiceService, InvoiceStatus, Line, LineAmounts, LineCreditRequest,
    LineEdit, LineId, LineRef, LineStatus, LineTax, ListQuery, Metadata, Money, NaiveDate, NewInvoice,
    NewInvoiceBuilder, NewLine, NewLineBuilder, NewPayment, NewPaymentBuilder, NumberAllocator, Page, Party,
    PartyId, PartyRole, Payment, PaymentId, PaymentSource, PositiveAmount, ProductId, Reason, ReasonCode, Refund,
    RefundDestination, RefundId, RefundRequest, Refusal, Reissue, ReissueLines, ReissueRequest, Rejection,
    RepositoryError, Scope, SeriesPrefix, SettingsRepository, Settlement, SystemClock, Target, TaxCategory,
    TaxRate, TenantId, TenantSettings, Totals, Transition, UseCaseError, Utc, Uuid, UuidV7, ValidationError,
    VariationId, VoidPolicy,
};

/// The ports implemented with the prelude's chrono and uuid types alone.
struct FixedClock(DateTime<Utc>);
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
struct Ids(Cell<u128>);
impl IdGenerator for Ids {
    fn new_id(&self) -> Uuid {
        self.0.set(self.0.get() + 1);
        Uuid::from_u128(self.0.get())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let due: NaiveDate = "2026-04-30".parse()?;
    let clock = FixedClock("2026-03-02T09:00:00Z".parse()?);
    let service: InvoiceService<FixedClock, Ids> = InvoiceService::new(clock, Ids(Cell::new(0)));
    let mut store = InMemoryStore::new();
    let tenant = TenantId::new(7);
    store.add_tenant(tenant);
    store.set_settings(tenant, TenantSettings { void_credit_note: VoidPolicy::Always, ..TenantSettings::default() })?;
    let scope = Scope::tenant(tenant);
    let actor = Actor::new("key_downstream", "downstream");

    let line: NewLineBuilder = NewLine::builder("Freight").product_id("freight").unit_amount(10_000).tax_rate("19");
    let request: NewInvoiceBuilder = NewInvoice::builder(Currency::parse("EUR")?, Party::parse("c-1", "ACME", None, None, None)?)
        .line(line.build()?)
        .due_date(due)
        .series(SeriesPrefix::parse("DS")?);
    let draft: Transition = store.transaction(|s| service.create_draft(s, &scope, &actor, request.build()?))?;
    let reference = InvoiceRef::Id(draft.invoice.id);
    let target = Target::new(&scope, &reference, &actor);
    store.transaction(|s| service.finalize(s, &target))?;

    let payment: NewPaymentBuilder = NewPayment::builder(PositiveAmount::new(11_900)?).method("card");
    let paid = store.transaction(|s| service.record_payment(s, &target, payment.build()?))?.invoice;
    let credit: CreditRequestBuilder = CreditRequest::builder(Settlement::CreditBalance)
        .line(LineCreditRequest::new(LineRef::ProductId(ProductId::parse("freight")?), CreditPortion::Rest)?)
        .reason(Reason::new(ReasonCode::OrderChange, None)?);
    let credited = store.transaction(|s| service.credit(s, &target, &credit.build()?))?.invoice;
    let balances: Vec<CustomerBalance> =
        store.transaction(|s| service.customer_balances(s, &scope, &PartyId::parse("c-1")?))?;
    let page: Page = store.transaction(|s| service.list(s, &scope, ListQuery { limit: 10, ..ListQuery::default() }))?;
    let refused: Result<Transition, UseCaseError> = store.transaction(|s| service.void(s, &target, None));
    let totals: Totals = credited.totals();
    let money: Money = totals.amount_credited.display(credited.currency);
    println!(
        "{} {} {} credited {} balance {} listed {} void {}",
        paid.number_text().unwrap_or_default(),
        paid.status.as_str(),
        credited.status.as_str(),
        money,
        balances[0].balance.display(credited.currency),
        page.invoices.len(),
        refused.err().map(|e| e.code()).unwrap_or("accepted"),
    );
    Ok(())
}
"#;

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

#[test]
fn a_crate_outside_the_workspace_builds_and_runs_on_the_prelude() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = TempDir(std::env::temp_dir().join(format!("invoice-domain-downstream-{}", std::process::id())));
    fs::create_dir_all(dir.0.join("src")).expect("create the crate directory");
    // An empty `[workspace]` makes it a workspace of its own, whatever
    // directory it sits in.
    let manifest = format!(
        "[package]\nname = \"downstream-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\ninvoice-domain = {{ path = {:?}, features = [\"in-memory\"] }}\n\n[workspace]\n",
        manifest_dir.display().to_string()
    );
    write(&dir.0.join("Cargo.toml"), &manifest);
    write(&dir.0.join("src/main.rs"), MAIN);
    // The workspace's lock file pins the versions the registry already has.
    let lock = manifest_dir.join("../../Cargo.lock");
    if lock.exists() {
        fs::copy(&lock, dir.0.join("Cargo.lock")).expect("copy the lock file");
    }

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("downstream-target");
    let out = Command::new(cargo)
        .args(["run", "--offline", "--quiet"])
        .current_dir(&dir.0)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the downstream crate failed to build or run:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim(),
        "DS-000001 paid cancelled credited 119.00 EUR balance 119.00 EUR listed 1 void invoice_already_cancelled"
    );
}
