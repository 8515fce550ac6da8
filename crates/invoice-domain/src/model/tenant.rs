//! Settings a tenant chooses for its documents.

use serde::{Deserialize, Serialize};

use crate::model::number::{NumberFormat, SeriesPrefix};
use crate::model::seller::SellerProfile;

/// Whether voiding an issued invoice issues a credit note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoidPolicy {
    /// A void credits everything still uncredited with a credit note
    /// (reason `issued_in_error`): EU practice, where a void needs a document.
    #[default]
    Always,
    /// A void only marks the invoice, as Stripe does.
    Never,
}

impl VoidPolicy {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            VoidPolicy::Always => "always",
            VoidPolicy::Never => "never",
        }
    }

    /// Parses the name.
    pub fn parse(value: &str) -> Option<Self> {
        [VoidPolicy::Always, VoidPolicy::Never]
            .into_iter()
            .find(|p| p.as_str() == value)
    }
}

/// How a tenant's invoices and credit notes are issued. Storage adapters
/// load it through [`crate::ports::SettingsRepository`]; a tenant that set
/// nothing gets [`TenantSettings::default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// The series every credit note of the tenant is numbered from
    /// (default `CN`), whatever series its invoice came from.
    pub credit_note_series: SeriesPrefix,
    /// Whether a void issues a credit note (default: always).
    pub void_credit_note: VoidPolicy,
    /// When true, finalizing an invoice spends the customer's credit balance
    /// in the invoice's currency on it, recorded on both sides.
    pub apply_credit_balance: bool,
    /// Who issues the tenant's invoices, unless an invoice names its own
    /// issuer; frozen on each invoice at finalize.
    #[serde(default)]
    pub seller: SellerProfile,
    /// When set, finalize refuses an invoice that could not be sent as an
    /// EN 16931 e-invoice, so every issued invoice can be (default off).
    #[serde(default)]
    pub require_en16931: bool,
    /// How invoice numbers print (default `{SERIES}-{SEQ:6}`); changing it
    /// only affects invoices finalized afterwards.
    #[serde(default)]
    pub invoice_number_format: NumberFormat,
    /// How credit-note numbers print (default `{SERIES}-{SEQ:6}`).
    #[serde(default)]
    pub credit_note_number_format: NumberFormat,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            credit_note_series: SeriesPrefix::credit_notes(),
            void_credit_note: VoidPolicy::Always,
            apply_credit_balance: false,
            seller: SellerProfile::default(),
            require_en16931: false,
            invoice_number_format: NumberFormat::default(),
            credit_note_number_format: NumberFormat::default(),
        }
    }
}
