//! `/v1/tenant`: the tenant's document settings and seller profile, shown
//! and changed as JSON merge patches.

use invoice_domain::einvoice::codes;
use invoice_domain::{
    Contact, ElectronicAddress, Locale, NumberFormat, PaymentMeans, SellerProfile, SeriesPrefix, TenantSettings,
    ValidationError, VatId, VoidPolicy,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::Schema;
use utoipa::ToSchema;
use validator::Validate;

use super::requests::{patch_object, AddressBody};
use super::responses::AddressView;

/// Reads an optional struct from an object (or `null`), never an array.
fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Ok(patch_object(d)?.flatten())
}

/// Reads a field that may be absent (unchanged), `null` (cleared) or a value.
fn patch<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn eas_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "A scheme of the CEF EAS list, e.g. `EM` (e-mail) or `9930` (German VAT).",
        ))
        .enum_values(Some(codes::EAS.iter().map(|c| serde_json::Value::from(*c))))
        .into()
}

fn vat_id_schema() -> Schema {
    let prefixes = codes::VAT_PREFIXES.join("|");
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some(
            "VAT identifier with a country prefix (BT-31), e.g. `DE123456789`; `null` clears it.",
        ))
        .pattern(Some(format!("^(?:{prefixes})[A-Za-z0-9+*.]{{2,18}}$")))
        .into()
}

/// The seller's electronic address (BT-34).
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElectronicAddressBody {
    /// EAS scheme.
    #[schema(schema_with = eas_schema)]
    pub scheme: String,
    /// The address in that scheme, without whitespace.
    #[schema(
        min_length = 1,
        max_length = 254,
        pattern = r"^[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$"
    )]
    #[validate(length(min = 1, max = 254))]
    pub value: String,
}

/// The seller's contact point (BG-6).
#[derive(Debug, Default, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    /// A person or department (BT-41).
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 200))]
    pub name: Option<String>,
    /// Telephone (BT-42).
    #[schema(max_length = 64, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 64))]
    pub phone: Option<String>,
    /// E-mail (BT-43).
    #[schema(
        max_length = 254,
        pattern = r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
    )]
    pub email: Option<String>,
}

/// How the seller is paid (BG-16): a credit transfer.
#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMeansBody {
    /// `58` SEPA credit transfer (default) or `30` credit transfer (BT-81).
    #[schema(value_type = Option<String>, pattern = "^(?:58|30)$")]
    pub code: Option<String>,
    /// The IBAN, checked with its check digits (BT-84).
    #[schema(pattern = "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$", example = "DE89370400440532013000")]
    pub iban: String,
    /// The BIC, 8 or 11 characters (BT-86).
    #[schema(pattern = "^[A-Z0-9]{8}(?:[A-Z0-9]{3})?$")]
    pub bic: Option<String>,
    /// The account holder (BT-85).
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 200))]
    pub account_name: Option<String>,
}

/// Changes to the seller profile: a field left out stays, `null` clears it,
/// a value replaces it (objects as a whole).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SellerPatch {
    /// Legal name (BT-27).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub name: Option<Option<String>>,
    /// VAT identifier (BT-31).
    #[serde(default, deserialize_with = "patch")]
    #[schema(schema_with = vat_id_schema)]
    pub vat_id: Option<Option<String>>,
    /// Tax registration, e.g. a Steuernummer (BT-32).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub tax_registration: Option<Option<String>>,
    /// Postal address (BG-5), the same shape as a party's.
    #[serde(default, deserialize_with = "patch_object")]
    #[schema(value_type = Option<AddressBody>)]
    pub address: Option<Option<AddressBody>>,
    /// Electronic address (BT-34).
    #[serde(default, deserialize_with = "patch_object")]
    #[schema(value_type = Option<ElectronicAddressBody>)]
    pub electronic_address: Option<Option<ElectronicAddressBody>>,
    /// Contact (BG-6).
    #[serde(default, deserialize_with = "patch_object")]
    #[schema(value_type = Option<ContactBody>)]
    pub contact: Option<Option<ContactBody>>,
    /// Payment means (BG-16).
    #[serde(default, deserialize_with = "patch_object")]
    #[schema(value_type = Option<PaymentMeansBody>)]
    pub payment_means: Option<Option<PaymentMeansBody>>,
    /// Default payment terms (BT-20).
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    pub payment_terms: Option<Option<String>>,
    /// Language of printed documents, `en` (default) or `de`.
    #[serde(default, deserialize_with = "patch")]
    #[schema(value_type = Option<String>, pattern = "^(?:en|de)$")]
    pub locale: Option<Option<String>>,
}

/// `PATCH /v1/tenant`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatchBody {
    /// Changes to the seller profile.
    #[serde(default, deserialize_with = "optional_object")]
    pub seller: Option<SellerPatch>,
    /// Make finalize refuse invoices that could not be sent as EN 16931 e-invoices.
    pub require_en16931: Option<bool>,
    /// The series credit notes are numbered from.
    #[schema(pattern = r"^[A-Z0-9_]{1,16}$")]
    pub credit_note_series: Option<String>,
    /// Whether a void issues a credit note for what is left: `always` or `never`.
    #[schema(value_type = Option<String>, pattern = "^(?:always|never)$")]
    pub void_credit_note: Option<String>,
    /// Whether finalize spends the customer's credit balance on a new invoice.
    pub apply_credit_balance: Option<bool>,
    /// How invoice numbers print: literal `A-Z a-z 0-9 - _ .` and `{SERIES}`,
    /// `{YYYY}`, `{YY}`, `{MM}`, `{DD}`, exactly one `{SEQ}` or `{SEQ:n}`.
    /// The counter restarts with each year, month or day the format names.
    #[schema(
        example = "INV-{YYYY}-{SEQ:5}",
        min_length = 1,
        max_length = 64,
        pattern = r"^(?:[A-Za-z0-9._-]|\{(?:SERIES|YYYY|YY|MM|DD|SEQ(?::[0-9]{1,2})?)\})+$"
    )]
    pub invoice_number_format: Option<String>,
    /// How credit-note numbers print, in the same placeholders.
    #[schema(
        example = "{SERIES}-{YYYY}-{SEQ:4}",
        min_length = 1,
        max_length = 64,
        pattern = r"^(?:[A-Za-z0-9._-]|\{(?:SERIES|YYYY|YY|MM|DD|SEQ(?::[0-9]{1,2})?)\})+$"
    )]
    pub credit_note_number_format: Option<String>,
}

/// Names a domain error's field under `seller.` (the domain names them
/// relative to the profile, e.g. `payment_means.iban`).
fn within<T>(_field: &str, r: Result<T, ValidationError>) -> Result<T, ValidationError> {
    r.map_err(|e| ValidationError::new(format!("seller.{}", e.field), e.message))
}

impl SellerPatch {
    /// Applies the changes to `s`, parsing each value; errors name the field.
    pub fn apply(self, s: &mut SellerProfile) -> Result<(), ValidationError> {
        if let Some(v) = self.name {
            s.name = v.map(|n| within("name", SellerProfile::parse_name(&n))).transpose()?;
        }
        if let Some(v) = self.vat_id {
            s.vat_id = v.map(|n| within("vat_id", VatId::parse(&n))).transpose()?;
        }
        if let Some(v) = self.tax_registration {
            s.tax_registration = v
                .map(|n| within("tax_registration", SellerProfile::parse_tax_registration(&n)))
                .transpose()?;
        }
        if let Some(v) = self.address {
            s.address = v
                .map(|a| a.into_domain("seller.address"))
                .transpose()?
                .filter(|a| !a.is_empty());
        }
        if let Some(v) = self.electronic_address {
            s.electronic_address = v
                .map(|e| within("electronic_address", ElectronicAddress::parse(&e.scheme, &e.value)))
                .transpose()?;
        }
        if let Some(v) = self.contact {
            s.contact = v
                .map(|c| {
                    within(
                        "contact",
                        Contact::parse(c.name.as_deref(), c.phone.as_deref(), c.email.as_deref()),
                    )
                })
                .transpose()?
                .filter(|c| c.name.is_some() || c.phone.is_some() || c.email.is_some());
        }
        if let Some(v) = self.payment_means {
            s.payment_means = v
                .map(|p| {
                    within(
                        "payment_means",
                        PaymentMeans::parse(p.code.as_deref(), &p.iban, p.bic.as_deref(), p.account_name.as_deref()),
                    )
                })
                .transpose()?;
        }
        if let Some(v) = self.payment_terms {
            s.payment_terms = v
                .map(|t| within("payment_terms", SellerProfile::parse_payment_terms(&t)))
                .transpose()?;
        }
        if let Some(v) = self.locale {
            s.locale = v
                .map(|l| within("locale", Locale::parse(&l)))
                .transpose()?
                .unwrap_or_default();
        }
        Ok(())
    }
}

impl TenantPatchBody {
    /// Applies the patch to `settings`; nothing changes unless all of it parses.
    pub fn apply(self, settings: &TenantSettings) -> Result<TenantSettings, ValidationError> {
        let mut next = settings.clone();
        if let Some(seller) = self.seller {
            seller.apply(&mut next.seller)?;
        }
        if let Some(require) = self.require_en16931 {
            next.require_en16931 = require;
        }
        if let Some(series) = &self.credit_note_series {
            next.credit_note_series =
                SeriesPrefix::parse(series).map_err(|e| ValidationError::new("credit_note_series", e.message))?;
        }
        if let Some(policy) = &self.void_credit_note {
            next.void_credit_note = VoidPolicy::parse(policy)
                .ok_or_else(|| ValidationError::new("void_credit_note", "must be always or never"))?;
        }
        if let Some(apply) = self.apply_credit_balance {
            next.apply_credit_balance = apply;
        }
        if let Some(format) = &self.invoice_number_format {
            next.invoice_number_format =
                NumberFormat::parse(format).map_err(|e| ValidationError::new("invoice_number_format", e.message))?;
        }
        if let Some(format) = &self.credit_note_number_format {
            next.credit_note_number_format = NumberFormat::parse(format)
                .map_err(|e| ValidationError::new("credit_note_number_format", e.message))?;
        }
        Ok(next)
    }
}

/// The seller's electronic address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ElectronicAddressView {
    /// EAS scheme.
    pub scheme: String,
    /// Address.
    pub value: String,
}

/// The seller's contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    /// Name.
    pub name: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
}

/// The seller's payment means.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentMeansView {
    /// UNCL4461 code.
    pub code: String,
    /// IBAN.
    pub iban: String,
    /// BIC.
    pub bic: Option<String>,
    /// Account holder.
    pub account_name: Option<String>,
}

/// The seller profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct SellerView {
    /// Legal name (BT-27).
    pub name: Option<String>,
    /// VAT identifier (BT-31).
    pub vat_id: Option<String>,
    /// Tax registration (BT-32).
    pub tax_registration: Option<String>,
    /// Postal address (BG-5).
    pub address: Option<AddressView>,
    /// Electronic address (BT-34).
    pub electronic_address: Option<ElectronicAddressView>,
    /// Contact (BG-6).
    pub contact: Option<ContactView>,
    /// Payment means (BG-16).
    pub payment_means: Option<PaymentMeansView>,
    /// Default payment terms (BT-20).
    pub payment_terms: Option<String>,
    /// `en` or `de`.
    pub locale: &'static str,
}

impl From<&SellerProfile> for SellerView {
    fn from(s: &SellerProfile) -> Self {
        SellerView {
            name: s.name.clone(),
            vat_id: s.vat_id.as_ref().map(ToString::to_string),
            tax_registration: s.tax_registration.clone(),
            address: s.address.as_ref().map(Into::into),
            electronic_address: s.electronic_address.as_ref().map(|e| ElectronicAddressView {
                scheme: e.scheme.clone(),
                value: e.value.clone(),
            }),
            contact: s.contact.as_ref().map(|c| ContactView {
                name: c.name.clone(),
                phone: c.phone.clone(),
                email: c.email.clone(),
            }),
            payment_means: s.payment_means.as_ref().map(|p| PaymentMeansView {
                code: p.code.clone(),
                iban: p.iban.as_str().to_string(),
                bic: p.bic.clone(),
                account_name: p.account_name.clone(),
            }),
            payment_terms: s.payment_terms.clone(),
            locale: s.locale.code(),
        }
    }
}

/// The tenant and its document settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// Always `tenant`.
    pub object: &'static str,
    /// Tenant id.
    pub id: i64,
    /// Tenant slug.
    pub slug: String,
    /// Who issues the tenant's invoices (unless an invoice names an issuer).
    pub seller: SellerView,
    /// Whether finalize refuses invoices that could not be EN 16931 e-invoices.
    pub require_en16931: bool,
    /// The credit-note series.
    pub credit_note_series: String,
    /// Whether a void issues a credit note: `always` or `never`.
    pub void_credit_note: &'static str,
    /// Whether finalize spends the customer's credit balance.
    pub apply_credit_balance: bool,
    /// How invoice numbers print.
    #[schema(example = "{SERIES}-{SEQ:6}")]
    pub invoice_number_format: String,
    /// How credit-note numbers print.
    #[schema(example = "{SERIES}-{SEQ:6}")]
    pub credit_note_number_format: String,
}

impl TenantView {
    /// The view of `settings` of tenant `id` (`slug`).
    pub fn new(id: i64, slug: &str, settings: &TenantSettings) -> Self {
        TenantView {
            object: "tenant",
            id,
            slug: slug.to_string(),
            seller: (&settings.seller).into(),
            require_en16931: settings.require_en16931,
            credit_note_series: settings.credit_note_series.to_string(),
            void_credit_note: settings.void_credit_note.as_str(),
            apply_credit_balance: settings.apply_credit_balance,
            invoice_number_format: settings.invoice_number_format.to_string(),
            credit_note_number_format: settings.credit_note_number_format.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_sets_clears_and_leaves_fields_and_names_a_bad_one() {
        let body: TenantPatchBody = serde_json::from_str(
            r#"{"seller": {"name": "Seller GmbH", "vat_id": "DE123456789", "address": {"country": "DE"},
                "payment_means": {"iban": "DE89370400440532013000"}, "locale": "de"}, "require_en16931": true}"#,
        )
        .unwrap();
        let s = body.apply(&TenantSettings::default()).unwrap();
        assert_eq!(s.seller.name.as_deref(), Some("Seller GmbH"));
        assert!(s.require_en16931 && s.seller.locale == Locale::De);
        assert_eq!(s.seller.payment_means.as_ref().unwrap().code, "58");
        let clear: TenantPatchBody = serde_json::from_str(r#"{"seller": {"vat_id": null}}"#).unwrap();
        let cleared = clear.apply(&s).unwrap();
        assert_eq!(cleared.seller.vat_id, None);
        assert_eq!(
            cleared.seller.name.as_deref(),
            Some("Seller GmbH"),
            "left out, left alone"
        );
        for array in [r#"{"seller": [null, null]}"#, r#"{"seller": {"address": ["Main St"]}}"#] {
            assert!(serde_json::from_str::<TenantPatchBody>(array).is_err(), "{array}");
        }
        let bad: TenantPatchBody = serde_json::from_str(r#"{"seller": {"vat_id": "XX1"}}"#).unwrap();
        assert_eq!(bad.apply(&s).unwrap_err().field, "seller.vat_id");
        let bad: TenantPatchBody =
            serde_json::from_str(r#"{"seller": {"payment_means": {"iban": "DE00370400440532013000"}}}"#).unwrap();
        assert_eq!(bad.apply(&s).unwrap_err().field, "seller.payment_means.iban");
        let formats: TenantPatchBody = serde_json::from_str(
            r#"{"invoice_number_format": "INV-{YYYY}{MM}{DD}-{SEQ:3}", "credit_note_number_format": "RE-{YYYY}-{SEQ:5}"}"#,
        )
        .unwrap();
        let f = formats.apply(&s).unwrap();
        assert_eq!(f.invoice_number_format.as_str(), "INV-{YYYY}{MM}{DD}-{SEQ:3}");
        assert_eq!(f.credit_note_number_format.as_str(), "RE-{YYYY}-{SEQ:5}");
        let bad: TenantPatchBody = serde_json::from_str(r#"{"invoice_number_format": "INV-{MM}-{SEQ}"}"#).unwrap();
        assert_eq!(bad.apply(&s).unwrap_err().field, "invoice_number_format");
    }
}
