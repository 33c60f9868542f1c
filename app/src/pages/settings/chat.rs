//! The chat section of Settings: when the assistant may change data without asking, the daily
//! and monthly budgets, and what has been spent.

use backend::model::chat::{ApprovalPolicy, ChatPreferences, Spending};
use leptos::prelude::*;

use crate::components::budget_fields::BudgetFields;
use crate::components::numbers::usd;
use crate::pages::chat::{SaveChatPreferences, get_chat_preferences, get_spending, tokens};

#[component]
pub fn ChatSection() -> impl IntoView {
    let save = ServerAction::<SaveChatPreferences>::new();
    // Reloaded only after a save that succeeded: a refused save keeps the form as typed.
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            saved.update(|n| *n += 1);
        }
    });
    let current = Resource::new(move || saved.get(), |_| get_chat_preferences());
    let spending = Resource::new(move || saved.get(), |_| get_spending());
    view! {
        <section class="card" aria-labelledby="chat-settings-title">
            <h2 id="chat-settings-title">"Chat"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || current.get().map(|result| match result {
                    Ok(preferences) => view! { <ChatForm current=preferences save /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
            <h3 class="settings-subtitle">"Spending"</h3>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || spending.get().map(|result| match result {
                    Ok(spending) => view! { <SpendingFacts spending /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ChatForm(current: ChatPreferences, save: ServerAction<SaveChatPreferences>) -> impl IntoView {
    let policies = ApprovalPolicy::ALL
        .into_iter()
        .map(|policy| {
            view! {
                <label class="choice">
                    <input type="radio" name="approval_policy" value=policy.as_str() checked=policy == current.approval_policy />
                    <span>{policy.label()}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <ActionForm action=save attr:class="form">
            <fieldset class="choices">
                <legend>"Changes to your data"</legend>
                {policies}
                <p class="hint">"Reading is always allowed. Asking shows each change in the chat, with Allow and Deny."</p>
            </fieldset>
            <BudgetFields
                daily=("daily_budget_usd", "Daily budget (USD)", current.daily_budget_usd)
                monthly=("monthly_budget_usd", "Monthly budget (USD)", current.monthly_budget_usd)
            />
            <p class="hint">"Once a budget is spent, the chat takes no new messages until the next day or month. Leave a budget empty for no limit."</p>
            {move || match save.value().get() {
                Some(Ok(_)) => view! { <p class="success" role="status">"Chat settings saved."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <button type="submit" class="button" disabled=save.pending()>"Save chat settings"</button>
        </ActionForm>
    }
}

#[component]
fn SpendingFacts(spending: Spending) -> impl IntoView {
    let of = |spent: f64, budget: Option<f64>| match budget {
        Some(budget) => format!("{} of {}", usd(spent), usd(budget)),
        None => usd(spent),
    };
    view! {
        <dl class="facts" data-testid="chat-spending-summary">
            <dt>"Today"</dt>
            <dd>{of(spending.today_usd, spending.preferences.daily_budget_usd)}</dd>
            <dt>"This month"</dt>
            <dd>{of(spending.month_usd, spending.preferences.monthly_budget_usd)}</dd>
            <dt>"In all"</dt>
            <dd>{usd(spending.total_usd)}</dd>
            <dt>"Tokens"</dt>
            <dd>{tokens(spending.total_tokens)}</dd>
        </dl>
    }
}
