//! The conversation's messages: the user's text, the assistant's answers with their tool calls,
//! approvals in place, the text still arriving, and the welcome of an empty conversation.

use backend::model::chat::{MessageStatus, MessageView, Role, ToolCallState, ToolCallView};
use backend::model::llm::LlmProvider;
use leptos::prelude::*;
use serde_json::Value;

use super::{ChatAssistant, Screen, answer_tool_call, model_label, usage_text};
use crate::components::numbers::usd;
use crate::pages::changes::{UndoButton, UndoTarget};
use crate::pages::files::progress::ImportWatch;
use crate::components::loading::Loading;
use crate::components::time::format_ms;

/// What the welcome offers to try; each fills the composer.
const EXAMPLES: [&str; 4] = [
    "list tables",
    "describe Tasks",
    "show 5 records from Tasks where Status is Done",
    "add a record to Tasks with Name=Launch post",
];

#[component]
pub(super) fn MessageLog(screen: Screen) -> impl IntoView {
    let log = NodeRef::<leptos::html::Div>::new();
    // New messages and arriving text scroll into view.
    Effect::new(move |_| {
        screen.conversation.track();
        screen.live.text.track();
        request_animation_frame(move || {
            if let Some(el) = log.get_untracked() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    });
    view! {
        <div class="chat-log" role="log" aria-live="polite" aria-label="Messages" node_ref=log tabindex="0">
            <Transition fallback=|| view! { <Loading what="the conversation" /> }>
                {move || Suspend::new(async move {
                    match screen.conversation.await {
                        Ok(Some(view)) if !view.messages.is_empty() => {
                            let conversation_id = view.summary.id.clone();
                            view.messages
                                .into_iter()
                                .map(|message| view! { <Message screen conversation_id=conversation_id.clone() message /> })
                                .collect_view()
                                .into_any()
                        }
                        Ok(_) => {
                            let assistant = screen.assistant.await.ok();
                            view! { <Welcome screen assistant /> }.into_any()
                        }
                        Err(e) => view! {
                            <div class="error-state">
                                <p class="error" role="alert">{e.to_string()}</p>
                                <a href="/chat" class="button secondary small">"Start a new conversation"</a>
                            </div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            <LiveMessage screen />
        </div>
    }
}

#[component]
fn Message(screen: Screen, conversation_id: String, message: MessageView) -> impl IntoView {
    let time = format_ms(message.created_ms);
    if message.role == Role::User {
        let attachments = (!message.attachments.is_empty()).then(|| {
            let items = message.attachments.into_iter().map(|a| {
                let note = if a.whole { String::new() } else { format!(" · first {} of {} parts", a.given, a.parts) };
                view! { <li class="attachment"><a href=format!("/files/{}", a.file_id)>{a.name}</a><span class="muted">{note}</span></li> }
            });
            view! { <ul class="attachments" aria-label="Attached files">{items.collect_view()}</ul> }
        });
        return view! {
            <article class="message message-user" aria-label="You">
                <p class="message-text">{message.text}</p>
                {attachments}
                <footer class="message-meta"><time>{time}</time></footer>
            </article>
        }
        .into_any();
    }
    let awaiting = message.status == MessageStatus::AwaitingApproval;
    let calls = message
        .tool_calls
        .into_iter()
        .map(|call| {
            if awaiting && call.state == ToolCallState::AwaitingApproval {
                view! { <ApprovalPanel screen conversation_id=conversation_id.clone() call /> }.into_any()
            } else {
                view! { <ToolCallCard call /> }.into_any()
            }
        })
        .collect_view();
    let flag = match message.status {
        MessageStatus::Cancelled => Some("Stopped"),
        MessageStatus::StepLimit => Some("Stopped after the step limit"),
        _ => None,
    };
    let failure = (message.status == MessageStatus::Failed).then(|| {
        let error = message.error.clone().unwrap_or_else(|| "The assistant stopped without saying why. Try again.".into());
        view! {
            <div class="chat-error">
                <p class="chat-error-title">"The assistant could not answer"</p>
                <p>{error}</p>
            </div>
        }
    });
    let mut meta = vec![time];
    if let Some(provider) = message.provider {
        meta.push(model_label(provider, message.model.as_deref().unwrap_or_default()));
    }
    if message.usage.total() > 0 {
        meta.push(usage_text(&message.usage));
    }
    if message.provider.is_some_and(|p| p != LlmProvider::Offline) || message.cost_usd > 0.0 {
        meta.push(usd(message.cost_usd));
    }
    let html = message.html;
    view! {
        <article class="message message-assistant" aria-label="Assistant">
            // Rendered from Markdown and sanitized on the server.
            {(!html.trim().is_empty()).then(|| view! { <div class="message-body" inner_html=html></div> })}
            {calls}
            {flag.map(|f| view! { <p class="message-flag">{f}</p> })}
            {failure}
            <footer class="message-meta">{meta.join(" · ")}</footer>
        </article>
    }
    .into_any()
}

/// The badge text and style of a tool call's state.
fn state_badge(state: ToolCallState) -> (&'static str, &'static str) {
    match state {
        ToolCallState::AwaitingApproval => ("Awaiting approval", "awaiting"),
        ToolCallState::Running => ("Running", "running"),
        ToolCallState::Done => ("Done", "done"),
        ToolCallState::Failed => ("Failed", "failed"),
        ToolCallState::Denied => ("Denied", "denied"),
    }
}

/// Arguments or a result as indented JSON.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn has_arguments(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

#[component]
fn ToolCallCard(call: ToolCallView) -> impl IntoView {
    let (label, style) = state_badge(call.state);
    let arguments = has_arguments(&call.arguments).then(|| pretty(&call.arguments));
    let failed = call.state == ToolCallState::Failed;
    let change = change_id(&call);
    // An import runs on after the call: its card follows it, with its own Stop and Cancel.
    let is_import = call.name == "import_file";
    let import = change.as_ref().filter(|_| is_import).and_then(|_| call.result.as_ref()?.get("import_id")?.as_str().map(str::to_owned));
    view! {
        <div class="tool-call" data-state=style role="group" aria-label=format!("Tool call {}", call.name)>
            <div class="tool-call-head">
                <code class="tool-name">{call.name.clone()}</code>
                <span class=format!("badge badge-tool badge-{style}")>
                    {(call.state == ToolCallState::Running).then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                    {label}
                </span>
                {call.destructive.then(|| {
                    let what = if call.name.starts_with("delete") { "Deletes data" } else { "Overwrites data" };
                    view! { <span class="badge badge-destructive">{what}</span> }
                })}
            </div>
            {arguments.map(|a| view! { <pre class="tool-json" aria-label="Arguments"><code>{a}</code></pre> })}
            {call.result.map(|result| view! {
                <details class="tool-result" open=failed>
                    <summary>{if failed { "Error" } else { "Result" }}</summary>
                    <pre class="tool-json"><code>{pretty(&result)}</code></pre>
                </details>
            })}
            {import.map(|id| view! { <ImportWatch id /> })}
            {change.filter(|_| !is_import).map(|id| view! { <UndoButton target=UndoTarget::Change(id) label="Undo" /> })}
        </div>
    }
}

/// The change a finished write made, which Undo reverses.
pub(super) fn change_id(call: &ToolCallView) -> Option<String> {
    let result = call.result.as_ref().filter(|_| call.state == ToolCallState::Done)?;
    result.get("change_id")?.as_str().map(str::to_owned)
}

/// A change the assistant wants to make, waiting for the user's answer.
#[component]
fn ApprovalPanel(screen: Screen, conversation_id: String, call: ToolCallView) -> impl IntoView {
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let (conversation_id, call_id) = (StoredValue::new(conversation_id), StoredValue::new(call.id.clone()));
    let answer = move |choice: &'static str| {
        pending.set(true);
        error.set(None);
        let (conversation_id, call_id) = (conversation_id.get_value(), call_id.get_value());
        leptos::task::spawn_local(async move {
            match answer_tool_call(conversation_id.clone(), call_id, choice.to_owned()).await {
                Ok(resumed) => {
                    // The turn goes on once every call of its step is answered: follow it.
                    if resumed {
                        screen.live.open(&conversation_id);
                    }
                    screen.refresh();
                }
                Err(e) => {
                    error.set(Some(e.to_string()));
                    pending.set(false);
                }
            }
        });
    };
    let arguments = has_arguments(&call.arguments).then(|| pretty(&call.arguments));
    let what = if call.destructive { "This overwrites or deletes data in your base." } else { "This changes data in your base." };
    view! {
        <div class="approval" role="group" aria-label=format!("Approval needed: {}", call.name)>
            <p class="approval-title">"Allow " <code>{call.name.clone()}</code> "?"</p>
            <p class="approval-text">{what}</p>
            {arguments.map(|a| view! { <pre class="tool-json" aria-label="Arguments"><code>{a}</code></pre> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="approval-actions">
                <button type="button" class="button" disabled=move || pending.get() on:click=move |_| answer("allow_once")>"Allow once"</button>
                <button type="button" class="button secondary" disabled=move || pending.get() on:click=move |_| answer("allow_conversation")>
                    "Allow for this conversation"
                </button>
                <button type="button" class="button secondary deny" disabled=move || pending.get() on:click=move |_| answer("deny")>"Deny"</button>
            </div>
        </div>
    }
}

/// The step in progress, as plain text while it arrives.
#[component]
fn LiveMessage(screen: Screen) -> impl IntoView {
    move || {
        screen.live.is_open().then(|| {
            view! {
                <article class="message message-assistant message-live" aria-label="Assistant is typing" aria-busy="true">
                    {move || {
                        let text = screen.live.text.get();
                        if text.is_empty() {
                            view! {
                                <p class="typing">
                                    <span class="spinner" aria-hidden="true"></span>
                                    "Thinking…"
                                </p>
                            }
                            .into_any()
                        } else {
                            view! { <p class="message-text">{text}</p> }.into_any()
                        }
                    }}
                </article>
            }
        })
    }
}

/// An empty conversation: what to ask, and what the offline assistant understands.
#[component]
fn Welcome(screen: Screen, assistant: Option<ChatAssistant>) -> impl IntoView {
    let offline = assistant.as_ref().is_some_and(|a| a.provider == LlmProvider::Offline);
    let commands = assistant.map(|a| a.commands_html).filter(|c| !c.trim().is_empty());
    let examples = EXAMPLES
        .into_iter()
        .map(|text| view! { <li><button type="button" class="prompt" on:click=move |_| screen.compose(text)>{text}</button></li> })
        .collect_view();
    view! {
        <div class="chat-welcome">
            <h2>"Ask about your bases"</h2>
            <p class="muted">
                "Choose a base above, then ask in plain words. The assistant reads your tables with tools, "
                "and asks you before it changes anything (see Settings → Chat)."
            </p>
            <ul class="chat-prompts" aria-label="Example prompts">{examples}</ul>
            {offline.then(|| view! {
                <section class="chat-commands" aria-labelledby="offline-title">
                    <h3 id="offline-title">"What the offline assistant understands"</h3>
                    <p class="muted">
                        "The offline assistant runs on this server and needs no key. It understands the plain commands below, "
                        "not free conversation; for that, choose Gemini or an OpenAI-compatible provider in "
                        <a href="/settings">"Settings"</a> "."
                    </p>
                    // Rendered from Markdown and sanitized on the server.
                    {commands.map(|html| view! { <div class="chat-grammar" inner_html=html></div> })}
                </section>
            })}
        </div>
    }
}
