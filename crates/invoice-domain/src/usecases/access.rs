//! Who may do what to an invoice: the one party model every API face
//! (`/v1` and each dialect) gets from here, so that none of them can grant
//! more or less than another.
//!
//! A tenant-wide caller may take every action (its API scopes aside). A
//! party-restricted caller acts from the side of the invoice its party is
//! on: as **issuer** it reads and runs its own invoices (finalize, cancel,
//! credit, void, payments and refunds); as **customer** it reads, approves
//! and rejects, and nothing else.

use crate::model::ids::{PartyId, TenantId};
use crate::model::invoice::Invoice;
use crate::usecases::UseCaseError;

/// A side of an invoice a party can be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyRole {
    /// The seller or transporter who issued the invoice (`issuer.id`).
    Issuer,
    /// The payer the invoice is addressed to (`customer.id`).
    Customer,
}

impl PartyRole {
    /// The role's name as the documentation writes it.
    pub fn name(self) -> &'static str {
        match self {
            PartyRole::Issuer => "issuer",
            PartyRole::Customer => "customer",
        }
    }
}

/// An operation on an invoice, one per use case, each naming the roles a
/// party-restricted caller must hold to take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Get, list, audit trail, credit notes.
    Read,
    /// Create a draft.
    Create,
    /// Number and open a draft.
    Finalize,
    /// Cancel the whole invoice or some lines (a credit note when issued).
    Cancel,
    /// Issue a credit note: lines, units, part of a net, goodwill.
    Credit,
    /// Cancel an issued invoice and start its corrected draft.
    Reissue,
    /// Void an open invoice.
    Void,
    /// Write an open invoice off as uncollectible.
    MarkUncollectible,
    /// Record that an issued invoice was sent to its customer.
    MarkSent,
    /// Record a payment.
    RecordPayment,
    /// Refund (part of) a payment.
    Refund,
    /// Approve the pending approval level.
    Approve,
    /// Reject the invoice.
    Reject,
}

impl Action {
    /// Every action, in the order the documentation lists them.
    pub const ALL: [Action; 13] = [
        Action::Read,
        Action::Create,
        Action::Finalize,
        Action::Cancel,
        Action::Credit,
        Action::Reissue,
        Action::Void,
        Action::MarkUncollectible,
        Action::MarkSent,
        Action::RecordPayment,
        Action::Refund,
        Action::Approve,
        Action::Reject,
    ];

    /// The roles from which a party-restricted caller may take this action.
    /// The payer only reads and reviews: letting it cancel, void, credit or
    /// book money would let one party rewrite the other's claim, and letting
    /// the issuer approve would let it skip the payer's review.
    pub fn roles(self) -> &'static [PartyRole] {
        match self {
            Action::Read => &[PartyRole::Issuer, PartyRole::Customer],
            Action::Approve | Action::Reject => &[PartyRole::Customer],
            Action::Create
            | Action::Finalize
            | Action::Cancel
            | Action::Credit
            | Action::Reissue
            | Action::Void
            | Action::MarkUncollectible
            | Action::MarkSent
            | Action::RecordPayment
            | Action::Refund => &[PartyRole::Issuer],
        }
    }

    /// True when a party on the `role` side may take this action.
    pub fn permits(self, role: PartyRole) -> bool {
        self.roles().contains(&role)
    }

    /// The verb used in refusals ("only the invoice's issuer may cancel it").
    pub fn verb(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Finalize => "finalize",
            Action::Cancel => "cancel",
            Action::Credit => "credit",
            Action::Reissue => "reissue",
            Action::Void => "void",
            Action::MarkUncollectible => "mark uncollectible",
            Action::MarkSent => "mark sent",
            Action::RecordPayment => "record payments on",
            Action::Refund => "refund payments of",
            Action::Approve => "approve",
            Action::Reject => "reject",
        }
    }
}

/// What a caller may see and do: one tenant, and optionally one party in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The caller's tenant.
    pub tenant: TenantId,
    /// When set, the caller acts only as this party, on the invoices it is
    /// issuer or customer of.
    pub party: Option<PartyId>,
}

impl Scope {
    /// A scope over the whole tenant.
    pub fn tenant(tenant: TenantId) -> Self {
        Scope { tenant, party: None }
    }

    /// A scope restricted to `party` within `tenant`.
    pub fn party(tenant: TenantId, party: PartyId) -> Self {
        Scope {
            tenant,
            party: Some(party),
        }
    }

    /// The sides of `invoice` this scope's party is on (none for a
    /// tenant-wide scope).
    pub fn roles_on(&self, invoice: &Invoice) -> Vec<PartyRole> {
        let Some(party) = &self.party else {
            return Vec::new();
        };
        let mut roles = Vec::with_capacity(2);
        if invoice.issued_by(party) {
            roles.push(PartyRole::Issuer);
        }
        if &invoice.customer.id == party {
            roles.push(PartyRole::Customer);
        }
        roles
    }

    /// Refuses `action` on `invoice` unless this scope may take it:
    /// another tenant's invoice is [`UseCaseError::NotFound`], one the party
    /// is not on is [`UseCaseError::NotOwned`], and one it is on, but on a
    /// side that may not take `action`, is [`UseCaseError::NotPermitted`].
    /// A draft being created is always `NotPermitted` unless the party
    /// issues it, so that a party key can never create in another's name.
    pub fn authorize(&self, invoice: &Invoice, action: Action) -> Result<(), UseCaseError> {
        if invoice.tenant != self.tenant {
            return Err(UseCaseError::NotFound);
        }
        if self.party.is_none() {
            return Ok(());
        }
        let roles = self.roles_on(invoice);
        if roles.iter().any(|r| action.permits(*r)) {
            Ok(())
        } else if roles.is_empty() && action != Action::Create {
            Err(UseCaseError::NotOwned)
        } else {
            Err(UseCaseError::NotPermitted(action))
        }
    }
}
