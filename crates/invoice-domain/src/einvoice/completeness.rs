//! Whether a document holds everything EN 16931 (and, on request,
//! XRechnung) requires: the rules a plain invoice may break and an
//! e-invoice may not, each reported with the field that fixes it.
//!
//! The checks mirror the fatal rules of the CEN validation artefacts that
//! Storno's data can break; the rest hold by construction (sums, categories,
//! rates), so a document that passes here validates.

use std::collections::BTreeSet;
use std::fmt;

use crate::einvoice::codes;
use crate::einvoice::document::{EDocument, Profile, SellerSource};
use crate::model::money::Amount;
use crate::model::seller::VatId;
use crate::model::tax::{TaxCategory, TaxSubtotal};

/// One field a document lacks, or holds in a form the standard refuses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Missing {
    /// Where the caller fixes it, e.g. `seller.vat_id` (the tenant's seller
    /// profile), `issuer.tax_number` or `customer.address.country`.
    pub field: String,
    /// The EN 16931 business term, e.g. `BT-31`.
    pub term: &'static str,
    /// The rule that needs it, e.g. `BR-S-02`.
    pub rule: &'static str,
    /// What is wrong, in plain words.
    pub message: String,
}

/// Everything a document lacks to be a valid e-invoice, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    /// Each missing field, once.
    pub missing: Vec<Missing>,
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .missing
            .iter()
            .map(|m| format!("{} ({} {})", m.field, m.term, m.rule))
            .collect();
        write!(f, "the document lacks what EN 16931 requires: {}", fields.join(", "))
    }
}

/// Collects findings, one per field (the first rule that needs it wins).
struct Findings {
    seen: BTreeSet<String>,
    missing: Vec<Missing>,
}

impl Findings {
    fn add(&mut self, field: String, term: &'static str, rule: &'static str, message: impl Into<String>) {
        if self.seen.insert(field.clone()) {
            self.missing.push(Missing {
                field,
                term,
                rule,
                message: message.into(),
            });
        }
    }
}

/// The field name of a seller term, where the caller sets it.
fn seller_field(doc: &EDocument, profile_field: &str, issuer_field: &str) -> String {
    match doc.seller_source {
        SellerSource::Profile => format!("seller.{profile_field}"),
        SellerSource::Issuer => format!("issuer.{issuer_field}"),
    }
}

/// Checks `doc` against the rules of `profile`; `Ok` means it can be
/// rendered as a valid e-invoice.
pub fn check(doc: &EDocument, profile: Profile) -> Result<(), Incomplete> {
    let mut f = Findings {
        seen: BTreeSet::new(),
        missing: Vec::new(),
    };
    parties(doc, &mut f);
    categories(doc, &mut f);
    amounts(doc, &mut f);
    if profile == Profile::XRechnung {
        xrechnung(doc, &mut f);
    }
    if f.missing.is_empty() {
        Ok(())
    } else {
        Err(Incomplete { missing: f.missing })
    }
}

fn has_category(doc: &EDocument, category: TaxCategory) -> bool {
    doc.lines.iter().any(|l| l.tax.category() == category)
}

fn buyer_vat(doc: &EDocument) -> Option<VatId> {
    doc.buyer.tax_number.as_deref().and_then(|t| VatId::parse(t).ok())
}

fn parties(doc: &EDocument, f: &mut Findings) {
    let s = &doc.seller;
    if s.name.is_none() {
        f.add(
            seller_field(doc, "name", "name"),
            "BT-27",
            "BR-06",
            "the seller's legal name is required",
        );
    }
    if s.address.as_ref().and_then(|a| a.country).is_none() {
        f.add(
            seller_field(doc, "address.country", "address.country"),
            "BT-40",
            "BR-09",
            "the seller's postal address needs a country code",
        );
    }
    if doc.buyer.address.as_ref().and_then(|a| a.country).is_none() {
        f.add(
            "customer.address.country".into(),
            "BT-55",
            "BR-11",
            "the buyer's postal address needs a country code",
        );
    }
    if doc.lines.is_empty() {
        f.add("lines".into(), "BG-25", "BR-16", "a document needs at least one line");
    }
}

fn categories(doc: &EDocument, f: &mut Findings) {
    let s = &doc.seller;
    let seller_vat = || seller_field(doc, "vat_id", "tax_number");
    let seller_any_tax_id = s.vat_id.is_some() || s.tax_registration.is_some();
    // S, Z, E and AE accept a VAT id or a tax registration of the seller.
    for (category, rule) in [
        (TaxCategory::Standard, "BR-S-02"),
        (TaxCategory::ZeroRated, "BR-Z-02"),
        (TaxCategory::Exempt, "BR-E-02"),
        (TaxCategory::ReverseCharge, "BR-AE-02"),
    ] {
        if has_category(doc, category) && !seller_any_tax_id {
            f.add(
                seller_vat(),
                "BT-31",
                rule,
                format!(
                    "lines of category {category} need the seller's VAT identifier (BT-31) or tax registration (BT-32)"
                ),
            );
        }
    }
    // K and G need the VAT id itself.
    for (category, rule) in [
        (TaxCategory::IntraCommunity, "BR-IC-02"),
        (TaxCategory::Export, "BR-G-02"),
    ] {
        if has_category(doc, category) && s.vat_id.is_none() {
            f.add(
                seller_vat(),
                "BT-31",
                rule,
                format!("lines of category {category} need the seller's VAT identifier with a country prefix"),
            );
        }
    }
    for (category, rule) in [
        (TaxCategory::ReverseCharge, "BR-AE-02"),
        (TaxCategory::IntraCommunity, "BR-IC-02"),
    ] {
        if has_category(doc, category) && buyer_vat(doc).is_none() {
            f.add(
                "customer.tax_number".into(),
                "BT-48",
                rule,
                format!("lines of category {category} need the buyer's VAT identifier with a country prefix"),
            );
        }
    }
    if has_category(doc, TaxCategory::IntraCommunity) {
        f.add(
            "lines.tax_category".into(),
            "BT-72",
            "BR-IC-11",
            "category K needs an actual delivery date (BT-72) and a deliver-to country (BT-80), which Storno does not record",
        );
    }
    if has_category(doc, TaxCategory::OutsideScope) {
        if doc.lines.iter().any(|l| l.tax.category() != TaxCategory::OutsideScope) {
            f.add(
                "lines.tax_category".into(),
                "BT-151",
                "BR-O-11",
                "category O cannot be combined with other categories in one document",
            );
        }
        if s.vat_id.is_some() {
            f.add(
                seller_vat(),
                "BT-31",
                "BR-O-02",
                "a document with category O must not name the seller's VAT identifier",
            );
        }
        if buyer_vat(doc).is_some() {
            f.add(
                "customer.tax_number".into(),
                "BT-48",
                "BR-O-02",
                "a document with category O must not name the buyer's VAT identifier",
            );
        }
    }
    if !seller_any_tax_id {
        f.add(
            seller_vat(),
            "BT-31",
            "BR-CO-26",
            "the seller needs a VAT identifier (BT-31) or a tax registration (BT-32) to be identified",
        );
    }
    for (i, line) in doc.lines.iter().enumerate() {
        if let Some(code) = line.tax.exemption().and_then(|e| e.code.as_deref()) {
            if !codes::is_vatex(code) {
                f.add(
                    format!("lines[{i}].exemption_reason_code"),
                    "BT-121",
                    "BR-CL-22",
                    format!("{code} is not a code of the VATEX list"),
                );
            }
        }
    }
}

/// 10 to the power `n`, for the small exponents of currencies.
fn pow10(n: u32) -> i128 {
    10_i128.pow(n)
}

/// XPath `round()` of `num / den` for non-negative values: half up.
fn round_half_up(num: i128, den: i128) -> i128 {
    (2 * num + den) / (2 * den)
}

/// BR-CO-17 and BR-S-09 for one breakdown entry, in exact integers: the
/// tax must be within one currency unit of taxable × rate rounded to two
/// decimals, and a rate that rounds to 0 % needs a tax that rounds to 0.
fn tax_within_tolerance(entry: &TaxSubtotal, exponent: u32) -> bool {
    if entry.category == TaxCategory::OutsideScope {
        return entry.tax_amount.is_zero();
    }
    let unit = pow10(exponent);
    let taxable = i128::from(entry.taxable_amount.minor());
    let tax = i128::from(entry.tax_amount.minor());
    let rate_units = i128::from(entry.rate.units()); // percent × 10^4
                                                     // Expected tax in hundredths of a currency unit: round(T × p).
    let expected_hundredths = round_half_up(taxable * rate_units, pow10(exponent + 4));
    // |tax − expected| < 1 unit, compared in units of 1 / (100 × 10^e).
    let within = (tax * 100 - expected_hundredths * unit).abs() < 100 * unit;
    let rate_rounds_to_zero = rate_units < 5_000; // p < 0.5 %
    if rate_rounds_to_zero {
        let tax_rounds_to_zero = tax * 2 < unit;
        tax_rounds_to_zero && (entry.category != TaxCategory::Standard || within)
    } else {
        within
    }
}

fn amounts(doc: &EDocument, f: &mut Findings) {
    let exponent = u32::from(doc.currency.exponent());
    for (i, entry) in doc.breakdown.iter().enumerate() {
        if !tax_within_tolerance(entry, exponent) {
            f.add(
                format!("tax_breakdown[{i}].tax_amount"),
                "BT-117",
                "BR-CO-17",
                format!(
                    "the VAT of category {} at {} % is more than one {} away from the taxable amount times the rate",
                    entry.category, entry.rate, doc.currency
                ),
            );
        }
    }
    if exponent <= 2 {
        return;
    }
    // EN 16931 allows at most two decimals in amounts (BR-DEC-*): with a
    // three-decimal currency every amount must end in zero.
    let step = u64::try_from(pow10(exponent - 2)).unwrap_or(u64::MAX);
    let fits = |a: Amount| a.minor() % step == 0;
    for (i, line) in doc.lines.iter().enumerate() {
        if !fits(line.amounts.net) {
            f.add(
                format!("lines[{i}].net_amount"),
                "BT-131",
                "BR-DEC-23",
                format!(
                    "{} {} has more than the two decimals EN 16931 allows",
                    line.amounts.net.to_decimal_string(doc.currency),
                    doc.currency
                ),
            );
        }
    }
    for (i, entry) in doc.breakdown.iter().enumerate() {
        for (amount, field, term, rule) in [
            (entry.taxable_amount, "taxable_amount", "BT-116", "BR-DEC-19"),
            (entry.tax_amount, "tax_amount", "BT-117", "BR-DEC-20"),
        ] {
            if !fits(amount) {
                f.add(
                    format!("tax_breakdown[{i}].{field}"),
                    term,
                    rule,
                    format!(
                        "{} {} has more than the two decimals EN 16931 allows",
                        amount.to_decimal_string(doc.currency),
                        doc.currency
                    ),
                );
            }
        }
    }
    for (amount, field, term, rule) in [
        (doc.subtotal, "subtotal", "BT-109", "BR-DEC-12"),
        (doc.tax, "tax", "BT-110", "BR-DEC-13"),
        (doc.total, "total", "BT-112", "BR-DEC-14"),
    ] {
        if !fits(amount) {
            f.add(
                field.into(),
                term,
                rule,
                format!(
                    "{} {} has more than the two decimals EN 16931 allows",
                    amount.to_decimal_string(doc.currency),
                    doc.currency
                ),
            );
        }
    }
}

fn xrechnung(doc: &EDocument, f: &mut Findings) {
    let s = &doc.seller;
    if doc.buyer_reference.is_none() {
        f.add(
            "buyer_reference".into(),
            "BT-10",
            "BR-DE-15",
            "XRechnung needs the buyer reference (Leitweg-ID)",
        );
    }
    if s.payment_means.is_none() {
        f.add(
            "seller.payment_means".into(),
            "BG-16",
            "BR-DE-1",
            "XRechnung needs payment instructions",
        );
    }
    let contact = s.contact.clone().unwrap_or_default();
    for (value, field, issuer_field, term, rule) in [
        (contact.name.is_some(), "contact.name", "name", "BT-41", "BR-DE-5"),
        (contact.phone.is_some(), "contact.phone", "phone", "BT-42", "BR-DE-6"),
        (contact.email.is_some(), "contact.email", "email", "BT-43", "BR-DE-7"),
    ] {
        if !value {
            f.add(
                seller_field(doc, field, issuer_field),
                term,
                rule,
                "XRechnung needs the seller's contact name, telephone and e-mail",
            );
        }
    }
    let address = s.address.clone().unwrap_or_default();
    if address.city.is_none() {
        f.add(
            seller_field(doc, "address.city", "address.city"),
            "BT-37",
            "BR-DE-3",
            "XRechnung needs the seller's city",
        );
    }
    if address.postcode.is_none() {
        f.add(
            seller_field(doc, "address.postcode", "address.postcode"),
            "BT-38",
            "BR-DE-4",
            "XRechnung needs the seller's post code",
        );
    }
    let buyer = doc.buyer.address.clone().unwrap_or_default();
    if buyer.city.is_none() {
        f.add(
            "customer.address.city".into(),
            "BT-52",
            "BR-DE-8",
            "XRechnung needs the buyer's city",
        );
    }
    if buyer.postcode.is_none() {
        f.add(
            "customer.address.postcode".into(),
            "BT-53",
            "BR-DE-9",
            "XRechnung needs the buyer's post code",
        );
    }
    if s.electronic_address.is_none() {
        f.add(
            seller_field(doc, "electronic_address", "email"),
            "BT-34",
            "XRechnung 3.0 (BT-34 1..1)",
            "XRechnung needs the seller's electronic address",
        );
    }
    if doc.buyer.email.is_none() {
        f.add(
            "customer.email".into(),
            "BT-49",
            "XRechnung 3.0 (BT-49 1..1)",
            "XRechnung needs the buyer's electronic address (its e-mail)",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::money::TaxRate;

    fn entry(category: TaxCategory, rate: &str, taxable: u64, tax: u64) -> TaxSubtotal {
        TaxSubtotal {
            category,
            rate: TaxRate::parse(rate).unwrap(),
            taxable_amount: Amount::from_minor(taxable),
            tax_amount: Amount::from_minor(tax),
            exemption: None,
        }
    }

    #[test]
    fn the_vat_tolerance_is_one_currency_unit_as_br_co_17_says() {
        // 100.00 at 19 %: 19.00 expected; 18.01 and 19.99 are within one euro, 17.99 and 20.01 are not.
        for (tax, ok) in [
            (1_900, true),
            (1_801, true),
            (1_999, true),
            (1_800, false),
            (2_000, false),
        ] {
            assert_eq!(
                tax_within_tolerance(&entry(TaxCategory::Standard, "19", 10_000, tax), 2),
                ok,
                "{tax}"
            );
        }
        // JPY: 1,000 yen at 7 % is exactly 70, so 71 is a whole unit off;
        // 1,005 yen at 7 % is 70.35, so 70 and 71 are both within.
        assert!(tax_within_tolerance(&entry(TaxCategory::Standard, "7", 1_000, 70), 0));
        assert!(!tax_within_tolerance(&entry(TaxCategory::Standard, "7", 1_000, 71), 0));
        assert!(tax_within_tolerance(&entry(TaxCategory::Standard, "7", 1_005, 71), 0));
        assert!(!tax_within_tolerance(&entry(TaxCategory::Standard, "7", 1_005, 72), 0));
        // KWD (3 decimals): 10.000 at 19 %: 1.900.
        assert!(tax_within_tolerance(
            &entry(TaxCategory::Standard, "19", 10_000, 1_900),
            3
        ));
        // A rate that rounds to 0 % needs a tax that rounds to 0.
        assert!(tax_within_tolerance(
            &entry(TaxCategory::Standard, "0.4", 10_000, 40),
            2
        ));
        assert!(!tax_within_tolerance(
            &entry(TaxCategory::Standard, "0.4", 1_000_000, 4_000),
            2
        ));
        assert!(tax_within_tolerance(&entry(TaxCategory::ZeroRated, "0", 10_000, 0), 2));
    }
}
