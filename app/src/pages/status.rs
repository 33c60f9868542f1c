//! `/status`: for administrators, how every subsystem is doing, the database, the event queue
//! and the Airtable rate limiter of each base.

use backend::model::analytics::{LimiterBase, StatusReport};
use backend::model::health::{CheckResult, HealthStatus};
use backend::model::jobs::QueueStats;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;

use crate::components::numbers::grouped;
use crate::components::signed_in::SignedIn;
use crate::components::time::format_uptime;
use crate::error::AppError;

/// Health checks, database, event queue and Airtable limiter. Administrators only.
#[server(prefix = "/api", endpoint = "status/report", input = Json)]
pub async fn get_status_report() -> Result<StatusReport, AppError> {
    crate::auth::require_admin()?;
    Ok(crate::auth::services().status().await?)
}

#[component]
pub fn StatusPage() -> impl IntoView {
    view! {
        <Title text="Status" />
        <SignedIn let:me>
            {if me.is_admin {
                view! { <StatusScreen /> }.into_any()
            } else {
                view! {
                    <section class="page">
                        <h1>"Status"</h1>
                        <p class="error" role="alert">"Only administrators can see this page."</p>
                    </section>
                }
                .into_any()
            }}
        </SignedIn>
    }
}

#[component]
fn StatusScreen() -> impl IntoView {
    let refreshes = RwSignal::new(0u32);
    let report = Resource::new(move || refreshes.get(), |_| get_status_report());
    let (checking, set_checking) = signal(false);
    view! {
        <section class="page status-page">
            <div class="analytics-head">
                <h1>"Status"</h1>
                <button type="button" class="button secondary" disabled=checking on:click=move |_| refreshes.update(|n| *n += 1)>
                    {move || if checking.get() { "Refreshing…" } else { "Refresh" }}
                </button>
            </div>
            <Transition fallback=|| view! { <p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>"Checking…"</p> } set_pending=set_checking>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(report) => view! { <Report report /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Report(report: StatusReport) -> impl IntoView {
    let StatusReport { health, database, database_bytes, event_queue_depth, events_dropped, limiter, jobs } = report;
    let checks = health.checks.into_iter().map(|check| view! { <CheckRow check /> }).collect_view();
    let size = database_bytes.map_or_else(|| "Unknown".to_owned(), bytes);
    let dropped_class = if events_dropped > 0 { "warn-text" } else { "" };
    view! {
        <div class="status-grid">
            <section class="card" aria-label="Server">
                <h2>"Server"</h2>
                <dl class="facts">
                    <dt>"Overall"</dt>
                    <dd><Badge status=health.status /></dd>
                    <dt>"Version"</dt>
                    <dd>{health.version}</dd>
                    <dt>"Up for"</dt>
                    <dd>{format_uptime(health.uptime_s)}</dd>
                </dl>
            </section>
            <section class="card" aria-label="Database">
                <h2>"Database"</h2>
                <dl class="facts">
                    <dt>"Kind"</dt>
                    <dd>{database}</dd>
                    <dt>"Size"</dt>
                    <dd>{size}</dd>
                </dl>
            </section>
            <section class="card" aria-label="Events">
                <h2>"Events"</h2>
                <dl class="facts">
                    <dt>"Waiting to be written"</dt>
                    <dd data-testid="event-queue-depth">{grouped(event_queue_depth)}</dd>
                    <dt>"Dropped (queue full)"</dt>
                    <dd class=dropped_class>{grouped(events_dropped)}</dd>
                </dl>
            </section>
            <Jobs jobs />
        </div>
        <section class="card" aria-label="Subsystems">
            <h2>"Subsystems"</h2>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Subsystem"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Latency"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>{checks}</tbody>
            </table>
        </section>
        <Limiter bases=limiter />
    }
}

/// The background job queue: what waits, runs and failed, and whether this server's workers run.
#[component]
fn Jobs(jobs: Option<QueueStats>) -> impl IntoView {
    let body = match jobs {
        None => view! { <p class="error" role="alert">"The job queue could not be read; the jobs check below says why."</p> }.into_any(),
        Some(QueueStats { waiting, running, failed, oldest_waiting_s, workers_alive }) => {
            let (workers, workers_class) = if workers_alive { ("Running", "") } else { ("Stopped", "warn-text") };
            let failed_class = if failed > 0 { "warn-text" } else { "" };
            view! {
            <dl class="facts">
                <dt>"Workers"</dt>
                <dd class=workers_class>{workers}</dd>
                <dt>"Waiting"</dt>
                <dd data-testid="jobs-waiting">{grouped(waiting)}</dd>
                <dt>"Running"</dt>
                <dd data-testid="jobs-running">{grouped(running)}</dd>
                <dt>"Failed (may retry)"</dt>
                <dd class=failed_class>{grouped(failed)}</dd>
                <dt>"Oldest waiting"</dt>
                <dd>{oldest_waiting_s.map_or_else(|| "None".to_owned(), |s| duration_ms(s.saturating_mul(1000)))}</dd>
            </dl>
            }
            .into_any()
        }
    };
    view! {
        <section class="card" aria-label="Background jobs">
            <h2>"Background jobs"</h2>
            {body}
        </section>
    }
}

#[component]
fn CheckRow(check: CheckResult) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{check.name}</th>
            <td><Badge status=check.status /></td>
            <td class="num">{format!("{:.1} ms", check.latency_ms)}</td>
            <td class="muted error-detail">{check.detail}</td>
        </tr>
    }
}

#[component]
fn Limiter(bases: Vec<LimiterBase>) -> impl IntoView {
    let body = if bases.is_empty() {
        view! { <p class="muted">"No Airtable requests since the server started."</p> }.into_any()
    } else {
        let rows = bases
            .into_iter()
            .map(|base| {
                view! {
                    <tr>
                        <th scope="row"><code>{base.base_id}</code></th>
                        <td class="num">{grouped(base.requests)}</td>
                        <td class="num">{duration_ms(base.waited_ms)}</td>
                        <td class="num">{grouped(base.rate_limited)}</td>
                        <td class="num">{base.penalty_left_ms.map_or_else(|| "None".to_owned(), duration_ms)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Base"</th>
                        <th scope="col" class="num">"Requests"</th>
                        <th scope="col" class="num">"Waited"</th>
                        <th scope="col" class="num">"429s"</th>
                        <th scope="col" class="num">"Penalty left"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card" aria-label="Airtable rate limiter">
            <h2>"Airtable rate limiter"</h2>
            <p class="muted">"Five requests a second per base, as Airtable allows; a 429 pauses the base for a while."</p>
            {body}
        </section>
    }
}

#[component]
fn Badge(status: HealthStatus) -> impl IntoView {
    view! { <span class=format!("badge badge-{}", status.as_str())>{status.as_str()}</span> }
}

/// `1.4 MB`, in powers of 1000 as disks are sold.
fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "kB", "MB", "GB", "TB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    match unit {
        0 => format!("{count} bytes"),
        _ if value < 10.0 => format!("{value:.1} {}", UNITS[unit]),
        _ => format!("{value:.0} {}", UNITS[unit]),
    }
}

/// `350 ms`, `2.4 s`, `3 min 5 s`.
fn duration_ms(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms} ms"),
        1000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_the_largest_sensible_unit() {
        assert_eq!(bytes(512), "512 bytes");
        assert_eq!(bytes(1_400_000), "1.4 MB");
        assert_eq!(bytes(250_000_000), "250 MB");
        assert_eq!(bytes(3_000_000_000_000_000), "3000 TB");
    }

    #[test]
    fn waits_read_in_milliseconds_seconds_or_minutes() {
        assert_eq!(duration_ms(350), "350 ms");
        assert_eq!(duration_ms(2_400), "2.4 s");
        assert_eq!(duration_ms(185_000), "3 min 5 s");
    }
}
