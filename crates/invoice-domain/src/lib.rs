//! # invoice-domain
//!
//! The pure core of Storno: invoices as immutable documents, corrected only
//! by credit notes; finalizing, paying, refunding, cancelling (fully or line
//! by line), crediting, voiding and reissuing them; customers' credit
//! balances; the ports a storage adapter implements, and the use cases that
//! tie them together. No IO happens here: no database, no HTTP, no async
//! runtime.
//!
//! * [`prelude`]: one import for everything below that a program needs.
//! * [`model`]: values that are valid by construction (amounts, tax rates,
//!   currencies, numbers, parties, lines, the [`Invoice`] aggregate).
//! * [`commands`]: every request a caller can make, valid by construction.
//! * [`rules`]: every transition, returning a [`Transition`] or a [`Refusal`]
//!   with a stable code.
//! * [`ports`]: the traits adapters implement, with the transaction contract.
//! * [`usecases`]: load → decide → save, over the ports ([`InvoiceService`]).
//! * `memory` (feature `in-memory`): `InMemoryStore`, every storage port in
//!   memory.
//! * `conformance` (feature `conformance`): the tests every store passes.
//!
//! Features: `in-memory`, `conformance`, and `mock` (mockall mocks of every
//! port). None is on by default.
//!
//! ## Example
//!
//! An invoice's life through [`InvoiceService`], stored in an
//! `InMemoryStore` (feature `in-memory`); a database adapter implements the
//! same ports. Each call runs in one transaction, so what it does is stored
//! whole or not at all.
//!
//! ```
//! # #[cfg(feature = "in-memory")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use invoice_domain::prelude::*;
//!
//! let mut store = InMemoryStore::new();
//! let tenant = TenantId::new(1);
//! store.add_tenant(tenant);
//! let service = InvoiceService::new(SystemClock, UuidV7);
//! let (scope, actor) = (Scope::tenant(tenant), Actor::new("key_1", "example"));
//!
//! let customer = Party::parse("cust-1", "ACME GmbH", None, None, None)?;
//! let new = NewInvoice::builder(Currency::parse("EUR")?, customer)
//!     .line(NewLine::builder("Freight").product_id("freight").unit_amount(10_000).tax_rate("19").build()?)
//!     .line(NewLine::builder("Toll").product_id("toll").quantity(2).unit_amount(1_250).tax_rate("7").build()?)
//!     .build()?;
//! let draft = store.transaction(|s| service.create_draft(s, &scope, &actor, new))?.invoice;
//!
//! let reference = InvoiceRef::Id(draft.id);
//! let target = Target::new(&scope, &reference, &actor);
//! let open = store.transaction(|s| service.finalize(s, &target))?.invoice;
//! assert_eq!(open.number_text().as_deref(), Some("INV-000001"));
//! assert_eq!(open.totals().total.display(open.currency).to_string(), "145.75 EUR");
//!
//! // A refused call stores nothing.
//! let too_much = NewPayment::builder(PositiveAmount::new(20_000)?).method("card").build()?;
//! let refused = store.transaction(|s| service.record_payment(s, &target, too_much));
//! assert_eq!(refused.unwrap_err().code(), "overpayment");
//!
//! // Cancelling the toll leaves the document as issued and issues a credit note.
//! let toll = CancelRequest::lines(vec![LineRef::ProductId(ProductId::parse("toll")?)], None)?;
//! let cancelled = store.transaction(|s| service.cancel(s, &target, &toll))?.invoice;
//! assert_eq!(cancelled.credit_notes[0].number.to_string(), "CN-000001");
//! assert_eq!(cancelled.totals().amount_due.display(cancelled.currency).to_string(), "119.00 EUR");
//!
//! // A void credits the rest with a second credit note (the default policy).
//! let void = store.transaction(|s| service.void(s, &target, None))?.invoice;
//! assert_eq!((void.status, void.credit_notes.len()), (InvoiceStatus::Void, 2));
//! let events = store.transaction(|s| service.events(s, &scope, &reference))?;
//! assert_eq!(events.last().map(|e| e.kind.type_name()), Some("credit_note.issued"));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "in-memory"))]
//! # fn main() {}
//! ```

pub mod commands;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod einvoice;
pub mod error;
#[cfg(any(test, feature = "in-memory"))]
pub mod memory;
pub mod model;
pub mod ports;
pub mod prelude;
pub mod rules;
pub mod usecases;

pub use chrono;
pub use uuid;

pub use commands::{
    CancelRequest, CreditPortion, CreditRequest, CreditRequestBuilder, ExtraCredit, LineCreditRequest, LineEdit,
    NewInvoice, NewInvoiceBuilder, NewPayment, NewPaymentBuilder, RefundRequest, ReissueLines, ReissueRequest,
    Rejection, Settlement,
};
pub use einvoice::{DocumentLine, DocumentType, EDocument, Incomplete, Missing, Profile, SellerSource};
pub use error::{Refusal, RefusalCode, ValidationError};
#[cfg(feature = "in-memory")]
pub use memory::InMemoryStore;
pub use model::address::{CountryCode, PostalAddress};
pub use model::balance::{BalanceDirection, BalanceEntry, CustomerBalance};
pub use model::credit_note::{CreditNote, CreditNoteLine};
pub use model::event::{Actor, Event, EventKind};
pub use model::ids::{
    BalanceEntryId, CreditNoteId, EventId, InvoiceId, LineId, PartyId, PaymentId, ProductId, RefundId, TenantId,
    VariationId,
};
pub use model::invoice::{
    ActionRecord, Approval, CancellationRecord, Collection, CollectionMethod, Invoice, InvoiceStatus, Totals,
    UncollectibleRecord, VoidRecord,
};
pub use model::line::{Line, LineCredit, LineKind, LineRef, LineStatus, NewLine, NewLineBuilder};
pub use model::money::{Amount, Currency, LineAmounts, Money, PositiveAmount, TaxRate, MAX_AMOUNT};
pub use model::number::{DocumentCode, DocumentNumber, NumberFormat, NumberSlot, SeriesPrefix};
pub use model::party::Party;
pub use model::payment::{Payment, PaymentSource, Refund, RefundDestination};
pub use model::reason::{Reason, ReasonCode};
pub use model::seller::{Contact, ElectronicAddress, Iban, Locale, PaymentMeans, SellerProfile, VatId};
pub use model::tax::{ExemptionReason, LineTax, TaxCategory, TaxSubtotal};
pub use model::tenant::{TenantSettings, VoidPolicy};
pub use model::text::Metadata;
pub use ports::{
    BalanceRepository, Clock, DocumentKind, IdGenerator, InvoiceRef, InvoiceRepository, ListQuery, NumberAllocator,
    RepositoryError, SettingsRepository, SystemClock, UuidV7,
};
pub use rules::{Change, Reissue, Transition};
pub use usecases::{Action, InvoiceService, Page, PartyRole, Scope, Target, UseCaseError};

/// The crate README's example, compiled and run as a doctest so that it
/// cannot drift from the API.
#[cfg(all(doctest, feature = "in-memory"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeExample;
