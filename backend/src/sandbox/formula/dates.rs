//! Date functions: parsing ISO 8601 text, arithmetic in calendar units, and moment.js-style
//! formatting, all in UTC as the Airtable API reports dates.

use chrono::{
    DateTime, Datelike, Months, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Timelike, Utc,
};

use super::value::{MAX_TEXT_BYTES, Value};

const SECOND_MS: i64 = 1_000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

/// A calendar unit, as DATEADD, DATETIME_DIFF and IS_SAME name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    /// Reads Airtable's unit names: the long forms in any case, singular or plural, and the
    /// short forms, which are case-sensitive because `m` is minutes and `M` months.
    pub(super) fn parse(text: &str) -> Option<Unit> {
        let text = text.trim();
        let short = match text {
            "ms" => Some(Unit::Millisecond),
            "s" => Some(Unit::Second),
            "m" => Some(Unit::Minute),
            "h" => Some(Unit::Hour),
            "d" => Some(Unit::Day),
            "w" => Some(Unit::Week),
            "M" => Some(Unit::Month),
            "Q" => Some(Unit::Quarter),
            "y" => Some(Unit::Year),
            _ => None,
        };
        let lower = text.to_ascii_lowercase();
        short.or(match lower.strip_suffix('s').unwrap_or(&lower) {
            "millisecond" => Some(Unit::Millisecond),
            "second" => Some(Unit::Second),
            "minute" => Some(Unit::Minute),
            "hour" => Some(Unit::Hour),
            "day" => Some(Unit::Day),
            "week" => Some(Unit::Week),
            "month" => Some(Unit::Month),
            "quarter" => Some(Unit::Quarter),
            "year" => Some(Unit::Year),
            _ => None,
        })
    }

    /// Milliseconds in one unit, for the units of fixed length.
    fn fixed_ms(self) -> Option<i64> {
        match self {
            Unit::Millisecond => Some(1),
            Unit::Second => Some(SECOND_MS),
            Unit::Minute => Some(MINUTE_MS),
            Unit::Hour => Some(HOUR_MS),
            Unit::Day => Some(DAY_MS),
            Unit::Week => Some(WEEK_MS),
            Unit::Month | Unit::Quarter | Unit::Year => None,
        }
    }

    fn months(self) -> i64 {
        match self {
            Unit::Quarter => 3,
            Unit::Year => 12,
            _ => 1,
        }
    }
}

/// Parses a date (`2024-03-01`) or date-time (`2024-03-01T10:00:00.000Z`, with an offset, or
/// without one meaning UTC).
pub(super) fn parse(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    // Most text compared in a filter is not a date; this keeps rejecting it cheap.
    let bytes = text.as_bytes();
    if bytes.len() < 10 || bytes.len() > 40 || !bytes[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes[4] != b'-' {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Some(d.with_timezone(&Utc));
    }
    let naive = text.strip_suffix(['Z', 'z']).unwrap_or(text);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(naive, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Formats as the Airtable API does: `2024-03-01T10:00:00.000Z`.
pub(super) fn iso(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The value as a date, if it is one or is text that reads as one.
pub(super) fn to_date(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Date(d) => Some(*d),
        Value::Text(t) => parse(t),
        Value::Array(items) if items.len() == 1 => to_date(&items[0]),
        _ => None,
    }
}

pub(super) fn from_ms(ms: i64) -> Value {
    DateTime::from_timestamp_millis(ms).map_or(Value::Error, Value::Date)
}

/// TODAY(): midnight UTC of the day `now_ms` falls in.
pub(super) fn today(now_ms: i64) -> Value {
    from_ms(now_ms - now_ms.rem_euclid(DAY_MS))
}

/// The unit in an optional argument, falling back to `default` when it is absent or blank.
fn unit_arg(args: &[Value], index: usize, default: Option<Unit>) -> Result<Option<Unit>, ()> {
    match args.get(index) {
        None | Some(Value::Blank) => Ok(default),
        Some(value) => Unit::parse(&value.to_text()).map(Some).ok_or(()),
    }
}

pub(super) fn is_before(args: &[Value]) -> Value {
    match (to_date(&args[0]), to_date(&args[1])) {
        (Some(a), Some(b)) => Value::Bool(a < b),
        _ => Value::Error,
    }
}

pub(super) fn is_after(args: &[Value]) -> Value {
    match (to_date(&args[0]), to_date(&args[1])) {
        (Some(a), Some(b)) => Value::Bool(a > b),
        _ => Value::Error,
    }
}

/// IS_SAME(a, b, [unit]): equal instants, or the same year, month, day… when a unit is given.
pub(super) fn is_same(args: &[Value]) -> Value {
    let (Some(a), Some(b), Ok(unit)) = (
        to_date(&args[0]),
        to_date(&args[1]),
        unit_arg(args, 2, None),
    ) else {
        return Value::Error;
    };
    let same = match unit {
        None => a == b,
        Some(unit) => start_of(a, unit) == start_of(b, unit),
    };
    Value::Bool(same)
}

/// The start of the `unit` containing `date`; weeks start on Sunday, as in Airtable.
fn start_of(date: DateTime<Utc>, unit: Unit) -> Option<DateTime<Utc>> {
    let day = date.date_naive();
    let first_of = |month: u32| NaiveDate::from_ymd_opt(date.year(), month, 1);
    let day_start = match unit {
        Unit::Week => day - TimeDelta::days(i64::from(day.weekday().num_days_from_sunday())),
        Unit::Month => first_of(date.month())?,
        Unit::Quarter => first_of((date.month() - 1) / 3 * 3 + 1)?,
        Unit::Year => first_of(1)?,
        fixed => {
            let ms = date.timestamp_millis();
            let step = fixed.fixed_ms()?;
            return DateTime::from_timestamp_millis(ms - ms.rem_euclid(step));
        }
    };
    Some(day_start.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Moves `date` by whole calendar months, keeping the day where it exists and otherwise
/// using the month's last day (Jan 31 + 1 month is Feb 29 in 2024).
fn add_months(date: DateTime<Utc>, months: i64) -> Option<DateTime<Utc>> {
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        date.checked_add_months(count)
    } else {
        date.checked_sub_months(count)
    }
}

/// DATEADD(date, count, unit). Like moment.js, day and month counts are rounded to whole
/// units, while hours and smaller may be fractional.
pub(super) fn dateadd(args: &[Value]) -> Value {
    let (Some(date), Some(count), Ok(Some(unit))) = (
        to_date(&args[0]),
        args[1].to_number(),
        unit_arg(args, 2, None),
    ) else {
        return Value::Error;
    };
    let moved = match unit {
        Unit::Day | Unit::Week => {
            let days_per_unit = if unit == Unit::Week { 7.0 } else { 1.0 };
            let days = (count * days_per_unit).round() as i64;
            TimeDelta::try_days(days).and_then(|d| date.checked_add_signed(d))
        }
        Unit::Month | Unit::Quarter | Unit::Year => {
            add_months(date, (count * unit.months() as f64).round() as i64)
        }
        fixed => fixed
            .fixed_ms()
            .and_then(|ms| TimeDelta::try_milliseconds((count * ms as f64).round() as i64))
            .and_then(|d| date.checked_add_signed(d)),
    };
    moved.map_or(Value::Error, Value::Date)
}

/// Whole months from `from` to `to`, rounded toward zero.
fn whole_months(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<i64> {
    let mut months =
        i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    if months > 0 && add_months(from, months)? > to {
        months -= 1;
    } else if months < 0 && add_months(from, months)? < to {
        months += 1;
    }
    Some(months)
}

/// DATETIME_DIFF(a, b, [unit]): a − b in whole units (seconds by default), rounded toward zero.
pub(super) fn datetime_diff(args: &[Value]) -> Value {
    let (Some(a), Some(b), Ok(Some(unit))) = (
        to_date(&args[0]),
        to_date(&args[1]),
        unit_arg(args, 2, Some(Unit::Second)),
    ) else {
        return Value::Error;
    };
    let whole = match unit.fixed_ms() {
        Some(step) => (a.timestamp_millis() - b.timestamp_millis()) / step,
        None => match whole_months(b, a) {
            Some(months) => months / unit.months(),
            None => return Value::Error,
        },
    };
    Value::Number(whole as f64)
}

/// Applies `part` to a date argument.
pub(super) fn part(args: &[Value], part: fn(&DateTime<Utc>) -> i64) -> Value {
    to_date(&args[0]).map_or(Value::Error, |d| Value::Number(part(&d) as f64))
}

/// WEEKDAY(date, [start]): 0 for Sunday, or for Monday when the start is 'Monday'.
pub(super) fn weekday(args: &[Value]) -> Value {
    let Some(date) = to_date(&args[0]) else {
        return Value::Error;
    };
    let monday_first = args
        .get(1)
        .is_some_and(|start| start.to_text().trim().eq_ignore_ascii_case("monday"));
    let day = if monday_first {
        date.weekday().num_days_from_monday()
    } else {
        date.weekday().num_days_from_sunday()
    };
    Value::Number(f64::from(day))
}

/// DATETIME_FORMAT(date, [format]) with moment.js tokens; ISO 8601 when no format is given.
pub(super) fn datetime_format(args: &[Value]) -> Value {
    let Some(date) = to_date(&args[0]) else {
        return Value::Error;
    };
    match args.get(1).filter(|f| !f.is_blank()) {
        None => Value::Text(iso(&date)),
        Some(format) => format_moment(&date, &format.to_text()).map_or(Value::Error, Value::text),
    }
}

/// moment.js format tokens, longest first so that `MMMM` wins over `MM`.
const TOKENS: [&str; 50] = [
    "YYYY", "MMMM", "DDDD", "dddd", "LLLL", "llll", "MMM", "DDD", "ddd", "SSS", "LTS", "LLL",
    "lll", "YY", "MM", "Do", "DD", "dd", "HH", "hh", "kk", "mm", "ss", "SS", "ZZ", "WW", "LT",
    "LL", "ll", "Q", "M", "D", "d", "H", "h", "k", "m", "s", "S", "A", "a", "Z", "X", "x", "W",
    "L", "l", "E", "e", "Y",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Formats `date` with a moment.js format string; `[text]` is copied literally. `None` if the
/// result would be oversized.
fn format_moment(date: &DateTime<Utc>, format: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if out.len() > MAX_TEXT_BYTES {
            return None;
        }
        if c == '['
            && let Some(end) = rest.find(']')
        {
            out += &rest[1..end];
            rest = &rest[end + 1..];
            continue;
        }
        match TOKENS.iter().find(|t| rest.starts_with(**t)) {
            Some(token) => {
                match localized(token) {
                    Some(expansion) => out += &format_moment(date, expansion)?,
                    None => out += &format_token(date, token),
                }
                rest = &rest[token.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Some(out)
}

/// moment.js's English localized formats.
fn localized(token: &str) -> Option<&'static str> {
    Some(match token {
        "LT" => "h:mm A",
        "LTS" => "h:mm:ss A",
        "L" => "MM/DD/YYYY",
        "LL" => "MMMM D, YYYY",
        "LLL" => "MMMM D, YYYY h:mm A",
        "LLLL" => "dddd, MMMM D, YYYY h:mm A",
        "l" => "M/D/YYYY",
        "ll" => "MMM D, YYYY",
        "lll" => "MMM D, YYYY h:mm A",
        "llll" => "ddd, MMM D, YYYY h:mm A",
        _ => return None,
    })
}

fn format_token(date: &DateTime<Utc>, token: &str) -> String {
    let month = MONTHS[date.month0() as usize];
    let weekday = WEEKDAYS[date.weekday().num_days_from_sunday() as usize];
    let hour12 = match date.hour() % 12 {
        0 => 12,
        h => h,
    };
    let millis = date.timestamp_subsec_millis();
    match token {
        "YYYY" => format!("{:04}", date.year()),
        "YY" => format!("{:02}", date.year().rem_euclid(100)),
        "Y" => date.year().to_string(),
        "Q" => (date.month0() / 3 + 1).to_string(),
        "MMMM" => month.into(),
        "MMM" => month[..3].into(),
        "MM" => format!("{:02}", date.month()),
        "M" => date.month().to_string(),
        "DDDD" => format!("{:03}", date.ordinal()),
        "DDD" => date.ordinal().to_string(),
        "Do" => ordinal(date.day()),
        "DD" => format!("{:02}", date.day()),
        "D" => date.day().to_string(),
        "dddd" => weekday.into(),
        "ddd" => weekday[..3].into(),
        "dd" => weekday[..2].into(),
        "d" | "e" => date.weekday().num_days_from_sunday().to_string(),
        "E" => date.weekday().number_from_monday().to_string(),
        "HH" => format!("{:02}", date.hour()),
        "H" => date.hour().to_string(),
        "hh" => format!("{hour12:02}"),
        "h" => hour12.to_string(),
        "kk" => format!("{:02}", date.hour() + 1),
        "k" => (date.hour() + 1).to_string(),
        "mm" => format!("{:02}", date.minute()),
        "m" => date.minute().to_string(),
        "ss" => format!("{:02}", date.second()),
        "s" => date.second().to_string(),
        "SSS" => format!("{millis:03}"),
        "SS" => format!("{:02}", millis / 10),
        "S" => (millis / 100).to_string(),
        "A" => if date.hour() < 12 { "AM" } else { "PM" }.into(),
        "a" => if date.hour() < 12 { "am" } else { "pm" }.into(),
        "ZZ" => "+0000".into(),
        "Z" => "+00:00".into(),
        "X" => date.timestamp().to_string(),
        "x" => date.timestamp_millis().to_string(),
        "WW" => format!("{:02}", date.iso_week().week()),
        "W" => date.iso_week().week().to_string(),
        other => other.into(),
    }
}

fn ordinal(day: u32) -> String {
    let suffix = match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{day}{suffix}")
}

/// DATETIME_PARSE(text, [format]): ISO 8601 without a format; with one, moment.js tokens for
/// years, months, days, hours, minutes, seconds, AM/PM and offsets.
pub(super) fn datetime_parse(args: &[Value]) -> Value {
    let text = args[0].to_text();
    let parsed = match args.get(1).filter(|f| !f.is_blank()) {
        None => parse(&text),
        Some(format) => strftime(&format.to_text()).and_then(|f| parse_with(text.trim(), &f)),
    };
    parsed.map_or(Value::Error, Value::Date)
}

/// Translates a moment.js format into chrono's strftime, or `None` for tokens chrono
/// cannot read back (such as ordinals and week numbers).
fn strftime(format: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if c == '['
            && let Some(end) = rest.find(']')
        {
            out += &rest[1..end].replace('%', "%%");
            rest = &rest[end + 1..];
            continue;
        }
        match TOKENS.iter().find(|t| rest.starts_with(**t)) {
            Some(token) => {
                out += match *token {
                    "YYYY" | "Y" => "%Y",
                    "YY" => "%y",
                    "MMMM" => "%B",
                    "MMM" => "%b",
                    "MM" | "M" => "%m",
                    "DD" | "D" => "%d",
                    "dddd" => "%A",
                    "ddd" => "%a",
                    "HH" | "H" => "%H",
                    "hh" | "h" => "%I",
                    "mm" | "m" => "%M",
                    "ss" | "s" => "%S",
                    "SSS" => "%3f",
                    "A" | "a" => "%p",
                    "ZZ" | "Z" => "%z",
                    "X" => "%s",
                    _ => return None,
                };
                rest = &rest[token.len()..];
            }
            None => {
                if c == '%' {
                    out += "%%";
                } else {
                    out.push(c);
                }
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Some(out)
}

fn parse_with(text: &str, format: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_str(text, format) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDateTime::parse_from_str(text, format) {
        return Some(d.and_utc());
    }
    NaiveDate::parse_from_str(text, format)
        .ok()
        .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_with};
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plain_date_is_midnight_utc() {
        assert_eq!(
            parse("2024-03-01").map(|d| iso(&d)).as_deref(),
            Some("2024-03-01T00:00:00.000Z")
        );
    }

    #[test]
    fn date_times_with_offsets_are_converted_to_utc() {
        assert_eq!(
            parse("2024-03-01T10:00:00+02:00")
                .map(|d| iso(&d))
                .as_deref(),
            Some("2024-03-01T08:00:00.000Z")
        );
    }

    #[test]
    fn date_times_without_an_offset_or_seconds_are_utc() {
        assert_eq!(
            parse("2024-03-01T10:30").map(|d| iso(&d)).as_deref(),
            Some("2024-03-01T10:30:00.000Z")
        );
    }

    #[test]
    fn text_that_is_not_a_date_does_not_parse() {
        for text in ["", "2024", "hello world", "2024-13-01", "01/03/2024"] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn unit_short_forms_are_case_sensitive() {
        assert_eq!(Unit::parse("m"), Some(Unit::Minute));
        assert_eq!(Unit::parse("M"), Some(Unit::Month));
    }

    #[test]
    fn unit_long_forms_ignore_case_and_plural() {
        assert_eq!(Unit::parse("Days"), Some(Unit::Day));
        assert_eq!(Unit::parse("hour"), Some(Unit::Hour));
        assert_eq!(Unit::parse("fortnights"), None);
    }

    #[test]
    fn today_is_midnight_of_the_current_day() {
        assert_eq!(eval("TODAY()"), json!("2024-03-15T00:00:00.000Z"));
    }

    #[test]
    fn now_is_the_current_instant() {
        assert_eq!(eval("NOW()"), json!("2024-03-15T12:00:00.000Z"));
    }

    #[test]
    fn created_time_is_the_records_creation_instant() {
        assert_eq!(
            eval("CREATED_TIME() = '2024-03-01T10:00:00.000Z'"),
            json!(true)
        );
    }

    #[test]
    fn last_modified_time_is_the_records_last_change() {
        assert_eq!(eval("LAST_MODIFIED_TIME()"), json!("2024-03-10T08:30:00.000Z"));
    }

    #[test]
    fn last_modified_time_compares_as_an_instant() {
        assert_eq!(eval("IS_AFTER(LAST_MODIFIED_TIME(), '2024-03-10T08:29:59.999Z')"), json!(true));
        assert_eq!(eval("IS_AFTER(LAST_MODIFIED_TIME(), '2024-03-10T08:30:00.000Z')"), json!(false));
        assert_eq!(eval("IS_BEFORE(LAST_MODIFIED_TIME(), NOW())"), json!(true));
        assert_eq!(eval("LAST_MODIFIED_TIME() > CREATED_TIME()"), json!(true));
        assert_eq!(eval("LAST_MODIFIED_TIME() < '2024-03-11'"), json!(true));
    }

    #[test]
    fn last_modified_time_of_chosen_fields_is_refused_rather_than_guessed() {
        let err = super::super::Formula::parse("LAST_MODIFIED_TIME({Name})").unwrap_err();
        assert!(err.to_string().contains("LAST_MODIFIED_TIME() takes no arguments"), "{err}");
    }

    #[test]
    fn is_before_and_is_after_compare_instants() {
        let fields = json!({"Due": "2024-03-01"});
        assert_eq!(
            eval_with("IS_BEFORE({Due}, TODAY())", fields.clone()),
            json!(true)
        );
        assert_eq!(eval_with("IS_AFTER({Due}, TODAY())", fields), json!(false));
    }

    #[test]
    fn date_comparisons_with_a_blank_date_are_errors() {
        assert_eq!(eval("IS_BEFORE({Due}, TODAY())"), json!(null));
    }

    #[test]
    fn is_same_without_a_unit_compares_exact_instants() {
        assert_eq!(
            eval("IS_SAME('2024-03-01', '2024-03-01T00:00:00Z')"),
            json!(true)
        );
        assert_eq!(
            eval("IS_SAME('2024-03-01', '2024-03-01T00:00:01Z')"),
            json!(false)
        );
    }

    #[test]
    fn is_same_with_a_unit_compares_the_containing_period() {
        assert_eq!(eval("IS_SAME(NOW(), '2024-03-15', 'day')"), json!(true));
        assert_eq!(eval("IS_SAME(NOW(), '2024-03-31', 'month')"), json!(true));
        assert_eq!(eval("IS_SAME(NOW(), '2024-04-01', 'month')"), json!(false));
        assert_eq!(eval("IS_SAME(NOW(), '2024-03-10', 'week')"), json!(true));
        assert_eq!(eval("IS_SAME(NOW(), '2024-03-09', 'week')"), json!(false));
        assert_eq!(eval("IS_SAME(NOW(), '2024-01-01', 'quarter')"), json!(true));
        assert_eq!(eval("IS_SAME(NOW(), '2024-12-31', 'y')"), json!(true));
    }

    #[test]
    fn dateadd_moves_by_fixed_units() {
        assert_eq!(
            eval("DATEADD('2024-03-01', 90, 'minutes')"),
            json!("2024-03-01T01:30:00.000Z")
        );
        assert_eq!(
            eval("DATEADD('2024-03-01', 2, 'w')"),
            json!("2024-03-15T00:00:00.000Z")
        );
        assert_eq!(
            eval("DATEADD('2024-03-01', -1, 'days')"),
            json!("2024-02-29T00:00:00.000Z")
        );
    }

    #[test]
    fn dateadd_months_clamp_to_the_end_of_a_shorter_month() {
        assert_eq!(
            eval("DATEADD('2024-01-31', 1, 'month')"),
            json!("2024-02-29T00:00:00.000Z")
        );
        assert_eq!(
            eval("DATEADD('2024-02-29', 1, 'years')"),
            json!("2025-02-28T00:00:00.000Z")
        );
        assert_eq!(
            eval("DATEADD('2024-01-15', 1, 'Q')"),
            json!("2024-04-15T00:00:00.000Z")
        );
    }

    #[test]
    fn dateadd_with_an_unknown_unit_is_an_error() {
        assert_eq!(eval("DATEADD('2024-01-31', 1, 'fortnight')"), json!(null));
    }

    #[test]
    fn datetime_diff_is_the_first_minus_the_second_in_seconds_by_default() {
        assert_eq!(
            eval("DATETIME_DIFF('2024-03-01T00:01:00Z', '2024-03-01')"),
            json!(60)
        );
    }

    #[test]
    fn datetime_diff_rounds_toward_zero() {
        assert_eq!(
            eval("DATETIME_DIFF('2024-04-06T12:00', '2024-04-05T11:00', 'hours')"),
            json!(25)
        );
        assert_eq!(
            eval("DATETIME_DIFF('2024-03-01', '2024-03-02T12:00', 'days')"),
            json!(-1)
        );
    }

    #[test]
    fn datetime_diff_accepts_every_unit() {
        let cases = [
            ("ms", 86_400_000),
            ("s", 86_400),
            ("minutes", 1_440),
            ("h", 24),
            ("d", 1),
            ("weeks", 0),
        ];
        for (unit, expected) in cases {
            let source = format!("DATETIME_DIFF('2024-03-02', '2024-03-01', '{unit}')");
            assert_eq!(eval(&source), json!(expected), "{unit}");
        }
    }

    #[test]
    fn datetime_diff_counts_whole_calendar_months_and_years() {
        assert_eq!(
            eval("DATETIME_DIFF('2024-03-14', '2024-01-15', 'months')"),
            json!(1)
        );
        assert_eq!(
            eval("DATETIME_DIFF('2024-03-15', '2024-01-15', 'M')"),
            json!(2)
        );
        assert_eq!(
            eval("DATETIME_DIFF('2023-01-15', '2024-03-15', 'M')"),
            json!(-14)
        );
        assert_eq!(
            eval("DATETIME_DIFF('2024-03-15', '2023-03-16', 'years')"),
            json!(0)
        );
        assert_eq!(
            eval("DATETIME_DIFF('2024-07-01', '2024-01-01', 'quarters')"),
            json!(2)
        );
    }

    #[test]
    fn datetime_format_defaults_to_iso_8601() {
        assert_eq!(
            eval("DATETIME_FORMAT('2024-03-01T10:00')"),
            json!("2024-03-01T10:00:00.000Z")
        );
    }

    #[test]
    fn datetime_format_understands_moment_tokens() {
        assert_eq!(
            eval("DATETIME_FORMAT('2024-03-01T15:04:05.006Z', 'YYYY-MM-DD HH:mm:ss.SSS')"),
            json!("2024-03-01 15:04:05.006")
        );
        assert_eq!(
            eval("DATETIME_FORMAT('2024-03-01T15:04:05Z', 'dddd, MMMM Do YY h:mm A [at] Q')"),
            json!("Friday, March 1st 24 3:04 PM at 1")
        );
        assert_eq!(
            eval("DATETIME_FORMAT('2024-03-02', 'ddd MMM D, M/DD')"),
            json!("Sat Mar 2, 3/02")
        );
    }

    #[test]
    fn datetime_format_expands_localized_formats() {
        assert_eq!(
            eval("DATETIME_FORMAT('2024-03-01T15:04:05Z', 'LL')"),
            json!("March 1, 2024")
        );
        assert_eq!(
            eval("DATETIME_FORMAT('2024-03-01T15:04:05Z', 'L LT')"),
            json!("03/01/2024 3:04 PM")
        );
    }

    #[test]
    fn datetime_format_of_something_not_a_date_is_an_error() {
        assert_eq!(eval("DATETIME_FORMAT('soon', 'YYYY')"), json!(null));
    }

    #[test]
    fn ordinals_use_the_right_suffix() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31].map(ordinal).into();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"
            ]
        );
    }

    #[test]
    fn datetime_parse_reads_iso_without_a_format() {
        assert_eq!(
            eval("DATETIME_PARSE('2024-03-01 10:00')"),
            json!("2024-03-01T10:00:00.000Z")
        );
    }

    #[test]
    fn datetime_parse_reads_moment_formats() {
        assert_eq!(
            eval("DATETIME_PARSE('3/1/2024', 'M/D/YYYY')"),
            json!("2024-03-01T00:00:00.000Z")
        );
        assert_eq!(
            eval("DATETIME_PARSE('01.03.2024 2:30 PM', 'DD.MM.YYYY h:mm A')"),
            json!("2024-03-01T14:30:00.000Z")
        );
    }

    #[test]
    fn datetime_parse_of_a_mismatched_format_is_an_error() {
        assert_eq!(eval("DATETIME_PARSE('March', 'YYYY-MM-DD')"), json!(null));
    }

    #[test]
    fn date_parts_are_read_in_utc() {
        let fields = json!({"At": "2024-03-01T23:04:05.000-02:00"});
        let parts = [
            ("YEAR", 2024),
            ("MONTH", 3),
            ("DAY", 2),
            ("HOUR", 1),
            ("MINUTE", 4),
            ("SECOND", 5),
        ];
        for (function, expected) in parts {
            let source = format!("{function}({{At}})");
            assert_eq!(
                eval_with(&source, fields.clone()),
                json!(expected),
                "{function}"
            );
        }
    }

    #[test]
    fn weekday_counts_from_sunday_unless_told_monday() {
        assert_eq!(eval("WEEKDAY('2024-03-03')"), json!(0));
        assert_eq!(eval("WEEKDAY('2024-03-03', 'Monday')"), json!(6));
    }

    #[test]
    fn datestr_and_timestr_give_the_date_and_time_parts() {
        assert_eq!(eval("DATESTR('2024-03-01T15:04:05Z')"), json!("2024-03-01"));
        assert_eq!(eval("TIMESTR('2024-03-01T15:04:05Z')"), json!("15:04:05"));
    }

    #[test]
    fn a_date_field_compares_with_today() {
        assert_eq!(
            eval_with("{Due} < TODAY()", json!({"Due": "2024-03-14"})),
            json!(true)
        );
        assert_eq!(
            eval_with("{Due} = TODAY()", json!({"Due": "2024-03-15"})),
            json!(true)
        );
    }
}
