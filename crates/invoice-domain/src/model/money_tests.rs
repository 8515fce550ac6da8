//! Tests of the money types that mutation testing showed were missing:
//! each pins a behaviour that a plausible slip in `money.rs` would change.

use super::money::{Amount, Currency, TaxRate};

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
