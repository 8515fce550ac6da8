//! Everything a program that reuses the domain needs, in one import:
//! `use invoice_domain::prelude::*;`.
//!
//! It holds every command and request type with its builder, the values
//! they are made of, the service and its targets, the ports with the types
//! their methods take and return, the results and errors, and the `chrono`
//! and `uuid` types that appear in port signatures, so that implementing
//! [`Clock`] or [`IdGenerator`] needs no direct dependency on either crate.
//! Anything else stays reachable through its module.

pub use chrono::{DateTime, NaiveDate, Utc};
pub use uuid::Uuid;

pub use crate::commands::{
    CancelRequest, CreditPortion, CreditRequest, CreditRequestBuilder, ExtraCredit, LineCreditRequest, LineEdit,
    NewInvoice, NewInvoiceBuilder, NewPayment, NewPaymentBuilder, RefundRequest, ReissueLines, ReissueRequest,
    Rejection, Settlement,
};
pub use crate::error::{Refusal, RefusalCode, ValidationError};
#[cfg(feature = "in-memory")]
pub use crate::memory::InMemoryStore;
pub use crate::model::balance::{BalanceDirection, BalanceEntry, CustomerBalance};
pub use crate::model::credit_note::{CreditNote, CreditNoteLine};
pub use crate::model::event::{Actor, Event, EventKind};
pub use crate::model::ids::{
    BalanceEntryId, CreditNoteId, EventId, InvoiceId, LineId, PartyId, PaymentId, ProductId, RefundId, TenantId,
    VariationId,
};
pub use crate::model::invoice::{Approval, Collection, CollectionMethod, Invoice, InvoiceStatus, Totals};
pub use crate::model::line::{Line, LineRef, LineStatus, NewLine, NewLineBuilder};
pub use crate::model::money::{Amount, Currency, LineAmounts, Money, PositiveAmount, TaxRate};
pub use crate::model::number::{DocumentNumber, SeriesPrefix};
pub use crate::model::party::Party;
pub use crate::model::payment::{Payment, PaymentSource, Refund, RefundDestination};
pub use crate::model::reason::{Reason, ReasonCode};
pub use crate::model::tax::{ExemptionReason, LineTax, TaxCategory};
pub use crate::model::tenant::{TenantSettings, VoidPolicy};
pub use crate::model::text::Metadata;
pub use crate::ports::{
    BalanceRepository, Clock, DocumentKind, IdGenerator, InvoiceRef, InvoiceRepository, ListQuery, NumberAllocator,
    RepositoryError, SettingsRepository, SystemClock, UuidV7,
};
pub use crate::rules::{Change, Reissue, Transition};
pub use crate::usecases::{Action, InvoiceService, Page, PartyRole, Scope, Target, UseCaseError};
