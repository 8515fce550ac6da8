//! Tenant settings, stored as a versioned JSON document owned by this
//! adapter: the domain's [`TenantSettings`] can change shape without
//! touching stored rows, and new settings need no migration.

use diesel::prelude::*;
use invoice_domain::{NumberFormat, RepositoryError, SeriesPrefix, TenantId, TenantSettings, VoidPolicy};
use serde::{Deserialize, Serialize};

use super::connection::DbConnection;
use super::errors::repository_error;
use super::rows::{corrupt, from_json, to_json};
use super::schema::tenants;
use super::seller::StoredSeller;

/// The stored shape, version 1. Every field is optional so that an absent
/// one means "the default", and a document written by an older version reads.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredSettings {
    /// Format version of this document.
    v: u32,
    /// Credit-note series prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credit_note_series: Option<String>,
    /// `always` or `never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    void_credit_note: Option<String>,
    /// Whether finalize spends the customer's credit balance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apply_credit_balance: Option<bool>,
    /// The seller profile, when any part of it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seller: Option<StoredSeller>,
    /// Whether finalize requires a complete EN 16931 document (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    require_en16931: Option<bool>,
    /// How invoice numbers print, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invoice_number_format: Option<String>,
    /// How credit-note numbers print, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credit_note_number_format: Option<String>,
}

impl StoredSettings {
    fn into_domain(self) -> Result<TenantSettings, RepositoryError> {
        let mut settings = TenantSettings::default();
        if let Some(series) = self.credit_note_series {
            settings.credit_note_series = SeriesPrefix::parse(&series).map_err(|e| corrupt("credit-note series", e))?;
        }
        if let Some(policy) = self.void_credit_note {
            settings.void_credit_note = VoidPolicy::parse(&policy).ok_or_else(|| corrupt("void policy", &policy))?;
        }
        if let Some(apply) = self.apply_credit_balance {
            settings.apply_credit_balance = apply;
        }
        if let Some(seller) = self.seller {
            settings.seller = seller.into_domain()?;
        }
        settings.require_en16931 = self.require_en16931.unwrap_or(false);
        if let Some(format) = self.invoice_number_format {
            settings.invoice_number_format =
                NumberFormat::parse(&format).map_err(|e| corrupt("invoice number format", e))?;
        }
        if let Some(format) = self.credit_note_number_format {
            settings.credit_note_number_format =
                NumberFormat::parse(&format).map_err(|e| corrupt("credit-note number format", e))?;
        }
        Ok(settings)
    }

    fn from_domain(settings: &TenantSettings) -> Self {
        let defaults = TenantSettings::default();
        StoredSettings {
            v: 1,
            credit_note_series: (settings.credit_note_series != defaults.credit_note_series)
                .then(|| settings.credit_note_series.to_string()),
            void_credit_note: (settings.void_credit_note != defaults.void_credit_note)
                .then(|| settings.void_credit_note.as_str().to_string()),
            apply_credit_balance: (settings.apply_credit_balance != defaults.apply_credit_balance)
                .then_some(settings.apply_credit_balance),
            seller: (settings.seller != defaults.seller).then(|| StoredSeller::from_domain(&settings.seller)),
            require_en16931: settings.require_en16931.then_some(true),
            invoice_number_format: (settings.invoice_number_format != defaults.invoice_number_format)
                .then(|| settings.invoice_number_format.to_string()),
            credit_note_number_format: (settings.credit_note_number_format != defaults.credit_note_number_format)
                .then(|| settings.credit_note_number_format.to_string()),
        }
    }
}

/// The settings of `tenant`; `NotFound` when the tenant does not exist.
pub fn load(conn: &mut DbConnection, tenant: TenantId) -> Result<TenantSettings, RepositoryError> {
    let text: String = tenants::table
        .filter(tenants::id.eq(tenant.get()))
        .select(tenants::settings)
        .first(conn)
        .map_err(repository_error)?;
    from_json::<StoredSettings>("tenant settings", &text)?.into_domain()
}

/// Replaces the settings of `tenant`; `NotFound` when the tenant does not exist.
pub fn save(conn: &mut DbConnection, tenant: TenantId, settings: &TenantSettings) -> Result<(), RepositoryError> {
    let updated = diesel::update(tenants::table.filter(tenants::id.eq(tenant.get())))
        .set(tenants::settings.eq(to_json(&StoredSettings::from_domain(settings))))
        .execute(conn)
        .map_err(repository_error)?;
    if updated == 0 {
        return Err(RepositoryError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_document_reads_old_and_partial_versions() {
        let empty: StoredSettings = serde_json::from_str(r#"{"v":1}"#).unwrap();
        assert_eq!(empty.into_domain().unwrap(), TenantSettings::default());
        let gs: StoredSettings = serde_json::from_str(r#"{"v":1,"credit_note_series":"GS"}"#).unwrap();
        assert_eq!(gs.into_domain().unwrap().credit_note_series.as_str(), "GS");
        let bad: StoredSettings = serde_json::from_str(r#"{"v":1,"credit_note_series":"gs"}"#).unwrap();
        assert!(
            bad.into_domain().is_err(),
            "a corrupt value is an error, never a silent default"
        );
        let round = StoredSettings::from_domain(&TenantSettings::default());
        assert_eq!(to_json(&round), r#"{"v":1}"#);
        let formats = TenantSettings {
            invoice_number_format: NumberFormat::parse("RE-{YYYY}-{SEQ:5}").unwrap(),
            ..TenantSettings::default()
        };
        let text = to_json(&StoredSettings::from_domain(&formats));
        assert_eq!(text, r#"{"v":1,"invoice_number_format":"RE-{YYYY}-{SEQ:5}"}"#);
        assert_eq!(
            from_json::<StoredSettings>("t", &text).unwrap().into_domain().unwrap(),
            formats
        );
    }
}
