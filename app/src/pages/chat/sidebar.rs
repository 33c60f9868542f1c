//! The sidebar: a new conversation, the search, and the list of conversations, each renamed in
//! place or deleted after a confirmation.

use std::time::Duration;

use backend::model::chat::ConversationSummary;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use super::stream::path_segment;
use super::{Screen, delete_conversation, rename_conversation};
use crate::components::numbers::usd;
use crate::components::dialog::modal_while;
use crate::components::loading::Loading;
use crate::components::time::format_ms;

/// How long typing pauses before the search runs.
const SEARCH_PAUSE: Duration = Duration::from_millis(250);

#[component]
pub(super) fn Sidebar(screen: Screen) -> impl IntoView {
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let typed = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(move || screen.search.set(text), SEARCH_PAUSE).ok();
        timer.set_value(handle);
    };
    view! {
        <aside class="chat-sidebar" aria-labelledby="conversations-title">
            <div class="chat-sidebar-head">
                <h2 id="conversations-title">"Conversations"</h2>
                <a href="/chat" class="button small">"New conversation"</a>
            </div>
            <form class="chat-search" role="search" on:submit=|ev: leptos::ev::SubmitEvent| ev.prevent_default()>
                <label for="conversation-search" class="visually-hidden">"Search conversations"</label>
                <input id="conversation-search" type="search" placeholder="Search conversations" on:input=typed />
            </form>
            {move || screen.status.get().map(|s| view! { <p class="success" role="status">{s}</p> })}
            <Transition fallback=|| view! { <Loading what="conversations" /> }>
                {move || Suspend::new(async move {
                    match screen.conversations.await {
                        Ok(list) if list.is_empty() => {
                            let text = if screen.search.get_untracked().trim().is_empty() {
                                "No conversations yet. Your first message starts one."
                            } else {
                                "No conversation matches your search."
                            };
                            view! { <p class="chat-sidebar-empty muted">{text}</p> }.into_any()
                        }
                        Ok(list) => view! {
                            <ul class="conversation-list" aria-label="Conversations">
                                {list.into_iter().map(|summary| view! { <ConversationItem screen summary /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </aside>
    }
}

#[component]
fn ConversationItem(screen: Screen, summary: ConversationSummary) -> impl IntoView {
    let id = StoredValue::new(summary.id.clone());
    let title = if summary.title.trim().is_empty() { "Untitled conversation".to_owned() } else { summary.title.trim().to_owned() };
    let title = StoredValue::new(title);
    let href = format!("/chat/{}", path_segment(&summary.id));
    let meta = format!("{} · {}", format_ms(summary.updated_ms), usd(summary.cost_usd));
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let current = move || id.with_value(|id| screen.id.with(|open| open.as_deref() == Some(id.as_str())));

    let save = move || {
        if saving.get_untracked() {
            return;
        }
        let new_title = draft.get_untracked();
        saving.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match rename_conversation(id.get_value(), new_title).await {
                Ok(_) => {
                    editing.set(false);
                    screen.refresh();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            saving.set(false);
        });
    };
    let start = move |_| {
        draft.set(title.get_value());
        error.set(None);
        screen.status.set(None);
        editing.set(true);
    };
    let ask = move |_| {
        screen.status.set(None);
        screen.deleting.set(Some((id.get_value(), title.get_value())));
    };

    view! {
        <li class="conversation" class:current=current>
            {move || if editing.get() {
                let input = NodeRef::<leptos::html::Input>::new();
                input.on_load(|el| {
                    let _ = el.focus();
                    el.select();
                });
                let on_key = move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" {
                        ev.prevent_default();
                        editing.set(false);
                    }
                };
                view! {
                    <form class="rename-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        save();
                    }>
                        <label class="visually-hidden" for=format!("rename-{}", id.get_value())>"Conversation title"</label>
                        <input id=format!("rename-{}", id.get_value()) node_ref=input type="text" maxlength="200" required
                            bind:value=draft on:keydown=on_key readonly=move || saving.get() />
                        <div class="rename-actions">
                            <button type="submit" class="button small" disabled=move || saving.get()>"Save"</button>
                            <button type="button" class="button secondary small" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </div>
                        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    </form>
                }
                .into_any()
            } else {
                view! {
                    <a class="conversation-link" href=href.clone() aria-current=move || current().then_some("page")>
                        <span class="conversation-title">{title.get_value()}</span>
                        <span class="conversation-meta">{meta.clone()}</span>
                    </a>
                    <div class="conversation-actions">
                        <button type="button" class="button secondary small" aria-label=format!("Rename {}", title.get_value()) on:click=start>
                            "Rename"
                        </button>
                        <button type="button" class="button secondary small deny" aria-label=format!("Delete {}", title.get_value()) on:click=ask>
                            "Delete"
                        </button>
                    </div>
                }
                .into_any()
            }}
        </li>
    }
}

/// Asks before a conversation is deleted, in a modal dialog; Escape or Cancel keeps it.
#[component]
pub(super) fn DeleteConversationDialog(screen: Screen) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let navigate = use_navigate();
    modal_while(dialog, move || screen.deleting.with(Option::is_some));
    let confirm = move |_| {
        let Some((id, title)) = screen.deleting.get_untracked() else { return };
        pending.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match delete_conversation(id.clone()).await {
                Ok(()) => {
                    screen.deleting.set(None);
                    screen.status.set(Some(format!("Deleted “{title}”.")));
                    if screen.id.get_untracked().as_deref() == Some(id.as_str()) {
                        navigate("/chat", NavigateOptions { replace: true, ..NavigateOptions::default() });
                    }
                    screen.refresh();
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    view! {
        <dialog node_ref=dialog class="dialog" aria-labelledby="delete-conversation-title" aria-describedby="delete-conversation-text"
            on:close=move |_| {
                error.set(None);
                screen.deleting.set(None);
            }>
            <h2 id="delete-conversation-title">"Delete this conversation?"</h2>
            <p id="delete-conversation-text">
                {move || screen.deleting.get().map(|(_, title)| format!("“{title}” and all its messages will be deleted for good. This can't be undone."))}
            </p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button secondary" on:click=move |_| screen.deleting.set(None) autofocus>"Cancel"</button>
                <button type="button" class="button danger" on:click=confirm disabled=move || pending.get()>"Delete conversation"</button>
            </div>
        </dialog>
    }
}
