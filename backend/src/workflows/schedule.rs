//! Schedules: a cron expression in an IANA time zone, its ticks, and how it reads in words.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    zone: Tz,
}

/// The most ticks claimed at once after a pause (the server was down, say): older ones are
/// skipped rather than run in a burst.
const CATCH_UP: usize = 10;

impl Schedule {
    /// Reads a cron expression (five fields, or six with seconds first) and a time zone.
    ///
    /// # Errors
    /// Which of the two is wrong, written for the person who typed it.
    pub fn parse(cron: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let zone = Tz::from_str(timezone.trim()).map_err(|_| ScheduleError::Zone(timezone.chars().take(60).collect()))?;
        let cron = Cron::from_str(cron).map_err(|e| ScheduleError::Cron(e.to_string()))?;
        Ok(Self { cron, zone })
    }

    /// The first tick strictly after `after_ms`, in unix milliseconds.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        // From the whole second: croner keeps a start's fraction of a second in what it finds.
        let second = after_ms.div_euclid(1000) * 1000;
        let start = self.zone.from_utc_datetime(&DateTime::<Utc>::from_timestamp_millis(second)?.naive_utc());
        self.cron.find_next_occurrence(&start, false).ok().map(|t| t.timestamp_millis())
    }

    /// The next `n` ticks after `after_ms`.
    pub fn upcoming(&self, after_ms: i64, n: usize) -> Vec<i64> {
        let mut ticks = Vec::with_capacity(n);
        let mut at = after_ms;
        while ticks.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    ticks.push(next);
                    at = next;
                }
                None => break,
            }
        }
        ticks
    }

    /// The ticks due by `now_ms`, from `next_ms` on (the newest [`CATCH_UP`] of them), and the
    /// first tick after `now_ms`.
    pub fn due(&self, next_ms: i64, now_ms: i64) -> (Vec<i64>, Option<i64>) {
        let mut due = Vec::new();
        let mut tick = Some(next_ms);
        while let Some(at) = tick.filter(|at| *at <= now_ms) {
            due.push(at);
            if due.len() > CATCH_UP {
                due.remove(0);
            }
            tick = self.next_after(at);
        }
        (due, tick)
    }

    /// The schedule in words, with its zone: "At 09:00, Monday through Friday (Europe/Paris)".
    pub fn describe(&self) -> String {
        format!("{} ({})", self.cron.describe(), self.zone.name())
    }
}

/// What is wrong with a schedule.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("“{0}” is not a time zone; use an IANA name such as Europe/Paris or UTC.")]
    Zone(String),
    #[error("The cron expression is not valid ({0}). Use five fields (minute hour day month weekday), such as 0 9 * * 1-5, or six with seconds first.")]
    Cron(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS_2026_01_05_0800_UTC: i64 = 1_767_600_000_000;

    #[test]
    fn a_schedule_ticks_in_its_own_time_zone() {
        // 09:00 in Paris is 08:00 UTC in winter.
        let schedule = Schedule::parse("0 9 * * *", "Europe/Paris").unwrap();
        let next = schedule.next_after(MS_2026_01_05_0800_UTC - 1).unwrap();
        assert_eq!(next, MS_2026_01_05_0800_UTC);
        assert_eq!(schedule.upcoming(next, 2), vec![next + 86_400_000, next + 2 * 86_400_000]);
    }

    #[test]
    fn seconds_are_allowed_as_a_sixth_field() {
        let schedule = Schedule::parse("* * * * * *", "UTC").unwrap();
        assert_eq!(schedule.next_after(1_000), Some(2_000));
    }

    #[test]
    fn after_a_pause_only_the_newest_ticks_are_due() {
        let schedule = Schedule::parse("* * * * * *", "UTC").unwrap();
        let (due, next) = schedule.due(1_000, 100_500);
        assert_eq!(due.len(), CATCH_UP);
        assert_eq!(due.last(), Some(&100_000));
        assert_eq!(next, Some(101_000));
    }

    #[test]
    fn a_wrong_zone_or_expression_says_which() {
        assert!(matches!(Schedule::parse("0 9 * * *", "Mars/Olympus"), Err(ScheduleError::Zone(_))));
        assert!(matches!(Schedule::parse("every day", "UTC"), Err(ScheduleError::Cron(_))));
    }

    #[test]
    fn a_schedule_reads_in_words() {
        let text = Schedule::parse("0 9 * * 1-5", "Europe/Paris").unwrap().describe();
        assert!(text.contains("Europe/Paris"), "{text}");
        assert!(text.contains("09:00") || text.contains("9:00"), "{text}");
    }
}
