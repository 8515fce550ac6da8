//! Request bodies: checked with `validator`, then turned into domain values.
//!
//! Their OpenAPI schemas state every limit the parsers enforce, so that any
//! body the contract allows is accepted. Three patterns recur for free text
//! (all Unicode control characters are U+0000–U+001F and U+007F–U+009F):
//!
//! * [`TEXT_PATTERN`]: no control characters except tab, CR and LF;
//! * [`REQUIRED_TEXT_PATTERN`]: the same, with at least one character that
//!   is not whitespace (not blank);
//! * [`TOKEN_PATTERN`]: identifiers, no control characters at all, not blank.
//!
//! `#[schema(pattern = ...)]` only takes literals, so the derives repeat these
//! strings; a test checks that they agree.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use invoice_domain::einvoice::codes;
use invoice_domain::{
    Amount, CancelRequest, CollectionMethod, Currency, LineId, LineKind, LineRef, NewInvoice, NewLine, NewPayment,
    Party, PaymentId, PostalAddress, ProductId, Reason, ReasonCode, RefundRequest, Rejection, SeriesPrefix,
    TaxCategory, ValidationError, VariationId,
};
use serde::de::{Error as _, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr, Schema, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};
use validator::Validate;

/// Free text: no control characters except tab, CR and LF.
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
/// Free text that is not blank (Unicode `White_Space` does not count).
pub const REQUIRED_TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
/// An identifier: not blank, no control characters.
pub const TOKEN_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$";

/// Reads a JSON integer into `T`. JSON Schema counts `3.0` as an integer
/// (`type: integer` in the contract), so an integral float is one too.
pub fn integer<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    struct Integer;
    impl Visitor<'_> for Integer {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
            // 2^63 is exact as a float; anything from it on does not fit.
            if v.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) {
                Ok(v as i64)
            } else {
                Err(E::invalid_type(Unexpected::Float(v), &self))
            }
        }
    }
    let n = deserializer.deserialize_i64(Integer)?;
    T::try_from(n).map_err(|_| D::Error::invalid_value(Unexpected::Signed(n), &"an integer in range"))
}

/// Reads a JSON object into a map, refusing a key that appears twice with
/// the words serde uses for a repeated struct field. serde's own maps keep
/// the last value silently, so a body whose parts disagree would be read
/// one way here and another way by the sender's own tools.
pub fn unique_keys<'de, D, V>(deserializer: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct UniqueKeys<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for UniqueKeys<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(A::Error::custom(format_args!("duplicate field `{key}`")));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(UniqueKeys(std::marker::PhantomData))
}

/// A deserializer that reads structs from JSON objects only. serde's
/// derived structs also accept an array of their fields in order, which
/// no schema here describes; this refuses it.
struct ObjectOnly<D>(D);

/// Passes maps on to the derived visitor and refuses everything else.
struct MapsOnly<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for MapsOnly<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(map)
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(MapsOnly(visitor))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, MapsOnly(visitor))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Reads a struct from a JSON object only (never from an array).
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(ObjectOnly(d))
}

/// [`object`] for a field that may be absent (unchanged), `null` (cleared)
/// or an object; use with `#[serde(default)]`.
pub fn patch_object<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    /// A struct read with [`object`].
    struct Obj<T>(T);
    impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            object(d).map(Obj)
        }
    }
    Ok(Some(Option::<Obj<T>>::deserialize(d)?.map(|o| o.0)))
}

/// [`integer`] for an optional field: `null` is `None`. Use it with
/// `#[serde(default)]` so that an absent field is `None` too.
pub fn optional_integer<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    /// An integer read with [`integer`].
    struct Wrapped<T>(T);
    impl<'de, T: TryFrom<i64>> Deserialize<'de> for Wrapped<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            integer(deserializer).map(Wrapped)
        }
    }
    Ok(Option::<Wrapped<T>>::deserialize(deserializer)?.map(|w| w.0))
}

fn string_type(nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    }
}

/// A string limited to `values`, or null when `nullable`.
pub(super) fn string_enum(description: &str, values: &[&str], nullable: bool) -> Schema {
    let mut all: Vec<Value> = values.iter().map(|v| Value::from(*v)).collect();
    if nullable {
        all.push(Value::Null);
    }
    ObjectBuilder::new()
        .schema_type(string_type(nullable))
        .description(Some(description))
        .enum_values(Some(all))
        .into()
}

/// The ISO 4217 codes `Currency::parse` accepts, found by asking it.
pub fn currency_codes() -> &'static [&'static str] {
    static CODES: OnceLock<Vec<&'static str>> = OnceLock::new();
    CODES.get_or_init(|| {
        let mut codes = Vec::new();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                for c in b'A'..=b'Z' {
                    let code = [a, b, c];
                    if let Ok(currency) = Currency::parse(std::str::from_utf8(&code).unwrap_or_default()) {
                        codes.push(currency.code());
                    }
                }
            }
        }
        codes
    })
}

fn currency_schema() -> Schema {
    let mut schema = string_enum(
        "ISO 4217 code of a currency with a minor unit (also accepted in lower case).",
        currency_codes(),
        false,
    );
    if let Schema::Object(object) = &mut schema {
        object.examples = vec![Value::from("EUR")];
    }
    schema
}

fn collection_method_schema() -> Schema {
    string_enum("`automatic` (default) or `manual`.", &["automatic", "manual"], true)
}

pub(super) fn tax_category_schema() -> Schema {
    let codes: Vec<&str> = TaxCategory::ALL.iter().map(|c| c.code()).collect();
    string_enum(
        "EN 16931 VAT category: `S` standard, `Z` zero-rated, `E` exempt, `AE` reverse charge, `K` intra-community, \
         `G` export, `O` outside the scope of VAT. Default `S` when the rate is above 0, else `Z`. \
         `S` needs a rate above 0, every other category a rate of 0; `E`, `AE`, `K`, `G` and `O` need an exemption reason.",
        &codes,
        true,
    )
}

pub(super) fn reason_code_schema() -> Schema {
    let codes: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
    string_enum("Reason code (`other` when absent).", &codes, true)
}

fn metadata_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Up to 50 string pairs: keys of 1 to 40 characters, not blank and each given once, values of at most 500 characters.",
        ))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(40))
                .pattern(Some(REQUIRED_TEXT_PATTERN)),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(500))
                .pattern(Some(TEXT_PATTERN)),
        ))
        .max_properties(Some(50))
        .into()
}

fn rejection_reasons_schema() -> Schema {
    ArrayBuilder::new()
        .description(Some("Up to 20 reasons, each not blank and at most 500 characters."))
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(500))
                .pattern(Some(REQUIRED_TEXT_PATTERN)),
        )
        .max_items(Some(20))
        .into()
}

/// The country codes EN 16931 accepts, as a schema.
pub fn country_schema() -> Schema {
    string_enum(
        "ISO 3166-1 alpha-2 country code (upper case), as EN 16931 lists them.",
        codes::COUNTRIES,
        true,
    )
}

/// A structured postal address in a request.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    /// Street and number (BT-35, BT-50).
    #[schema(max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 500))]
    pub street: Option<String>,
    /// City (BT-37, BT-52).
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 200))]
    pub city: Option<String>,
    /// Post code (BT-38, BT-53).
    #[schema(max_length = 32, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 32))]
    pub postcode: Option<String>,
    /// Region or state (BT-39, BT-54).
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 200))]
    pub region: Option<String>,
    /// Country (BT-40, BT-55).
    #[schema(schema_with = country_schema)]
    pub country: Option<String>,
}

impl AddressBody {
    /// Parses into a domain address; errors name the field under `field`.
    pub fn into_domain(self, field: &str) -> Result<PostalAddress, ValidationError> {
        PostalAddress::parse(
            self.street.as_deref(),
            self.city.as_deref(),
            self.postcode.as_deref(),
            self.region.as_deref(),
            self.country.as_deref(),
        )
        .map_err(|e| e.within(field))
    }
}

/// A party's address: an object, or (as before structured addresses) free
/// text, which becomes the street line.
#[derive(Debug)]
pub enum AddressInput {
    /// Free text.
    Text(String),
    /// Street, city, post code, region and country.
    Structured(AddressBody),
}

impl<'de> Deserialize<'de> for AddressInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = AddressInput;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an address object or text")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AddressInput, E> {
                Ok(AddressInput::Text(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<AddressInput, A::Error> {
                AddressBody::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(AddressInput::Structured)
            }
        }
        d.deserialize_any(Either)
    }
}

impl PartialSchema for AddressInput {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(
                "A postal address: an object, or free text (kept as the street line).",
            ))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(500))
                    .pattern(Some(TEXT_PATTERN)),
            )
            .item(AddressBody::schema())
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }
}

impl ToSchema for AddressInput {}

/// An issuer or customer in a request.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    /// Your id for the party.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 128))]
    pub id: String,
    /// Name.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 200))]
    pub name: String,
    /// E-mail; on an e-invoice the buyer's electronic address (BT-49, scheme `EM`).
    #[schema(
        max_length = 254,
        pattern = r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
    )]
    #[validate(email)]
    pub email: Option<String>,
    /// Tax number; one with a country prefix (`DE123456789`) is the VAT identifier of an e-invoice (BT-31, BT-48).
    #[schema(max_length = 64, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 64))]
    pub tax_number: Option<String>,
    /// Postal address.
    #[schema(schema_with = AddressInput::schema)]
    pub address: Option<AddressInput>,
    /// Telephone.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 64))]
    pub phone: Option<String>,
    /// A person's given name, when known apart from the family name.
    #[schema(max_length = 100, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 100))]
    pub given_name: Option<String>,
    /// A person's family name.
    #[schema(max_length = 100, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 100))]
    pub family_name: Option<String>,
    /// Preferred language, a BCP 47 tag (`en`, `de-AT`).
    #[schema(example = "de-AT", pattern = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$")]
    pub locale: Option<String>,
    /// Where goods go, when not to `address`.
    #[validate(nested)]
    pub shipping_address: Option<AddressBody>,
}

impl PartyBody {
    fn into_domain(self, field: &str) -> Result<Party, ValidationError> {
        let text = match &self.address {
            Some(AddressInput::Text(t)) => Some(t.as_str()),
            _ => None,
        };
        let mut party = Party::parse(
            &self.id,
            &self.name,
            self.email.as_deref(),
            self.tax_number.as_deref(),
            text,
        )
        .map_err(|e| e.within(field))?;
        if let Some(AddressInput::Structured(a)) = self.address {
            party = party.with_address(a.into_domain(&format!("{field}.address"))?);
        }
        if let Some(a) = self.shipping_address {
            party = party.with_shipping_address(a.into_domain(&format!("{field}.shipping_address"))?);
        }
        party
            .with_phone(self.phone.as_deref())
            .and_then(|p| p.with_names(self.given_name.as_deref(), self.family_name.as_deref()))
            .and_then(|p| p.with_locale(self.locale.as_deref()))
            .map_err(|e| e.within(field))
    }
}

/// A line in a create request.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineBody {
    /// Your product id.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 128))]
    pub product_id: Option<String>,
    /// Your variation id.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 128))]
    pub variation_id: Option<String>,
    /// Description.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 500))]
    pub description: String,
    /// Quantity, at least 1.
    #[schema(minimum = 1, maximum = 1000000)]
    #[validate(range(min = 1, max = 1_000_000))]
    #[serde(deserialize_with = "integer")]
    pub quantity: i64,
    /// Unit amount in minor units; `quantity × unit_amount × 11` may not exceed 10^15.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    #[validate(range(min = 0))]
    #[serde(deserialize_with = "integer")]
    pub unit_amount: i64,
    /// Tax rate in percent as a decimal string (`"19"`, `"7.5"`).
    #[schema(
        example = "19",
        pattern = r"^(?:(?:[0-9]{1,3}|0[0-9]{3})(?:\.[0-9]{1,4})?|1000(?:\.0{1,4})?)$"
    )]
    pub tax_rate: String,
    /// True when `unit_amount` includes tax (default false).
    #[serde(default)]
    pub tax_inclusive: bool,
    /// VAT category (EN 16931 BT-151).
    #[schema(schema_with = tax_category_schema)]
    pub tax_category: Option<String>,
    /// VATEX code of the exemption reason (BT-121), e.g. `VATEX-EU-AE`:
    /// required (or `exemption_reason`) for `E`, `AE`, `K`, `G` and `O`,
    /// refused for `S` and `Z`.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+$"
    )]
    #[validate(length(min = 1, max = 64))]
    pub exemption_reason_code: Option<String>,
    /// Text of the exemption reason (BT-120), e.g. "Reverse charge": required
    /// (or `exemption_reason_code`) for `E`, `AE`, `K`, `G` and `O`, refused
    /// for `S` and `Z`.
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 500))]
    pub exemption_reason: Option<String>,
    /// What the line sells: `physical`, `service`, `digital` or `shipping`.
    #[schema(schema_with = line_kind_schema)]
    pub kind: Option<String>,
}

fn line_kind_schema() -> utoipa::openapi::schema::Schema {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(LineKind::ALL.iter().map(|k| k.as_str())))
        .description(Some("What the line sells"))
        .into()
}

impl LineBody {
    /// Parses into a domain line; errors name the field under `field`.
    pub fn into_domain(self, field: &str) -> Result<NewLine, ValidationError> {
        let mut builder = NewLine::builder(&self.description)
            .quantity(self.quantity)
            .unit_amount(self.unit_amount)
            .tax_rate(&self.tax_rate)
            .tax_inclusive(self.tax_inclusive);
        if let Some(p) = &self.product_id {
            builder = builder.product_id(p);
        }
        if let Some(v) = &self.variation_id {
            builder = builder.variation_id(v);
        }
        if let Some(c) = &self.tax_category {
            builder = builder.tax_category(c);
        }
        if self.exemption_reason_code.is_some() || self.exemption_reason.is_some() {
            builder = builder.exemption_reason(self.exemption_reason_code.as_deref(), self.exemption_reason.as_deref());
        }
        if let Some(kind) = &self.kind {
            builder = builder.kind(LineKind::parse(kind).map_err(|e| e.within(field))?);
        }
        builder.build().map_err(|e| e.within(field))
    }
}

/// `POST /v1/invoices`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvoiceBody {
    /// ISO 4217 currency code.
    #[schema(schema_with = currency_schema)]
    pub currency: String,
    /// Who owes it.
    #[validate(nested)]
    pub customer: PartyBody,
    /// Who issues it.
    #[validate(nested)]
    pub issuer: Option<PartyBody>,
    /// Lines (at most 5,000, within the 64 KiB body limit, their gross amounts summing to at most 10^15 minor units); may be empty for a draft.
    #[schema(max_items = 5000)]
    #[validate(nested)]
    #[serde(default)]
    pub lines: Vec<LineBody>,
    /// Due date (`YYYY-MM-DD`).
    pub due_date: Option<NaiveDate>,
    /// Number series prefix (default `INV`).
    #[schema(pattern = r"^[A-Z0-9_]{1,16}$")]
    pub series: Option<String>,
    /// Your own code for the invoice, unique in the tenant: any route names
    /// the invoice by it as well as by its id or number. An e-invoice's
    /// buyer reference (BT-10) when `buyer_reference` is absent.
    #[schema(
        min_length = 1,
        max_length = 100,
        example = "INV-20241201-001",
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 100))]
    pub external_reference: Option<String>,
    /// The buyer's reference for routing the invoice, e.g. a Leitweg-ID (BT-10).
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 200))]
    pub buyer_reference: Option<String>,
    /// Payer approval levels required (0–10).
    #[schema(maximum = 10)]
    #[validate(range(max = 10))]
    #[serde(default, deserialize_with = "integer")]
    pub approval_levels: u8,
    /// `automatic` (default) or `manual`.
    #[schema(schema_with = collection_method_schema)]
    pub collection_method: Option<String>,
    /// Up to 50 string pairs.
    #[schema(schema_with = metadata_schema)]
    #[serde(default, deserialize_with = "unique_keys")]
    pub metadata: BTreeMap<String, String>,
}

impl CreateInvoiceBody {
    /// Parses into the domain request.
    pub fn into_domain(self) -> Result<NewInvoice, ValidationError> {
        let lines: Vec<NewLine> = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| l.into_domain(&format!("lines[{i}]")))
            .collect::<Result<_, _>>()?;
        let collection_method = match self.collection_method.as_deref() {
            None | Some("automatic") => CollectionMethod::Automatic,
            Some("manual") => CollectionMethod::Manual,
            Some(_) => return Err(ValidationError::new("collection_method", "must be automatic or manual")),
        };
        let mut builder = NewInvoice::builder(Currency::parse(&self.currency)?, self.customer.into_domain("customer")?)
            .lines(lines)
            .approval_levels(self.approval_levels)
            .collection_method(collection_method)
            .metadata(self.metadata);
        if let Some(issuer) = self.issuer {
            builder = builder.issuer(issuer.into_domain("issuer")?);
        }
        if let Some(date) = self.due_date {
            builder = builder.due_date(date);
        }
        if let Some(series) = &self.series {
            builder = builder.series(SeriesPrefix::parse(series)?);
        }
        if let Some(reference) = &self.external_reference {
            builder = builder.external_reference(reference);
        }
        if let Some(reference) = &self.buyer_reference {
            builder = builder.buyer_reference(reference);
        }
        builder.build()
    }
}

/// `POST /v1/invoices/{ref}/payments`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// Amount in minor units, positive.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    #[validate(range(min = 1))]
    #[serde(deserialize_with = "integer")]
    pub amount: i64,
    /// How it was paid.
    #[schema(max_length = 64, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 64))]
    pub method: Option<String>,
    /// Your reference.
    #[schema(max_length = 200, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 200))]
    pub reference: Option<String>,
}

impl PaymentBody {
    /// Parses into the domain payment.
    pub fn into_domain(self) -> Result<NewPayment, ValidationError> {
        NewPayment::new(
            Amount::positive(self.amount, "amount")?,
            self.method.as_deref(),
            self.reference.as_deref(),
        )
    }
}

/// `POST /v1/invoices/{ref}/payments/{payment_id}/refunds`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// Amount in minor units, positive.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_000_i64)]
    #[validate(range(min = 1))]
    #[serde(deserialize_with = "integer")]
    pub amount: i64,
    /// Why.
    #[schema(max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 500))]
    pub reason: Option<String>,
}

impl RefundBody {
    /// Parses into the domain refund of `payment_id`.
    pub fn into_domain(self, payment_id: PaymentId) -> Result<RefundRequest, ValidationError> {
        RefundRequest::new(
            payment_id,
            Amount::positive(self.amount, "amount")?,
            self.reason.as_deref(),
        )
    }
}

/// Names one line to cancel: exactly one of the three fields.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct LineRefBody {
    /// The line id.
    pub line_id: Option<String>,
    /// Your product id (must match exactly one active line).
    pub product_id: Option<String>,
    /// Your variation id (must match exactly one active line).
    pub variation_id: Option<String>,
}

/// Schema of a reference naming one line by exactly one of three keys: the
/// chosen key is a string (`uuid_key` a UUID, the others identifiers), the
/// others are absent or null. Shared by `/v1` and the dialects.
pub fn one_of_three_keys(description: &str, uuid_key: &str, keys: [(&str, &str); 3]) -> RefOr<Schema> {
    one_of_three_keys_and(description, uuid_key, keys, &[], None)
}

/// [`one_of_three_keys`] with `extra` optional properties beside the key,
/// and `rules` (JSON Schema keywords utoipa cannot build, such as `not` or
/// `if`/`then`) added to each branch.
pub fn one_of_three_keys_and(
    description: &str,
    uuid_key: &str,
    keys: [(&str, &str); 3],
    extra: &[(&str, Schema)],
    rules: Option<&[(&str, Value)]>,
) -> RefOr<Schema> {
    let by = |chosen: &str, description: &str| {
        let mut object = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(description))
            .required(chosen)
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
        for (name, property) in extra {
            object = object.property(*name, property.clone());
        }
        if let Some(rules) = rules {
            object = object.extensions(Some(rules.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()));
        }
        for (field, _) in keys {
            let property = if field != chosen {
                ObjectBuilder::new().schema_type(Type::Null)
            } else if field == uuid_key {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            } else {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(128))
                    .pattern(Some(TOKEN_PATTERN))
            };
            object = object.property(field, property);
        }
        object
    };
    let mut one_of = OneOfBuilder::new().description(Some(description));
    for (key, key_description) in keys {
        one_of = one_of.item(by(key, key_description));
    }
    one_of.into()
}

/// Exactly one of the three fields is a string; the others are absent or null.
impl PartialSchema for LineRefBody {
    fn schema() -> RefOr<Schema> {
        one_of_three_keys(
            "Names one line to cancel: exactly one of the three fields.",
            "line_id",
            [
                ("line_id", "By line id."),
                ("product_id", "By your product id (must match exactly one active line)."),
                (
                    "variation_id",
                    "By your variation id (must match exactly one active line).",
                ),
            ],
        )
    }
}

impl ToSchema for LineRefBody {}

impl LineRefBody {
    /// Parses into a domain line reference.
    pub fn into_domain(self, field: &str) -> Result<LineRef, ValidationError> {
        match (self.line_id, self.product_id, self.variation_id) {
            (Some(id), None, None) => id
                .parse::<LineId>()
                .map(LineRef::LineId)
                .map_err(|_| ValidationError::new(format!("{field}.line_id"), "is not a UUID")),
            (None, Some(p), None) => Ok(LineRef::ProductId(ProductId::parse(&p).map_err(|e| e.within(field))?)),
            (None, None, Some(v)) => Ok(LineRef::VariationId(
                VariationId::parse(&v).map_err(|e| e.within(field))?,
            )),
            _ => Err(ValidationError::new(
                field,
                "must have exactly one of line_id, product_id or variation_id",
            )),
        }
    }
}

/// Parses an optional reason code and text into a domain reason.
pub fn reason(code: Option<&str>, text: Option<&str>) -> Result<Option<Reason>, ValidationError> {
    if code.is_none() && text.is_none() {
        return Ok(None);
    }
    let code = code
        .map(str::parse::<ReasonCode>)
        .transpose()?
        .unwrap_or(ReasonCode::Other);
    Reason::new(code, text).map(Some)
}

/// `POST /v1/invoices/{ref}/cancel`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    /// Why (required, at most 500 characters).
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
    /// `customer_request`, `duplicate`, `fraudulent`, `order_change`, `issued_in_error` or `other` (default).
    #[schema(schema_with = reason_code_schema)]
    pub reason_code: Option<String>,
    /// Lines to cancel; absent or empty cancels the whole invoice.
    #[serde(default)]
    pub lines: Vec<LineRefBody>,
}

impl CancelBody {
    /// Parses into the domain request.
    pub fn into_domain(self) -> Result<CancelRequest, ValidationError> {
        let reason = reason(self.reason_code.as_deref(), Some(&self.reason))?;
        if self.lines.is_empty() {
            return Ok(CancelRequest::whole(reason));
        }
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| l.into_domain(&format!("lines[{i}]")))
            .collect::<Result<_, _>>()?;
        CancelRequest::lines(lines, reason)
    }
}

/// An optional reason: the body of `POST /v1/invoices/{ref}/void` and
/// `…/mark-uncollectible` (the body itself is optional).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why.
    #[schema(max_length = 500, pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$")]
    #[validate(length(max = 500))]
    pub reason: Option<String>,
    /// Reason code (default `other` when a reason is given).
    #[schema(schema_with = reason_code_schema)]
    pub reason_code: Option<String>,
}

impl ReasonBody {
    /// Parses into an optional domain reason.
    pub fn into_domain(self) -> Result<Option<Reason>, ValidationError> {
        reason(self.reason_code.as_deref(), self.reason.as_deref())
    }
}

/// `POST /v1/invoices/{ref}/reject`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Reasons.
    #[schema(schema_with = rejection_reasons_schema)]
    #[serde(default)]
    #[validate(length(max = 20))]
    pub reasons: Vec<String>,
    /// Free remark.
    #[schema(
        max_length = 500,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$"
    )]
    #[validate(length(max = 500))]
    pub remark: Option<String>,
}

impl RejectBody {
    /// Parses into the domain rejection.
    pub fn into_domain(self) -> Result<Rejection, ValidationError> {
        Rejection::parse(self.reasons, self.remark)
    }
}

/// An empty body (approve, finalize).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

#[cfg(test)]
mod tests {
    use super::*;

    fn property(schema: RefOr<Schema>, name: &str) -> Value {
        let json = serde_json::to_value(schema).unwrap();
        json["properties"][name].clone()
    }

    #[test]
    fn derived_patterns_are_the_documented_ones() {
        let party = || PartyBody::schema();
        assert_eq!(property(party(), "id")["pattern"], TOKEN_PATTERN);
        assert_eq!(property(party(), "name")["pattern"], REQUIRED_TEXT_PATTERN);
        assert_eq!(property(party(), "address")["oneOf"][0]["pattern"], TEXT_PATTERN);
        assert_eq!(property(AddressBody::schema(), "street")["pattern"], TEXT_PATTERN);
        assert_eq!(property(party(), "phone")["pattern"], TEXT_PATTERN);
        assert_eq!(property(LineBody::schema(), "product_id")["pattern"], TOKEN_PATTERN);
        assert_eq!(
            property(LineBody::schema(), "description")["pattern"],
            REQUIRED_TEXT_PATTERN
        );
        assert_eq!(property(CancelBody::schema(), "reason")["pattern"], TEXT_PATTERN);
        assert_eq!(
            property(RejectBody::schema(), "remark")["pattern"],
            REQUIRED_TEXT_PATTERN
        );
    }

    #[test]
    fn the_currency_enum_is_what_the_parser_accepts() {
        let codes = currency_codes();
        assert!(codes.contains(&"EUR") && codes.contains(&"JPY") && codes.contains(&"BHD"));
        assert!(!codes.contains(&"XXX"), "no minor unit");
        assert!(codes.iter().all(|c| Currency::parse(c).is_ok()));
    }

    #[test]
    fn integers_may_be_written_as_integral_floats() {
        let ok: PaymentBody = serde_json::from_str(r#"{"amount": 1844712.0}"#).unwrap();
        assert_eq!(ok.amount, 1_844_712);
        assert!(serde_json::from_str::<PaymentBody>(r#"{"amount": 1.5}"#).is_err());
        assert!(serde_json::from_str::<PaymentBody>(r#"{"amount": 1e300}"#).is_err());
        let levels: CreateInvoiceBody = serde_json::from_str(
            r#"{"currency": "EUR", "customer": {"id": "c", "name": "C"}, "approval_levels": 2.0}"#,
        )
        .unwrap();
        assert_eq!(levels.approval_levels, 2);
        assert!(serde_json::from_str::<CreateInvoiceBody>(
            r#"{"currency": "EUR", "customer": {"id": "c", "name": "C"}, "approval_levels": 300}"#
        )
        .is_err());
    }
}
