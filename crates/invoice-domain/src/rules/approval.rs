//! Payer approval, level by level, or rejection.

use crate::commands::Rejection;
use crate::error::Refusal;
use crate::model::event::EventKind;
use crate::model::invoice::{Approval, Invoice};
use crate::rules::{Builder, Context, Transition};

impl Invoice {
    fn ensure_pending_approval(&self) -> Result<(u8, u8), Refusal> {
        self.ensure_not_terminal()?;
        if !self.status.is_open_for_money() {
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
        let (_, required) = self.ensure_pending_approval()?;
        let mut b = Builder::new(self, ctx);
        b.invoice().approval = Approval::Rejected {
            at: ctx.now,
            reasons: rejection.reasons.clone(),
            remark: rejection.remark.clone(),
            required,
        };
        b.event(EventKind::Rejected {
            reasons: rejection.reasons,
            remark: rejection.remark,
        });
        Ok(b.finish())
    }
}
