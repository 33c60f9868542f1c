//! `/chat` and `/chat/:conversation`: conversations with the assistant about the user's bases,
//! with tool calls, approvals, live text, tokens and cost; and the server functions they and
//! the chat section of Settings call.

mod composer;
mod header;
mod messages;
mod sidebar;
mod stream;

use backend::model::chat::{ChatPreferences, ConversationSummary, ConversationView, Spending};
use backend::model::llm::{LlmProvider, Usage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use self::composer::Composer;
use self::header::ChatHeader;
use self::messages::MessageLog;
use self::sidebar::{DeleteConversationDialog, Sidebar};
use self::stream::Live;
use crate::components::numbers::grouped;
use crate::components::signed_in::SignedIn;
use crate::error::AppError;
use crate::pages::bases::{BaseList, list_bases};

/// Which assistant answers the caller's new messages, and what the offline one understands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatAssistant {
    pub provider: LlmProvider,
    pub model: String,
    /// The offline assistant's commands, rendered and sanitized on the server; empty for the
    /// other providers.
    pub commands_html: String,
}

/// The caller's conversations, newest first; `search` matches titles and message text.
#[server(prefix = "/api", endpoint = "chat/conversations", input = Json)]
pub async fn list_conversations(search: Option<String>) -> Result<Vec<ConversationSummary>, AppError> {
    let principal = crate::auth::require_user()?;
    let search = search.unwrap_or_default();
    Ok(crate::auth::services().chat.conversations(&principal.user.id, search.trim()).await?)
}

/// One conversation with all its messages, and whether a turn is running in it.
#[server(prefix = "/api", endpoint = "chat/conversation", input = Json)]
pub async fn get_conversation(conversation_id: String) -> Result<ConversationView, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().chat.conversation(&principal.user.id, &conversation_id).await?)
}

/// Sends a message with the files `attachments` (starting a conversation about `base_id` when
/// `conversation_id` is empty) and
/// returns the conversation's ID at once; the answer arrives on its event stream.
#[server(prefix = "/api", endpoint = "chat/send", input = Json)]
pub async fn send_message(
    conversation_id: Option<String>,
    base_id: Option<String>,
    message: String,
    #[server(default)] attachments: Vec<String>,
) -> Result<String, AppError> {
    let principal = crate::auth::require_writer()?;
    let given = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
    let (conversation_id, base_id) = (given(conversation_id), given(base_id));
    let chat = crate::auth::services().chat;
    let turn = chat.send(&principal, conversation_id.as_deref(), base_id.as_deref().map(str::trim), &message, &attachments).await?;
    Ok(turn.conversation_id)
}

/// Answers a tool call awaiting approval: `allow_once`, `allow_conversation` or `deny`. `true`
/// when that was the step's last unanswered call, so the turn goes on (on the event stream).
#[server(prefix = "/api", endpoint = "chat/answer", input = Json)]
pub async fn answer_tool_call(conversation_id: String, call_id: String, answer: String) -> Result<bool, AppError> {
    let principal = crate::auth::require_writer()?;
    let parsed = backend::model::chat::ApprovalAnswer::parse(&answer).ok_or_else(|| {
        AppError::Invalid(format!("“{}” is not an answer: use allow_once, allow_conversation or deny.", answer.trim())).with_status()
    })?;
    let resumed = crate::auth::services().chat.answer(&principal, &conversation_id, &call_id, parsed).await?;
    Ok(resumed.is_some())
}

/// Stops the conversation's running turn, keeping what had arrived; `false` if none was running.
#[server(prefix = "/api", endpoint = "chat/cancel", input = Json)]
pub async fn cancel_turn(conversation_id: String) -> Result<bool, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().chat.cancel(&principal.user.id, &conversation_id).await?)
}

#[server(prefix = "/api", endpoint = "chat/rename", input = Json)]
pub async fn rename_conversation(conversation_id: String, title: String) -> Result<ConversationSummary, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().chat.rename(&principal.user.id, &conversation_id, &title).await?)
}

/// Deletes a conversation and its messages, stopping its turn if one runs.
#[server(prefix = "/api", endpoint = "chat/delete", input = Json)]
pub async fn delete_conversation(conversation_id: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().chat.delete(&principal.user.id, &conversation_id).await?)
}

/// Sets the base a conversation is about; an empty or missing `base_id` means none.
#[server(prefix = "/api", endpoint = "chat/base", input = Json)]
pub async fn set_conversation_base(conversation_id: String, base_id: Option<String>) -> Result<ConversationSummary, AppError> {
    let principal = crate::auth::require_writer()?;
    let base_id = base_id.filter(|b| !b.trim().is_empty());
    let chat = crate::auth::services().chat;
    Ok(chat.set_base(&principal.user.id, &conversation_id, base_id.as_deref().map(str::trim)).await?)
}

/// What the caller spent today, this month and in all, with their budgets.
#[server(prefix = "/api", endpoint = "chat/spending", input = Json)]
pub async fn get_spending() -> Result<Spending, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().chat.spending(&principal.user.id).await?)
}

/// The caller's approval policy and budgets.
#[server(prefix = "/api", endpoint = "chat/preferences", input = Json)]
pub async fn get_chat_preferences() -> Result<ChatPreferences, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().chat.preferences(&principal.user.id).await?)
}

/// Saves the approval policy and the budgets, in US dollars as typed; an empty budget means none.
/// Form-encoded, so the Settings form works before the page has loaded its script.
#[server(prefix = "/api", endpoint = "chat/preferences/save")]
pub async fn save_chat_preferences(approval_policy: String, daily_budget_usd: String, monthly_budget_usd: String) -> Result<ChatPreferences, AppError> {
    let principal = crate::auth::require_writer()?;
    let preferences = ssr::preferences(&approval_policy, &daily_budget_usd, &monthly_budget_usd).map_err(|e| e.with_status())?;
    Ok(crate::auth::services().chat.save_preferences(&principal.user.id, &preferences).await?)
}

/// The provider and model that answer the caller's new messages, and the offline assistant's
/// commands when it is the one.
#[server(prefix = "/api", endpoint = "chat/assistant", input = Json)]
pub async fn get_chat_assistant() -> Result<ChatAssistant, AppError> {
    let principal = crate::auth::require_user()?;
    let settings = crate::auth::services().llm_settings.view(&principal.user.id).await?;
    let offline = settings.provider == LlmProvider::Offline;
    let commands_html = if offline { backend::chat::markdown::render(backend::llm::OFFLINE_GRAMMAR) } else { String::new() };
    Ok(ChatAssistant { provider: settings.provider, model: settings.model, commands_html })
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use backend::model::chat::{ApprovalPolicy, ChatPreferences};

    use crate::error::AppError;

    /// The preferences as typed in the Settings form.
    pub fn preferences(policy: &str, daily: &str, monthly: &str) -> Result<ChatPreferences, AppError> {
        let approval_policy = ApprovalPolicy::parse(policy).ok_or_else(|| {
            AppError::Invalid(format!("“{}” is not an approval policy: use always_ask, auto_approve_writes or read_only.", policy.trim()))
        })?;
        Ok(ChatPreferences {
            approval_policy,
            daily_budget_usd: budget("daily", daily)?,
            monthly_budget_usd: budget("monthly", monthly)?,
        })
    }

    /// An amount in US dollars such as `5`, `2.50` or `$10`; empty for no budget.
    pub fn budget(which: &str, text: &str) -> Result<Option<f64>, AppError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let digits = text.strip_prefix('$').unwrap_or(text).trim();
        match digits.parse::<f64>() {
            Ok(amount) if amount.is_finite() && amount >= 0.0 => Ok(Some(amount)),
            _ => Err(AppError::Invalid(format!(
                "“{text}” is not a {which} budget: write an amount in US dollars such as 5 or 2.50, or leave it empty for no limit."
            ))),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn empty_budgets_mean_no_limit() {
            let preferences = preferences("always_ask", "", "  ").unwrap();
            assert_eq!(preferences, ChatPreferences::default());
        }

        #[test]
        fn budgets_read_as_dollars_with_or_without_the_sign() {
            let preferences = preferences("read_only", "2.50", "$10").unwrap();
            assert_eq!(preferences.approval_policy, ApprovalPolicy::ReadOnly);
            assert_eq!(preferences.daily_budget_usd, Some(2.5));
            assert_eq!(preferences.monthly_budget_usd, Some(10.0));
        }

        #[test]
        fn bad_amounts_and_policies_are_explained() {
            let err = preferences("always_ask", "lots", "").unwrap_err();
            assert_eq!(
                err.to_string(),
                "“lots” is not a daily budget: write an amount in US dollars such as 5 or 2.50, or leave it empty for no limit."
            );
            assert!(matches!(preferences("always_ask", "", "-3"), Err(AppError::Invalid(_))));
            assert!(matches!(preferences("always_ask", "", "NaN"), Err(AppError::Invalid(_))));
            assert!(preferences("sometimes", "", "").unwrap_err().to_string().contains("always_ask"));
        }
    }
}

/// Everything the parts of the chat page share. Cheap to copy.
#[derive(Clone, Copy)]
struct Screen {
    /// The open conversation, from the address; `None` for a new one.
    id: Memo<Option<String>>,
    /// Counts changes made on this page, so the conversation and the list are read again.
    version: RwSignal<u32>,
    live: Live,
    /// The composer's text.
    draft: RwSignal<String>,
    /// Whether a message is on its way to the server.
    sending: RwSignal<bool>,
    /// The base chosen for a new conversation (`Some(None)`: no base); `None` until the user
    /// chooses, when a user with one base gets that one.
    new_base: RwSignal<Option<Option<String>>>,
    /// The sidebar's search.
    search: RwSignal<String>,
    /// The conversation waiting for the user to confirm its deletion: its ID and title.
    deleting: RwSignal<Option<(String, String)>>,
    /// What the last action in the sidebar did.
    status: RwSignal<Option<String>>,
    composer: NodeRef<leptos::html::Textarea>,
    conversation: Resource<Result<Option<ConversationView>, AppError>>,
    conversations: Resource<Result<Vec<ConversationSummary>, AppError>>,
    bases: Resource<Result<BaseList, AppError>>,
    spending: Resource<Result<Spending, AppError>>,
    assistant: Resource<Result<ChatAssistant, AppError>>,
}

impl Screen {
    /// A turn is being sent or is running: the composer waits.
    fn busy(self) -> bool {
        self.sending.get() || self.live.is_open()
    }

    /// Reads the conversation and the list again after a change made here.
    fn refresh(self) {
        self.version.update(|v| *v += 1);
    }

    /// The base a new conversation starts with: the one chosen, or else the user's only base.
    fn base_for_new(self) -> Option<String> {
        match self.new_base.get_untracked() {
            Some(chosen) => chosen,
            None => self.bases.get_untracked().and_then(Result::ok).as_ref().and_then(only_base),
        }
    }

    /// Puts `text` in the composer, ready to send.
    fn compose(self, text: &str) {
        self.draft.set(text.to_owned());
        if let Some(area) = self.composer.get_untracked() {
            let _ = area.focus();
        }
    }
}

#[component]
pub fn ChatPage() -> impl IntoView {
    view! {
        <Title text="Chat" />
        <SignedIn let:_user>
            <ChatScreen />
        </SignedIn>
    }
}

#[component]
fn ChatScreen() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("conversation").filter(|id| !id.trim().is_empty()));
    let live = Live::new();
    let version = RwSignal::new(0u32);
    let search = RwSignal::new(String::new());
    let conversation = Resource::new(
        move || (id.get(), version.get(), live.changes.get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_conversation(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let conversations = Resource::new(
        move || (search.get(), version.get(), live.turns.get()),
        |(search, _, _)| list_conversations(Some(search).filter(|s| !s.trim().is_empty())),
    );
    let screen = Screen {
        id,
        version,
        live,
        draft: RwSignal::new(String::new()),
        sending: RwSignal::new(false),
        new_base: RwSignal::new(None),
        search,
        deleting: RwSignal::new(None),
        status: RwSignal::new(None),
        composer: NodeRef::new(),
        conversation,
        conversations,
        bases: Resource::new(|| (), |_| list_bases()),
        spending: Resource::new(move || live.turns.get(), |_| get_spending()),
        assistant: Resource::new(|| (), |_| get_chat_assistant()),
    };

    // Leaving a conversation stops following its turn; leaving the page stops too.
    Effect::new(move |_| {
        let id = id.get();
        if !id.as_deref().is_some_and(|id| live.is_open_for(id)) {
            live.close();
        }
    });
    on_cleanup(move || live.close());

    // A conversation that is still answering (after a reload, or in another tab) is followed. A
    // memo, so a refetch that still shows the old value doesn't reopen a stream that just ended.
    let running = Memo::new(move |_| {
        conversation.with(|c| match c {
            Some(Ok(Some(view))) if view.running => Some(view.summary.id.clone()),
            _ => None,
        })
    });
    Effect::new(move |_| {
        if let Some(id) = running.get() {
            live.open(&id);
        }
    });

    view! {
        <section class="page chat-page">
            <Sidebar screen />
            <div class="chat-main">
                <ChatHeader screen />
                <MessageLog screen />
                <Composer screen />
            </div>
            <DeleteConversationDialog screen />
        </section>
    }
}

/// The base of a user who has just one, such as the sandbox's demo base.
fn only_base(list: &BaseList) -> Option<String> {
    match list.bases.as_slice() {
        [only] => Some(only.id.to_string()),
        _ => None,
    }
}

/// `1 token`, `12,345 tokens`.
pub(crate) fn tokens(count: u64) -> String {
    format!("{} {}", grouped(count), if count == 1 { "token" } else { "tokens" })
}

/// The tokens a conversation or message used, for its footer; with what was cached, if any.
fn usage_text(usage: &Usage) -> String {
    if usage.cached_tokens > 0 {
        format!("{} ({} cached)", tokens(usage.total()), usage.cached_tokens)
    } else {
        tokens(usage.total())
    }
}

/// How the provider and model in force are named on the page.
fn model_label(provider: LlmProvider, model: &str) -> String {
    match provider {
        LlmProvider::Offline => "Offline assistant".to_owned(),
        other => format!("{} · {model}", other.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;


    #[test]
    fn token_counts_are_grouped_by_thousands() {
        assert_eq!(tokens(1), "1 token");
        assert_eq!(tokens(999), "999 tokens");
        assert_eq!(tokens(12_345), "12,345 tokens");
        assert_eq!(tokens(1_000_000), "1,000,000 tokens");
    }
}
