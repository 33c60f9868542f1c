//! The dashboard's time range, as the address keeps it (`?range=7d`, `?from=…&to=…`), and the
//! picker that changes it.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::components::time::format_ms;

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The time range the dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Last24Hours,
    Last7Days,
    Last30Days,
    /// Whole UTC days, both included, as days since 1970-01-01.
    Days { from: i64, to: i64 },
}

/// What the dashboard is asked for: the range and, for admins, everyone's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    pub range: Range,
    pub all_users: bool,
}

impl Range {
    pub const PRESETS: [(Self, &'static str, &'static str); 3] = [
        (Self::Last24Hours, "24h", "24 h"),
        (Self::Last7Days, "7d", "7 d"),
        (Self::Last30Days, "30d", "30 d"),
    ];

    /// The range in the address: two valid dates win, then a known `range`, else the last 7 days.
    pub fn from_query(range: Option<&str>, from: Option<&str>, to: Option<&str>) -> Self {
        if let (Some(from), Some(to)) = (from.and_then(parse_day), to.and_then(parse_day)) {
            return Self::Days { from, to };
        }
        let key = range.map(str::trim).unwrap_or_default();
        Self::PRESETS.iter().find(|(_, k, _)| *k == key).map_or(Self::Last7Days, |(range, _, _)| *range)
    }

    /// The range as unix milliseconds, start included and end excluded; the presets end `now_ms`.
    pub fn bounds(self, now_ms: i64) -> (i64, i64) {
        match self {
            Self::Last24Hours => (now_ms - DAY_MS, now_ms),
            Self::Last7Days => (now_ms - 7 * DAY_MS, now_ms),
            Self::Last30Days => (now_ms - 30 * DAY_MS, now_ms),
            Self::Days { from, to } => (from * DAY_MS, (to + 1) * DAY_MS),
        }
    }

    /// The query string that opens this range: `?range=7d` or `?from=2026-03-01&to=2026-03-07`.
    pub fn query(self, all_users: bool) -> String {
        let all = if all_users { "&all=1" } else { "" };
        match self {
            Self::Days { from, to } => format!("?from={}&to={}{all}", day_text(from), day_text(to)),
            preset => {
                let key = Self::PRESETS.iter().find(|(r, _, _)| *r == preset).map_or("7d", |(_, k, _)| k);
                format!("?range={key}{all}")
            }
        }
    }

    /// The custom range's dates, as the date inputs show them.
    fn days(self) -> Option<(String, String)> {
        match self {
            Self::Days { from, to } => Some((day_text(from), day_text(to))),
            _ => None,
        }
    }
}

/// `2026-03-05` as days since 1970-01-01; `None` for anything else, such as `2026-02-30`.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Days since 1970-01-01 as `2026-03-05`.
pub fn day_text(days: i64) -> String {
    format_ms(days * DAY_MS)[..10].to_owned()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The presets as links and the custom range as a form: both work before the page has loaded
/// its script (the form then reloads the page), and both leave the range in the address.
#[component]
pub fn RangePicker(choice: Memo<Choice>) -> impl IntoView {
    let presets = Range::PRESETS
        .iter()
        .map(|&(range, _, label)| {
            let href = move || format!("/analytics{}", range.query(choice.get().all_users));
            let current = move || (choice.get().range == range).then_some("true");
            view! { <a class="segment" href=href aria-current=current>{label}</a> }
        })
        .collect_view();
    let dates = move || choice.get().range.days().unwrap_or_default();
    let (from, to) = (NodeRef::<leptos::html::Input>::new(), NodeRef::<leptos::html::Input>::new());
    let navigate = use_navigate();
    // In the browser the address is built here, so it reads as the links' do.
    let apply = move |ev: leptos::ev::SubmitEvent| {
        let day = |input: NodeRef<leptos::html::Input>| input.get_untracked().and_then(|i| parse_day(&i.value()));
        if let (Some(from), Some(to)) = (day(from), day(to)) {
            ev.prevent_default();
            let href = format!("/analytics{}", Range::Days { from, to }.query(choice.get_untracked().all_users));
            navigate(&href, NavigateOptions { scroll: false, ..NavigateOptions::default() });
        }
    };
    view! {
        <nav class="segmented" aria-label="Time range">{presets}</nav>
        <form class="range-form" method="get" action="/analytics" aria-label="Custom range" on:submit=apply>
            <label>
                <span>"From"</span>
                <input type="date" name="from" required node_ref=from prop:value=move || dates().0 value=move || dates().0 />
            </label>
            <label>
                <span>"To"</span>
                <input type="date" name="to" required node_ref=to prop:value=move || dates().1 value=move || dates().1 />
            </label>
            {move || choice.get().all_users.then(|| view! { <input type="hidden" name="all" value="1" /> })}
            <button type="submit" class="button secondary small">"Apply"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_in_the_address_is_that_range() {
        assert_eq!(Range::from_query(Some("24h"), None, None), Range::Last24Hours);
        assert_eq!(Range::from_query(Some("30d"), None, None), Range::Last30Days);
    }

    #[test]
    fn nothing_or_nonsense_in_the_address_means_the_last_7_days() {
        assert_eq!(Range::from_query(None, None, None), Range::Last7Days);
        assert_eq!(Range::from_query(Some("forever"), None, None), Range::Last7Days);
        assert_eq!(Range::from_query(None, Some("2026-02-30"), Some("2026-03-01")), Range::Last7Days);
    }

    #[test]
    fn two_dates_make_a_custom_range_even_beside_a_preset() {
        let range = Range::from_query(Some("24h"), Some("2026-03-01"), Some("2026-03-07"));
        assert_eq!(range, Range::Days { from: parse_day("2026-03-01").unwrap(), to: parse_day("2026-03-07").unwrap() });
    }

    #[test]
    fn dates_read_as_utc_days() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(parse_day("2026-03-05"), Some(20_517));
        assert_eq!(parse_day("2024-02-29"), Some(19_782));
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("yesterday"), None);
        assert_eq!(day_text(20_517), "2026-03-05");
    }

    #[test]
    fn a_custom_range_covers_both_whole_days() {
        let range = Range::Days { from: 20_517, to: 20_518 };
        assert_eq!(range.bounds(0), (20_517 * DAY_MS, 20_519 * DAY_MS));
    }

    #[test]
    fn presets_end_now() {
        assert_eq!(Range::Last24Hours.bounds(10 * DAY_MS), (9 * DAY_MS, 10 * DAY_MS));
        assert_eq!(Range::Last7Days.bounds(10 * DAY_MS), (3 * DAY_MS, 10 * DAY_MS));
    }

    #[test]
    fn a_range_goes_back_into_the_address_as_it_came() {
        assert_eq!(Range::Last30Days.query(false), "?range=30d");
        assert_eq!(Range::Last24Hours.query(true), "?range=24h&all=1");
        let custom = Range::from_query(None, Some("2026-03-01"), Some("2026-03-07"));
        assert_eq!(custom.query(false), "?from=2026-03-01&to=2026-03-07");
    }
}
