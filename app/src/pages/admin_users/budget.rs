//! The budget on `/admin/users`: what each user may spend a day and a month on the server's own
//! LLM key. Users who saved a key of their own in Settings are not held to it.

use backend::model::chat::ServerKeyBudget;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::components::budget_fields::BudgetFields;
use crate::error::AppError;

/// What each user may spend on the server's LLM key.
#[server(prefix = "/api", endpoint = "admin/budget", input = Json)]
pub async fn get_server_key_budget() -> Result<ServerKeyBudget, AppError> {
    crate::auth::require_admin()?;
    Ok(crate::auth::services().chat.server_key_budget().await?)
}

/// Saves the budget, in US dollars as typed; an empty amount means no limit.
/// Form-encoded, so the form works before the page has loaded its script.
#[server(prefix = "/api", endpoint = "admin/budget/save")]
pub async fn save_server_key_budget(daily_usd: String, monthly_usd: String) -> Result<ServerKeyBudget, AppError> {
    let admin = crate::auth::require_admin()?;
    let budget = ServerKeyBudget {
        daily_usd: crate::pages::chat::ssr::budget("daily", &daily_usd).map_err(|e| e.with_status())?,
        monthly_usd: crate::pages::chat::ssr::budget("monthly", &monthly_usd).map_err(|e| e.with_status())?,
    };
    let saved = crate::auth::services().chat.save_server_key_budget(&budget).await?;
    tracing::info!(admin.id = %admin.user.id, daily = ?saved.daily_usd, monthly = ?saved.monthly_usd, "saved the budget on the server's LLM key");
    Ok(saved)
}

#[component]
pub fn BudgetSection() -> impl IntoView {
    let save = ServerAction::<SaveServerKeyBudget>::new();
    let current = Resource::new(|| (), |()| get_server_key_budget());
    view! {
        <section class="card" aria-labelledby="budget-title">
            <h2 id="budget-title">"Budget for the server's LLM"</h2>
            <p class="hint">
                "What each user may spend on the LLM and key this server is configured with. "
                "Users who saved an API key of their own in Settings are not limited by it."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || current.get().map(|result| match result {
                    Ok(budget) => view! { <BudgetForm budget save /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn BudgetForm(budget: ServerKeyBudget, save: ServerAction<SaveServerKeyBudget>) -> impl IntoView {
    view! {
        <ActionForm action=save attr:class="form">
            <BudgetFields
                daily=("daily_usd", "Daily, per user (USD)", budget.daily_usd)
                monthly=("monthly_usd", "Monthly, per user (USD)", budget.monthly_usd)
            />
            {move || match save.value().get() {
                Some(Ok(_)) => view! { <p class="success" role="status">"Budget saved."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <button type="submit" class="button" disabled=save.pending()>"Save budget"</button>
        </ActionForm>
    }
}
