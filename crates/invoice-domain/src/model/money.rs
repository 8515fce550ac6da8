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
use std::ops::{Add, Sub};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

/// Largest absolute amount a single line may reach (10^15 minor units), so
/// that invoice sums can never overflow `i64`.
pub const MAX_LINE_AMOUNT: i64 = 1_000_000_000_000_000;

/// An exact amount of money in the currency's minor unit (e.g. cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    /// Zero minor units.
    pub const ZERO: Amount = Amount(0);

    /// Wraps a count of minor units.
    pub const fn from_minor(minor: i64) -> Self {
        Amount(minor)
    }

    /// Parses a non-negative amount, refusing values above [`MAX_LINE_AMOUNT`].
    pub fn non_negative(minor: i64, field: &str) -> Result<Self, ValidationError> {
        if minor < 0 {
            return Err(ValidationError::new(field, "must not be negative"));
        }
        if minor > MAX_LINE_AMOUNT {
            return Err(ValidationError::new(field, "is too large"));
        }
        Ok(Amount(minor))
    }

    /// Parses a strictly positive amount (payments, refunds).
    pub fn positive(minor: i64, field: &str) -> Result<Self, ValidationError> {
        if minor <= 0 {
            return Err(ValidationError::new(field, "must be greater than zero"));
        }
        Amount::non_negative(minor, field)
    }

    /// The count of minor units.
    pub const fn minor(self) -> i64 {
        self.0
    }

    /// True when the amount is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Formats the amount as a decimal string with the currency's exponent
    /// (`1999` in EUR is `"19.99"`), for APIs that want decimal strings.
    pub fn to_decimal_string(self, currency: Currency) -> String {
        let exp = currency.exponent() as u32;
        if exp == 0 {
            return self.0.to_string();
        }
        let scale = 10i64.pow(exp);
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = exp as usize
        )
    }
}

impl Add for Amount {
    type Output = Amount;
    fn add(self, rhs: Amount) -> Amount {
        Amount(self.0 + rhs.0)
    }
}

impl Sub for Amount {
    type Output = Amount;
    fn sub(self, rhs: Amount) -> Amount {
        Amount(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        Amount(iter.map(|a| a.0).sum())
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
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
const RATE_SCALE: i128 = 10_000;
/// 100 % expressed in rate units times 100, i.e. the divisor for `net × rate`.
const PERCENT_DIVISOR: i128 = 100 * RATE_SCALE;
/// Highest accepted rate: 1,000 % (some excise duties exceed 100 %).
const MAX_RATE_UNITS: u32 = 1_000 * RATE_SCALE as u32;

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
        let mut frac_units: u32 = 0;
        for (i, b) in frac.bytes().enumerate() {
            frac_units += u32::from(b - b'0') * 10u32.pow(3 - i as u32);
        }
        let units = int * RATE_SCALE as u32 + frac_units;
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
        let int = self.0 / RATE_SCALE as u32;
        let frac = self.0 % RATE_SCALE as u32;
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

/// Divides `numerator` by a positive `denominator`, rounding half away from zero.
pub fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if 2 * remainder.abs() >= denominator {
        quotient + numerator.signum()
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
    /// Applies the rounding rule of this module to one line.
    ///
    /// ```
    /// use invoice_domain::{Amount, LineAmounts, TaxRate};
    /// // 3 × 3.33 at 19 % exclusive: net 9.99, tax 1.8981 → 1.90, gross 11.89
    /// let a = LineAmounts::compute(3, Amount::from_minor(333), TaxRate::parse("19").unwrap(), false);
    /// assert_eq!((a.net.minor(), a.tax.minor(), a.gross.minor()), (999, 190, 1189));
    /// ```
    pub fn compute(quantity: u32, unit_amount: Amount, rate: TaxRate, tax_inclusive: bool) -> Self {
        let base = i128::from(quantity) * i128::from(unit_amount.minor());
        let rate = i128::from(rate.units());
        let (net, tax, gross) = if tax_inclusive {
            let net = div_round_half_away(base * PERCENT_DIVISOR, PERCENT_DIVISOR + rate);
            (net, base - net, base)
        } else {
            let tax = div_round_half_away(base * rate, PERCENT_DIVISOR);
            (base, tax, base + tax)
        };
        LineAmounts {
            net: Amount(net as i64),
            tax: Amount(tax as i64),
            gross: Amount(gross as i64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round_half_away(5, 2), 3);
        assert_eq!(div_round_half_away(-5, 2), -3);
        assert_eq!(div_round_half_away(4, 3), 1);
        assert_eq!(div_round_half_away(-4, 3), -1);
        assert_eq!(div_round_half_away(149, 100), 1);
        assert_eq!(div_round_half_away(150, 100), 2);
    }

    #[test]
    fn tax_rates_parse_exactly_and_print_canonically() {
        assert_eq!(TaxRate::parse("19").unwrap().units(), 190_000);
        assert_eq!(TaxRate::parse("7.5").unwrap().units(), 75_000);
        assert_eq!(TaxRate::parse("0.0001").unwrap().units(), 1);
        assert_eq!(TaxRate::parse("7.50").unwrap().to_string(), "7.5");
        assert_eq!(TaxRate::parse("19.0").unwrap().to_string(), "19");
        for bad in ["", "-1", "1e2", "7.", ".5", "1000.0001", "abc", "7.12345", "NaN"] {
            assert!(TaxRate::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn exclusive_and_inclusive_lines_round_per_line() {
        let r19 = TaxRate::parse("19").unwrap();
        let a = LineAmounts::compute(1, Amount(100), r19, true);
        // 100 gross at 19 % inclusive: net 84.03 → 84, tax 16
        assert_eq!((a.net.0, a.tax.0, a.gross.0), (84, 16, 100));
        let b = LineAmounts::compute(1, Amount(250), TaxRate::parse("7").unwrap(), false);
        // 250 × 7 % = 17.5 → 18 (half away from zero)
        assert_eq!((b.net.0, b.tax.0, b.gross.0), (250, 18, 268));
    }

    #[test]
    fn currencies_carry_their_exponent() {
        assert_eq!(Currency::parse("eur").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("BHD").unwrap().exponent(), 3);
        assert!(Currency::parse("XXX").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert_eq!(Amount(1999).to_decimal_string(Currency::parse("EUR").unwrap()), "19.99");
        assert_eq!(Amount(5).to_decimal_string(Currency::parse("BHD").unwrap()), "0.005");
        assert_eq!(Amount(-120).to_decimal_string(Currency::parse("EUR").unwrap()), "-1.20");
    }
}
