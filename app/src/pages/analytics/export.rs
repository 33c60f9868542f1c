//! The "Export CSV" button: the dashboard of the chosen range, downloaded as a file.

use leptos::prelude::*;

use super::range::Choice;
use crate::components::download::download;
use super::{export_csv, file_name, now_ms};

#[component]
pub fn ExportButton(choice: Memo<Choice>) -> impl IntoView {
    let exporting = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let export = move |_| {
        let choice = choice.get_untracked();
        exporting.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let (from, to) = choice.range.bounds(now_ms());
            match export_csv(from, to, choice.all_users).await {
                Ok(csv) => {
                    if download(&file_name(from, to), "text/csv;charset=utf-8", &csv).is_err() {
                        error.set(Some("The browser refused the download. Allow downloads for this site and try again.".into()));
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            exporting.set(false);
        });
    };
    view! {
        <div class="export">
            <button type="button" class="button secondary" disabled=move || exporting.get() on:click=export>
                {move || if exporting.get() { "Exporting…" } else { "Export CSV" }}
            </button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}
