//! E-invoices: an issued invoice or a credit note as the document EN 16931
//! describes, and whether it holds everything the standard requires.
//!
//! * [`EDocument`]: the business terms of one document, assembled from an
//!   issued [`crate::Invoice`] or from a [`crate::CreditNote`] (its own
//!   lines, breakdown and totals) with the parties of its invoice. Adapters
//!   render it (UBL, HTML); they never look anything else up.
//! * [`check`]: the completeness rules, a pure function returning every
//!   missing or unusable field with its BT/BR id.
//! * [`codes`]: the code lists the rules check values against.

pub mod codes;
mod completeness;
mod document;

pub use completeness::{check, Incomplete, Missing};
pub use document::{DocumentLine, DocumentType, EDocument, Profile, SellerSource};
