//! The chat: conversations stored per user, and the agent loop that answers each message by
//! calling the user's LLM and the tool catalog, with approvals for changes, a step limit,
//! cancelling, streaming, and cost against the user's budgets.

mod cost;
mod documents;
mod live;
pub mod markdown;
mod prompt;
mod store;
mod turn;

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

pub use cost::{Price, Prices};
pub use store::ConversationId;

use self::live::Live;
use self::store::{ConversationRow, NewMessage, Store, StoredMessage};
use self::turn::Turn;
use crate::analytics::Analytics;
use crate::auth::{Principal, UserId};
use crate::clock::now_ms;
use crate::connections::Connections;
use crate::db::Db;
use crate::files::Files;
use self::cost::Whose;
use crate::llm::{EndpointOrigin, Llm, LlmEndpoint, LlmSettings, LlmSettingsError};
use crate::model::airtable::BaseId;
use crate::model::chat::{
    ApprovalAnswer, ChatPreferences, ConversationSummary, ConversationView, MessageStatus, MessageView, Role, ServerKeyBudget, Spending,
    ToolCallState, ToolCallView, TurnEvent,
};
use crate::model::llm::Usage;
use crate::tools::Catalog;

/// The longest message a user may send, in characters.
pub const MAX_MESSAGE_CHARS: usize = 32_000;

/// Why a chat request failed, written for the person who sees it.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("That conversation was not found. It may have been deleted; pick another or start a new one.")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    /// A turn is already running in this conversation.
    #[error("This conversation is still answering. Wait for it, or press Stop.")]
    Busy,
    #[error("{0}")]
    OverBudget(String),
    /// A file attached to a message is not the user's, or is gone.
    #[error("That file was not found. It may have expired or been deleted; upload it again.")]
    FileNotFound,
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// How turns run.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    /// Model calls one user message may take.
    pub max_steps: usize,
    /// The history sent to the model is trimmed to about this many tokens.
    pub history_tokens: usize,
    pub prices: Prices,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self { max_steps: 8, history_tokens: 32_000, prices: Prices::default() }
    }
}

/// What every turn uses.
pub(crate) struct Inner {
    store: Store,
    live: Live,
    llm: Llm,
    llm_settings: LlmSettings,
    connections: Connections,
    catalog: Catalog,
    settings: ChatSettings,
    analytics: Analytics,
    /// Where attached documents are read from.
    files: Files,
}

/// The chat service. Cheap to clone.
#[derive(Clone)]
pub struct Chat {
    inner: Arc<Inner>,
}

/// A turn started in the background.
pub struct TurnHandle {
    pub conversation_id: String,
    /// The user's message that started it (or the step that was resumed).
    pub message_id: String,
    /// Ends with the turn, for callers who wait for the answer.
    pub finished: tokio::task::JoinHandle<MessageStatus>,
}

/// A finished turn, as `POST /api/chat` answers it.
#[derive(Debug, Clone, Serialize)]
pub struct TurnReply {
    pub response: String,
    pub tools_used: Vec<String>,
    pub status: MessageStatus,
    /// Calls waiting for the user's approval, with their arguments.
    pub pending_approvals: Vec<Value>,
    pub usage: Usage,
    pub cost_usd: f64,
    pub error: Option<String>,
}

/// What the chat works with, besides its own store.
pub struct ChatParts {
    pub llm: Llm,
    pub llm_settings: LlmSettings,
    pub connections: Connections,
    pub catalog: Catalog,
    pub analytics: Analytics,
    pub files: Files,
}

impl Chat {
    pub fn new(db: Db, parts: ChatParts, settings: ChatSettings) -> Self {
        let ChatParts { llm, llm_settings, connections, catalog, analytics, files } = parts;
        let inner = Inner { store: Store::new(db), live: Live::default(), llm, llm_settings, connections, catalog, settings, analytics, files };
        Self { inner: Arc::new(inner) }
    }

    /// The user's conversations, newest first; `search` matches titles and message text.
    ///
    /// # Errors
    /// Database failures.
    pub async fn conversations(&self, user: &UserId, search: &str) -> Result<Vec<ConversationSummary>, ChatError> {
        let listed = self.inner.store.conversations(user, search).await?;
        Ok(listed
            .into_iter()
            .map(|row| {
                let totals = row.totals();
                summary_of(row.conversation, totals)
            })
            .collect())
    }

    /// One conversation with all its messages.
    ///
    /// # Errors
    /// `NotFound` unless it is the user's.
    pub async fn conversation(&self, user: &UserId, id: &str) -> Result<ConversationView, ChatError> {
        let id = ConversationId::parse(id)?;
        let row = self.inner.store.conversation(user, &id).await?;
        let messages = self.inner.store.messages(user, &id).await?;
        Ok(ConversationView {
            summary: self.summary(user, row).await?,
            messages: messages.into_iter().map(|m| self.view(m)).collect(),
            running: self.inner.live.get(id.as_str()).is_some(),
        })
    }

    /// # Errors
    /// `NotFound`, or `Invalid` for an empty or overlong title.
    pub async fn rename(&self, user: &UserId, id: &str, title: &str) -> Result<ConversationSummary, ChatError> {
        let id = ConversationId::parse(id)?;
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(ChatError::Invalid("A conversation's title must be 1 to 200 characters.".into()));
        }
        self.inner.store.update(user, &id, Some(title), None).await?;
        self.summary(user, self.inner.store.conversation(user, &id).await?).await
    }

    /// Deletes a conversation and its messages, stopping its turn if one runs.
    ///
    /// # Errors
    /// `NotFound` unless it is the user's.
    pub async fn delete(&self, user: &UserId, id: &str) -> Result<(), ChatError> {
        let id = ConversationId::parse(id)?;
        self.inner.store.delete(user, &id).await?;
        if let Some(running) = self.inner.live.get(id.as_str()) {
            running.cancel.cancel();
        }
        Ok(())
    }

    /// Sets the base the conversation is about (`None` for no base).
    ///
    /// # Errors
    /// `NotFound`, or `Invalid` for a malformed base ID.
    pub async fn set_base(&self, user: &UserId, id: &str, base_id: Option<&str>) -> Result<ConversationSummary, ChatError> {
        let id = ConversationId::parse(id)?;
        let base_id = parse_base(base_id)?;
        self.inner.store.update(user, &id, None, Some(base_id.as_ref().map(BaseId::as_str))).await?;
        self.summary(user, self.inner.store.conversation(user, &id).await?).await
    }

    /// Saves the user's message with the documents `attachments` (the user's file IDs), starting
    /// a new conversation when `conversation_id` is `None`, and starts answering it in the
    /// background.
    ///
    /// # Errors
    /// `Invalid` for an empty or overlong message or a file that can't be attached,
    /// `OverBudget`, `Busy` while a turn runs, `NotFound`.
    pub async fn send(
        &self,
        principal: &Principal,
        conversation_id: Option<&str>,
        base_id: Option<&str>,
        text: &str,
        attachments: &[String],
    ) -> Result<TurnHandle, ChatError> {
        let user = &principal.user.id;
        let text = text.trim();
        if text.is_empty() {
            return Err(ChatError::Invalid("Type a message first.".into()));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(ChatError::Invalid(format!("That message is too long: at most {MAX_MESSAGE_CHARS} characters. Split it, or attach the data by importing it into a table.")));
        }
        self.check_budget(user).await?;
        let base_id = parse_base(base_id)?;
        // The history keeps the other half of the budget for the conversation itself.
        let attached = documents::attach(&self.inner.files, user, attachments, self.inner.settings.history_tokens / 2).await?;
        let id = match conversation_id {
            Some(id) => {
                let id = ConversationId::parse(id)?;
                self.inner.store.conversation(user, &id).await?;
                if let Some(base) = &base_id {
                    self.inner.store.update(user, &id, None, Some(Some(base.as_str()))).await?;
                }
                id
            }
            None => self.inner.store.create(user, &title_from(text), base_id.as_ref().map(BaseId::as_str)).await?,
        };
        let running = self.inner.live.start(id.as_str(), user.as_str()).ok_or(ChatError::Busy)?;
        let message_id = match self.inner.store.append(user, &id, &NewMessage { attachments: &attached, ..NewMessage::user(text) }).await {
            Ok(message_id) => message_id,
            Err(e) => {
                self.inner.live.finish(id.as_str(), MessageStatus::Failed);
                return Err(e);
            }
        };
        Ok(self.spawn(principal, id, running, message_id, false))
    }

    /// The user's answer to a tool call awaiting approval. Once every call of the step is
    /// answered, the turn goes on in the background, and its handle is returned.
    ///
    /// # Errors
    /// `NotFound`; `Invalid` when that call isn't waiting; `Busy` while a turn runs.
    pub async fn answer(&self, principal: &Principal, conversation_id: &str, call_id: &str, answer: ApprovalAnswer) -> Result<Option<TurnHandle>, ChatError> {
        let user = &principal.user.id;
        let id = ConversationId::parse(conversation_id)?;
        self.inner.store.conversation(user, &id).await?;
        let running = self.inner.live.start(id.as_str(), user.as_str()).ok_or(ChatError::Busy)?;
        let outcome = self.record_answer(user, &id, call_id, answer).await;
        match outcome {
            Ok(Some(message_id)) => Ok(Some(self.spawn(principal, id, running, message_id, true))),
            other => {
                // Nothing to resume yet (or the answer was refused): free the conversation.
                self.inner.live.finish(id.as_str(), MessageStatus::AwaitingApproval);
                other.map(|_| None)
            }
        }
    }

    /// Saves the answer on the waiting step; the step's ID when no call waits any more.
    async fn record_answer(&self, user: &UserId, id: &ConversationId, call_id: &str, answer: ApprovalAnswer) -> Result<Option<String>, ChatError> {
        let messages = self.inner.store.messages(user, id).await?;
        let not_waiting = || ChatError::Invalid("That tool call is not waiting for approval: it may have been answered already. Reload the conversation.".into());
        let step = messages.last().filter(|m| m.role == Role::Assistant).ok_or_else(not_waiting)?;
        let tool = step.tool_calls.iter().find(|c| c.id == call_id && c.state == ToolCallState::AwaitingApproval).ok_or_else(not_waiting)?.name.clone();
        let mut calls = step.tool_calls.clone();
        for call in calls.iter_mut().filter(|c| c.state == ToolCallState::AwaitingApproval) {
            let this_call = call.id == call_id;
            (call.state, call.result) = match answer {
                ApprovalAnswer::AllowOnce if this_call => (ToolCallState::Running, None),
                ApprovalAnswer::AllowConversation if this_call || call.name == tool => (ToolCallState::Running, None),
                ApprovalAnswer::Deny if this_call => (ToolCallState::Denied, Some(json!({ "error": turn::DENIED }))),
                _ => continue,
            };
        }
        if answer == ApprovalAnswer::AllowConversation {
            self.inner.store.allow_tool(user, id, &tool).await?;
        }
        let waiting = calls.iter().any(|c| c.state == ToolCallState::AwaitingApproval);
        let status = if waiting { MessageStatus::AwaitingApproval } else { MessageStatus::Complete };
        self.inner.store.update_message(user, &step.id, &calls, status).await?;
        Ok((!waiting).then(|| step.id.clone()))
    }

    fn spawn(&self, principal: &Principal, id: ConversationId, running: Arc<live::Running>, message_id: String, resumed: bool) -> TurnHandle {
        let turn = Turn {
            inner: self.inner.clone(),
            user: principal.user.id.clone(),
            scope: principal.scope(),
            conversation: id.clone(),
            running,
            resumed,
            tally: Default::default(),
        };
        TurnHandle { conversation_id: id.as_str().to_owned(), message_id, finished: tokio::spawn(turn.run()) }
    }

    /// Stops the conversation's running turn, keeping what had arrived. `false` if none ran.
    ///
    /// # Errors
    /// `NotFound` unless it is the user's.
    pub async fn cancel(&self, user: &UserId, conversation_id: &str) -> Result<bool, ChatError> {
        let id = ConversationId::parse(conversation_id)?;
        self.inner.store.conversation(user, &id).await?;
        Ok(match self.inner.live.get(id.as_str()) {
            Some(running) => {
                running.cancel.cancel();
                true
            }
            None => false,
        })
    }

    /// The running turn's text so far and its events, or `None` when no turn runs.
    ///
    /// # Errors
    /// `NotFound` unless it is the user's.
    pub async fn subscribe(&self, user: &UserId, conversation_id: &str) -> Result<Option<(String, broadcast::Receiver<TurnEvent>)>, ChatError> {
        let id = ConversationId::parse(conversation_id)?;
        self.inner.store.conversation(user, &id).await?;
        Ok(self.inner.live.get(id.as_str()).filter(|r| r.user_id == user.as_str()).map(|r| r.subscribe()))
    }

    /// What a turn said and did after `message_id` (the user's message, or the step it
    /// resumed), once it has finished.
    ///
    /// # Errors
    /// `NotFound`; database failures.
    pub async fn reply(&self, user: &UserId, conversation_id: &str, message_id: &str) -> Result<TurnReply, ChatError> {
        let id = ConversationId::parse(conversation_id)?;
        let messages = self.inner.store.messages(user, &id).await?;
        let start = messages.iter().position(|m| m.id == message_id).map_or(0, |i| i + 1);
        let steps = &messages[start..];
        let mut usage = Usage::default();
        for step in steps {
            usage += step.usage;
        }
        let last = steps.last();
        Ok(TurnReply {
            response: steps.iter().map(|m| m.text.trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n\n"),
            tools_used: steps.iter().flat_map(|m| m.tool_calls.iter().map(|c| c.name.clone())).collect(),
            status: last.map_or(MessageStatus::Complete, |m| m.status),
            pending_approvals: last
                .map(|m| {
                    m.tool_calls
                        .iter()
                        .filter(|c| c.state == ToolCallState::AwaitingApproval)
                        .map(|c| json!({ "call_id": c.id, "tool": c.name, "arguments": c.arguments }))
                        .collect()
                })
                .unwrap_or_default(),
            usage,
            cost_usd: steps.iter().map(|m| m.cost_usd).sum(),
            error: last.and_then(|m| m.error.clone()),
        })
    }

    /// # Errors
    /// Database failures.
    pub async fn preferences(&self, user: &UserId) -> Result<ChatPreferences, ChatError> {
        self.inner.store.preferences(user).await
    }

    /// # Errors
    /// `Invalid` for a negative or absurd budget; database failures.
    pub async fn save_preferences(&self, user: &UserId, preferences: &ChatPreferences) -> Result<ChatPreferences, ChatError> {
        check_budget_amounts([preferences.daily_budget_usd, preferences.monthly_budget_usd])?;
        self.inner.store.save_preferences(user, preferences).await?;
        Ok(preferences.clone())
    }

    /// What each user may spend on the server's own LLM key. For administrators: the caller checks.
    ///
    /// # Errors
    /// Database failures.
    pub async fn server_key_budget(&self) -> Result<ServerKeyBudget, ChatError> {
        self.inner.store.server_key_budget().await
    }

    /// Sets what each user may spend on the server's own LLM key. For administrators: the caller checks.
    ///
    /// # Errors
    /// `Invalid` for a negative or absurd budget; database failures.
    pub async fn save_server_key_budget(&self, budget: &ServerKeyBudget) -> Result<ServerKeyBudget, ChatError> {
        check_budget_amounts([budget.daily_usd, budget.monthly_usd])?;
        self.inner.store.save_server_key_budget(budget).await?;
        Ok(*budget)
    }

    /// What the user spent today, this month and in all.
    ///
    /// # Errors
    /// Database failures.
    pub async fn spending(&self, user: &UserId) -> Result<Spending, ChatError> {
        let (day, month) = cost::budget_periods(now_ms());
        let store = &self.inner.store;
        let (_, today_usd) = store.spent_since(user, day).await?;
        let (_, month_usd) = store.spent_since(user, month).await?;
        let (usage, total_usd) = store.spent_since(user, 0).await?;
        Ok(Spending { today_usd, month_usd, total_usd, total_tokens: usage.total(), preferences: store.preferences(user).await? })
    }

    /// Counts a model call made outside a conversation (a workflow's LLM step) against the
    /// user's budgets, as a chat message's would be; answers its cost in US dollars.
    ///
    /// # Errors
    /// When the database can't be written.
    pub async fn record_model_call(&self, user: &UserId, endpoint: &LlmEndpoint, usage: &Usage) -> Result<f64, ChatError> {
        let cost_usd = self.inner.settings.prices.cost(&endpoint.model, usage);
        let call = store::ModelCall { provider: endpoint.provider, model: &endpoint.model, usage, cost_usd, on_server_key: endpoint.origin == EndpointOrigin::Server };
        self.inner.store.insert_model_call(user, None, &call, now_ms()).await?;
        Ok(cost_usd)
    }

    /// Refuses a model call once the user's own budget is spent, or, while they use the
    /// server's key, the budget an administrator set on it.
    ///
    /// # Errors
    /// `OverBudget` with what was spent and how to go on.
    pub async fn check_budget(&self, user: &UserId) -> Result<(), ChatError> {
        let spending = self.spending(user).await?;
        let preferences = &spending.preferences;
        let own = cost::over_budget(spending.today_usd, spending.month_usd, preferences.daily_budget_usd, preferences.monthly_budget_usd, Whose::Own);
        if let Some(message) = own {
            return Err(ChatError::OverBudget(message));
        }
        let limit = self.inner.store.server_key_budget().await?;
        if limit == ServerKeyBudget::default() {
            return Ok(());
        }
        let endpoint = self.inner.llm_settings.endpoint(user).await.map_err(|e| match e {
            LlmSettingsError::Db(e) => ChatError::Db(e),
            other => ChatError::Invalid(other.to_string()),
        })?;
        if endpoint.origin != EndpointOrigin::Server {
            return Ok(());
        }
        let (day, month) = cost::budget_periods(now_ms());
        let store = &self.inner.store;
        let (today, this_month) = (store.spent_on_server_key_since(user, day).await?, store.spent_on_server_key_since(user, month).await?);
        match cost::over_budget(today, this_month, limit.daily_usd, limit.monthly_usd, Whose::ServerKey) {
            Some(message) => Err(ChatError::OverBudget(message)),
            None => Ok(()),
        }
    }

    async fn summary(&self, user: &UserId, row: ConversationRow) -> Result<ConversationSummary, ChatError> {
        let totals = self.inner.store.conversation_totals(user, &row.id).await?;
        Ok(summary_of(row, totals))
    }

    fn view(&self, message: StoredMessage) -> MessageView {
        let html = if message.role == Role::Assistant { markdown::render(&message.text) } else { String::new() };
        let tool_calls = message
            .tool_calls
            .into_iter()
            .map(|call| {
                let hints = self.inner.catalog.info(&call.name).map(|info| info.annotations);
                ToolCallView {
                    id: call.id,
                    name: call.name,
                    arguments: call.arguments,
                    state: call.state,
                    result: call.result,
                    writes: hints.is_some_and(|h| !h.read_only_hint),
                    destructive: hints.is_some_and(|h| h.destructive_hint),
                }
            })
            .collect();
        MessageView {
            id: message.id,
            role: message.role,
            text: message.text,
            html,
            tool_calls,
            attachments: message.attachments.iter().map(documents::StoredAttachment::view).collect(),
            status: message.status,
            error: message.error,
            provider: message.provider,
            model: message.model,
            usage: message.usage,
            cost_usd: message.cost_usd,
            created_ms: message.created_ms,
        }
    }
}

fn summary_of(row: ConversationRow, (usage, cost_usd): (Usage, f64)) -> ConversationSummary {
    ConversationSummary { id: row.id, title: row.title, base_id: row.base_id, updated_ms: row.updated_ms, usage, cost_usd }
}

/// Budgets are amounts in US dollars, or none.
fn check_budget_amounts(budgets: [Option<f64>; 2]) -> Result<(), ChatError> {
    for budget in budgets.into_iter().flatten() {
        if !budget.is_finite() || !(0.0..=1_000_000.0).contains(&budget) {
            return Err(ChatError::Invalid("A budget is an amount in US dollars from 0 to 1,000,000, such as 5 or 0.50; leave it empty for none.".into()));
        }
    }
    Ok(())
}

fn parse_base(base_id: Option<&str>) -> Result<Option<BaseId>, ChatError> {
    base_id
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| BaseId::parse(b).map_err(|_| ChatError::Invalid(format!("“{}” is not a base ID: they start with app and have 17 characters. Pick the base in the selector.", b.chars().take(40).collect::<String>()))))
        .transpose()
}

/// A new conversation's title: the first line of its first message, shortened.
fn title_from(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text).trim();
    if line.chars().count() > 60 { format!("{}…", line.chars().take(59).collect::<String>()) } else { line.to_owned() }
}
