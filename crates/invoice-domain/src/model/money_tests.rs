//! Tests of the money types that mutation testing showed were missing:
//! each pins a behaviour that a plausible slip in `money.rs` would change.

use super::money::{Amount, Currency, LineAmounts, TaxRate, MAX_AMOUNT};

#[test]
fn a_currency_names_itself_by_its_iso_4217_data() {
    let eur = Currency::parse("EUR").unwrap();
    assert_eq!(eur.numeric(), 978);
    assert_eq!(eur.name(), "Euro");
    assert_eq!(eur.symbol(), "€");
    let jpy = Currency::parse("jpy").unwrap();
    assert_eq!((jpy.code(), jpy.numeric()), ("JPY", 392));
    assert_eq!(jpy.to_string(), "JPY");
}

#[test]
fn a_rate_has_at_most_four_integer_digits_and_only_digits_after_the_point() {
    // Within range, but more integer digits than a rate is written with.
    assert!(TaxRate::parse("00019").is_err());
    assert_eq!(TaxRate::parse("0019").unwrap().units(), 190_000);
    // A sign after the point would parse as a number; it is not a decimal.
    assert!(TaxRate::parse("7.+5").is_err());
    assert!(TaxRate::parse("+7.5").is_err());
}

#[test]
fn rates_read_from_text_and_json_carry_their_value() {
    assert_eq!("19".parse::<TaxRate>().unwrap().units(), 190_000);
    assert!("x".parse::<TaxRate>().is_err());
    assert_eq!(serde_json::from_str::<TaxRate>(r#""7.5""#).unwrap().units(), 75_000);
    assert!(serde_json::from_str::<TaxRate>(r#""1000.5""#).is_err());
    assert_eq!(
        serde_json::to_string(&TaxRate::parse("5.5").unwrap()).unwrap(),
        r#""5.5""#
    );
}

#[test]
fn amounts_read_from_json_carry_their_value() {
    assert_eq!(
        serde_json::from_str::<Amount>("1999").unwrap(),
        Amount::from_minor(1999)
    );
    assert_eq!(serde_json::to_string(&Amount::from_minor(5)).unwrap(), "5");
}

#[test]
fn amounts_fit_within_a_limit_only_when_every_component_does() {
    let amounts = |net, tax, gross| LineAmounts {
        net: Amount::from_minor(net),
        tax: Amount::from_minor(tax),
        gross: Amount::from_minor(gross),
    };
    let limit = amounts(100, 19, 119);
    assert!(amounts(100, 19, 119).fits_within(&limit));
    assert!(!amounts(101, 0, 101).fits_within(&limit), "net beyond");
    assert!(!amounts(90, 20, 110).fits_within(&limit), "tax beyond");
    assert!(!amounts(100, 19, 120).fits_within(&limit), "gross beyond");
}

#[test]
fn amounts_are_zero_only_when_net_and_gross_are() {
    let amounts = |net, gross| LineAmounts {
        net: Amount::from_minor(net),
        tax: Amount::ZERO,
        gross: Amount::from_minor(gross),
    };
    assert!(amounts(0, 0).is_zero());
    assert!(!amounts(1, 0).is_zero());
    assert!(!amounts(0, 1).is_zero());
    assert!(!amounts(5, 5).is_zero());
}

#[test]
fn a_decimal_amount_is_unsigned_and_says_when_it_is_merely_too_large() {
    let eur = Currency::parse("EUR").unwrap();
    let jpy = Currency::parse("JPY").unwrap();
    // Integer parsing would take a leading `+`; a decimal amount does not.
    for signed in ["+1", "+1.5"] {
        assert!(Amount::parse_decimal(signed, eur).is_err(), "{signed:?}");
    }
    // The largest amount is taken; one minor unit more is too large.
    assert_eq!(
        Amount::parse_decimal("10000000000000.00", eur).unwrap().minor(),
        MAX_AMOUNT
    );
    assert_eq!(
        Amount::parse_decimal("1000000000000000", jpy).unwrap().minor(),
        MAX_AMOUNT
    );
    let message = |text: &str| Amount::parse_decimal(text, jpy).unwrap_err().message;
    assert_eq!(message("1000000000000001"), "is too large");
    // Nineteen integer digits are a number, only too large; twenty are not
    // an amount at all.
    assert_eq!(message("1000000000000000000"), "is too large");
    assert_eq!(
        message("10000000000000000000"),
        "must be a decimal amount in the currency's major units"
    );
}
