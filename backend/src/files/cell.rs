//! One value read from a file, and the readings of text that type inference and the import
//! share: numbers in either decimal convention, amounts, percentages, dates and yes/no.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// A value as the file gave it. CSV gives only text; spreadsheets and JSON give typed values.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    /// A JSON array's items.
    List(Vec<String>),
}

impl Cell {
    /// Text, with surrounding blanks dropped; blank text is empty.
    pub fn text(raw: &str) -> Self {
        let trimmed = raw.trim();
        if trimmed.is_empty() { Self::Empty } else { Self::Text(trimmed.to_owned()) }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Empty)
    }

    /// The value as one line of text, as a text field would hold it.
    pub fn to_text(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(text) => text.clone(),
            Self::Number(n) => format_number(*n),
            Self::Bool(b) => b.to_string(),
            Self::Date(d) => d.format("%Y-%m-%d").to_string(),
            Self::DateTime(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Self::List(items) => items.join(", "),
        }
    }
}

/// The shortest text that reads back as the same number, without a trailing `.0`.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// The decimal places a number was written with (at most 8, Airtable's limit).
pub fn decimals(n: f64) -> u8 {
    let text = n.to_string();
    let places = text.split_once('.').map_or(0, |(_, fraction)| fraction.len());
    u8::try_from(places.min(8)).unwrap_or(8)
}

/// A number as written in a file: `1234.5`, `1,234.5`, `-12`, or with `decimal_comma`
/// (European exports), `1.234,5` and `1234,5`. Answers the value and its decimal places.
pub fn parse_number(text: &str, decimal_comma: bool) -> Option<(f64, u8)> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-').or_else(|| text.strip_prefix('−')) {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (point, grouping) = if decimal_comma { (',', ['.', ' ', '\u{a0}']) } else { ('.', [',', ' ', '\u{a0}']) };
    let (whole, fraction) = match digits.split_once(point) {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    if whole.is_empty() && fraction.is_none_or(str::is_empty) {
        return None;
    }
    if !grouped_digits(whole, &grouping) {
        return None;
    }
    let fraction = fraction.unwrap_or("");
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    let normalized = format!("{}{}.{}", if negative { "-" } else { "" }, if whole.is_empty() { "0" } else { &whole }, if fraction.is_empty() { "0" } else { fraction });
    let value: f64 = normalized.parse().ok().filter(|n: &f64| n.is_finite())?;
    Some((value, u8::try_from(fraction.len().min(8)).unwrap_or(8)))
}

/// Digits, either plain or in groups of three after the first (`1,234,567`), with one kind of
/// separator.
fn grouped_digits(whole: &str, grouping: &[char]) -> bool {
    let Some(separator) = whole.chars().find(|c| grouping.contains(c)) else {
        return whole.bytes().all(|b| b.is_ascii_digit());
    };
    let mut groups = whole.split(separator);
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// The currency symbols an amount may carry, before or after the number.
pub const CURRENCY_SYMBOLS: [&str; 6] = ["$", "€", "£", "¥", "₹", "CHF"];

/// An amount with an optional currency symbol: `$1,200.50`, `-€5`, `12,50 €`. Answers the
/// symbol too when there was one.
pub fn parse_amount(text: &str, decimal_comma: bool) -> Option<(f64, u8, Option<&'static str>)> {
    let text = text.trim();
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest.trim_start()),
        None => ("", text),
    };
    for symbol in CURRENCY_SYMBOLS {
        let bare = rest.strip_prefix(symbol).or_else(|| rest.strip_suffix(symbol));
        if let Some(bare) = bare {
            let (value, places) = parse_number(&format!("{sign}{}", bare.trim()), decimal_comma)?;
            return Some((value, places, Some(symbol)));
        }
    }
    parse_number(text, decimal_comma).map(|(value, places)| (value, places, None))
}

/// A percentage, `15%` or `12.5 %`, as the fraction Airtable stores (0.15), with the places
/// it was written with.
pub fn parse_percent(text: &str, decimal_comma: bool) -> Option<(f64, u8)> {
    let number = text.trim().strip_suffix('%')?;
    let (value, places) = parse_number(number, decimal_comma)?;
    Some((value / 100.0, places))
}

/// Yes or no, as files write it: `true`, `yes`, `y`, `x`, `checked`, and their opposites.
pub fn parse_checkbox(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "x" | "✓" | "✔" | "checked" | "on" => Some(true),
        "false" | "no" | "n" | "unchecked" | "off" => Some(false),
        _ => None,
    }
}

/// A date's parts before the day and month are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateText {
    /// `2024-03-25` or `2024/03/25`: year first, so no doubt.
    Iso(NaiveDate),
    /// `a/b/year` (or with `.` or `-`): the day is `a` or `b`.
    Slashed { a: u32, b: u32, year: i32 },
}

impl DateText {
    /// The date when the day comes first; `None` when that reading is no date.
    pub fn day_first(self) -> Option<NaiveDate> {
        match self {
            Self::Iso(date) => Some(date),
            Self::Slashed { a, b, year } => NaiveDate::from_ymd_opt(year, b, a),
        }
    }

    pub fn month_first(self) -> Option<NaiveDate> {
        match self {
            Self::Iso(date) => Some(date),
            Self::Slashed { a, b, year } => NaiveDate::from_ymd_opt(year, a, b),
        }
    }
}

/// Reads a date without deciding its order: `2024-03-25`, `25/03/2024`, `3.25.24`.
pub fn parse_date(text: &str) -> Option<DateText> {
    let text = text.trim();
    let separator = text.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let parts: Vec<&str> = text.split(separator).collect();
    let [first, second, third] = parts.as_slice() else { return None };
    let number = |part: &str, max_len: usize| -> Option<u32> {
        (!part.is_empty() && part.len() <= max_len && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse().ok()).flatten()
    };
    if first.len() == 4 {
        let date = NaiveDate::from_ymd_opt(i32::try_from(number(first, 4)?).ok()?, number(second, 2)?, number(third, 2)?)?;
        return Some(DateText::Iso(date));
    }
    let year = match third.len() {
        4 => i32::try_from(number(third, 4)?).ok()?,
        // Two-digit years: 70–99 are the 1900s, the rest this century, as spreadsheets read them.
        2 => {
            let short = i32::try_from(number(third, 2)?).ok()?;
            if short >= 70 { 1900 + short } else { 2000 + short }
        }
        _ => return None,
    };
    let (a, b) = (number(first, 2)?, number(second, 2)?);
    let slashed = DateText::Slashed { a, b, year };
    (slashed.day_first().is_some() || slashed.month_first().is_some()).then_some(slashed)
}

/// A date and a time: ISO 8601 (`2024-03-25T14:30:00Z`, with or without the `T` or the zone)
/// or a date followed by a time (`25/03/2024 2:30 PM`). The time is as written; a zone is
/// applied, giving UTC.
pub fn parse_date_time(text: &str) -> Option<(DateText, NaiveTime)> {
    let text = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        let utc = at.naive_utc();
        return Some((DateText::Iso(utc.date()), utc.time()));
    }
    let (date, time) = text.split_once('T').filter(|(d, _)| d.len() == 10).or_else(|| text.split_once(' '))?;
    let time = time.trim().trim_end_matches('Z');
    let time = ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%I:%M%p"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(time, format).ok())?;
    Some((parse_date(date)?, time))
}

/// An e-mail address, roughly: what Airtable's email field would accept.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

/// A web address with its scheme, or starting `www.`.
pub fn is_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let with_scheme = lower.starts_with("http://") || lower.starts_with("https://");
    (with_scheme || lower.starts_with("www.")) && !text.chars().any(char::is_whitespace) && text.len() > 7
}

/// A phone number: 7 to 15 digits, with the usual `+ - ( ) .` and spaces.
pub fn is_phone(text: &str) -> bool {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    (7..=15).contains(&digits) && text.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | '.' | ' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_in_either_decimal_convention() {
        assert_eq!(parse_number("1,234.50", false), Some((1234.5, 2)));
        assert_eq!(parse_number("1.234,5", true), Some((1234.5, 1)));
        assert_eq!(parse_number("1234,75", true), Some((1234.75, 2)));
        assert_eq!(parse_number("-12", false), Some((-12.0, 0)));
        assert_eq!(parse_number(".5", false), Some((0.5, 1)));
    }

    #[test]
    fn text_that_only_looks_numeric_is_not_a_number() {
        for text in ["12,34.5", "1.2.3", "12a", "", "-", "1,2345", "555-1234"] {
            assert_eq!(parse_number(text, false), None, "{text}");
        }
        assert_eq!(parse_number("1,5", false), None, "a decimal comma needs the European convention");
    }

    #[test]
    fn amounts_keep_their_symbol_and_percentages_become_fractions() {
        assert_eq!(parse_amount("$1,200.50", false), Some((1200.5, 2, Some("$"))));
        assert_eq!(parse_amount("12,50 €", true), Some((12.5, 2, Some("€"))));
        assert_eq!(parse_amount("-£5", false), Some((-5.0, 0, Some("£"))));
        assert_eq!(parse_percent("15%", false), Some((0.15, 0)));
        assert_eq!(parse_percent("12,5 %", true), Some((0.125, 1)));
        assert_eq!(parse_percent("15", false), None);
    }

    #[test]
    fn slashed_dates_read_both_ways_until_a_part_proves_the_order() {
        let ambiguous = parse_date("03/04/2024").unwrap();
        assert_eq!(ambiguous.day_first(), NaiveDate::from_ymd_opt(2024, 4, 3));
        assert_eq!(ambiguous.month_first(), NaiveDate::from_ymd_opt(2024, 3, 4));
        let day_first = parse_date("25.03.24").unwrap();
        assert_eq!(day_first.day_first(), NaiveDate::from_ymd_opt(2024, 3, 25));
        assert_eq!(day_first.month_first(), None);
        assert_eq!(parse_date("2024-02-29").unwrap(), DateText::Iso(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()));
        for text in ["2023-02-29", "13/13/2024", "1/2", "hello", "1.5"] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }

    #[test]
    fn date_times_read_iso_and_spreadsheet_forms() {
        let (date, time) = parse_date_time("2024-03-25T14:30:00+01:00").unwrap();
        assert_eq!((date.day_first().unwrap().to_string(), time.to_string()), ("2024-03-25".into(), "13:30:00".into()));
        let (date, time) = parse_date_time("25/03/2024 2:30 PM").unwrap();
        assert_eq!((date.day_first().unwrap().to_string(), time.to_string()), ("2024-03-25".into(), "14:30:00".into()));
        assert!(parse_date_time("2024-03-25").is_none());
    }

    #[test]
    fn contacts_are_recognised_by_shape() {
        assert!(is_email("ada@example.com") && !is_email("ada@example") && !is_email("a b@example.com"));
        assert!(is_url("https://example.com/x") && is_url("www.example.com") && !is_url("example.com"));
        assert!(is_phone("+44 (20) 7946-0958") && !is_phone("12345") && !is_phone("call 555 1234"));
        assert_eq!(parse_checkbox(" Yes "), Some(true));
        assert_eq!(parse_checkbox("maybe"), None);
    }
}
