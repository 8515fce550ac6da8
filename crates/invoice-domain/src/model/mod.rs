//! The invoice model: values that are valid by construction.

pub mod address;
pub mod balance;
pub mod credit_note;
pub mod event;
pub mod ids;
pub mod invoice;
pub mod line;
pub mod money;
pub mod number;
pub mod party;
pub mod payment;
pub mod reason;
pub mod seller;
pub mod tax;
pub mod tenant;
pub mod text;

#[cfg(test)]
mod money_tests;
