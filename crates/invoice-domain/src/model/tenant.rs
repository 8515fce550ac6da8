//! Settings a tenant chooses for its documents.

use serde::{Deserialize, Serialize};

use crate::model::number::SeriesPrefix;

/// How a tenant's invoices and credit notes are issued. Storage adapters
/// load it through [`crate::ports::SettingsRepository`]; a tenant that set
/// nothing gets [`TenantSettings::default`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    /// The series every credit note of the tenant is numbered from
    /// (default `CN`), whatever series its invoice came from.
    pub credit_note_series: SeriesPrefix,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            credit_note_series: SeriesPrefix::credit_notes(),
        }
    }
}
