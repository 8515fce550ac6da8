//! Settings a tenant chooses for its documents.

use serde::{Deserialize, Serialize};

use crate::model::number::SeriesPrefix;
use crate::model::seller::SellerProfile;

/// How a tenant's invoices and credit notes are issued. Storage adapters
/// load it through [`crate::ports::SettingsRepository`]; a tenant that set
/// nothing gets [`TenantSettings::default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// The series every credit note of the tenant is numbered from
    /// (default `CN`), whatever series its invoice came from.
    pub credit_note_series: SeriesPrefix,
    /// Who issues the tenant's invoices, unless an invoice names its own
    /// issuer; frozen on each invoice at finalize.
    #[serde(default)]
    pub seller: SellerProfile,
    /// When set, finalize refuses an invoice that could not be sent as an
    /// EN 16931 e-invoice, so every issued invoice can be (default off).
    #[serde(default)]
    pub require_en16931: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            credit_note_series: SeriesPrefix::credit_notes(),
            seller: SellerProfile::default(),
            require_en16931: false,
        }
    }
}
