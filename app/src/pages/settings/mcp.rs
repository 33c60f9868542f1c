//! The "AI clients" section of Settings: where MCP clients connect, and the tools they get.

use backend::model::tools::McpEndpoint;
use leptos::prelude::*;

use crate::error::AppError;

/// The MCP endpoint's address and the whole tool catalog.
#[server(prefix = "/api", endpoint = "mcp/endpoint")]
pub async fn get_mcp_endpoint() -> Result<McpEndpoint, AppError> {
    crate::auth::require_user()?;
    let services = crate::auth::services();
    let url = services.public_url.join("mcp").map(String::from).unwrap_or_else(|_| "/mcp".into());
    let tools = services.tools.list(backend::model::auth::Scope::Write).into_iter().cloned().collect();
    Ok(McpEndpoint { url, tools })
}

#[component]
pub fn McpSection() -> impl IntoView {
    let endpoint = Resource::new(|| (), |_| get_mcp_endpoint());
    view! {
        <section class="card" aria-labelledby="mcp-title">
            <h2 id="mcp-title">"AI clients (MCP)"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || endpoint.get().map(|result| match result {
                    Ok(endpoint) => view! { <Endpoint endpoint /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Endpoint(endpoint: McpEndpoint) -> impl IntoView {
    let read_only = endpoint.tools.iter().filter(|t| t.annotations.read_only_hint).count();
    let total = endpoint.tools.len();
    let rows = endpoint
        .tools
        .into_iter()
        .map(|tool| {
            let access = if tool.annotations.read_only_hint { "Read" } else { "Write" };
            view! {
                <tr>
                    <td><code>{tool.name}</code></td>
                    <td>{tool.description}</td>
                    <td>{access}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p>
            "MCP clients connect to " <code data-testid="mcp-url">{endpoint.url}</code>
            " (Streamable HTTP) with the header " <code>"Authorization: Bearer <API key>"</code>
            ". Desktop clients can instead run " <code>"pyairtable mcp"</code> " with the key in "
            <code>"PYAIRTABLE_API_KEY"</code> "."
        </p>
        <p class="muted">
            {format!("{total} tools act on your Airtable connection (or your sandbox). A read-only key gets the {read_only} that change nothing.")}
        </p>
        <details>
            <summary>"The tools"</summary>
            <table class="table">
                <thead><tr><th>"Tool"</th><th>"What it does"</th><th>"Access"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
}
