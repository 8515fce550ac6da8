//! VAT categories, exemption reasons and the VAT breakdown of a document
//! (EN 16931 BG-23).
//!
//! Each line carries a [`LineTax`]: its rate, its category and, for the
//! categories that are not taxed at a rate, the reason why. The breakdown is
//! the sum of the lines' rounded amounts per category and rate, so its sums
//! equal the document's subtotal and tax exactly (the per-line rounding of
//! [`crate::model::money`] is kept).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::model::money::{bounded_sum, Amount, LineAmounts, TaxRate};
use crate::model::text::optional_text;

/// The VAT category of a line (EN 16931 BT-151, code list UNCL5305 as
/// restricted by the standard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaxCategory {
    /// `S`: taxed at a standard or reduced rate above zero.
    #[serde(rename = "S")]
    Standard,
    /// `Z`: zero-rated goods.
    #[serde(rename = "Z")]
    ZeroRated,
    /// `E`: exempt from VAT.
    #[serde(rename = "E")]
    Exempt,
    /// `AE`: VAT reverse charge; the buyer accounts for the tax.
    #[serde(rename = "AE")]
    ReverseCharge,
    /// `K`: intra-community supply of goods and services.
    #[serde(rename = "K")]
    IntraCommunity,
    /// `G`: export outside the EU, free of VAT.
    #[serde(rename = "G")]
    Export,
    /// `O`: services outside the scope of VAT.
    #[serde(rename = "O")]
    OutsideScope,
}

impl TaxCategory {
    /// Every category, in documentation order.
    pub const ALL: [TaxCategory; 7] = [
        TaxCategory::Standard,
        TaxCategory::ZeroRated,
        TaxCategory::Exempt,
        TaxCategory::ReverseCharge,
        TaxCategory::IntraCommunity,
        TaxCategory::Export,
        TaxCategory::OutsideScope,
    ];

    /// The EN 16931 code (`S`, `Z`, `E`, `AE`, `K`, `G`, `O`).
    pub const fn code(self) -> &'static str {
        match self {
            TaxCategory::Standard => "S",
            TaxCategory::ZeroRated => "Z",
            TaxCategory::Exempt => "E",
            TaxCategory::ReverseCharge => "AE",
            TaxCategory::IntraCommunity => "K",
            TaxCategory::Export => "G",
            TaxCategory::OutsideScope => "O",
        }
    }

    /// The code under the name other enums use for their wire name, so
    /// code that names enums generically names this one by its code.
    pub const fn as_str(self) -> &'static str {
        self.code()
    }

    /// The category a line gets when the caller names none: `S` above zero,
    /// `Z` at zero.
    pub fn default_for(rate: TaxRate) -> TaxCategory {
        if rate.is_zero() {
            TaxCategory::ZeroRated
        } else {
            TaxCategory::Standard
        }
    }

    /// True for the categories whose lines must say why no VAT is charged
    /// (EN 16931 BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10).
    pub const fn needs_exemption_reason(self) -> bool {
        matches!(
            self,
            TaxCategory::Exempt
                | TaxCategory::ReverseCharge
                | TaxCategory::IntraCommunity
                | TaxCategory::Export
                | TaxCategory::OutsideScope
        )
    }

    /// Checks that `rate` fits the category: `S` needs a rate above zero,
    /// every other category a rate of zero.
    pub fn check_rate(self, rate: TaxRate) -> Result<(), ValidationError> {
        match (self, rate.is_zero()) {
            (TaxCategory::Standard, true) => Err(ValidationError::new(
                "tax_category",
                "S (standard) needs a tax rate above 0; use Z for zero-rated lines",
            )),
            (TaxCategory::Standard, false) | (_, true) => Ok(()),
            (other, false) => Err(ValidationError::new(
                "tax_rate",
                format!("must be 0 for tax category {}", other.code()),
            )),
        }
    }
}

impl fmt::Display for TaxCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for TaxCategory {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaxCategory::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| ValidationError::new("tax_category", "must be one of S, Z, E, AE, K, G, O"))
    }
}

/// Why a line carries no VAT (EN 16931 BT-120 text and BT-121 code): at
/// least one of the two.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExemptionReason {
    /// A code from the VATEX list, e.g. `VATEX-EU-AE` (at most 64 characters).
    pub code: Option<String>,
    /// Free text, e.g. "Reverse charge" (at most 500 characters).
    pub text: Option<String>,
}

impl ExemptionReason {
    /// Parses a reason; refuses one with neither code nor text.
    pub fn parse(code: Option<&str>, text: Option<&str>) -> Result<Self, ValidationError> {
        let code = optional_text(code, "exemption_reason_code", 64)?.filter(|c| !c.trim().is_empty());
        let text = optional_text(text, "exemption_reason", 500)?.filter(|t| !t.trim().is_empty());
        if code.is_none() && text.is_none() {
            return Err(ValidationError::new("exemption_reason", "must have a code or a text"));
        }
        if let Some(c) = &code {
            if c.chars().any(char::is_whitespace) {
                return Err(ValidationError::new(
                    "exemption_reason_code",
                    "must not contain whitespace",
                ));
            }
        }
        Ok(ExemptionReason { code, text })
    }
}

/// The VAT treatment of one line: rate, category and, where the category
/// needs one, the exemption reason. Valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LineTax {
    rate: TaxRate,
    category: TaxCategory,
    exemption: Option<ExemptionReason>,
}

impl LineTax {
    /// Checks the three together: the category defaults from the rate, the
    /// rate must fit the category, and `E`, `AE`, `K`, `G` and `O` need an
    /// exemption reason (which `S` and `Z` may not carry).
    pub fn new(
        rate: TaxRate,
        category: Option<TaxCategory>,
        exemption: Option<ExemptionReason>,
    ) -> Result<Self, ValidationError> {
        let category = category.unwrap_or_else(|| TaxCategory::default_for(rate));
        category.check_rate(rate)?;
        match (category.needs_exemption_reason(), &exemption) {
            (true, None) => Err(ValidationError::new(
                "exemption_reason",
                format!("is required for tax category {category}"),
            )),
            (false, Some(_)) => Err(ValidationError::new(
                "exemption_reason",
                format!("is only allowed for untaxed categories, not {category}"),
            )),
            _ => Ok(LineTax {
                rate,
                category,
                exemption,
            }),
        }
    }

    /// The standard treatment of a rate: `S` above zero, `Z` at zero.
    pub fn standard(rate: TaxRate) -> Self {
        LineTax {
            rate,
            category: TaxCategory::default_for(rate),
            exemption: None,
        }
    }

    /// The rate in percent.
    pub fn rate(&self) -> TaxRate {
        self.rate
    }

    /// The VAT category.
    pub fn category(&self) -> TaxCategory {
        self.category
    }

    /// Why no VAT is charged, for the untaxed categories.
    pub fn exemption(&self) -> Option<&ExemptionReason> {
        self.exemption.as_ref()
    }
}

/// One entry of a VAT breakdown: every line of one category and rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxSubtotal {
    /// The VAT category.
    pub category: TaxCategory,
    /// The rate.
    pub rate: TaxRate,
    /// Sum of the lines' net amounts (BT-116).
    pub taxable_amount: Amount,
    /// Sum of the lines' rounded taxes (BT-117).
    pub tax_amount: Amount,
    /// The exemption reason of the first line in the group, for untaxed
    /// categories (BT-120/BT-121).
    pub exemption: Option<ExemptionReason>,
}

/// Sums lines into a VAT breakdown, one entry per category and rate, in
/// category then rate order.
///
/// The inputs are bounded (at most [`crate::rules::MAX_LINES`] lines whose
/// amounts sum to at most [`crate::model::money::MAX_AMOUNT`]), so the sums
/// cannot overflow.
pub fn breakdown<'a, I>(lines: I) -> Vec<TaxSubtotal>
where
    I: IntoIterator<Item = (&'a LineTax, &'a LineAmounts)>,
{
    let mut groups: BTreeMap<(TaxCategory, TaxRate), TaxSubtotal> = BTreeMap::new();
    for (tax, amounts) in lines {
        let entry = groups.entry((tax.category, tax.rate)).or_insert_with(|| TaxSubtotal {
            category: tax.category,
            rate: tax.rate,
            taxable_amount: Amount::ZERO,
            tax_amount: Amount::ZERO,
            exemption: tax.exemption.clone(),
        });
        entry.taxable_amount = bounded_sum([entry.taxable_amount, amounts.net]);
        entry.tax_amount = bounded_sum([entry.tax_amount, amounts.tax]);
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(r: &str) -> TaxRate {
        TaxRate::parse(r).unwrap()
    }

    #[test]
    fn categories_default_from_the_rate_and_must_fit_it() {
        assert_eq!(
            LineTax::new(rate("19"), None, None).unwrap().category(),
            TaxCategory::Standard
        );
        assert_eq!(
            LineTax::new(rate("0"), None, None).unwrap().category(),
            TaxCategory::ZeroRated
        );
        assert!(LineTax::new(rate("0"), Some(TaxCategory::Standard), None).is_err());
        assert!(LineTax::new(rate("7"), Some(TaxCategory::ZeroRated), None).is_err());
        let reason = ExemptionReason::parse(Some("VATEX-EU-AE"), Some("Reverse charge")).unwrap();
        assert!(LineTax::new(rate("19"), Some(TaxCategory::ReverseCharge), Some(reason.clone())).is_err());
        let ae = LineTax::new(rate("0"), Some(TaxCategory::ReverseCharge), Some(reason.clone())).unwrap();
        assert_eq!(ae.exemption(), Some(&reason));
    }

    #[test]
    fn untaxed_categories_need_a_reason_and_taxed_ones_refuse_one() {
        for category in TaxCategory::ALL {
            let without = LineTax::new(TaxRate::ZERO, Some(category), None);
            let with = LineTax::new(
                TaxRate::ZERO,
                Some(category),
                Some(ExemptionReason::parse(None, Some("why")).unwrap()),
            );
            match category {
                TaxCategory::Standard => assert!(without.is_err() && with.is_err()),
                TaxCategory::ZeroRated => assert!(without.is_ok() && with.is_err()),
                _ => assert!(without.is_err() && with.is_ok(), "{category}"),
            }
        }
        assert!(ExemptionReason::parse(None, None).is_err());
        assert!(ExemptionReason::parse(Some(" "), Some("")).is_err());
        assert!(ExemptionReason::parse(Some("VATEX EU"), None).is_err());
    }

    #[test]
    fn codes_round_trip() {
        for c in TaxCategory::ALL {
            assert_eq!(c.code().parse::<TaxCategory>().unwrap(), c);
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.code()));
        }
        assert!("X".parse::<TaxCategory>().is_err());
        assert!("s".parse::<TaxCategory>().is_err());
    }

    #[test]
    fn the_breakdown_sums_per_category_and_rate() {
        let s19 = LineTax::standard(rate("19"));
        let s7 = LineTax::standard(rate("7"));
        let a = LineAmounts::compute(1, Amount::from_minor(10_000), rate("19"), false).unwrap();
        let b = LineAmounts::compute(3, Amount::from_minor(333), rate("19"), false).unwrap();
        let c = LineAmounts::compute(2, Amount::from_minor(1_250), rate("7"), false).unwrap();
        let lines = [(&s19, &a), (&s7, &c), (&s19, &b)];
        let groups = breakdown(lines);
        assert_eq!(groups.len(), 2);
        let nineteen = groups.iter().find(|g| g.rate == rate("19")).unwrap();
        assert_eq!(nineteen.taxable_amount.minor(), 10_000 + 999);
        assert_eq!(nineteen.tax_amount.minor(), 1_900 + 190);
        let seven = groups.iter().find(|g| g.rate == rate("7")).unwrap();
        assert_eq!((seven.taxable_amount.minor(), seven.tax_amount.minor()), (2_500, 175));
        assert!(breakdown(std::iter::empty()).is_empty());
    }
}
