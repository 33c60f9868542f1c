//! The daily and monthly amounts of a budget form, in US dollars, as typed: an empty field
//! means no limit. The server reads them with `pages::chat::ssr::budget`.

use leptos::prelude::*;

/// One amount field: its form name, its label, and the amount saved so far.
pub type BudgetField = (&'static str, &'static str, Option<f64>);

#[component]
pub fn BudgetFields(daily: BudgetField, monthly: BudgetField) -> impl IntoView {
    let field = |(name, label, amount): BudgetField| {
        let value = amount.map(|a| a.to_string()).unwrap_or_default();
        view! {
            <label>
                {label}
                <input type="text" name=name inputmode="decimal" autocomplete="off" placeholder="No limit" value=value />
            </label>
        }
    };
    view! { <div class="inline-fields budget-fields">{field(daily)} {field(monthly)}</div> }
}
