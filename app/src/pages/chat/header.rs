//! The conversation's header: its title, the base it is about, the model in force, and what it
//! and today cost.

use backend::model::chat::{ConversationView, Role};
use leptos::prelude::*;
use leptos_meta::Title;

use super::{Screen, model_label, only_base, set_conversation_base, usage_text};
use crate::components::numbers::usd;
use crate::pages::changes::{UndoButton, UndoTarget};

#[component]
pub(super) fn ChatHeader(screen: Screen) -> impl IntoView {
    // "Undo all" refreshes the conversation, which draws the header again: its result lives
    // here, and belongs to the conversation it was for.
    let undo_all_outcome = RwSignal::new(None);
    Effect::new(move |_| {
        screen.id.track();
        undo_all_outcome.set(None);
    });
    view! {
        <header class="chat-header">
            <Transition fallback=|| view! { <h1 class="chat-title">"Chat"</h1> }>
                {move || Suspend::new(async move {
                    let title = match screen.conversation.await {
                        Ok(Some(view)) => title_of(&view),
                        Ok(None) => "New conversation".to_owned(),
                        Err(_) => "Chat".to_owned(),
                    };
                    view! {
                        <Title text=title.clone() />
                        <h1 class="chat-title">{title}</h1>
                    }
                })}
            </Transition>
            <div class="chat-header-bar">
                <BaseSelect screen />
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        let conversation = screen.conversation.await.ok().flatten();
                        let assistant = screen.assistant.await.ok();
                        let spending = screen.spending.await.ok();
                        // The model that answered last; before any answer, the one in Settings.
                        let answered = conversation.as_ref().and_then(|view| {
                            view.messages
                                .iter()
                                .rev()
                                .filter(|m| m.role == Role::Assistant)
                                .find_map(|m| m.provider.map(|p| (p, m.model.clone().unwrap_or_default())))
                        });
                        let model = answered
                            .or_else(|| assistant.map(|a| (a.provider, a.model)))
                            .map(|(provider, model)| model_label(provider, &model));
                        let undo_all = conversation.as_ref().filter(|view| {
                            view.messages.iter().flat_map(|m| &m.tool_calls).any(|call| super::messages::change_id(call).is_some())
                        });
                        let undo_all = undo_all.map(|view| view! {
                            <UndoButton
                                target=UndoTarget::Conversation(view.summary.id.clone())
                                label="Undo all changes in this conversation"
                                on_undone=Callback::new(move |()| screen.refresh())
                                outcome=undo_all_outcome
                            />
                        });
                        let usage = conversation.map(|view| format!("{} · {}", usage_text(&view.summary.usage), usd(view.summary.cost_usd)));
                        let today = spending.map(|s| match s.preferences.daily_budget_usd {
                            Some(budget) => format!("{} of {} today", usd(s.today_usd), usd(budget)),
                            None => format!("{} today", usd(s.today_usd)),
                        });
                        view! {
                            <dl class="chat-facts">
                                {model.map(|m| view! { <div><dt>"Model"</dt><dd data-testid="chat-model">{m}</dd></div> })}
                                {usage.map(|u| view! { <div><dt>"This conversation"</dt><dd data-testid="chat-usage">{u}</dd></div> })}
                                {today.map(|t| view! { <div><dt>"Spent"</dt><dd data-testid="chat-spending">{t}</dd></div> })}
                            </dl>
                            {undo_all}
                        }
                    })}
                </Transition>
            </div>
        </header>
    }
}

/// The conversation's title as shown.
pub(super) fn title_of(view: &ConversationView) -> String {
    let title = view.summary.title.trim();
    if title.is_empty() { "Untitled conversation".to_owned() } else { title.to_owned() }
}

/// The base the conversation is about. Changing it saves at once; for a new conversation it is
/// kept for the first message.
#[component]
fn BaseSelect(screen: Screen) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let base = (!value.is_empty()).then_some(value);
        error.set(None);
        let Some(id) = screen.id.get_untracked() else {
            screen.new_base.set(Some(base));
            return;
        };
        saving.set(true);
        leptos::task::spawn_local(async move {
            match set_conversation_base(id, base).await {
                Ok(_) => screen.refresh(),
                Err(e) => error.set(Some(e.to_string())),
            }
            saving.set(false);
        });
    };
    view! {
        <div class="chat-base">
            <label for="chat-base">"Base"</label>
            <Transition fallback=|| view! { <select id="chat-base" disabled=true><option>"Loading bases…"</option></select> }>
                {move || Suspend::new(async move {
                    let bases = screen.bases.await;
                    let conversation = screen.conversation.await;
                    match bases {
                        Ok(list) => {
                            let chosen = match conversation {
                                Ok(Some(view)) => view.summary.base_id,
                                _ => screen.new_base.get_untracked().unwrap_or_else(|| only_base(&list)),
                            };
                            let known = chosen.as_ref().is_none_or(|id| list.bases.iter().any(|b| b.id.as_str() == id));
                            let options = list
                                .bases
                                .into_iter()
                                .map(|base| {
                                    let id = base.id.to_string();
                                    let selected = chosen.as_deref() == Some(id.as_str());
                                    view! { <option value=id selected=selected>{base.name}</option> }
                                })
                                .collect_view();
                            // A base that is gone, or out of the token's reach, stays named by its ID.
                            let missing = (!known).then(|| {
                                let id = chosen.clone().unwrap_or_default();
                                view! { <option value=id.clone() selected=true>{format!("{id} (not available)")}</option> }
                            });
                            view! {
                                <select id="chat-base" on:change=change disabled=move || saving.get()>
                                    <option value="" selected=chosen.is_none()>"No base"</option>
                                    {options}
                                    {missing}
                                </select>
                            }
                            .into_any()
                        }
                        Err(e) => view! {
                            <select id="chat-base" disabled=true><option>"No bases"</option></select>
                            <p class="error" role="alert">{e.to_string()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}
