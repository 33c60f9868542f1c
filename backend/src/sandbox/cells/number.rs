//! Number-like cells: number, currency, percent, duration (in seconds) and rating.

use serde_json::Value;

use super::{CellError, Written, invalid, quote};
use crate::model::airtable::{Field, FieldType};

/// Airtable offers 0 to 8 decimal places; larger values in hand-written schemas are capped.
const MAX_PRECISION: u32 = 8;

/// The rating scale when the field's options do not give one.
const DEFAULT_RATING_MAX: u64 = 5;

/// Takes a JSON number, rounded to the field's precision; with `typecast`, also text such as
/// "1,200", "$1,200.50", "15%" (read as 0.15) or, for durations, "1:30" (read as 5400 seconds).
pub fn write(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let options = field.options.as_ref();
    let n = match input {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if typecast => {
            if s.trim().is_empty() {
                return Ok(Written::clear());
            }
            let parsed = if field.field_type == FieldType::Duration && s.contains(':') {
                parse_duration(s)
            } else {
                parse_text(s, symbol(options))
            };
            let example = match field.field_type {
                FieldType::Duration => "5400 or \"1:30\"",
                FieldType::Percent => "0.15 or \"15%\"",
                _ => "1200.5 or \"$1,200.50\"",
            };
            Some(parsed.ok_or_else(|| {
                invalid(
                    field,
                    format!(
                        "{} is not a number it can read, such as {example}",
                        quote(input)
                    ),
                )
            })?)
        }
        Value::String(_) => {
            return Err(invalid(
                field,
                format!(
                    "{} is text; send a JSON number such as 1200.5, or \"typecast\": true to have the text read",
                    quote(input)
                ),
            ));
        }
        _ => {
            return Err(invalid(
                field,
                format!("{} is not a number; send one such as 1200.5", quote(input)),
            ));
        }
    };
    let n = n
        .filter(|n| n.is_finite())
        .ok_or_else(|| invalid(field, "send a finite number"))?;
    let n = match precision(options) {
        // A percent field's precision counts the places shown after "×100".
        Some(p) if field.field_type == FieldType::Percent => round_to(n, p + 2),
        Some(p) if field.field_type != FieldType::Duration => round_to(n, p),
        _ => n,
    };
    Ok(Written::set(number_value(n)))
}

/// Takes a whole number from 1 to the field's maximum; 0 clears the rating, as in Airtable.
pub fn write_rating(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let max = field
        .options
        .as_ref()
        .and_then(|o| o.get("max"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_RATING_MAX);
    let accepts = format!("it takes a whole number from 1 to {max}, or 0 to clear the rating");
    let n = match input {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if typecast && s.trim().is_empty() => return Ok(Written::clear()),
        Value::String(s) if typecast => parse_text(s, None),
        _ => None,
    };
    let Some(n) = n else {
        return Err(invalid(
            field,
            format!("{} is not a rating; {accepts}", quote(input)),
        ));
    };
    if n == 0.0 {
        return Ok(Written::clear());
    }
    if n.fract() != 0.0 || n < 1.0 || n > max as f64 {
        return Err(invalid(
            field,
            format!("{} is out of range; {accepts}", quote(input)),
        ));
    }
    Ok(Written::set(number_value(n)))
}

/// Shows a number as Airtable's string cell format does for the field's type and options.
pub fn display(field_type: &FieldType, options: Option<&Value>, n: f64) -> String {
    match field_type {
        FieldType::Currency => {
            let digits = precision(options).unwrap_or(2);
            let sign = if round_to(n, digits) < 0.0 { "-" } else { "" };
            let symbol = symbol(options).unwrap_or("$");
            format!("{sign}{symbol}{}", grouped(&fixed(n.abs(), digits)))
        }
        FieldType::Percent => {
            let hundreds = shift(n, 2);
            match precision(options) {
                Some(p) => format!("{}%", fixed(hundreds, p)),
                None => format!("{}%", plain(hundreds)),
            }
        }
        FieldType::Duration => duration(options, n),
        FieldType::Number => match precision(options) {
            Some(p) => fixed(n, p),
            None => plain(n),
        },
        _ => plain(n),
    }
}

/// A number as JavaScript would print it: no ".0" on whole numbers and no "-0".
pub fn plain(n: f64) -> String {
    if n == 0.0 { "0".into() } else { n.to_string() }
}

/// A JSON number as text: integers digit for digit (even past what an `f64` holds exactly),
/// others as [`plain`] writes them.
pub fn text_of(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => plain(f),
        _ => n.to_string(),
    }
}

/// Reads number text the way people type it: thousands commas, a currency symbol, a trailing
/// "%" (which divides by 100). Refuses "NaN", "inf" and anything else that is not a finite number.
pub fn parse_text(text: &str, symbol: Option<&str>) -> Option<f64> {
    let mut s = text.trim();
    let percent = s.ends_with('%');
    if let Some(before) = s.strip_suffix('%') {
        s = before.trim_end();
    }
    let mut s = s.to_owned();
    if let Some(symbol) = symbol.filter(|sym| !sym.is_empty()) {
        s = s.replacen(symbol, "", 1);
    }
    s.retain(|c| !matches!(c, '$' | '€' | '£' | '¥' | '₹' | ','));
    let s = s.trim();
    let numeric = s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-' | b'e' | b'E'));
    let n: f64 = s.parse().ok().filter(|_| numeric)?;
    let n = if percent { shift(n, -2) } else { n };
    n.is_finite().then_some(n)
}

/// Reads "h:mm" or "h:mm:ss[.fff]" as seconds, the forms Airtable shows durations in.
fn parse_duration(text: &str) -> Option<f64> {
    let text = text.trim();
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text),
    };
    let whole = |s: &str| -> Option<f64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let parts: Vec<&str> = text.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h, m] => (whole(h)?, whole(m)?, 0.0),
        [h, m, s] => {
            let seconds: f64 = s
                .parse()
                .ok()
                .filter(|_| s.bytes().all(|b| b.is_ascii_digit() || b == b'.'))?;
            (whole(h)?, whole(m)?, seconds)
        }
        _ => return None,
    };
    (minutes < 60.0 && seconds < 60.0).then_some(sign * (hours * 3600.0 + minutes * 60.0 + seconds))
}

/// Shows seconds in the field's `durationFormat`: "h:mm" (the default), "h:mm:ss", or
/// "h:mm:ss" with one to three "S" for fractions of a second.
fn duration(options: Option<&Value>, seconds: f64) -> String {
    let format = options
        .and_then(|o| o.get("durationFormat"))
        .and_then(Value::as_str)
        .unwrap_or("h:mm");
    let sign = if seconds < 0.0 { "-" } else { "" };
    let seconds = seconds.abs();
    if format == "h:mm" {
        let minutes = (seconds / 60.0).round() as u64;
        let text = format!("{}:{:02}", minutes / 60, minutes % 60);
        return if minutes == 0 {
            text
        } else {
            format!("{sign}{text}")
        };
    }
    let decimals = format.rsplit_once('.').map_or(0, |(_, s)| s.len().min(3)) as u32;
    let scale = 10u64.pow(decimals);
    let units = (seconds * scale as f64).round() as u64;
    let whole = units / scale;
    let mut text = format!("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60);
    if decimals > 0 {
        text.push_str(&format!(
            ".{:0width$}",
            units % scale,
            width = decimals as usize
        ));
    }
    if units == 0 {
        text
    } else {
        format!("{sign}{text}")
    }
}

fn precision(options: Option<&Value>) -> Option<u32> {
    let p = options?.get("precision")?.as_u64()?;
    Some(u32::try_from(p).unwrap_or(MAX_PRECISION).min(MAX_PRECISION))
}

fn symbol(options: Option<&Value>) -> Option<&str> {
    options?.get("symbol")?.as_str()
}

/// Multiplies by a power of ten through the decimal text, so 0.15 becomes exactly 15 rather than
/// 15.000000000000002.
fn shift(n: f64, places: i32) -> f64 {
    format!("{n}e{places}").parse().unwrap_or(n)
}

/// Rounds half away from zero as a person would on the decimal digits shown, so 1.005 rounds
/// to 1.01 even though its binary value is slightly below.
fn round_to(n: f64, digits: u32) -> f64 {
    let digits = digits as i32;
    let rounded = shift(shift(n, digits).round(), -digits);
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// `n` with exactly `digits` decimals, rounded as in [`round_to`].
fn fixed(n: f64, digits: u32) -> String {
    let text = format!("{:.*}", digits as usize, round_to(n, digits));
    match text.strip_prefix('-') {
        Some(unsigned) if unsigned.bytes().all(|b| b == b'0' || b == b'.') => unsigned.into(),
        _ => text,
    }
}

/// Puts thousands commas into the whole part of an unsigned decimal text.
fn grouped(digits: &str) -> String {
    let (whole, fraction) = digits
        .split_once('.')
        .map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// Stores whole numbers as JSON integers, so clients read `12`, not `12.0`.
fn number_value(n: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() < EXACT {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::CellWrite;
    use super::*;
    use crate::model::airtable::FieldId;

    fn field(field_type: FieldType, options: Option<Value>) -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Budget".into(),
            field_type,
            description: None,
            options,
        }
    }

    fn stored(f: &Field, input: Value, typecast: bool) -> Result<CellWrite, CellError> {
        write(f, &input, typecast).map(|w| w.write)
    }

    #[test]
    fn a_json_number_is_stored_as_sent() {
        let f = field(FieldType::Number, None);
        assert_eq!(
            stored(&f, json!(12.5), false).unwrap(),
            CellWrite::Set(json!(12.5))
        );
    }

    #[test]
    fn a_whole_number_is_stored_as_an_integer() {
        let f = field(FieldType::Number, None);
        assert_eq!(
            stored(&f, json!(12.0), false).unwrap(),
            CellWrite::Set(json!(12))
        );
    }

    #[test]
    fn zero_is_a_value_not_a_blank() {
        let f = field(FieldType::Currency, None);
        assert_eq!(
            stored(&f, json!(0), false).unwrap(),
            CellWrite::Set(json!(0))
        );
    }

    #[test]
    fn number_text_without_typecast_is_refused() {
        let err = stored(&field(FieldType::Number, None), json!("12.5"), false).unwrap_err();
        assert!(matches!(err, CellError::InvalidValue { .. }));
        assert!(err.to_string().contains("typecast"), "{err}");
    }

    #[test]
    fn a_boolean_is_refused_by_a_number_field_even_with_typecast() {
        assert!(stored(&field(FieldType::Number, None), json!(true), true).is_err());
    }

    #[test]
    fn typecast_reads_plain_number_text() {
        let f = field(FieldType::Number, None);
        assert_eq!(
            stored(&f, json!(" 12.5 "), true).unwrap(),
            CellWrite::Set(json!(12.5))
        );
    }

    #[test]
    fn typecast_reads_thousands_commas() {
        let f = field(FieldType::Number, None);
        assert_eq!(
            stored(&f, json!("1,200"), true).unwrap(),
            CellWrite::Set(json!(1200))
        );
    }

    #[test]
    fn typecast_reads_money_text() {
        let f = field(FieldType::Currency, None);
        assert_eq!(
            stored(&f, json!("$1,200.50"), true).unwrap(),
            CellWrite::Set(json!(1200.5))
        );
        assert_eq!(
            stored(&f, json!("-$3"), true).unwrap(),
            CellWrite::Set(json!(-3))
        );
    }

    #[test]
    fn typecast_reads_the_fields_own_currency_symbol() {
        let f = field(
            FieldType::Currency,
            Some(json!({"symbol": "CHF", "precision": 2})),
        );
        assert_eq!(
            stored(&f, json!("CHF 40"), true).unwrap(),
            CellWrite::Set(json!(40))
        );
    }

    #[test]
    fn typecast_reads_a_percent_sign_as_hundredths() {
        let f = field(FieldType::Percent, None);
        assert_eq!(
            stored(&f, json!("15%"), true).unwrap(),
            CellWrite::Set(json!(0.15))
        );
        assert_eq!(
            stored(&f, json!("33.3 %"), true).unwrap(),
            CellWrite::Set(json!(0.333))
        );
    }

    #[test]
    fn typecast_reads_duration_clock_text_as_seconds() {
        let f = field(FieldType::Duration, None);
        assert_eq!(
            stored(&f, json!("1:30"), true).unwrap(),
            CellWrite::Set(json!(5400))
        );
        assert_eq!(
            stored(&f, json!("0:01:02.5"), true).unwrap(),
            CellWrite::Set(json!(62.5))
        );
        assert!(stored(&f, json!("1:75"), true).is_err());
    }

    #[test]
    fn unreadable_number_text_is_refused_with_typecast() {
        let err = stored(&field(FieldType::Number, None), json!("twelve"), true).unwrap_err();
        assert!(
            err.to_string().contains("\"twelve\" is not a number"),
            "{err}"
        );
    }

    #[test]
    fn non_finite_number_text_is_refused() {
        let f = field(FieldType::Number, None);
        for text in ["NaN", "inf", "-infinity", "1e400"] {
            assert!(stored(&f, json!(text), true).is_err(), "{text}");
        }
    }

    #[test]
    fn blank_text_with_typecast_clears_a_number() {
        let f = field(FieldType::Number, None);
        assert_eq!(stored(&f, json!("  "), true).unwrap(), CellWrite::Clear);
    }

    #[test]
    fn a_number_is_rounded_to_the_fields_precision() {
        let f = field(FieldType::Number, Some(json!({"precision": 2})));
        assert_eq!(
            stored(&f, json!(1.005), false).unwrap(),
            CellWrite::Set(json!(1.01))
        );
        let whole = field(FieldType::Number, Some(json!({"precision": 0})));
        assert_eq!(
            stored(&whole, json!(2.5), false).unwrap(),
            CellWrite::Set(json!(3))
        );
    }

    #[test]
    fn a_percent_precision_counts_places_after_multiplying_by_100() {
        let f = field(FieldType::Percent, Some(json!({"precision": 1})));
        assert_eq!(
            stored(&f, json!(0.12345), false).unwrap(),
            CellWrite::Set(json!(0.123))
        );
    }

    #[test]
    fn a_rating_takes_whole_numbers_up_to_its_max() {
        let f = field(FieldType::Rating, Some(json!({"max": 10})));
        assert_eq!(
            write_rating(&f, &json!(10), false).unwrap().write,
            CellWrite::Set(json!(10))
        );
        assert!(write_rating(&f, &json!(11), false).is_err());
    }

    #[test]
    fn a_rating_defaults_to_a_max_of_five() {
        let f = field(FieldType::Rating, None);
        assert!(write_rating(&f, &json!(5), false).is_ok());
        let err = write_rating(&f, &json!(6), false).unwrap_err();
        assert!(err.to_string().contains("from 1 to 5"), "{err}");
    }

    #[test]
    fn a_zero_rating_clears_the_cell() {
        let f = field(FieldType::Rating, None);
        assert_eq!(
            write_rating(&f, &json!(0), false).unwrap().write,
            CellWrite::Clear
        );
    }

    #[test]
    fn a_fractional_or_negative_rating_is_refused() {
        let f = field(FieldType::Rating, None);
        assert!(write_rating(&f, &json!(2.5), false).is_err());
        assert!(write_rating(&f, &json!(-1), false).is_err());
    }

    #[test]
    fn rating_text_needs_typecast() {
        let f = field(FieldType::Rating, None);
        assert!(write_rating(&f, &json!("3"), false).is_err());
        assert_eq!(
            write_rating(&f, &json!("3"), true).unwrap().write,
            CellWrite::Set(json!(3))
        );
    }

    #[test]
    fn currency_shows_its_symbol_grouping_and_two_decimals() {
        let options = json!({"symbol": "$", "precision": 2});
        assert_eq!(
            display(&FieldType::Currency, Some(&options), 1200.5),
            "$1,200.50"
        );
        assert_eq!(
            display(&FieldType::Currency, None, -1234567.0),
            "-$1,234,567.00"
        );
        let euros = json!({"symbol": "€", "precision": 0});
        assert_eq!(display(&FieldType::Currency, Some(&euros), 999.6), "€1,000");
    }

    #[test]
    fn percent_shows_hundredths_with_a_percent_sign() {
        assert_eq!(display(&FieldType::Percent, None, 0.15), "15%");
        let options = json!({"precision": 1});
        assert_eq!(
            display(&FieldType::Percent, Some(&options), 0.1234),
            "12.3%"
        );
    }

    #[test]
    fn a_number_shows_its_precision_or_as_few_digits_as_needed() {
        let options = json!({"precision": 2});
        assert_eq!(display(&FieldType::Number, Some(&options), 3.0), "3.00");
        assert_eq!(display(&FieldType::Number, None, 3.0), "3");
        assert_eq!(display(&FieldType::Number, None, -0.0), "0");
        assert_eq!(display(&FieldType::Rating, None, 4.0), "4");
    }

    #[test]
    fn a_large_integer_keeps_every_digit_as_text() {
        let n = serde_json::Number::from(12_345_678_901_234_567_890_u64);
        assert_eq!(text_of(&n), "12345678901234567890");
        assert_eq!(text_of(&serde_json::Number::from_f64(12.0).unwrap()), "12");
    }

    #[test]
    fn a_duration_shows_in_its_format() {
        assert_eq!(display(&FieldType::Duration, None, 5400.0), "1:30");
        let secs = json!({"durationFormat": "h:mm:ss"});
        assert_eq!(
            display(&FieldType::Duration, Some(&secs), 3725.0),
            "1:02:05"
        );
        let tenths = json!({"durationFormat": "h:mm:ss.S"});
        assert_eq!(
            display(&FieldType::Duration, Some(&tenths), 62.25),
            "0:01:02.3"
        );
        assert_eq!(display(&FieldType::Duration, None, -90.0), "-0:02");
    }
}
