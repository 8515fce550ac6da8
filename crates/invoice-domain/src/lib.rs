//! # invoice-domain
//!
//! The pure core of Storno: the invoice model, the rules for finalizing,
//! paying, cancelling (fully or line by line) and voiding invoices, the ports
//! a storage adapter implements, and the use cases that tie them together.
//! No IO happens here: no database, no HTTP, no async runtime.
//!
//! * [`model`]: values that are valid by construction (amounts, tax rates,
//!   currencies, numbers, parties, lines, the [`Invoice`] aggregate).
//! * [`commands`]: every request a caller can make, valid by construction.
//! * [`rules`]: every transition, returning a [`Transition`] or a [`Refusal`]
//!   with a stable code.
//! * [`ports`]: the traits adapters implement.
//! * [`usecases`]: load → decide → save, over the ports.
//!
//! ```
//! use invoice_domain::*;
//! use invoice_domain::rules::Context;
//!
//! // Ports: a fixed clock and sequential ids keep the example deterministic.
//! struct Ids(std::cell::Cell<u128>);
//! impl IdGenerator for Ids {
//!     fn new_id(&self) -> uuid::Uuid { self.0.set(self.0.get() + 1); uuid::Uuid::from_u128(self.0.get()) }
//! }
//! let ids = Ids(Default::default());
//! let actor = Actor::new("key_1", "example");
//! let ctx = Context { now: chrono::Utc::now(), actor: &actor, ids: &ids };
//! let number = |series: &str, sequence| DocumentNumber::new(SeriesPrefix::parse(series).unwrap(), sequence);
//!
//! let new = NewInvoice::builder(Currency::parse("EUR")?, Party::parse("cust-1", "ACME GmbH", None, None, None)?)
//!     .line(NewLine::builder("Freight").product_id("p-1").unit_amount(10_000).tax_rate("19").build()?)
//!     .line(NewLine::builder("Toll").product_id("p-2").quantity(2).unit_amount(1_250).tax_rate("7").build()?)
//!     .build()?;
//! let draft = Invoice::create_draft(TenantId::new(1), 1, new, ctx).invoice;
//! let open = draft.finalize(ctx, || number("INV", 52)).unwrap().invoice;
//! assert_eq!(open.number_text().as_deref(), Some("INV-000052"));
//! assert_eq!(open.totals().total.minor(), 11_900 + 2_675);
//!
//! // Cancel the toll line: the document stays as issued, a credit note is issued beside it.
//! let request = CancelRequest::lines(
//!     vec![LineRef::ProductId(ProductId::parse("p-2")?)],
//!     Some(Reason::new(ReasonCode::OrderChange, Some("toll waived"))?),
//! )?;
//! let t = open.cancel(&request, ctx, || number("CN", 7)).unwrap();
//! let totals = t.invoice.totals();
//! assert_eq!((totals.total.minor(), totals.amount_credited.minor()), (14_575, 2_675));
//! assert_eq!(totals.amount_due.minor(), 11_900);
//! assert_eq!(t.invoice.credit_notes[0].number.to_string(), "CN-000007");
//! assert_eq!(t.invoice.credit_notes[0].total().display(t.invoice.currency).to_string(), "26.75 EUR");
//!
//! // A void of the rest halts collection, leaves nothing due, and credits
//! // what was left with a second credit note.
//! let void = t.invoice.void(None, VoidPolicy::Always, ctx, || number("CN", 8)).unwrap().invoice;
//! assert_eq!(void.status, InvoiceStatus::Void);
//! assert!(void.collection.halted && void.totals().amount_due.is_zero());
//! assert_eq!(void.totals().amount_credited, void.totals().total);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod commands;
pub mod einvoice;
pub mod error;
pub mod model;
pub mod ports;
pub mod rules;
pub mod usecases;

pub use chrono;
pub use uuid;

pub use commands::{
    CancelRequest, CreditPortion, CreditRequest, ExtraCredit, LineCreditRequest, LineEdit, NewInvoice,
    NewInvoiceBuilder, NewPayment, RefundRequest, ReissueLines, ReissueRequest, Rejection, Settlement,
};
pub use einvoice::{DocumentLine, DocumentType, EDocument, Incomplete, Missing, Profile, SellerSource};
pub use error::{Refusal, ValidationError};
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
pub use usecases::{Action, InvoiceService, PartyRole, Scope, Target, UseCaseError};
