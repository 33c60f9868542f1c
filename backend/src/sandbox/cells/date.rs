//! Date and date-time cells: reading the forms Airtable accepts, storing them in its ISO forms,
//! and showing them in a time zone.
//!
//! Dates are stored as "2024-03-14" and date-times as UTC "2024-03-14T10:00:00.000Z", as
//! Airtable returns them. Calendar arithmetic is done here (proleptic Gregorian, years 0000 to
//! 9999) rather than with a date library, because fixed UTC offsets are all that is needed.
//!
//! Time zones: "UTC", "GMT", "Z", "Etc/UTC", "Etc/GMT" (any case), and fixed offsets such as
//! "+05:30", "-0800", "+09", optionally after "UTC" or "GMT" ("UTC+5", "GMT-03:30"). Named
//! regions such as "Europe/Paris" are not supported, since they need a time zone database.

use serde_json::Value;

use super::{CellError, Written, invalid, quote};
use crate::model::airtable::Field;

const MS_PER_DAY: i64 = 86_400_000;
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

/// A calendar day, checked to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Day {
    year: i64,
    month: u32,
    day: u32,
}

impl Day {
    fn new(year: i64, month: u32, day: u32) -> Option<Self> {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((0..=9999).contains(&year) && (1..=days_in_month).contains(&day)).then_some(Self {
            year,
            month,
            day,
        })
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    fn days(self) -> i64 {
        let (month, day) = (i64::from(self.month), i64::from(self.day));
        let year = if month <= 2 { self.year - 1 } else { self.year };
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The day `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self { year, month, day }
    }

    fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Takes "YYYY-MM-DD", or an ISO date-time cut to its date as written; with `typecast`, also
/// "3/14/2024", "2024/03/14", "March 14, 2024" and "14 Mar 2024".
pub fn write_date(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let Value::String(text) = input else {
        return Err(invalid(
            field,
            format!(
                "{} is not a date; send one as text such as \"2024-03-14\"",
                quote(input)
            ),
        ));
    };
    if text.is_empty() {
        return Ok(Written::clear());
    }
    let day = iso_day(text)
        .or_else(|| {
            (text.len() > 10 && instant(text).is_some())
                .then(|| text.get(..10).and_then(iso_day))
                .flatten()
        })
        .or_else(|| if typecast { loose_day(text) } else { None });
    match day {
        Some(day) => Ok(Written::set(day.iso())),
        None => Err(invalid(field, not_a_date(input, typecast))),
    }
}

/// Takes an ISO 8601 date-time, stored in UTC; without an offset it is read as UTC, and a bare
/// date as its midnight in UTC. With `typecast`, also the date forms [`write_date`] reads.
pub fn write_date_time(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let Value::String(text) = input else {
        return Err(invalid(
            field,
            format!(
                "{} is not a date-time; send one as text such as \"2024-03-14T10:00:00.000Z\"",
                quote(input)
            ),
        ));
    };
    if text.is_empty() {
        return Ok(Written::clear());
    }
    let ms = instant(text).or_else(|| {
        if typecast {
            loose_day(text).map(|d| d.days() * MS_PER_DAY)
        } else {
            None
        }
    });
    match ms {
        Some(ms) => Ok(Written::set(iso_instant(ms))),
        None => Err(invalid(field, not_a_date(input, typecast))),
    }
}

fn not_a_date(input: &Value, typecast: bool) -> String {
    if typecast {
        format!(
            "{} is not a date it can read; send it as \"2024-03-14\" or \"2024-03-14T10:00:00Z\"",
            quote(input)
        )
    } else {
        format!(
            "{} is not an ISO date; send it as \"2024-03-14\" or \"2024-03-14T10:00:00Z\", or with \
             \"typecast\": true as \"3/14/2024\" or \"March 14, 2024\"",
            quote(input)
        )
    }
}

/// Reads a time zone as minutes east of UTC; `None` for zones not supported (see the module docs).
pub fn parse_time_zone(time_zone: &str) -> Option<i32> {
    let tz = time_zone.trim().to_ascii_lowercase();
    if matches!(tz.as_str(), "utc" | "gmt" | "z" | "etc/utc" | "etc/gmt") {
        return Some(0);
    }
    let offset = tz
        .strip_prefix("utc")
        .or_else(|| tz.strip_prefix("gmt"))
        .unwrap_or(&tz);
    let minutes = parse_offset(offset)?;
    (minutes.abs() <= 14 * 60).then_some(minutes)
}

/// Reads "+HH:MM", "+HHMM" or "+HH" (or with "-") as minutes east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    let (sign, rest) = if let Some(rest) = text.strip_prefix('+') {
        (1, rest)
    } else {
        (-1, text.strip_prefix('-')?)
    };
    // Offsets are ASCII; anything else would put the byte positions below inside a character.
    if !rest.is_ascii() {
        return None;
    }
    let (hours, minutes) = match rest.len() {
        1 | 2 => (rest, "0"),
        4 => (rest.get(..2)?, rest.get(2..)?),
        5 if rest.as_bytes().get(2) == Some(&b':') => (rest.get(..2)?, rest.get(3..)?),
        _ => return None,
    };
    let hours: i32 = digits(hours)?;
    let minutes: i32 = digits(minutes)?;
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 60 + minutes))
}

/// Reads a run of ASCII digits, refusing the signs and spaces that `str::parse` would take.
fn digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Reads exactly "YYYY-MM-DD".
fn iso_day(text: &str) -> Option<Day> {
    let b = text.as_bytes();
    if !text.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    Day::new(
        digits(text.get(..4)?)?,
        digits(text.get(5..7)?)?,
        digits(text.get(8..)?)?,
    )
}

/// Reads an ISO 8601 date or date-time as unix milliseconds: "YYYY-MM-DD", then optionally "T"
/// (or a space) and "HH:MM[:SS[.fff]]", then optionally "Z" or an offset; no offset means UTC.
fn instant(text: &str) -> Option<i64> {
    // Every form read here is ASCII, which keeps the byte positions below on characters.
    if !text.is_ascii() {
        return None;
    }
    let day = iso_day(text.get(..10)?)?;
    let midnight = day.days() * MS_PER_DAY;
    let rest = text.get(10..)?;
    if rest.is_empty() {
        return Some(midnight);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (hours, minutes) = (
        digits::<i64>(rest.get(..2)?)?,
        digits::<i64>(rest.get(3..5)?)?,
    );
    if rest.as_bytes().get(2) != Some(&b':') || hours > 23 || minutes > 59 {
        return None;
    }
    let mut rest = rest.get(5..)?;
    let mut seconds = 0;
    let mut millis = 0;
    if let Some(after) = rest.strip_prefix(':') {
        seconds = digits::<i64>(after.get(..2)?)?;
        rest = after.get(2..)?;
        if let Some(after) = rest.strip_prefix('.') {
            let len = after.bytes().take_while(u8::is_ascii_digit).count();
            // Airtable keeps milliseconds; finer digits are dropped, not rounded.
            let fraction = format!("{:0<3}", after.get(..len.min(3))?);
            millis = digits::<i64>(&fraction).filter(|_| len > 0)?;
            rest = after.get(len..)?;
        }
    }
    if seconds > 59 {
        return None;
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        // ISO 8601 wants two-digit hours, so "+2" is refused here though a time zone may say it.
        offset if offset.len() >= 3 => i64::from(parse_offset(offset)?),
        _ => return None,
    };
    let ms = midnight + ((hours * 60 + minutes - offset) * 60 + seconds) * 1000 + millis;
    let in_range =
        Day::new(0, 1, 1)?.days() * MS_PER_DAY..(Day::new(9999, 12, 31)?.days() + 1) * MS_PER_DAY;
    in_range.contains(&ms).then_some(ms)
}

/// Reads the date forms people type, for `typecast`: "3/14/2024" (month first, as in the US),
/// "2024/03/14", "March 14, 2024", "Mar 14 2024", "14 Mar 2024" and "14 March 2024".
fn loose_day(text: &str) -> Option<Day> {
    let words: Vec<&str> = text.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        [numeric] => {
            let parts: Vec<&str> = numeric.split('/').collect();
            let [a, b, c] = parts.as_slice() else {
                return None;
            };
            if a.len() == 4 {
                Day::new(digits(a)?, digits(b)?, digits(c)?)
            } else if c.len() == 4 {
                Day::new(digits(c)?, digits(a)?, digits(b)?)
            } else {
                None
            }
        }
        [first, second, year] => {
            let (month, day) = match month_number(first) {
                Some(month) => (month, second),
                None => (month_number(second)?, first),
            };
            if year.len() != 4 {
                return None;
            }
            Day::new(digits(year)?, month, digits(day)?)
        }
        _ => None,
    }
}

/// The month a name or its three-letter abbreviation (with or without a dot) stands for.
fn month_number(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_lowercase();
    let index = MONTHS.iter().position(|name| {
        let name = name.to_lowercase();
        word == name
            || (word.len() == 3 && name.starts_with(&word))
            || (word == "sept" && name == "september")
    })?;
    u32::try_from(index + 1).ok()
}

/// Unix milliseconds as Airtable writes date-times: "2024-03-14T10:00:00.000Z".
fn iso_instant(ms: i64) -> String {
    let day = Day::from_days(ms.div_euclid(MS_PER_DAY));
    let of_day = ms.rem_euclid(MS_PER_DAY);
    let (h, m, s, milli) = (
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000,
    );
    format!("{}T{h:02}:{m:02}:{s:02}.{milli:03}Z", day.iso())
}

/// A stored date or date-time as unix milliseconds, for sorting chronologically.
pub fn sort_key(value: &Value) -> Option<i64> {
    instant(value.as_str()?)
}

/// Shows a stored date in the field's `dateFormat`, as Airtable's string cell format does.
pub fn display_date(options: Option<&Value>, value: &Value) -> String {
    match value.as_str().and_then(|text| iso_day(text.get(..10)?)) {
        Some(day) => format_day(options, day),
        None => super::generic_text(value),
    }
}

/// Shows a stored date-time in `time_zone` and the field's `dateFormat` and `timeFormat`.
pub fn display_date_time(options: Option<&Value>, value: &Value, time_zone: &str) -> String {
    let Some(ms) = value.as_str().and_then(instant) else {
        return super::generic_text(value);
    };
    let local = ms + i64::from(parse_time_zone(time_zone).unwrap_or(0)) * 60_000;
    let day = Day::from_days(local.div_euclid(MS_PER_DAY));
    let minutes = local.rem_euclid(MS_PER_DAY) / 60_000;
    let (h, m) = (minutes / 60, minutes % 60);
    let time_format = options
        .and_then(|o| o.pointer("/timeFormat/name"))
        .and_then(Value::as_str)
        .unwrap_or("12hour");
    let time = if time_format == "24hour" {
        format!("{h:02}:{m:02}")
    } else {
        let half = if h < 12 { "am" } else { "pm" };
        format!("{}:{m:02}{half}", if h % 12 == 0 { 12 } else { h % 12 })
    };
    format!("{} {time}", format_day(options, day))
}

/// Shows a created or last-modified time as its field's `result` type (date or date-time) does.
pub fn display_computed(options: Option<&Value>, value: &Value, time_zone: &str) -> String {
    let result = options.and_then(|o| o.get("result"));
    let result_options = result.and_then(|r| r.get("options"));
    if result.and_then(|r| r.get("type")).and_then(Value::as_str) == Some("date") {
        let Some(ms) = value.as_str().and_then(instant) else {
            return super::generic_text(value);
        };
        let local = ms + i64::from(parse_time_zone(time_zone).unwrap_or(0)) * 60_000;
        return format_day(result_options, Day::from_days(local.div_euclid(MS_PER_DAY)));
    }
    display_date_time(result_options, value, time_zone)
}

/// A day in the field's `dateFormat` ("local" and "us" read "3/14/2024" in en-us, "european"
/// "14/3/2024", "iso" "2024-03-14", "friendly" "March 14, 2024").
fn format_day(options: Option<&Value>, day: Day) -> String {
    let format = options.and_then(|o| o.get("dateFormat"));
    let name = format.and_then(|f| f.get("name")).and_then(Value::as_str);
    let pattern = format.and_then(|f| f.get("format")).and_then(Value::as_str);
    let Day { year, month, day } = day;
    match (name, pattern) {
        (Some("iso"), _) | (None, Some("YYYY-MM-DD")) => format!("{year:04}-{month:02}-{day:02}"),
        (Some("european"), _) | (None, Some("D/M/YYYY")) => format!("{day}/{month}/{year}"),
        (Some("friendly"), _) | (None, Some("LL")) => {
            format!("{} {day}, {year}", MONTHS.get(month.saturating_sub(1) as usize).copied().unwrap_or_default())
        }
        _ => format!("{month}/{day}/{year}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::CellWrite;
    use super::*;
    use crate::model::airtable::{FieldId, FieldType};

    fn field(field_type: FieldType) -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Due".into(),
            field_type,
            description: None,
            options: None,
        }
    }

    fn date(input: &str, typecast: bool) -> Result<CellWrite, CellError> {
        write_date(&field(FieldType::Date), &json!(input), typecast).map(|w| w.write)
    }

    fn date_time(input: &str, typecast: bool) -> Result<CellWrite, CellError> {
        write_date_time(&field(FieldType::DateTime), &json!(input), typecast).map(|w| w.write)
    }

    fn set(text: &str) -> CellWrite {
        CellWrite::Set(json!(text))
    }

    #[test]
    fn calendar_days_round_trip_through_day_numbers() {
        for days in [-719_528, -1, 0, 59, 11_016, 19_796, 2_932_896] {
            assert_eq!(Day::from_days(days).days(), days);
        }
        assert_eq!(Day::new(2024, 3, 14).unwrap().days(), 19_796);
    }

    #[test]
    fn an_iso_date_is_stored_as_sent() {
        assert_eq!(date("2024-03-14", false).unwrap(), set("2024-03-14"));
    }

    #[test]
    fn an_iso_date_time_written_to_a_date_keeps_its_date() {
        assert_eq!(
            date("2024-03-14T23:30:00.000-05:00", false).unwrap(),
            set("2024-03-14")
        );
    }

    #[test]
    fn a_day_that_does_not_exist_is_refused() {
        assert!(date("2023-02-29", false).is_err());
        assert!(date("2024-02-29", false).is_ok());
        assert!(date("2024-13-01", false).is_err());
    }

    #[test]
    fn a_us_date_without_typecast_is_refused_with_a_hint() {
        let err = date("3/14/2024", false).unwrap_err();
        assert!(err.to_string().contains("\"2024-03-14\""), "{err}");
    }

    #[test]
    fn a_number_is_not_a_date() {
        assert!(write_date(&field(FieldType::Date), &json!(20240314), true).is_err());
    }

    #[test]
    fn an_empty_string_clears_a_date() {
        assert_eq!(date("", false).unwrap(), CellWrite::Clear);
    }

    #[test]
    fn typecast_reads_the_dates_people_type() {
        for text in [
            "3/14/2024",
            "2024/03/14",
            "March 14, 2024",
            "Mar 14 2024",
            "14 Mar 2024",
            "14 march 2024",
        ] {
            assert_eq!(date(text, true).unwrap(), set("2024-03-14"), "{text}");
        }
    }

    #[test]
    fn typecast_refuses_text_that_is_not_a_date() {
        let err = date("soon", true).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"soon\" is not a date it can read"),
            "{err}"
        );
        assert!(date("2/30/2024", true).is_err());
    }

    #[test]
    fn a_date_time_with_an_offset_is_stored_in_utc() {
        assert_eq!(
            date_time("2024-03-14T10:00:00+02:00", false).unwrap(),
            set("2024-03-14T08:00:00.000Z")
        );
        assert_eq!(
            date_time("2024-03-14T23:30-0100", false).unwrap(),
            set("2024-03-15T00:30:00.000Z")
        );
    }

    #[test]
    fn a_date_time_keeps_milliseconds_and_drops_finer_digits() {
        assert_eq!(
            date_time("2024-03-14T10:00:01.23456Z", false).unwrap(),
            set("2024-03-14T10:00:01.234Z")
        );
    }

    #[test]
    fn a_date_time_without_an_offset_is_read_as_utc() {
        assert_eq!(
            date_time("2024-03-14 10:00", false).unwrap(),
            set("2024-03-14T10:00:00.000Z")
        );
    }

    #[test]
    fn a_bare_date_becomes_midnight_utc() {
        assert_eq!(
            date_time("2024-03-14", false).unwrap(),
            set("2024-03-14T00:00:00.000Z")
        );
    }

    #[test]
    fn a_malformed_date_time_is_refused() {
        for text in [
            "2024-03-14T25:00Z",
            "2024-03-14T10:00+2",
            "2024-03-14T10",
            "2024-03-14T10:00:00.Z",
        ] {
            assert!(date_time(text, false).is_err(), "{text}");
        }
    }

    #[test]
    fn a_date_time_outside_years_0_to_9999_is_refused() {
        assert!(date_time("0000-01-01T00:00:00+01:00", false).is_err());
    }

    #[test]
    fn typecast_reads_a_typed_date_as_midnight_utc() {
        assert!(date_time("March 14, 2024", false).is_err());
        assert_eq!(
            date_time("March 14, 2024", true).unwrap(),
            set("2024-03-14T00:00:00.000Z")
        );
    }

    #[test]
    fn time_zones_are_read_as_fixed_offsets() {
        assert_eq!(parse_time_zone("utc"), Some(0));
        assert_eq!(parse_time_zone("Etc/GMT"), Some(0));
        assert_eq!(parse_time_zone("+05:30"), Some(330));
        assert_eq!(parse_time_zone("UTC-8"), Some(-480));
        assert_eq!(parse_time_zone("GMT-0330"), Some(-210));
    }

    #[test]
    fn named_time_zones_are_not_supported() {
        assert_eq!(parse_time_zone("Europe/Paris"), None);
        assert_eq!(parse_time_zone("+25:00"), None);
    }

    #[test]
    fn a_date_shows_month_first_by_default() {
        assert_eq!(display_date(None, &json!("2024-03-04")), "3/4/2024");
    }

    #[test]
    fn a_date_shows_in_the_fields_date_format() {
        let shown = |name: &str| {
            display_date(
                Some(&json!({"dateFormat": {"name": name}})),
                &json!("2024-03-04"),
            )
        };
        assert_eq!(shown("european"), "4/3/2024");
        assert_eq!(shown("iso"), "2024-03-04");
        assert_eq!(shown("friendly"), "March 4, 2024");
    }

    #[test]
    fn a_date_time_shows_in_the_given_time_zone_with_a_12_hour_clock() {
        let value = json!("2024-03-14T10:00:00.000Z");
        assert_eq!(display_date_time(None, &value, "UTC"), "3/14/2024 10:00am");
        assert_eq!(
            display_date_time(None, &value, "-11:00"),
            "3/13/2024 11:00pm"
        );
        assert_eq!(
            display_date_time(None, &value, "+02:00"),
            "3/14/2024 12:00pm"
        );
    }

    #[test]
    fn a_date_time_shows_a_24_hour_clock_when_the_field_asks() {
        let options = json!({"dateFormat": {"name": "iso"}, "timeFormat": {"name": "24hour"}});
        let value = json!("2024-03-14T00:05:00.000Z");
        assert_eq!(
            display_date_time(Some(&options), &value, "utc"),
            "2024-03-14 00:05"
        );
        assert_eq!(display_date_time(None, &value, "utc"), "3/14/2024 12:05am");
    }

    #[test]
    fn an_unsupported_time_zone_shows_utc() {
        let value = json!("2024-03-14T10:00:00.000Z");
        assert_eq!(
            display_date_time(None, &value, "Europe/Paris"),
            "3/14/2024 10:00am"
        );
    }

    #[test]
    fn a_created_time_shows_as_its_result_type() {
        let value = json!("2024-03-14T23:00:00.000Z");
        let as_date =
            json!({"result": {"type": "date", "options": {"dateFormat": {"name": "iso"}}}});
        assert_eq!(
            display_computed(Some(&as_date), &value, "+02:00"),
            "2024-03-15"
        );
        assert_eq!(display_computed(None, &value, "UTC"), "3/14/2024 11:00pm");
    }

    #[test]
    fn dates_and_date_times_share_one_timeline_for_sorting() {
        let day = sort_key(&json!("2024-03-14")).unwrap();
        let later = sort_key(&json!("2024-03-14T00:00:00.001Z")).unwrap();
        assert_eq!(later - day, 1);
    }
}
