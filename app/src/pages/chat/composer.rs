//! The composer: where a message is written and sent, and a running turn stopped.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use super::stream::path_segment;
use super::{Screen, cancel_turn, send_message};

#[component]
pub(super) fn Composer(screen: Screen) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let stopping = RwSignal::new(false);
    let navigate = use_navigate();
    let send = move || {
        let text = screen.draft.get_untracked();
        if text.trim().is_empty() || screen.sending.get_untracked() || screen.live.is_open_untracked() {
            return;
        }
        let current = screen.id.get_untracked();
        // A conversation keeps its base; only a new one takes the one chosen above.
        let base = if current.is_none() { screen.base_for_new() } else { None };
        screen.sending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match send_message(current.clone(), base, text).await {
                Ok(id) => {
                    screen.draft.set(String::new());
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
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="composer-actions">
                <span id="composer-hint" class="hint">"Enter sends · Shift+Enter starts a new line"</span>
                {move || screen.live.is_open().then(|| view! {
                    <button type="button" class="button secondary" on:click=stop disabled=move || stopping.get()>"Stop"</button>
                })}
                <button type="submit" class="button" disabled=move || screen.busy()>"Send"</button>
            </div>
        </form>
    }
}
