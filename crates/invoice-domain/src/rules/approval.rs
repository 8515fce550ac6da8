//! Payer approval, level by level, or rejection.

use crate::error::Refusal;
use crate::error::ValidationError;
use crate::model::event::EventKind;
use crate::model::invoice::{Approval, Invoice, InvoiceStatus};
use crate::model::text::required_text;
use crate::rules::{Builder, Context, Transition};

/// A payer's rejection: reasons and an optional remark.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rejection {
    /// Reasons, each at most 500 characters.
    pub reasons: Vec<String>,
    /// Free remark, at most 500 characters.
    pub remark: Option<String>,
}

impl Rejection {
    /// Parses a rejection: at most 20 reasons.
    pub fn parse(reasons: Vec<String>, remark: Option<String>) -> Result<Self, ValidationError> {
        if reasons.len() > 20 {
            return Err(ValidationError::new("reasons", "must have at most 20 entries"));
        }
        for r in &reasons {
            required_text(r, "reasons", 500)?;
        }
        if let Some(r) = &remark {
            required_text(r, "remark", 500)?;
        }
        Ok(Rejection { reasons, remark })
    }
}

impl Invoice {
    fn ensure_pending_approval(&self) -> Result<(u8, u8), Refusal> {
        self.ensure_not_terminal()?;
        if self.status != InvoiceStatus::Open {
            return Err(Refusal::InvoiceNotOpen);
        }
        match self.approval {
            Approval::Pending { level, required } => Ok((level, required)),
            _ => Err(Refusal::ApprovalNotPending),
        }
    }

    /// Approves the pending level; the last level makes the invoice approved.
    pub fn approve(&self, ctx: Context<'_>) -> Result<Transition, Refusal> {
        let (level, required) = self.ensure_pending_approval()?;
        let fully_approved = level >= required;
        let mut b = Builder::new(self, ctx);
        b.invoice().approval = if fully_approved {
            Approval::Approved { at: ctx.now }
        } else {
            Approval::Pending {
                level: level + 1,
                required,
            }
        };
        b.event(EventKind::Approved { level, fully_approved });
        Ok(b.finish())
    }

    /// Rejects the invoice at its pending level.
    pub fn reject(&self, rejection: Rejection, ctx: Context<'_>) -> Result<Transition, Refusal> {
        self.ensure_pending_approval()?;
        let mut b = Builder::new(self, ctx);
        b.invoice().approval = Approval::Rejected {
            at: ctx.now,
            reasons: rejection.reasons.clone(),
            remark: rejection.remark.clone(),
        };
        b.event(EventKind::Rejected {
            reasons: rejection.reasons,
            remark: rejection.remark,
        });
        Ok(b.finish())
    }
}
