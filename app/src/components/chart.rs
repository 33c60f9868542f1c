//! Time-series charts drawn as SVG by Leptos: axes with round ticks, gridlines, a legend, hover
//! values, and a hidden table of the same numbers for screen readers. No JavaScript library.

use std::sync::Arc;

use leptos::prelude::*;

use crate::components::numbers::{grouped, usd};
use crate::components::time::format_ms;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

// The drawing's own coordinates; the SVG scales to its box, keeping this aspect ratio.
// About the width a chart gets on a wide screen, so 12-unit text reads as 12 pixels or so.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 46.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 26.0;

/// At most this many time labels under a chart, so they never overlap.
const MAX_TIME_LABELS: usize = 7;
/// Lines get a dot per bucket up to this many buckets; beyond, dots only crowd the line.
const MAX_DOTS: usize = 48;

/// One line, or one colour of bars: a value per bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub values: Vec<f64>,
}

/// What the values count, for tick labels and hover values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unit {
    /// Whole things: messages, calls, requests.
    #[default]
    Count,
    /// US dollars.
    Usd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Line,
    Bar,
}

/// Series over time as lines.
#[component]
pub fn LineChart(
    /// What the chart shows: its caption and the start of its accessible name.
    title: &'static str,
    /// Each bucket's start, unix milliseconds, oldest first; every series has a value for each.
    buckets: Vec<i64>,
    /// How long a bucket is: an hour gets times under the axis, a day gets dates.
    bucket_ms: i64,
    series: Vec<Series>,
    #[prop(optional)] unit: Unit,
    /// Shown instead of the chart when every value is zero.
    empty: &'static str,
) -> impl IntoView {
    view! { <Chart kind=Kind::Line title buckets bucket_ms series unit empty /> }
}

/// Series over time as bars, side by side within each bucket.
#[component]
pub fn BarChart(
    /// What the chart shows: its caption and the start of its accessible name.
    title: &'static str,
    /// Each bucket's start, unix milliseconds, oldest first; every series has a value for each.
    buckets: Vec<i64>,
    /// How long a bucket is: an hour gets times under the axis, a day gets dates.
    bucket_ms: i64,
    series: Vec<Series>,
    #[prop(optional)] unit: Unit,
    /// Shown instead of the chart when every value is zero.
    empty: &'static str,
) -> impl IntoView {
    view! { <Chart kind=Kind::Bar title buckets bucket_ms series unit empty /> }
}

#[component]
fn Chart(
    kind: Kind,
    title: &'static str,
    buckets: Vec<i64>,
    bucket_ms: i64,
    series: Vec<Series>,
    unit: Unit,
    empty: &'static str,
) -> impl IntoView {
    let legend = series
        .iter()
        .enumerate()
        .map(|(j, s)| {
            view! {
                <li>
                    <span class=format!("chart-swatch series-{j} {}", kind.class()) aria-hidden="true"></span>
                    {s.name}
                </li>
            }
        })
        .collect_view();
    let head = view! {
        <figcaption class="chart-head">
            <span class="chart-title">{title}</span>
            <ul class="chart-legend" aria-label="Legend">{legend}</ul>
        </figcaption>
    };
    let has_data = !buckets.is_empty() && series.iter().any(|s| s.values.iter().any(|v| *v > 0.0));
    if !has_data {
        return view! {
            <figure class="chart">
                {head}
                <div class="chart-empty">
                    <svg class="chart-empty-art" viewBox="0 0 120 48" aria-hidden="true">
                        <path d="M4 44 H116" />
                        <path class="chart-empty-line" d="M8 38 L32 30 L56 34 L80 18 L112 24" />
                    </svg>
                    <p>"No activity in this range."</p>
                    <p class="muted">{empty}</p>
                </div>
            </figure>
        }
        .into_any();
    }

    let max = series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max);
    let ticks = nice_ticks(max, unit == Unit::Count);
    let step = ticks.get(1).copied().unwrap_or(1.0);
    let plot = Plot { buckets: buckets.len(), top: ticks.last().copied().unwrap_or(1.0) };
    let summary = summary(title, &buckets, bucket_ms, &series, unit);

    let grid = ticks
        .iter()
        .map(|&t| {
            let y = fmt(plot.y(t));
            view! {
                <line class="chart-gridline" x1=fmt(LEFT) x2=fmt(WIDTH - RIGHT) y1=y.clone() y2=y.clone() />
                <text class="chart-tick" x=fmt(LEFT - 8.0) y=fmt(plot.y(t) + 4.0) text-anchor="end">{tick_label(t, step, unit)}</text>
            }
        })
        .collect_view();
    let stride = label_stride(buckets.len(), MAX_TIME_LABELS);
    let times = buckets
        .iter()
        .enumerate()
        .filter(|(i, _)| i % stride == 0)
        .map(|(i, &at)| {
            view! {
                <text class="chart-tick" x=fmt(plot.center(i)) y=fmt(HEIGHT - 8.0) text-anchor="middle">{bucket_label(at, bucket_ms)}</text>
            }
        })
        .collect_view();
    let data = match kind {
        Kind::Line => lines(plot, &series).into_any(),
        Kind::Bar => bars(plot, &series).into_any(),
    };

    // Hover: a transparent band per bucket carries a native tooltip (works before hydration), and
    // once hydrated moves a guide line with the values next to it.
    let hover = RwSignal::new(None::<usize>);
    let hits = buckets
        .iter()
        .enumerate()
        .map(|(i, &at)| {
            let band = plot.band();
            let tip = std::iter::once(bucket_title(at, bucket_ms))
                .chain(series.iter().map(|s| format!("{}: {}", s.name, value_label(s.values[i], unit))))
                .collect::<Vec<_>>()
                .join(" · ");
            view! {
                <rect
                    class="chart-hit"
                    x=fmt(LEFT + band * i as f64)
                    y=fmt(TOP)
                    width=fmt(band)
                    height=fmt(HEIGHT - TOP - BOTTOM)
                    on:mouseenter=move |_| hover.set(Some(i))
                    on:click=move |_| hover.set(Some(i))
                >
                    <title>{tip}</title>
                </rect>
            }
        })
        .collect_view();
    let shared = Arc::new((buckets.clone(), series.clone()));
    let overlay = move || {
        let (buckets, series) = &*shared;
        hover.get().filter(|&i| i < buckets.len()).map(|i| hover_view(kind, plot, buckets[i], bucket_ms, series, i, unit))
    };

    let table = data_table(title, &buckets, bucket_ms, &series, unit);
    view! {
        <figure class="chart">
            {head}
            <svg
                class="chart-svg"
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                role="img"
                aria-label=summary
                on:mouseleave=move |_| hover.set(None)
            >
                <g class="chart-grid">{grid}</g>
                <line class="chart-axis" x1=fmt(LEFT) x2=fmt(WIDTH - RIGHT) y1=fmt(plot.y(0.0)) y2=fmt(plot.y(0.0)) />
                <g class="chart-times">{times}</g>
                <g class="chart-data">{data}</g>
                // The hover layer lets the mouse through to the bands underneath.
                <g class="chart-hits">{hits}</g>
                {overlay}
            </svg>
            {table}
        </figure>
    }
    .into_any()
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Self::Line => "swatch-line",
            Self::Bar => "swatch-bar",
        }
    }
}

fn lines(plot: Plot, series: &[Series]) -> impl IntoView + use<> {
    series
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let points: Vec<(f64, f64)> = s.values.iter().enumerate().map(|(i, &v)| (plot.center(i), plot.y(v))).collect();
            let dots = (points.len() <= MAX_DOTS).then(|| {
                points
                    .iter()
                    .map(|&(x, y)| view! { <circle class=format!("chart-dot series-{j}") cx=fmt(x) cy=fmt(y) r="2.5" /> })
                    .collect_view()
            });
            view! {
                <g>
                    <path class=format!("chart-line series-{j}") d=line_path(&points) />
                    {dots}
                </g>
            }
        })
        .collect_view()
}

fn bars(plot: Plot, series: &[Series]) -> impl IntoView + use<> {
    let count = series.len().max(1);
    let band = plot.band();
    let group = band * 0.8;
    let width = group / count as f64;
    series
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let rects = s
                .values
                .iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0)
                .map(|(i, &v)| {
                    let x = LEFT + band * i as f64 + (band - group) / 2.0 + width * j as f64;
                    // A small value stays visible as a sliver rather than vanishing.
                    let height = (plot.y(0.0) - plot.y(v)).max(1.0);
                    view! {
                        <rect class=format!("chart-bar series-{j}") x=fmt(x) y=fmt(plot.y(0.0) - height) width=fmt(width.max(0.5)) height=fmt(height) />
                    }
                })
                .collect_view();
            view! { <g>{rects}</g> }
        })
        .collect_view()
}

/// The guide line at bucket `i` and a label with its values.
fn hover_view(kind: Kind, plot: Plot, at: i64, bucket_ms: i64, series: &[Series], i: usize, unit: Unit) -> impl IntoView + use<> {
    let x = plot.center(i);
    let lines: Vec<String> = std::iter::once(bucket_title(at, bucket_ms))
        .chain(series.iter().map(|s| format!("{}: {}", s.name, value_label(s.values[i], unit))))
        .collect();
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let (box_w, box_h) = (longest as f64 * 6.8 + 16.0, lines.len() as f64 * 16.0 + 8.0);
    // Beside the line, on whichever side has room.
    let box_x = if x + 8.0 + box_w <= WIDTH - RIGHT { x + 8.0 } else { (x - 8.0 - box_w).max(0.0) };
    let markers = (kind == Kind::Line).then(|| {
        series
            .iter()
            .enumerate()
            .map(|(j, s)| view! { <circle class=format!("chart-marker series-{j}") cx=fmt(x) cy=fmt(plot.y(s.values[i])) r="4" /> })
            .collect_view()
    });
    let text = lines
        .into_iter()
        .enumerate()
        .map(|(n, line)| {
            let class = if n == 0 { "chart-tip-time" } else { "chart-tip-value" };
            view! { <tspan class=class x=fmt(box_x + 8.0) dy=if n == 0 { "0" } else { "16" }>{line}</tspan> }
        })
        .collect_view();
    view! {
        <g class="chart-hover" aria-hidden="true">
            <line class="chart-guide" x1=fmt(x) x2=fmt(x) y1=fmt(TOP) y2=fmt(plot.y(0.0)) />
            {markers}
            <rect class="chart-tip" x=fmt(box_x) y=fmt(TOP) width=fmt(box_w) height=fmt(box_h) rx="6" />
            <text y=fmt(TOP + 16.0)>{text}</text>
        </g>
    }
}

/// The same numbers as a table, for screen readers and anyone who can't see the chart.
fn data_table(title: &str, buckets: &[i64], bucket_ms: i64, series: &[Series], unit: Unit) -> impl IntoView + use<> {
    let heads = series.iter().map(|s| view! { <th scope="col">{s.name}</th> }).collect_view();
    let rows = buckets
        .iter()
        .enumerate()
        .map(|(i, &at)| {
            let cells = series.iter().map(|s| view! { <td>{value_label(s.values[i], unit)}</td> }).collect_view();
            view! { <tr><th scope="row">{bucket_title(at, bucket_ms)}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <table class="visually-hidden">
            <caption>{title.to_owned()}</caption>
            <thead><tr><th scope="col">"Time"</th>{heads}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Where the chart's values go in the drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plot {
    buckets: usize,
    /// The value at the top of the plot: the highest tick.
    top: f64,
}

impl Plot {
    /// The width of one bucket.
    fn band(self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.buckets.max(1) as f64
    }

    /// The middle of bucket `i`, where its point and its time label go.
    fn center(self, i: usize) -> f64 {
        LEFT + self.band() * (i as f64 + 0.5)
    }

    /// The height of value `v`: zero on the axis, `top` at the top of the plot.
    fn y(self, v: f64) -> f64 {
        let share = if self.top > 0.0 { (v / self.top).clamp(0.0, 1.0) } else { 0.0 };
        TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - share)
    }
}

/// Round ticks from zero to at least `max`: about four steps of 1, 2 or 5 times a power of ten.
/// Counts never get a fractional step.
pub fn nice_ticks(max: f64, whole: bool) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let mut step = nice_step(max / 4.0);
    if whole {
        step = step.max(1.0);
    }
    // The small allowance keeps 0.3 / 0.1 = 2.9999… from growing a fourth step.
    let steps = ((max / step) - 1e-9).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// The smallest of 1, 2, 5 or 10 times a power of ten that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let fraction = raw / magnitude;
    let nice = match fraction {
        f if f <= 1.0 => 1.0,
        f if f <= 2.0 => 2.0,
        f if f <= 5.0 => 5.0,
        _ => 10.0,
    };
    nice * magnitude
}

/// Digits after the point that a tick `step` needs: none for 5, one for 0.5, four for 0.0002.
fn decimals(step: f64) -> usize {
    if step >= 1.0 || step <= 0.0 { 0 } else { (-step.log10().floor()).max(0.0) as usize }
}

/// A y-axis label: `1,500`, `0.5`, `$0.0020`.
pub fn tick_label(value: f64, step: f64, unit: Unit) -> String {
    let places = decimals(step);
    match unit {
        Unit::Count if places == 0 => grouped(value.round() as u64),
        Unit::Count => format!("{value:.places$}"),
        Unit::Usd => {
            let places = places.max(2);
            format!("${value:.places$}")
        }
    }
}

/// A value as hover labels and the data table show it: `1,204`, `$0.0042`, `$1.25`.
pub fn value_label(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => grouped(value.round() as u64),
        Unit::Usd => usd(value),
    }
}

/// Show every `n`th time label so that at most `max` fit under the axis.
fn label_stride(buckets: usize, max: usize) -> usize {
    buckets.div_ceil(max.max(1)).max(1)
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A time under the axis (UTC): `14:00` for hourly buckets, except at midnight, which gets the
/// date (`Mar 5`) as daily buckets do.
pub fn bucket_label(at_ms: i64, bucket_ms: i64) -> String {
    let stamp = format_ms(at_ms);
    if bucket_ms < DAY_MS && at_ms.rem_euclid(DAY_MS) != 0 {
        stamp[11..16].to_owned()
    } else {
        let month: usize = stamp[5..7].parse().unwrap_or(1);
        let day: u32 = stamp[8..10].parse().unwrap_or(1);
        format!("{} {day}", MONTHS[(month - 1).min(11)])
    }
}

/// A bucket in full, for tooltips and the table: `2026-03-05 14:00 UTC`, or `2026-03-05` for a day.
pub fn bucket_title(at_ms: i64, bucket_ms: i64) -> String {
    let stamp = format_ms(at_ms);
    if bucket_ms >= DAY_MS { stamp[..10].to_owned() } else { stamp }
}

/// The chart in a sentence, for its accessible name.
fn summary(title: &str, buckets: &[i64], bucket_ms: i64, series: &[Series], unit: Unit) -> String {
    let per = if bucket_ms >= DAY_MS { "per day" } else { "per hour" };
    let span = match (buckets.first(), buckets.last()) {
        (Some(&first), Some(&last)) => format!("{} to {}", bucket_title(first, bucket_ms), bucket_title(last, bucket_ms)),
        _ => String::new(),
    };
    let totals = series
        .iter()
        .map(|s| {
            let total: f64 = s.values.iter().sum();
            let peak = s.values.iter().copied().fold(0.0, f64::max);
            format!("{} total {}, peak {}", s.name, value_label(total, unit), value_label(peak, unit))
        })
        .collect::<Vec<_>>()
        .join("; ");
    format!("{title}, {per}, {span}: {totals}.")
}

/// An SVG path through `points`.
fn line_path(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .enumerate()
        .map(|(i, (x, y))| format!("{}{} {}", if i == 0 { "M" } else { "L" }, fmt(*x), fmt(*y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A coordinate with one decimal: enough on screen, and short in the page.
fn fmt(v: f64) -> String {
    let text = format!("{v:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn ticks_are_round_steps_from_zero_past_the_maximum() {
        assert!(close(&nice_ticks(10.0, true), &[0.0, 5.0, 10.0]));
        assert!(close(&nice_ticks(7.0, true), &[0.0, 2.0, 4.0, 6.0, 8.0]));
        assert!(close(&nice_ticks(1234.0, true), &[0.0, 500.0, 1000.0, 1500.0]));
    }

    #[test]
    fn counts_never_get_fractional_ticks() {
        assert!(close(&nice_ticks(3.0, true), &[0.0, 1.0, 2.0, 3.0]));
        assert!(close(&nice_ticks(1.0, true), &[0.0, 1.0]));
    }

    #[test]
    fn small_amounts_get_small_steps() {
        assert!(close(&nice_ticks(0.3, false), &[0.0, 0.1, 0.2, 0.3]));
        assert!(close(&nice_ticks(0.0007, false), &[0.0, 0.0002, 0.0004, 0.0006, 0.0008]));
    }

    #[test]
    fn an_empty_or_broken_maximum_still_gets_an_axis() {
        assert_eq!(nice_ticks(0.0, true), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(f64::NAN, false), vec![0.0, 1.0]);
    }

    #[test]
    fn tick_labels_show_as_many_decimals_as_the_step_needs() {
        assert_eq!(tick_label(1500.0, 500.0, Unit::Count), "1,500");
        assert_eq!(tick_label(0.5, 0.5, Unit::Count), "0.5");
        assert_eq!(tick_label(0.0004, 0.0002, Unit::Usd), "$0.0004");
        assert_eq!(tick_label(2.0, 1.0, Unit::Usd), "$2.00");
    }

    #[test]
    fn values_scale_from_the_axis_to_the_top_tick() {
        let plot = Plot { buckets: 4, top: 10.0 };
        assert_eq!(plot.y(0.0), HEIGHT - BOTTOM);
        assert_eq!(plot.y(10.0), TOP);
        assert_eq!(plot.y(5.0), TOP + (HEIGHT - TOP - BOTTOM) / 2.0);
        assert_eq!(plot.y(50.0), TOP, "values above the top stay inside the plot");
    }

    #[test]
    fn buckets_share_the_plot_width_and_points_sit_in_their_middle() {
        let plot = Plot { buckets: 4, top: 1.0 };
        assert_eq!(plot.band(), (WIDTH - LEFT - RIGHT) / 4.0);
        assert_eq!(plot.center(0), LEFT + plot.band() / 2.0);
        assert_eq!(plot.center(3), WIDTH - RIGHT - plot.band() / 2.0);
    }

    #[test]
    fn hourly_buckets_read_as_times_and_midnight_as_the_date() {
        let midnight = 1_772_668_800_000; // 2026-03-05 00:00 UTC
        assert_eq!(bucket_label(midnight + 14 * HOUR_MS, HOUR_MS), "14:00");
        assert_eq!(bucket_label(midnight, HOUR_MS), "Mar 5");
        assert_eq!(bucket_title(midnight + 14 * HOUR_MS, HOUR_MS), "2026-03-05 14:00 UTC");
    }

    #[test]
    fn daily_buckets_read_as_dates() {
        let midnight = 1_772_668_800_000;
        assert_eq!(bucket_label(midnight, DAY_MS), "Mar 5");
        assert_eq!(bucket_title(midnight, DAY_MS), "2026-03-05");
    }

    #[test]
    fn time_labels_thin_out_to_fit() {
        assert_eq!(label_stride(7, 7), 1);
        assert_eq!(label_stride(25, 7), 4);
        assert_eq!(label_stride(366, 7), 53);
        assert_eq!(label_stride(0, 7), 1);
    }

    #[test]
    fn a_line_goes_through_its_points() {
        assert_eq!(line_path(&[(1.0, 2.0), (3.26, 4.0)]), "M1 2 L3.3 4");
        assert_eq!(line_path(&[]), "");
    }

    #[test]
    fn the_summary_names_each_series_total_and_peak() {
        let series = vec![Series { name: "Messages", values: vec![1.0, 3.0] }];
        let midnight = 1_772_668_800_000;
        let text = summary("Messages", &[midnight, midnight + DAY_MS], DAY_MS, &series, Unit::Count);
        assert_eq!(text, "Messages, per day, 2026-03-05 to 2026-03-06: Messages total 4, peak 3.");
    }

}
