//! The composer: where a message is written, documents attached to it, and it sent; and where
//! a running turn is stopped.

use backend::model::files::FileSummary;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use super::stream::path_segment;
use super::{Screen, cancel_turn, send_message};

#[component]
pub(super) fn Composer(screen: Screen) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let stopping = RwSignal::new(false);
    // Uploaded as soon as they are picked, so sending only names them.
    let attached = RwSignal::new(Vec::<FileSummary>::new());
    let uploading = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let send = move || {
        let text = screen.draft.get_untracked();
        if text.trim().is_empty() || screen.sending.get_untracked() || screen.live.is_open_untracked() || uploading.get_untracked().is_some() {
            return;
        }
        let current = screen.id.get_untracked();
        // A conversation keeps its base; only a new one takes the one chosen above.
        let base = if current.is_none() { screen.base_for_new() } else { None };
        screen.sending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        let attachments = attached.get_untracked().into_iter().map(|f| f.id).collect();
        leptos::task::spawn_local(async move {
            match send_message(current.clone(), base, text, attachments).await {
                Ok(id) => {
                    screen.draft.set(String::new());
                    attached.set(Vec::new());
                    screen.live.open(&id);
                    if current.as_deref() != Some(id.as_str()) {
                        navigate(&format!("/chat/{}", path_segment(&id)), NavigateOptions { scroll: false, ..NavigateOptions::default() });
                    }
                    screen.refresh();
                }
                // The typed text stays, to send again.
                Err(e) => error.set(Some(e.to_string())),
            }
            screen.sending.set(false);
        });
    };
    let on_key = {
        let send = send.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                ev.prevent_default();
                send();
            }
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send();
    };
    let stop = move |_| {
        let Some(id) = screen.live.conversation_id() else { return };
        stopping.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            // The stream then ends with the turn, keeping what had arrived.
            if let Err(e) = cancel_turn(id).await {
                error.set(Some(e.to_string()));
            }
            stopping.set(false);
        });
    };
    let on_pick = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = _ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
            let picked: Vec<web_sys::File> = input.files().map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect()).unwrap_or_default();
            // The same file can be picked again after it is removed.
            input.set_value("");
            leptos::task::spawn_local(async move {
                for file in picked {
                    uploading.set(Some(file.name()));
                    match crate::pages::files::upload::send(file).await {
                        Ok(summary) => attached.update(|list| list.push(summary)),
                        Err(message) => error.set(Some(message)),
                    }
                }
                uploading.set(None);
            });
        }
    };
    let chips = move || {
        attached
            .get()
            .into_iter()
            .map(|file| {
                let id = file.id.clone();
                let name = file.name.clone();
                view! {
                    <li class="attachment">
                        <span>{file.name}</span>
                        <button type="button" class="attachment-remove" aria-label=format!("Remove {name}")
                            on:click=move |_| attached.update(|list| list.retain(|f| f.id != id))>"×"</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <form class="composer" on:submit=submit aria-busy=move || screen.sending.get().to_string()>
            <label for="chat-message" class="visually-hidden">"Message"</label>
            <textarea
                id="chat-message"
                node_ref=screen.composer
                rows="2"
                placeholder="Ask about your base…"
                aria-describedby="composer-hint"
                bind:value=screen.draft
                on:keydown=on_key
                readonly=move || screen.sending.get()
            ></textarea>
            <ul class="attachments" aria-label="Attached files">
                {chips}
                {move || uploading.get().map(|name| view! { <li class="attachment muted" role="status">{format!("Uploading {name}…")}</li> })}
            </ul>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="composer-actions">
                <label class="button secondary attach" title="Attach a document: text, Markdown, CSV, JSON, PDF or Word">
                    "Attach"
                    <input type="file" multiple class="visually-hidden" data-testid="attach"
                        accept=".txt,.md,.markdown,.csv,.tsv,.json,.ndjson,.pdf,.docx" on:change=on_pick />
                </label>
                <span id="composer-hint" class="hint">"Enter sends · Shift+Enter starts a new line"</span>
                {move || screen.live.is_open().then(|| view! {
                    <button type="button" class="button secondary" on:click=stop disabled=move || stopping.get()>"Stop"</button>
                })}
                <button type="submit" class="button" disabled=move || screen.busy()>"Send"</button>
            </div>
        </form>
    }
}
