//! `/analytics`: the dashboard of activity, cost and Airtable usage over a time range (the
//! caller's own, or everyone's for an admin), its CSV export, and the server functions behind them.

mod export;
mod range;

use backend::model::analytics::{Dashboard, RecentError, SeriesPoint, TopItem};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use self::export::ExportButton;
use self::range::{Choice, DAY_MS, Range, RangePicker, day_text};
use crate::components::chart::{BarChart, LineChart, Series, Unit};
use crate::components::numbers::{grouped, usd};
use crate::components::signed_in::SignedIn;
use crate::components::time::format_ms;
use crate::error::AppError;

/// The dashboard for `from_ms` to `to_ms` (unix milliseconds, end excluded, at most 366 days):
/// the caller's own activity, or everyone's when an admin asks for `all_users`.
#[server(prefix = "/api", endpoint = "analytics/dashboard", input = Json)]
pub async fn get_dashboard(from_ms: i64, to_ms: i64, #[server(default)] all_users: bool) -> Result<Dashboard, AppError> {
    let principal = crate::auth::require_user()?;
    let query = ssr::query(from_ms, to_ms, all_users)?;
    Ok(crate::auth::services().analytics.dashboard(principal.viewer(), &query).await?)
}

/// The same dashboard as CSV, one section per table, for the export button and scripts.
#[server(prefix = "/api", endpoint = "analytics/csv", input = Json)]
pub async fn export_csv(from_ms: i64, to_ms: i64, #[server(default)] all_users: bool) -> Result<String, AppError> {
    let principal = crate::auth::require_user()?;
    let query = ssr::query(from_ms, to_ms, all_users)?;
    let dashboard = crate::auth::services().analytics.dashboard(principal.viewer(), &query).await?;
    Ok(backend::analytics::dashboard_csv(&dashboard))
}

#[cfg(feature = "ssr")]
mod ssr {
    use backend::model::analytics::DashboardQuery;

    use crate::error::AppError;

    /// The longest range the dashboard reads at once, in days: a year, leap day included.
    const MAX_DAYS: i64 = 366;

    /// The query, once the range makes sense.
    pub fn query(from_ms: i64, to_ms: i64, all_users: bool) -> Result<DashboardQuery, AppError> {
        if from_ms >= to_ms {
            return Err(AppError::Invalid("The range ends before it starts. Choose a start date on or before the end date.".into()).with_status());
        }
        if to_ms.saturating_sub(from_ms) > MAX_DAYS * super::DAY_MS {
            return Err(AppError::Invalid(format!("The range is longer than {MAX_DAYS} days. Choose a shorter one, or export a year at a time.")).with_status());
        }
        Ok(DashboardQuery { from_ms, to_ms, all_users })
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::pages::analytics::DAY_MS;

        #[test]
        fn a_year_with_its_leap_day_is_allowed() {
            let query = query(0, 366 * DAY_MS, true).unwrap();
            assert_eq!(query, DashboardQuery { from_ms: 0, to_ms: 366 * DAY_MS, all_users: true });
        }

        #[test]
        fn a_longer_range_is_refused_with_what_to_do() {
            let err = query(0, 366 * DAY_MS + 1, false).unwrap_err();
            assert_eq!(err.to_string(), "The range is longer than 366 days. Choose a shorter one, or export a year at a time.");
        }

        #[test]
        fn a_range_must_start_before_it_ends() {
            assert!(matches!(query(5, 5, false), Err(AppError::Invalid(_))));
            assert!(matches!(query(6, 5, false), Err(AppError::Invalid(_))));
        }
    }
}

/// The time now, unix milliseconds: the presets end here.
fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        return (performance.time_origin() + performance.now()) as i64;
    }
    #[cfg(not(target_arch = "wasm32"))]
    if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        return i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
    }
    0
}

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    view! {
        <Title text="Analytics" />
        <SignedIn let:me>
            <AnalyticsScreen is_admin=me.is_admin />
        </SignedIn>
    }
}

#[component]
fn AnalyticsScreen(is_admin: bool) -> impl IntoView {
    let query = use_query_map();
    let choice = Memo::new(move |_| {
        query.with(|q| Choice {
            range: Range::from_query(q.get_str("range"), q.get_str("from"), q.get_str("to")),
            all_users: is_admin && q.get_str("all") == Some("1"),
        })
    });
    // Keyed on the choice, not on the time: the server's answer hydrates as it is, and the
    // presets end at the moment they are fetched.
    let dashboard = Resource::new(
        move || choice.get(),
        |choice| async move {
            let (from, to) = choice.range.bounds(now_ms());
            get_dashboard(from, to, choice.all_users).await
        },
    );
    let (loading, set_loading) = signal(false);

    view! {
        <section class="page analytics-page">
            <div class="analytics-head">
                <h1>"Analytics"</h1>
                <ExportButton choice />
            </div>
            <div class="toolbar analytics-toolbar">
                <RangePicker choice />
                {is_admin.then(|| view! { <AllUsersToggle choice /> })}
            </div>
            <div class="analytics-body" aria-busy=move || loading.get().to_string()>
                <Transition fallback=|| view! { <Loading /> } set_pending=set_loading>
                    {move || Suspend::new(async move {
                        match dashboard.await {
                            Ok(dashboard) => view! { <DashboardView dashboard /> }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </section>
    }
}

/// Admins see everyone's activity, or only their own.
#[component]
fn AllUsersToggle(choice: Memo<Choice>) -> impl IntoView {
    let navigate = use_navigate();
    let flip = move |_| {
        let choice = choice.get_untracked();
        let href = format!("/analytics{}", choice.range.query(!choice.all_users));
        navigate(&href, NavigateOptions { scroll: false, ..NavigateOptions::default() });
    };
    view! {
        <label class="switch">
            <input type="checkbox" role="switch" checked=move || choice.get().all_users on:change=flip />
            <span>"All users"</span>
        </label>
    }
}

#[component]
fn Loading() -> impl IntoView {
    view! {
        <p class="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            "Loading analytics…"
        </p>
    }
}

#[component]
fn DashboardView(dashboard: Dashboard) -> impl IntoView {
    let Dashboard { query, bucket_ms, kpis, series, top_tools, top_bases, recent_errors } = dashboard;
    let whose = if query.all_users { "Everyone’s activity" } else { "Your activity" };
    let span = format!("{whose} from {} to {}.", format_ms(query.from_ms), format_ms(query.to_ms));
    let points = timeline(query.from_ms, query.to_ms, bucket_ms, &series);
    let buckets: Vec<i64> = points.iter().map(|p| p.at_ms).collect();
    let values = |f: fn(&SeriesPoint) -> f64| points.iter().map(f).collect::<Vec<f64>>();
    let activity = vec![
        Series { name: "Messages", values: values(|p| p.messages as f64) },
        Series { name: "Tool calls", values: values(|p| p.tool_calls as f64) },
    ];
    let cost = vec![Series { name: "Cost", values: values(|p| p.cost_usd) }];
    let airtable = vec![
        Series { name: "Airtable requests", values: values(|p| p.airtable_requests as f64) },
        Series { name: "Rate-limit waits", values: values(|p| p.rate_limit_waits as f64) },
    ];
    let tiles = [
        ("active-users", "Active users", grouped(kpis.active_users)),
        ("conversations", "Conversations", grouped(kpis.conversations)),
        ("messages", "Messages", grouped(kpis.messages)),
        ("tool-calls", "Tool calls", grouped(kpis.tool_calls)),
        ("tokens", "Tokens", grouped(kpis.tokens)),
        ("cost", "Cost", usd(kpis.cost_usd)),
        ("error-rate", "Error rate", percent(kpis.error_rate)),
        ("p95-latency", "p95 latency", millis(kpis.p95_latency_ms)),
    ]
    .into_iter()
    .map(|(id, label, value)| {
        view! {
            <div class="kpi" data-testid=format!("kpi-{id}")>
                <dt>{label}</dt>
                <dd>{value}</dd>
            </div>
        }
    })
    .collect_view();

    view! {
        <p class="muted analytics-span">{span}</p>
        <dl class="kpis" aria-label="Key figures">{tiles}</dl>
        <div class="charts">
            <LineChart
                title="Messages and tool calls"
                buckets=buckets.clone()
                bucket_ms
                series=activity
                empty="Messages and tool calls show here once someone chats with a base."
            />
            <BarChart
                title="Cost"
                buckets=buckets.clone()
                bucket_ms
                series=cost
                unit=Unit::Usd
                empty="The cost of language-model calls shows here; the offline assistant is free."
            />
            <BarChart
                title="Airtable requests and rate-limit waits"
                buckets
                bucket_ms
                series=airtable
                empty="Requests to Airtable (or the sandbox) show here, with those that waited on its rate limit."
            />
        </div>
        <div class="analytics-tables">
            <TopTable title="Top tools" what="Tool" items=top_tools empty="No tool calls in this range." />
            <TopTable title="Top bases" what="Base" items=top_bases empty="No base was used in this range." />
        </div>
        <RecentErrors errors=recent_errors />
    }
}

#[component]
fn TopTable(title: &'static str, what: &'static str, items: Vec<TopItem>, empty: &'static str) -> impl IntoView {
    let body = if items.is_empty() {
        view! { <p class="muted">{empty}</p> }.into_any()
    } else {
        let rows = items
            .into_iter()
            .map(|item| {
                view! {
                    <tr>
                        <th scope="row" class="top-name">{item.name}</th>
                        <td class="num">{grouped(item.count)}</td>
                        <td class="num">{grouped(item.errors)}</td>
                        <td class="num">{millis(item.avg_latency_ms)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{what}</th>
                        <th scope="col" class="num">"Count"</th>
                        <th scope="col" class="num">"Errors"</th>
                        <th scope="col" class="num">"Avg latency"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-label=title>
            <h2>{title}</h2>
            {body}
        </section>
    }
}

#[component]
fn RecentErrors(errors: Vec<RecentError>) -> impl IntoView {
    let body = if errors.is_empty() {
        view! { <p class="muted">"No errors in this range."</p> }.into_any()
    } else {
        // Details are Airtable's and the language model's own words: shown as text, never as HTML.
        let rows = errors
            .into_iter()
            .map(|e| {
                view! {
                    <tr>
                        <td class="nowrap">{format_ms(e.at_ms)}</td>
                        <td>{kind_label(&e.kind)}</td>
                        <td class="top-name">{e.name}</td>
                        <td class="error-detail">{e.detail}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <div class="table-scroll">
                <table class="table">
                    <thead>
                        <tr><th scope="col">"Time"</th><th scope="col">"Kind"</th><th scope="col">"Name"</th><th scope="col">"Detail"</th></tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-label="Recent errors">
            <h2>"Recent errors"</h2>
            {body}
        </section>
    }
}

/// Every bucket from the range's start to its end, zero where the series has no point, so charts
/// keep their time axis even where nothing happened.
fn timeline(from_ms: i64, to_ms: i64, bucket_ms: i64, series: &[SeriesPoint]) -> Vec<SeriesPoint> {
    // Far more buckets than any chart can show means the answer is not what we expect: show it as is.
    const MAX_BUCKETS: i64 = 2_000;
    if bucket_ms <= 0 || to_ms <= from_ms || (to_ms - from_ms) / bucket_ms > MAX_BUCKETS {
        return series.to_vec();
    }
    // Buckets line up with the server's points (whole hours or days), starting at or before `from_ms`.
    let phase = series.first().map_or(0, |p| p.at_ms.rem_euclid(bucket_ms));
    let start = from_ms - (from_ms - phase).rem_euclid(bucket_ms);
    let count = (to_ms - start + bucket_ms - 1) / bucket_ms;
    let mut points: Vec<SeriesPoint> =
        (0..count).map(|i| SeriesPoint { at_ms: start + i * bucket_ms, ..SeriesPoint::default() }).collect();
    for point in series {
        let slot = (point.at_ms - start).div_euclid(bucket_ms);
        if let Some(bucket) = usize::try_from(slot).ok().and_then(|i| points.get_mut(i)) {
            let at_ms = bucket.at_ms;
            *bucket = SeriesPoint { at_ms, ..point.clone() };
        }
    }
    points
}

/// An error rate (0 to 1) as `2.5 %`.
fn percent(rate: f64) -> String {
    let pct = rate * 100.0;
    if pct == 0.0 { "0 %".to_owned() } else if pct < 10.0 { format!("{pct:.1} %") } else { format!("{pct:.0} %") }
}

/// `840 ms`, `1,520 ms`.
fn millis(ms: f64) -> String {
    format!("{} ms", grouped(ms.max(0.0).round() as u64))
}

/// `chat_turn` as `Chat turn`.
fn kind_label(kind: &str) -> String {
    let spaced = kind.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The export's file name: `pyairtable-analytics-2026-03-01-to-2026-03-07.csv`.
fn file_name(from_ms: i64, to_ms: i64) -> String {
    // The end is excluded: a range ending at midnight ends on the day before.
    let last = (to_ms - 1).div_euclid(DAY_MS);
    format!("pyairtable-analytics-{}-to-{}.csv", day_text(from_ms.div_euclid(DAY_MS)), day_text(last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::analytics::range::HOUR_MS;

    fn point(at_ms: i64, messages: u64) -> SeriesPoint {
        SeriesPoint { at_ms, messages, ..SeriesPoint::default() }
    }

    #[test]
    fn a_timeline_has_every_bucket_with_zeros_where_nothing_happened() {
        let from = 10 * HOUR_MS + 30 * 60_000;
        let points = timeline(from, from + 3 * HOUR_MS, HOUR_MS, &[point(12 * HOUR_MS, 4)]);
        let at: Vec<i64> = points.iter().map(|p| p.at_ms / HOUR_MS).collect();
        assert_eq!(at, vec![10, 11, 12, 13]);
        let messages: Vec<u64> = points.iter().map(|p| p.messages).collect();
        assert_eq!(messages, vec![0, 0, 4, 0]);
    }

    #[test]
    fn a_timeline_follows_the_servers_buckets() {
        // Buckets that start on the range's own minute, not on the hour.
        let from = 10 * HOUR_MS + 30 * 60_000;
        let points = timeline(from, from + 2 * HOUR_MS, HOUR_MS, &[point(from + HOUR_MS, 2)]);
        assert_eq!(points.iter().map(|p| (p.at_ms, p.messages)).collect::<Vec<_>>(), vec![(from, 0), (from + HOUR_MS, 2)]);
    }

    #[test]
    fn an_empty_range_has_zero_buckets_not_none() {
        let points = timeline(0, 2 * DAY_MS, DAY_MS, &[]);
        assert_eq!(points.len(), 2);
        assert!(points.iter().all(|p| p.messages == 0));
    }

    #[test]
    fn kpis_read_as_people_write_them() {
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.025), "2.5 %");
        assert_eq!(percent(0.5), "50 %");
        assert_eq!(millis(1520.4), "1,520 ms");
        assert_eq!(kind_label("chat_turn"), "Chat turn");
        assert_eq!(kind_label(""), "");
    }

    #[test]
    fn the_export_is_named_after_its_days() {
        let from = 20_513 * DAY_MS;
        assert_eq!(file_name(from, from + 7 * DAY_MS), "pyairtable-analytics-2026-03-01-to-2026-03-07.csv");
    }
}
