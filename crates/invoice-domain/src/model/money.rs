//! Exact money: integer minor units, ISO 4217 currencies and decimal tax rates.
//!
//! # Rounding rule
//!
//! Every amount is an integer count of the currency's minor unit (cents for
//! EUR, yen for JPY). Tax is computed **per line** and rounded **half away from
//! zero** to a whole minor unit; the invoice totals are then plain sums of the
//! rounded line amounts. So `subtotal + tax == total` always holds exactly (the
//! EN 16931 BR-CO-10 style), and no float is ever involved.
//!
//! * tax-exclusive line: `net = quantity × unit_amount`,
//!   `tax = round(net × rate / 100)`, `gross = net + tax`;
//! * tax-inclusive line: `gross = quantity × unit_amount`,
//!   `net = round(gross × 100 / (100 + rate))`, `tax = gross − net`.

use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

/// Largest amount a caller may put on one line, one payment or one refund,
/// and largest document total: 10^15 minor units (ten trillion euros).
///
/// Every sum the domain forms is bounded by a small multiple of it (see
/// [`crate::rules::MAX_PAYMENTS`]), far below `u64::MAX` and `i64::MAX`,
/// so sums cannot overflow and every amount fits a database `BIGINT`.
pub const MAX_AMOUNT: u64 = 1_000_000_000_000_000;

/// The former name of [`MAX_AMOUNT`], kept for readers of older code.
pub const MAX_LINE_AMOUNT: u64 = MAX_AMOUNT;

/// An exact, non-negative amount of money in the currency's minor unit
/// (cents for EUR, yen for JPY).
///
/// Negative money cannot be represented: a credit is a credit note, a refund
/// is a refund, each with its own positive amount. There is no `+` or `-` on
/// amounts; [`Amount::checked_add`] and [`Amount::checked_sub`] say when a
/// result would not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(u64);

impl Amount {
    /// Zero minor units.
    pub const ZERO: Amount = Amount(0);

    /// Wraps a count of minor units.
    pub const fn from_minor(minor: u64) -> Self {
        Amount(minor)
    }

    /// Parses a caller's signed integer as an amount between 0 and
    /// [`MAX_AMOUNT`], naming `field` when it is out of range.
    pub fn non_negative(minor: i64, field: &str) -> Result<Self, ValidationError> {
        let minor = u64::try_from(minor).map_err(|_| ValidationError::new(field, "must not be negative"))?;
        if minor > MAX_AMOUNT {
            return Err(ValidationError::new(field, "is too large"));
        }
        Ok(Amount(minor))
    }

    /// Parses a strictly positive amount (payments, refunds).
    pub fn positive(minor: i64, field: &str) -> Result<PositiveAmount, ValidationError> {
        let amount = Amount::non_negative(minor, field)?;
        PositiveAmount::new(amount.0).map_err(|e| ValidationError::new(field, e.message))
    }

    /// The count of minor units.
    pub const fn minor(self) -> u64 {
        self.0
    }

    /// True when the amount is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + rhs`, or `None` if the sum does not fit.
    pub const fn checked_add(self, rhs: Amount) -> Option<Amount> {
        match self.0.checked_add(rhs.0) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// `self − rhs`, or `None` when `rhs` is larger (money never goes negative).
    pub const fn checked_sub(self, rhs: Amount) -> Option<Amount> {
        match self.0.checked_sub(rhs.0) {
            Some(v) => Some(Amount(v)),
            None => None,
        }
    }

    /// `self − rhs`, or zero when `rhs` is larger: for balances that are
    /// "never below 0" by definition.
    pub const fn saturating_sub(self, rhs: Amount) -> Amount {
        Amount(self.0.saturating_sub(rhs.0))
    }

    /// The sum of `amounts`, or `None` if it does not fit.
    pub fn checked_sum<I: IntoIterator<Item = Amount>>(amounts: I) -> Option<Amount> {
        amounts.into_iter().try_fold(Amount::ZERO, Amount::checked_add)
    }

    /// Formats the amount as an exact decimal string with the currency's
    /// exponent (`1999` in EUR is `"19.99"`, `5` in BHD is `"0.005"`).
    pub fn to_decimal_string(self, currency: Currency) -> String {
        let exp = usize::from(currency.exponent());
        let digits = self.0.to_string();
        if exp == 0 {
            return digits;
        }
        let padded = format!("{digits:0>width$}", width = exp + 1);
        let (int, frac) = padded.split_at(padded.len() - exp);
        format!("{int}.{frac}")
    }

    /// Parses an exact decimal in the currency's major units (`"110.5"` in
    /// EUR is 11050): digits, and at most the currency's exponent of digits
    /// after one dot; at most [`MAX_AMOUNT`]. No sign, exponent or rounding.
    pub fn parse_decimal(text: &str, currency: Currency) -> Result<Amount, ValidationError> {
        let bad = || ValidationError::new("amount", "must be a decimal amount in the currency's major units");
        let exp = usize::from(currency.exponent());
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || int.len() > 19 || !digits(int) || !digits(frac) || frac.len() > exp {
            return Err(bad());
        }
        if text.contains('.') && frac.is_empty() {
            return Err(bad());
        }
        let scaled = format!("{int}{frac:0<exp$}");
        let minor = scaled.parse::<u64>().map_err(|_| bad())?;
        if minor > MAX_AMOUNT {
            return Err(ValidationError::new("amount", "is too large"));
        }
        Ok(Amount(minor))
    }

    /// Pairs the amount with its currency for display (`19.99 EUR`).
    pub fn display(self, currency: Currency) -> Money {
        Money { amount: self, currency }
    }
}

/// Sums amounts whose total the domain's own bounds keep far below
/// `u64::MAX`: a document's lines sum to at most [`MAX_AMOUNT`], its credit
/// notes to at most its total, and its payments to at most
/// [`crate::rules::MAX_PAYMENTS`] × [`MAX_AMOUNT`]. Should a bound ever be
/// broken, the sum stops at `u64::MAX` instead of wrapping to a small number.
pub(crate) fn bounded_sum<I: IntoIterator<Item = Amount>>(amounts: I) -> Amount {
    amounts
        .into_iter()
        .fold(Amount::ZERO, |acc, a| Amount(acc.0.saturating_add(a.0)))
}

impl fmt::Display for Amount {
    /// Shows the raw count of minor units; pair it with a currency through
    /// [`Amount::display`] to show a decimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An amount with its currency, displayed as an exact decimal and the code
/// (`19.99 EUR`, `1500 JPY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The amount in minor units.
    pub amount: Amount,
    /// The currency that gives it its exponent.
    pub currency: Currency,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount.to_decimal_string(self.currency), self.currency)
    }
}

/// An amount that is strictly positive and at most [`MAX_AMOUNT`]: what a
/// payment or a refund moves. Zero and negative values cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct PositiveAmount(NonZeroU64);

impl PositiveAmount {
    /// Checks that `minor` is between 1 and [`MAX_AMOUNT`].
    pub fn new(minor: u64) -> Result<Self, ValidationError> {
        if minor > MAX_AMOUNT {
            return Err(ValidationError::new("amount", "is too large"));
        }
        NonZeroU64::new(minor)
            .map(PositiveAmount)
            .ok_or_else(|| ValidationError::new("amount", "must be greater than zero"))
    }

    /// The plain amount.
    pub const fn amount(self) -> Amount {
        Amount(self.0.get())
    }

    /// The count of minor units.
    pub const fn minor(self) -> u64 {
        self.0.get()
    }
}

impl<'de> Deserialize<'de> for PositiveAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        PositiveAmount::new(u64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An ISO 4217 currency that has a defined minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an ISO 4217 alphabetic code (case-insensitive), refusing codes
    /// without a minor unit such as `XXX`.
    pub fn parse(code: &str) -> Result<Self, ValidationError> {
        let upper = code.trim().to_ascii_uppercase();
        let currency = iso_currency::Currency::from_code(&upper)
            .ok_or_else(|| ValidationError::new("currency", "is not an ISO 4217 currency code"))?;
        if currency.exponent().is_none() {
            return Err(ValidationError::new(
                "currency",
                "has no minor unit and cannot be invoiced",
            ));
        }
        Ok(Currency(currency))
    }

    /// The three-letter code, e.g. `EUR`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// The ISO 4217 numeric code, e.g. 978 for EUR.
    pub fn numeric(self) -> u16 {
        self.0.numeric()
    }

    /// The English name, e.g. `Euro`.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The currency symbol, e.g. `€`.
    pub fn symbol(self) -> String {
        self.0.symbol().to_string()
    }

    /// Digits after the decimal point of the major unit (2 for EUR, 0 for JPY).
    pub fn exponent(self) -> u16 {
        self.0.exponent().unwrap_or(0)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Tax rates are kept in units of 1/10,000 of a percent.
const RATE_SCALE: u32 = 10_000;
/// 100 % expressed in rate units times 100, i.e. the divisor for `net × rate`.
const PERCENT_DIVISOR: u128 = 100 * 10_000;
/// Highest accepted rate: 1,000 % (some excise duties exceed 100 %).
const MAX_RATE_UNITS: u32 = 1_000 * RATE_SCALE;

/// An exact decimal tax rate in percent with up to four decimals
/// (`"19"`, `"7.5"`, `"5.5"`, `"0"`). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TaxRate(u32);

impl TaxRate {
    /// A rate of zero percent.
    pub const ZERO: TaxRate = TaxRate(0);

    /// Parses a decimal percentage such as `"19"` or `"7.5"`: digits, an
    /// optional point and at most four decimals, between 0 and 1000.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "tax_rate",
                "must be a decimal percentage like \"19\" or \"7.5\" (0 to 1000, at most 4 decimals)",
            )
        };
        let text = text.trim();
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        if int.is_empty()
            || int.len() > 4
            || frac.len() > 4
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (text.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let int: u32 = int.parse().map_err(|_| bad())?;
        // Pad the decimals to four digits: "5" is 5000 ten-thousandths.
        let frac_units: u32 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
        let units = int * RATE_SCALE + frac_units;
        if units > MAX_RATE_UNITS {
            return Err(bad());
        }
        Ok(TaxRate(units))
    }

    /// Builds a rate from ten-thousandths of a percent (`190_000` is 19 %).
    pub fn from_units(units: u32) -> Result<Self, ValidationError> {
        if units > MAX_RATE_UNITS {
            return Err(ValidationError::new("tax_rate", "must be at most 1000"));
        }
        Ok(TaxRate(units))
    }

    /// The rate in ten-thousandths of a percent.
    pub const fn units(self) -> u32 {
        self.0
    }

    /// True for a zero rate.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for TaxRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let int = self.0 / RATE_SCALE;
        let frac = self.0 % RATE_SCALE;
        if frac == 0 {
            write!(f, "{int}")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{int}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl FromStr for TaxRate {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaxRate::parse(s)
    }
}

impl Serialize for TaxRate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaxRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TaxRate::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Divides `numerator` by a positive `denominator`, rounding half away from
/// zero (for the non-negative values here: half up).
pub fn div_round_half_away(numerator: u128, denominator: u128) -> u128 {
    debug_assert!(denominator > 0);
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if 2 * remainder >= denominator {
        quotient + 1
    } else {
        quotient
    }
}

/// Net, tax and gross of one line, each already rounded to a minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LineAmounts {
    /// Amount before tax.
    pub net: Amount,
    /// Tax on the line, rounded half away from zero.
    pub tax: Amount,
    /// `net + tax`.
    pub gross: Amount,
}

impl LineAmounts {
    /// Applies the rounding rule of this module to one line. Refuses a line
    /// whose gross would exceed [`MAX_AMOUNT`], so no sum built from lines
    /// can wrap: `u32::MAX × 10^15` is an error, never a wrapped number.
    ///
    /// ```
    /// use invoice_domain::{Amount, LineAmounts, TaxRate};
    /// // 3 × 3.33 at 19 % exclusive: net 9.99, tax 1.8981 → 1.90, gross 11.89
    /// let a = LineAmounts::compute(3, Amount::from_minor(333), TaxRate::parse("19").unwrap(), false).unwrap();
    /// assert_eq!((a.net.minor(), a.tax.minor(), a.gross.minor()), (999, 190, 1189));
    /// ```
    pub fn compute(
        quantity: u32,
        unit_amount: Amount,
        rate: TaxRate,
        tax_inclusive: bool,
    ) -> Result<Self, ValidationError> {
        let base = u128::from(quantity) * u128::from(unit_amount.minor());
        let rate = u128::from(rate.units());
        let (net, gross) = if tax_inclusive {
            (
                div_round_half_away(base * PERCENT_DIVISOR, PERCENT_DIVISOR + rate),
                base,
            )
        } else {
            (base, base + div_round_half_away(base * rate, PERCENT_DIVISOR))
        };
        let too_large = || ValidationError::new("unit_amount", "quantity × unit_amount is too large");
        let gross = u64::try_from(gross)
            .ok()
            .filter(|g| *g <= MAX_AMOUNT)
            .ok_or_else(too_large)?;
        // net ≤ gross in both branches, so it fits as well.
        let net = u64::try_from(net).map_err(|_| too_large())?;
        Ok(LineAmounts {
            net: Amount(net),
            tax: Amount(gross - net),
            gross: Amount(gross),
        })
    }

    /// The amounts of a net amount taxed at `rate` (tax-exclusive): what a
    /// credit of part of a line's net, or a goodwill credit, carries.
    pub fn from_net(net: Amount, rate: TaxRate) -> Result<Self, ValidationError> {
        LineAmounts::compute(1, net, rate, false)
    }

    /// True when every component fits within `limit`'s.
    pub fn fits_within(&self, limit: &LineAmounts) -> bool {
        self.net <= limit.net && self.tax <= limit.tax && self.gross <= limit.gross
    }

    /// `self + other`, component by component, or `None` if a sum does not fit.
    pub fn checked_add(self, other: LineAmounts) -> Option<LineAmounts> {
        Some(LineAmounts {
            net: self.net.checked_add(other.net)?,
            tax: self.tax.checked_add(other.tax)?,
            gross: self.gross.checked_add(other.gross)?,
        })
    }

    /// `self − other`, component by component, or `None` if any would be negative.
    pub fn checked_sub(self, other: LineAmounts) -> Option<LineAmounts> {
        Some(LineAmounts {
            net: self.net.checked_sub(other.net)?,
            tax: self.tax.checked_sub(other.tax)?,
            gross: self.gross.checked_sub(other.gross)?,
        })
    }

    /// True when all three amounts are zero.
    pub fn is_zero(&self) -> bool {
        self.gross.is_zero() && self.net.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly_into_minor_units() {
        let eur = Currency::parse("EUR").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Amount::parse_decimal("110.5", eur).unwrap().minor(), 11_050);
        assert_eq!(Amount::parse_decimal("111", eur).unwrap().minor(), 11_100);
        assert_eq!(Amount::parse_decimal("0.01", eur).unwrap().minor(), 1);
        assert_eq!(Amount::parse_decimal("1234.567", kwd).unwrap().minor(), 1_234_567);
        assert_eq!(Amount::parse_decimal("5000", jpy).unwrap().minor(), 5_000);
        for bad in ["", ".5", "5.", "1.234", "-1", "1e3", " 1", "1,5", "10000000000000.01"] {
            assert!(Amount::parse_decimal(bad, eur).is_err(), "{bad:?}");
        }
        assert!(Amount::parse_decimal("5.0", jpy).is_err(), "JPY has no minor unit");
        let round = Amount::from_minor(98_765);
        assert_eq!(
            Amount::parse_decimal(&round.to_decimal_string(eur), eur).unwrap(),
            round
        );
    }

    #[test]
    fn rounding_is_half_up_for_non_negative_values() {
        assert_eq!(div_round_half_away(5, 2), 3);
        assert_eq!(div_round_half_away(4, 3), 1);
        assert_eq!(div_round_half_away(149, 100), 1);
        assert_eq!(div_round_half_away(150, 100), 2);
        assert_eq!(div_round_half_away(0, 7), 0);
    }

    #[test]
    fn tax_rates_parse_exactly_and_print_canonically() {
        assert_eq!(TaxRate::parse("19").unwrap().units(), 190_000);
        assert_eq!(TaxRate::parse("7.5").unwrap().units(), 75_000);
        assert_eq!(TaxRate::parse("0.0001").unwrap().units(), 1);
        assert_eq!(TaxRate::parse("12.3456").unwrap().units(), 123_456);
        assert_eq!(TaxRate::parse("1000").unwrap().units(), 10_000_000);
        assert_eq!(TaxRate::parse("7.50").unwrap().to_string(), "7.5");
        assert_eq!(TaxRate::parse("19.0").unwrap().to_string(), "19");
        assert_eq!(TaxRate::parse("0.05").unwrap().to_string(), "0.05");
        for bad in [
            "",
            "-1",
            "1e2",
            "7.",
            ".5",
            "1000.0001",
            "abc",
            "7.12345",
            "NaN",
            "10000",
        ] {
            assert!(TaxRate::parse(bad).is_err(), "{bad} must be refused");
        }
        assert!(TaxRate::from_units(10_000_001).is_err());
        assert!(TaxRate::from_units(10_000_000).is_ok());
    }

    #[test]
    fn exclusive_and_inclusive_lines_round_per_line() {
        let r19 = TaxRate::parse("19").unwrap();
        let a = LineAmounts::compute(1, Amount(100), r19, true).unwrap();
        // 100 gross at 19 % inclusive: net 84.03 → 84, tax 16
        assert_eq!((a.net.0, a.tax.0, a.gross.0), (84, 16, 100));
        let b = LineAmounts::compute(1, Amount(250), TaxRate::parse("7").unwrap(), false).unwrap();
        // 250 × 7 % = 17.5 → 18 (half away from zero)
        assert_eq!((b.net.0, b.tax.0, b.gross.0), (250, 18, 268));
        let z = LineAmounts::compute(5, Amount(0), r19, false).unwrap();
        assert!(z.is_zero());
    }

    #[test]
    fn huge_lines_are_refused_instead_of_wrapping() {
        // u32::MAX × 10^15 is about 4.3 × 10^24: far beyond u64, refused.
        let huge = LineAmounts::compute(u32::MAX, Amount(1_000_000_000_000_000), TaxRate::ZERO, false);
        assert!(huge.is_err());
        let inclusive = LineAmounts::compute(u32::MAX, Amount(1_000_000_000_000_000), TaxRate::ZERO, true);
        assert!(inclusive.is_err());
        // The limit itself is fine; one minor unit of tax more is not.
        assert_eq!(
            LineAmounts::compute(1, Amount(MAX_AMOUNT), TaxRate::ZERO, false)
                .unwrap()
                .gross
                .minor(),
            MAX_AMOUNT
        );
        assert!(LineAmounts::compute(1, Amount(MAX_AMOUNT), TaxRate::parse("0.0001").unwrap(), false).is_err());
    }

    #[test]
    fn amounts_are_never_negative_and_arithmetic_is_checked() {
        assert!(Amount::non_negative(-1, "x").is_err());
        assert!(Amount::non_negative(i64::MIN, "x").is_err());
        assert_eq!(Amount::non_negative(0, "x").unwrap(), Amount::ZERO);
        assert!(Amount::non_negative(1_000_000_000_000_001, "x").is_err());
        assert_eq!(
            Amount::non_negative(1_000_000_000_000_000, "x").unwrap().minor(),
            MAX_AMOUNT
        );
        assert!(Amount::positive(0, "amount").is_err());
        assert!(Amount::positive(-500, "amount").is_err());
        assert_eq!(Amount::positive(1, "amount").unwrap().minor(), 1);
        assert!(PositiveAmount::new(0).is_err());
        assert!(PositiveAmount::new(MAX_AMOUNT + 1).is_err());
        assert_eq!(PositiveAmount::new(MAX_AMOUNT).unwrap().amount(), Amount(MAX_AMOUNT));
        assert_eq!(Amount(5).checked_sub(Amount(6)), None);
        assert_eq!(Amount(6).checked_sub(Amount(6)), Some(Amount::ZERO));
        assert_eq!(Amount(u64::MAX).checked_add(Amount(1)), None);
        assert_eq!(Amount(5).saturating_sub(Amount(9)), Amount::ZERO);
        assert_eq!(Amount::checked_sum([Amount(1), Amount(2)]), Some(Amount(3)));
        assert_eq!(Amount::checked_sum([Amount(u64::MAX), Amount(1)]), None);
        assert!(serde_json::from_str::<Amount>("-5").is_err());
        assert!(serde_json::from_str::<PositiveAmount>("0").is_err());
        assert_eq!(serde_json::from_str::<PositiveAmount>("7").unwrap().minor(), 7);
    }

    #[test]
    fn currencies_carry_their_exponent_and_amounts_print_exactly() {
        let eur = Currency::parse("eur").unwrap();
        let bhd = Currency::parse("BHD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(eur.exponent(), 2);
        assert_eq!(jpy.exponent(), 0);
        assert_eq!(bhd.exponent(), 3);
        assert!(Currency::parse("XXX").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert_eq!(Amount(1999).to_decimal_string(eur), "19.99");
        assert_eq!(Amount(5).to_decimal_string(bhd), "0.005");
        assert_eq!(Amount(1_234_567).to_decimal_string(bhd), "1234.567");
        assert_eq!(Amount(120).to_decimal_string(eur), "1.20");
        assert_eq!(Amount(0).to_decimal_string(eur), "0.00");
        assert_eq!(Amount(100).to_decimal_string(eur), "1.00");
        assert_eq!(Amount(7).to_decimal_string(jpy), "7");
        assert_eq!(Amount(1999).display(eur).to_string(), "19.99 EUR");
        assert_eq!(Amount(1500).display(jpy).to_string(), "1500 JPY");
        assert_eq!(Amount(1999).to_string(), "1999");
    }
}
