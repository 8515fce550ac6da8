//! Document numbers: a tenant's [`NumberFormat`] (`{SERIES}-{SEQ:6}` by
//! default, `INV-000052`) filled with a sequence drawn from a gapless
//! counter. The counter is keyed by the number's text around its sequence,
//! so a format with a date restarts the count each year, month or day.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// The prefix naming a number series: 1–16 characters of `A-Z`, `0-9` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SeriesPrefix(String);

impl SeriesPrefix {
    /// Parses a prefix; lowercase letters are refused rather than silently changed.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok = !value.is_empty()
            && value.len() <= 16
            && value
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(SeriesPrefix(value.to_string()))
        } else {
            Err(ValidationError::new(
                "series",
                "must be 1 to 16 characters of A-Z, 0-9 or _",
            ))
        }
    }

    /// The default invoice series, `INV`.
    pub fn invoices() -> Self {
        SeriesPrefix("INV".into())
    }

    /// The default credit-note series, `CN`.
    pub fn credit_notes() -> Self {
        SeriesPrefix("CN".into())
    }

    /// The prefix text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SeriesPrefix {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        SeriesPrefix::parse(&value)
    }
}

impl From<SeriesPrefix> for String {
    fn from(value: SeriesPrefix) -> String {
        value.0
    }
}

impl fmt::Display for SeriesPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A number given to an issued document: its text as printed, the series it
/// was drawn in and its position in its counter (1, 2, 3… with no gap).
/// The text never changes once issued, whatever the format becomes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "StoredNumber", into = "StoredNumber")]
pub struct DocumentNumber {
    /// The series it was drawn from.
    pub series: SeriesPrefix,
    /// Position in its counter, starting at 1, with no gap.
    pub sequence: u64,
    text: String,
}

impl DocumentNumber {
    /// A number in the default format (`INV-000052`); sequence 0 is refused
    /// since counters start at 1.
    pub fn new(series: SeriesPrefix, sequence: u64) -> Result<Self, ValidationError> {
        if sequence == 0 {
            return Err(ValidationError::new("number", "sequence starts at 1"));
        }
        let text = format!("{series}-{sequence:06}");
        Ok(DocumentNumber { series, sequence, text })
    }

    /// A number whose text was printed earlier (read back from storage); the
    /// text must be a valid [`DocumentCode`].
    pub fn issued(series: SeriesPrefix, sequence: u64, text: &str) -> Result<Self, ValidationError> {
        if sequence == 0 {
            return Err(ValidationError::new("number", "sequence starts at 1"));
        }
        let code = DocumentCode::parse(text).map_err(|e| ValidationError::new("number", e.message))?;
        Ok(DocumentNumber {
            series,
            sequence,
            text: code.0,
        })
    }

    /// The number as printed, e.g. `INV-2024-001`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The printed text before the sequence, without a trailing separator
    /// (`INV-2024` for `INV-2024-001`); the whole text when the sequence is
    /// not at its end. APIs that show a number as prefix and integer use it.
    pub fn prefix(&self) -> &str {
        let body = self.text.trim_end_matches(|c: char| c.is_ascii_digit());
        let run = &self.text[body.len()..];
        // The longest tail of the trailing digits that reads as the
        // sequence: its zero padding belongs to it.
        match (0..run.len()).find(|&i| run[i..].parse::<u64>().ok() == Some(self.sequence)) {
            Some(i) => self.text[..body.len() + i].trim_end_matches(['-', '_', '.']),
            None => &self.text,
        }
    }
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The serde shape of a number. Numbers stored before formats existed have
/// no `text`; they were printed in the default format.
#[derive(Serialize, Deserialize)]
struct StoredNumber {
    series: SeriesPrefix,
    sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

impl From<StoredNumber> for DocumentNumber {
    fn from(s: StoredNumber) -> Self {
        let text = s.text.unwrap_or_else(|| format!("{}-{:06}", s.series, s.sequence));
        DocumentNumber {
            series: s.series,
            sequence: s.sequence,
            text,
        }
    }
}

impl From<DocumentNumber> for StoredNumber {
    fn from(n: DocumentNumber) -> Self {
        StoredNumber {
            series: n.series,
            sequence: n.sequence,
            text: Some(n.text),
        }
    }
}

/// How a client may name a document in a URL or body besides its UUID: its
/// number or the client's own external reference. 1 to 100 characters, no
/// control characters, not blank.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentCode(String);

impl DocumentCode {
    /// The longest code accepted.
    pub const MAX_CHARS: usize = 100;

    /// Parses a code; an empty, blank, over-long or control-character text is refused.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        if text.trim().is_empty() {
            return Err(ValidationError::new("reference", "must not be empty"));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new("reference", "must be at most 100 characters"));
        }
        if text.chars().any(char::is_control) {
            return Err(ValidationError::new("reference", "must not contain control characters"));
        }
        Ok(DocumentCode(text.to_string()))
    }

    /// The code's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocumentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One piece of a number format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Series,
    Year,
    ShortYear,
    Month,
    Day,
    /// The sequence, zero-padded to this many digits (0: no padding).
    Sequence(usize),
}

/// How a tenant's document numbers are printed: literal text and the
/// placeholders `{SERIES}`, `{YYYY}`, `{YY}`, `{MM}`, `{DD}` and exactly one
/// `{SEQ}` or `{SEQ:n}` (zero-padded to n digits, 1 ≤ n ≤ 12).
///
/// The counter behind a number is keyed by everything around the sequence,
/// so `INV-{YYYY}-{SEQ:5}` counts from 1 again each year and
/// `INV-{YYYY}{MM}{DD}-{SEQ:3}` each day, gapless within each. A format that
/// names a month without a year, or a day without a month, is refused: its
/// numbers would repeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NumberFormat {
    text: String,
    pieces: Vec<Piece>,
}

/// Characters a format's literal text may use: they stay safe in a URL
/// path, a file name and an e-invoice.
fn literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

impl NumberFormat {
    /// The longest format accepted, in characters.
    pub const MAX_CHARS: usize = 64;

    /// The default format, `{SERIES}-{SEQ:6}` (`INV-000052`).
    pub fn default_format() -> Self {
        NumberFormat::parse("{SERIES}-{SEQ:6}").expect("the default format parses")
    }

    /// Parses a format, naming what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let bad = |message: &str| ValidationError::new("number_format", message);
        if text.is_empty() || text.chars().count() > Self::MAX_CHARS {
            return Err(bad("must be 1 to 64 characters"));
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('{') {
                let (name, tail) = after.split_once('}').ok_or_else(|| bad("has a `{` without its `}`"))?;
                let piece = match name {
                    "SERIES" => Piece::Series,
                    "YYYY" => Piece::Year,
                    "YY" => Piece::ShortYear,
                    "MM" => Piece::Month,
                    "DD" => Piece::Day,
                    "SEQ" => Piece::Sequence(0),
                    other => match other.strip_prefix("SEQ:").map(str::parse::<usize>) {
                        Some(Ok(width)) if (1..=12).contains(&width) => Piece::Sequence(width),
                        Some(_) => return Err(bad("pads {SEQ:n} to 1 to 12 digits")),
                        None => return Err(bad("knows only {SERIES}, {YYYY}, {YY}, {MM}, {DD}, {SEQ} and {SEQ:n}")),
                    },
                };
                pieces.push(piece);
                rest = tail;
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                let literal = &rest[..end];
                if !literal.chars().all(literal_char) {
                    return Err(bad("may only use A-Z, a-z, 0-9, `-`, `_` and `.` besides placeholders"));
                }
                pieces.push(Piece::Literal(literal.to_string()));
                rest = &rest[end..];
            }
        }
        let count = |p: &dyn Fn(&Piece) -> bool| pieces.iter().filter(|x| p(x)).count();
        if count(&|p| matches!(p, Piece::Sequence(_))) != 1 {
            return Err(bad("must hold exactly one {SEQ} or {SEQ:n}"));
        }
        let year = count(&|p| matches!(p, Piece::Year | Piece::ShortYear)) > 0;
        let month = count(&|p| matches!(p, Piece::Month)) > 0;
        let day = count(&|p| matches!(p, Piece::Day)) > 0;
        if (month && !year) || (day && !month) {
            return Err(bad(
                "needs a year with {MM} and a month with {DD}, or numbers would repeat",
            ));
        }
        // A variable-width piece directly followed by one that could
        // continue it would make two numbers print alike.
        for pair in pieces.windows(2) {
            let clash = match (&pair[0], &pair[1]) {
                (Piece::Series, Piece::Literal(l)) => l.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'),
                (Piece::Series, Piece::Sequence(_)) => true,
                (Piece::Sequence(_), Piece::Literal(l)) => l.starts_with(|c: char| c.is_ascii_digit()),
                (Piece::Sequence(_), _) => true,
                _ => false,
            };
            if clash {
                return Err(bad(
                    "must separate {SERIES} and {SEQ} from what follows them, or two numbers could print alike",
                ));
            }
        }
        Ok(NumberFormat {
            text: text.to_string(),
            pieces,
        })
    }

    /// The format as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Where a number issued on `date` in `series` is drawn: the counter's
    /// key, and how to print a sequence in it.
    pub fn slot(&self, series: &SeriesPrefix, date: NaiveDate) -> NumberSlot {
        let (mut before, mut after, mut width) = (String::new(), String::new(), 0);
        let mut seen_sequence = false;
        for piece in &self.pieces {
            let out = if seen_sequence { &mut after } else { &mut before };
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::Series => out.push_str(series.as_str()),
                Piece::Year => out.push_str(&format!("{:04}", date.year())),
                Piece::ShortYear => out.push_str(&format!("{:02}", date.year().rem_euclid(100))),
                Piece::Month => out.push_str(&format!("{:02}", date.month())),
                Piece::Day => out.push_str(&format!("{:02}", date.day())),
                Piece::Sequence(w) => {
                    width = *w;
                    seen_sequence = true;
                }
            }
        }
        NumberSlot {
            series: series.clone(),
            before,
            after,
            width,
        }
    }
}

impl fmt::Display for NumberFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for NumberFormat {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        NumberFormat::parse(&value)
    }
}

impl From<NumberFormat> for String {
    fn from(value: NumberFormat) -> String {
        value.text
    }
}

impl Default for NumberFormat {
    fn default() -> Self {
        NumberFormat::default_format()
    }
}

/// A format applied to one series and date: the counter to draw from and
/// how its sequence prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberSlot {
    series: SeriesPrefix,
    before: String,
    after: String,
    width: usize,
}

impl NumberSlot {
    /// The counter's key: the number's text with `{SEQ}` where the sequence
    /// goes (`INV-2024-{SEQ}`). Two formats that print alike around the
    /// sequence share a counter, so changing the padding never restarts it.
    pub fn counter(&self) -> String {
        format!("{}{{SEQ}}{}", self.before, self.after)
    }

    /// The number with sequence `sequence` (at least 1).
    pub fn number(&self, sequence: u64) -> Result<DocumentNumber, ValidationError> {
        if sequence == 0 {
            return Err(ValidationError::new("number", "sequence starts at 1"));
        }
        let text = format!("{}{:0width$}{}", self.before, sequence, self.after, width = self.width);
        DocumentNumber::issued(self.series.clone(), sequence, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_default_format_prints_the_series_and_six_digits() {
        let n = DocumentNumber::new(SeriesPrefix::invoices(), 52).unwrap();
        assert_eq!(n.to_string(), "INV-000052");
        let slot = NumberFormat::default().slot(&SeriesPrefix::invoices(), day(2024, 12, 1));
        assert_eq!(slot.counter(), "INV-{SEQ}");
        assert_eq!(slot.number(52).unwrap(), n);
        assert_eq!(slot.number(1_234_567).unwrap().as_str(), "INV-1234567");
        assert!(slot.number(0).is_err());
        assert!(SeriesPrefix::parse("TOO_LONG_PREFIX_XX").is_err());
        assert!(SeriesPrefix::parse("inv").is_err());
    }

    #[test]
    fn dated_formats_key_their_counter_by_period() {
        let series = SeriesPrefix::invoices();
        let daily = NumberFormat::parse("INV-{YYYY}{MM}{DD}-{SEQ:3}").unwrap();
        let slot = daily.slot(&series, day(2024, 12, 1));
        assert_eq!(slot.counter(), "INV-20241201-{SEQ}");
        assert_eq!(slot.number(1).unwrap().as_str(), "INV-20241201-001");
        assert_ne!(daily.slot(&series, day(2024, 12, 2)).counter(), slot.counter());
        let yearly = NumberFormat::parse("RE-{YYYY}-{SEQ:5}").unwrap();
        assert_eq!(
            yearly.slot(&series, day(2025, 1, 31)).number(7).unwrap().as_str(),
            "RE-2025-00007"
        );
        assert_eq!(
            yearly.slot(&series, day(2025, 1, 31)).counter(),
            yearly.slot(&series, day(2025, 12, 1)).counter()
        );
        let short = NumberFormat::parse("{YY}{MM}/{SEQ}").err();
        assert!(short.is_some(), "`/` is not allowed in a number");
        let short = NumberFormat::parse("{SERIES}{YY}{MM}.{SEQ}").unwrap();
        assert_eq!(
            short
                .slot(&SeriesPrefix::parse("CN").unwrap(), day(2009, 3, 4))
                .number(12)
                .unwrap()
                .as_str(),
            "CN0903.12"
        );
    }

    #[test]
    fn ambiguous_or_malformed_formats_are_refused_with_a_reason() {
        for bad in [
            "",
            "INV",
            "{SEQ}{SEQ}",
            "INV-{MM}-{SEQ}",
            "INV-{YYYY}-{DD}-{SEQ}",
            "INV-{SEQ:0}",
            "INV-{SEQ:13}",
            "INV-{SEQ",
            "INV-{WEEK}-{SEQ}",
            "INV {SEQ}",
            "INV-{SEQ}{YYYY}",
            "{SERIES}{SEQ}",
            "{SERIES}X-{SEQ}",
            "{SEQ}1",
            &format!("{}{{SEQ}}", "A".repeat(60)),
        ] {
            let e = NumberFormat::parse(bad).unwrap_err();
            assert_eq!(e.field, "number_format", "{bad:?}");
        }
        assert!(NumberFormat::parse("{SEQ}").is_ok());
        assert!(NumberFormat::parse("{SERIES}-{SEQ}-X").is_ok());
    }

    #[test]
    fn a_prefix_is_the_text_before_the_sequence() {
        let slot = |f: &str| {
            NumberFormat::parse(f)
                .unwrap()
                .slot(&SeriesPrefix::invoices(), day(2024, 1, 2))
        };
        assert_eq!(slot("{SERIES}-{SEQ:6}").number(52).unwrap().prefix(), "INV");
        assert_eq!(slot("INV-{YYYY}-{SEQ:3}").number(1).unwrap().prefix(), "INV-2024");
        assert_eq!(slot("INV{YYYY}{SEQ:3}").number(10).unwrap().prefix(), "INV2024");
        assert_eq!(slot("{SEQ}").number(10).unwrap().prefix(), "");
        assert_eq!(slot("{SERIES}-{SEQ}-X").number(3).unwrap().prefix(), "INV-3-X");
    }

    #[test]
    fn numbers_stored_before_formats_read_in_the_default_format() {
        let old: DocumentNumber = serde_json::from_str(r#"{"series":"INV","sequence":52}"#).unwrap();
        assert_eq!(old.as_str(), "INV-000052");
        let n = NumberFormat::parse("RE-{YYYY}-{SEQ:5}")
            .unwrap()
            .slot(&SeriesPrefix::invoices(), day(2024, 5, 6))
            .number(3)
            .unwrap();
        let back: DocumentNumber = serde_json::from_str(&serde_json::to_string(&n).unwrap()).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn codes_are_one_to_a_hundred_visible_characters() {
        assert!(DocumentCode::parse("INV-20241201-001").is_ok());
        assert!(DocumentCode::parse(&"x".repeat(100)).is_ok());
        assert!(DocumentCode::parse(&"é".repeat(100)).is_ok(), "characters, not bytes");
        for bad in ["", "   ", "a\u{0}b", "line\nbreak", &"x".repeat(101)] {
            assert!(DocumentCode::parse(bad).is_err(), "{bad:?}");
        }
    }
}
