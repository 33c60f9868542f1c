//! The home page: what PyAirtable does, and whether this server is healthy.

use backend::model::health::{CheckResult, HealthReport, HealthStatus};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::time::format_uptime;
use crate::error::AppError;

/// Runs every health check on the server; the same report as `GET /api/health`.
#[server(prefix = "/api", endpoint = "system/health")]
pub async fn check_health() -> Result<HealthReport, AppError> {
    let services = expect_context::<backend::Services>();
    Ok(services.health.report().await)
}

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Home" />
        <section class="hero">
            <h1>"An AI workspace for your Airtable bases"</h1>
            <p class="lead">
                "PyAirtable is a self-hosted workspace where a language model reads and writes your "
                "Airtable records through well-defined tools, with your approval, at a cost you can see."
            </p>
        </section>
        <section class="features" aria-label="What PyAirtable does">
            <Feature title="Chat with your bases">
                "Ask questions and make changes in plain language. The model works through tools, "
                "and every write waits for your approval."
            </Feature>
            <Feature title="Tools for any AI client">
                "The same Airtable tools are served over MCP, so desktop assistants and scripts can use them."
            </Feature>
            <Feature title="Imports and workflows">
                "Bring CSV and Excel files into tables, and automate repeated work on a schedule."
            </Feature>
            <Feature title="Changes that finish or undo">
                "Multi-record changes run as sagas: they complete, or every step is rolled back."
            </Feature>
            <Feature title="Costs and activity">
                "An analytics dashboard shows tokens, cost, tool calls and Airtable usage over time."
            </Feature>
            <Feature title="Works offline, out of the box">
                "Without keys you get a local Airtable-compatible sandbox and an offline assistant; "
                "add your own token and model key when you are ready."
            </Feature>
        </section>
        <HealthCard />
    }
}

#[component]
fn Feature(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <article class="feature">
            <h2>{title}</h2>
            <p>{children()}</p>
        </article>
    }
}

/// This server's health, rendered on the server and refreshed from the browser on demand.
#[component]
fn HealthCard() -> impl IntoView {
    let refreshes = RwSignal::new(0u32);
    let report = Resource::new(move || refreshes.get(), |_| check_health());
    let (checking, set_checking) = signal(false);

    view! {
        <section class="card health" aria-labelledby="health-title">
            <div class="card-head">
                <h2 id="health-title">"System health"</h2>
                <button
                    type="button"
                    class="button secondary"
                    disabled=checking
                    on:click=move |_| refreshes.update(|n| *n += 1)
                >
                    {move || if checking.get() { "Checking…" } else { "Check again" }}
                </button>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Checking…"</p> } set_pending=set_checking>
                {move || Suspend::new(async move {
                    match report.await {
                        Ok(report) => view! { <HealthSummary report /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn HealthSummary(report: HealthReport) -> impl IntoView {
    let checks = report.checks.into_iter().map(|check| view! { <CheckRow check /> }).collect_view();
    view! {
        <p class="health-overall">
            <StatusBadge status=report.status />
            <span>"Version " {report.version}</span>
            <span>"Up " {format_uptime(report.uptime_s)}</span>
        </p>
        <ul class="checks" aria-label="Checks">{checks}</ul>
    }
}

#[component]
fn CheckRow(check: CheckResult) -> impl IntoView {
    view! {
        <li class="check">
            <span class="check-name">{check.name}</span>
            <StatusBadge status=check.status />
            <span class="check-detail">{check.detail}</span>
            <span class="check-latency">{format!("{:.1} ms", check.latency_ms)}</span>
        </li>
    }
}

#[component]
fn StatusBadge(status: HealthStatus) -> impl IntoView {
    view! { <span class=format!("badge badge-{}", status.as_str())>{status.as_str()}</span> }
}
