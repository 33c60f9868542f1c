//! Times as the UI shows them. Rendered the same on the server and in the browser (UTC), so
//! hydration never sees two different texts.

/// `2026-11-25 23:49 UTC` for a unix time in milliseconds.
pub fn format_ms(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", of_day / 3600, of_day % 3600 / 60)
}

/// "42 s", "5 min", "3 h 12 min", "2 d 4 h": precise enough to see that a server restarted.
pub fn format_uptime(seconds: u64) -> String {
    let (m, h, d) = (seconds / 60, seconds / 3600, seconds / 86_400);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{m} min"),
        3600..86_400 => format!("{h} h {} min", m % 60),
        _ => format!("{d} d {} h", h % 24),
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's civil_from_days).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unix_time_reads_as_a_utc_date_and_time() {
        assert_eq!(format_ms(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_ms(1_764_114_592_000), "2025-11-25 23:49 UTC");
        assert_eq!(format_ms(951_782_400_000), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn uptime_reads_in_the_largest_sensible_units() {
        assert_eq!(format_uptime(42), "42 s");
        assert_eq!(format_uptime(5 * 60 + 3), "5 min");
        assert_eq!(format_uptime(3 * 3600 + 12 * 60), "3 h 12 min");
        assert_eq!(format_uptime(2 * 86_400 + 4 * 3600), "2 d 4 h");
    }
}
