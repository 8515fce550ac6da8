//! # invoice-domain
//!
//! The pure core of Storno: the invoice model, the rules for finalizing,
//! paying, cancelling (fully or line by line) and voiding invoices, the ports
//! a storage adapter implements, and the use cases that tie them together.
//! No IO happens here: no database, no HTTP, no async runtime.
//!
//! * [`model`]: values that are valid by construction (amounts, tax rates,
//!   currencies, numbers, parties, lines, the [`Invoice`] aggregate).
//! * [`rules`]: every transition, returning a [`Transition`] or a [`Refusal`]
//!   with a stable code.
//! * [`ports`]: the traits adapters implement.
//! * [`usecases`]: load → decide → save, over the ports.
//!
//! ```
//! use invoice_domain::*;
//! use invoice_domain::rules::{CancelRequest, Context, NewInvoice};
//!
//! // Ports: a fixed clock and sequential ids keep the example deterministic.
//! struct Ids(std::cell::Cell<u128>);
//! impl IdGenerator for Ids {
//!     fn new_id(&self) -> uuid::Uuid { self.0.set(self.0.get() + 1); uuid::Uuid::from_u128(self.0.get()) }
//! }
//! let ids = Ids(Default::default());
//! let actor = Actor::new("key_1", "example");
//! let ctx = Context { now: chrono::Utc::now(), actor: &actor, ids: &ids };
//!
//! let new = NewInvoice {
//!     currency: Currency::parse("EUR")?,
//!     customer: Party::parse("cust-1", "ACME GmbH", None, None, None)?,
//!     issuer: None,
//!     lines: vec![
//!         NewLine::parse(Some("p-1"), None, "Freight", 1, 10_000, "19", false)?,
//!         NewLine::parse(Some("p-2"), None, "Toll", 2, 1_250, "7", false)?,
//!     ],
//!     due_date: None,
//!     series: None,
//!     external_reference: None,
//!     approval_levels: 0,
//!     collection_method: CollectionMethod::Automatic,
//!     metadata: Default::default(),
//! };
//! let draft = Invoice::create_draft(TenantId::new(1), new, ctx)?.invoice;
//! let open = draft.finalize(ctx, || Ok::<_, std::convert::Infallible>(52)).unwrap().invoice;
//! assert_eq!(open.number_text().as_deref(), Some("INV-000052"));
//! assert_eq!(open.totals().total.minor(), 11_900 + 2_675);
//!
//! // Cancel the toll line: totals are recomputed and a credit note is issued.
//! let request = CancelRequest {
//!     lines: vec![LineRef::ProductId(ProductId::parse("p-2")?)],
//!     reason: Some(Reason::new(ReasonCode::OrderChange, Some("toll waived"))?),
//! };
//! let t = open.cancel(&request, ctx, || Ok::<_, std::convert::Infallible>(7)).unwrap();
//! assert_eq!(t.invoice.totals().total.minor(), 11_900);
//! assert_eq!(t.invoice.credit_notes[0].number.to_string(), "CN-000007");
//! assert_eq!(t.invoice.credit_notes[0].total().minor(), 2_675);
//!
//! // A void of the rest halts collection and leaves nothing due.
//! let void = t.invoice.void(None, ctx)?.invoice;
//! assert_eq!(void.status, InvoiceStatus::Void);
//! assert!(void.collection.halted && void.totals().amount_due.is_zero());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod model;
pub mod ports;
pub mod rules;
pub mod usecases;

pub use error::{Refusal, ValidationError};
pub use model::credit_note::{CreditNote, CreditNoteLine};
pub use model::event::{Actor, Event, EventKind};
pub use model::ids::{
    CreditNoteId, EventId, InvoiceId, LineId, PartyId, PaymentId, ProductId, RefundId, TenantId, VariationId,
};
pub use model::invoice::{
    Approval, CancellationRecord, Collection, CollectionMethod, Invoice, InvoiceStatus, Totals, VoidRecord,
};
pub use model::line::{Line, LineRef, LineStatus, NewLine};
pub use model::money::{Amount, Currency, LineAmounts, TaxRate};
pub use model::number::{DocumentNumber, SeriesPrefix};
pub use model::party::Party;
pub use model::payment::{Payment, Refund};
pub use model::reason::{Reason, ReasonCode};
pub use model::text::Metadata;
pub use ports::{
    Clock, DocumentKind, IdGenerator, InvoiceRef, InvoiceRepository, ListQuery, NumberAllocator, RepositoryError,
    SystemClock, UuidV7,
};
pub use rules::{Change, Transition};
pub use usecases::{Action, InvoiceService, PartyRole, Scope, Target, UseCaseError};
