//! Conversations and messages in the database, every query scoped to the user who owns them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ChatError;
use super::documents::StoredAttachment;
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::chat::{ApprovalPolicy, ChatPreferences, MessageStatus, Role, ServerKeyBudget, ToolCallState};
use crate::model::llm::{LlmProvider, Usage};

/// A conversation's ID: a UUID, so anything else is refused before a query runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationId(String);

impl ConversationId {
    pub(crate) fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// # Errors
    /// `NotFound` for anything but a UUID, as a missing conversation would be.
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        uuid::Uuid::parse_str(raw.trim()).map(|u| Self(u.to_string())).map_err(|_| ChatError::NotFound)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tool call as stored in its message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredCall {
    pub id: String,
    pub name: String,
    pub arguments: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub state: ToolCallState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ConversationRow {
    pub id: String,
    pub title: String,
    pub base_id: Option<String>,
    pub allowed_tools: String,
    pub updated_ms: i64,
}

impl ConversationRow {
    pub fn allowed_tools(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_tools).unwrap_or_default()
    }
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    seq: i64,
    role: String,
    text: String,
    tool_calls: String,
    status: String,
    error: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    input_tokens: i64,
    cached_tokens: i64,
    output_tokens: i64,
    thinking_tokens: i64,
    cost_usd: f64,
    created_ms: i64,
    attachments: String,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredMessage {
    pub id: String,
    pub seq: i64,
    pub role: Role,
    pub text: String,
    pub tool_calls: Vec<StoredCall>,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub provider: Option<LlmProvider>,
    pub model: Option<String>,
    pub usage: Usage,
    pub cost_usd: f64,
    pub created_ms: i64,
    pub attachments: Vec<StoredAttachment>,
}

impl From<MessageRow> for StoredMessage {
    fn from(row: MessageRow) -> Self {
        let tokens = |n: i64| u64::try_from(n).unwrap_or(0);
        Self {
            id: row.id,
            seq: row.seq,
            role: if row.role == "user" { Role::User } else { Role::Assistant },
            text: row.text,
            tool_calls: serde_json::from_str(&row.tool_calls).unwrap_or_default(),
            status: enum_from_str(&row.status).unwrap_or(MessageStatus::Complete),
            error: row.error,
            provider: row.provider.as_deref().and_then(LlmProvider::parse),
            model: row.model,
            usage: Usage {
                input_tokens: tokens(row.input_tokens),
                cached_tokens: tokens(row.cached_tokens),
                output_tokens: tokens(row.output_tokens),
                thinking_tokens: tokens(row.thinking_tokens),
            },
            cost_usd: row.cost_usd,
            created_ms: row.created_ms,
            attachments: serde_json::from_str(&row.attachments).unwrap_or_default(),
        }
    }
}

/// One model call's provider, model, tokens and cost.
pub(crate) struct ModelCall<'a> {
    pub provider: LlmProvider,
    pub model: &'a str,
    pub usage: &'a Usage,
    pub cost_usd: f64,
    /// Paid with the server's own LLM key, so it counts against the administrator's budget.
    pub on_server_key: bool,
}

/// A new message to append.
pub(crate) struct NewMessage<'a> {
    pub role: Role,
    pub text: &'a str,
    pub tool_calls: &'a [StoredCall],
    pub status: MessageStatus,
    pub error: Option<&'a str>,
    pub provider: Option<LlmProvider>,
    pub model: Option<&'a str>,
    pub usage: Usage,
    pub cost_usd: f64,
    /// Paid with the server's own LLM key, so it counts against the administrator's budget.
    pub on_server_key: bool,
    pub attachments: &'a [StoredAttachment],
}

impl<'a> NewMessage<'a> {
    pub fn user(text: &'a str) -> Self {
        Self {
            role: Role::User,
            text,
            tool_calls: &[],
            status: MessageStatus::Complete,
            error: None,
            provider: None,
            model: None,
            usage: Usage::default(),
            cost_usd: 0.0,
            on_server_key: false,
            attachments: &[],
        }
    }

    pub fn assistant(text: &'a str) -> Self {
        Self { role: Role::Assistant, ..Self::user(text) }
    }
}

/// Totals over a set of messages.
#[derive(sqlx::FromRow)]
struct TotalsRow {
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    thinking_tokens: Option<i64>,
    cached_tokens: Option<i64>,
    cost_usd: Option<f64>,
}

impl TotalsRow {
    fn totals(&self) -> (Usage, f64) {
        let tokens = |n: Option<i64>| u64::try_from(n.unwrap_or(0)).unwrap_or(0);
        let usage = Usage {
            input_tokens: tokens(self.input_tokens),
            cached_tokens: tokens(self.cached_tokens),
            output_tokens: tokens(self.output_tokens),
            thinking_tokens: tokens(self.thinking_tokens),
        };
        (usage, self.cost_usd.unwrap_or(0.0))
    }
}

/// A conversation in the list, with its messages' tokens and cost added up.
#[derive(sqlx::FromRow)]
pub(crate) struct ListedConversation {
    #[sqlx(flatten)]
    pub conversation: ConversationRow,
    #[sqlx(flatten)]
    totals: TotalsRow,
}

impl ListedConversation {
    pub fn totals(&self) -> (Usage, f64) {
        self.totals.totals()
    }
}

// SUM of BIGINT is NUMERIC on PostgreSQL, which the Any driver can't read: cast it back.
const TOTALS: &str = "CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, \
     CAST(SUM(thinking_tokens) AS BIGINT) AS thinking_tokens, CAST(SUM(cached_tokens) AS BIGINT) AS cached_tokens, \
     SUM(cost_usd) AS cost_usd";

#[derive(sqlx::FromRow)]
struct PreferencesRow {
    approval_policy: String,
    daily_budget_usd: Option<f64>,
    monthly_budget_usd: Option<f64>,
}

/// The chat's tables. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Store {
    db: Db,
}

impl Store {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn create(&self, user: &UserId, title: &str, base_id: Option<&str>) -> Result<ConversationId, ChatError> {
        let id = ConversationId::generate();
        let now = now_ms();
        sqlx::query("INSERT INTO conversations (id, user_id, title, base_id, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $5)")
            .bind(id.as_str())
            .bind(user.as_str())
            .bind(title)
            .bind(base_id)
            .bind(now)
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        Ok(id)
    }

    /// # Errors
    /// `NotFound` when the conversation is not the user's.
    pub async fn conversation(&self, user: &UserId, id: &ConversationId) -> Result<ConversationRow, ChatError> {
        sqlx::query_as("SELECT id, title, base_id, allowed_tools, updated_ms FROM conversations WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_optional(self.db.pool())
            .await
            .map_err(db)?
            .ok_or(ChatError::NotFound)
    }

    /// The user's conversations, newest first, whose title or messages contain `search`, each
    /// with its totals: one query for the whole list.
    pub async fn conversations(&self, user: &UserId, search: &str) -> Result<Vec<ListedConversation>, ChatError> {
        let search = search.trim().to_lowercase();
        let pattern = format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT c.id, c.title, c.base_id, c.allowed_tools, c.updated_ms, {TOTALS} \
             FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id WHERE c.user_id = $1 \
             AND ($2 = '' OR LOWER(c.title) LIKE $3 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages s \
             WHERE s.conversation_id = c.id AND LOWER(s.text) LIKE $3 ESCAPE '\\')) \
             GROUP BY c.id, c.title, c.base_id, c.allowed_tools, c.updated_ms ORDER BY c.updated_ms DESC LIMIT 200"
        )))
        .bind(user.as_str())
        .bind(&search)
        .bind(&pattern)
        .fetch_all(self.db.pool())
        .await
        .map_err(db)
    }

    pub async fn update(&self, user: &UserId, id: &ConversationId, title: Option<&str>, base_id: Option<Option<&str>>) -> Result<(), ChatError> {
        let conversation = self.conversation(user, id).await?;
        let title = title.unwrap_or(&conversation.title);
        let base_id = base_id.unwrap_or(conversation.base_id.as_deref());
        sqlx::query("UPDATE conversations SET title = $1, base_id = $2, updated_ms = $3 WHERE id = $4 AND user_id = $5")
            .bind(title)
            .bind(base_id)
            .bind(now_ms())
            .bind(id.as_str())
            .bind(user.as_str())
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    pub async fn allow_tool(&self, user: &UserId, id: &ConversationId, tool: &str) -> Result<(), ChatError> {
        let conversation = self.conversation(user, id).await?;
        let mut allowed = conversation.allowed_tools();
        if !allowed.iter().any(|t| t == tool) {
            allowed.push(tool.to_owned());
        }
        sqlx::query("UPDATE conversations SET allowed_tools = $1 WHERE id = $2 AND user_id = $3")
            .bind(serde_json::to_string(&allowed).unwrap_or_else(|_| "[]".into()))
            .bind(id.as_str())
            .bind(user.as_str())
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    pub async fn delete(&self, user: &UserId, id: &ConversationId) -> Result<(), ChatError> {
        let deleted = sqlx::query("DELETE FROM conversations WHERE id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(user.as_str())
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        if deleted.rows_affected() == 0 { Err(ChatError::NotFound) } else { Ok(()) }
    }

    pub async fn messages(&self, user: &UserId, id: &ConversationId) -> Result<Vec<StoredMessage>, ChatError> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT id, seq, role, text, tool_calls, status, error, provider, model, input_tokens, cached_tokens, \
             output_tokens, thinking_tokens, cost_usd, created_ms, attachments FROM messages \
             WHERE conversation_id = $1 AND user_id = $2 ORDER BY seq",
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .fetch_all(self.db.pool())
        .await
        .map_err(db)?;
        Ok(rows.into_iter().map(StoredMessage::from).collect())
    }

    /// Appends a message; only one turn writes to a conversation at a time, so `seq` is free.
    pub async fn append(&self, user: &UserId, id: &ConversationId, message: &NewMessage<'_>) -> Result<String, ChatError> {
        let message_id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let query = sqlx::query(
            "INSERT INTO messages (id, conversation_id, user_id, seq, role, text, tool_calls, status, error, provider, model, \
             input_tokens, cached_tokens, output_tokens, thinking_tokens, cost_usd, created_ms, attachments) \
             SELECT $1, $2, $3, COALESCE(MAX(seq), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 \
             FROM messages WHERE conversation_id = $2",
        )
        .bind(&message_id)
        .bind(id.as_str())
        .bind(user.as_str())
        .bind(if message.role == Role::User { "user" } else { "assistant" })
        .bind(message.text)
        .bind(serde_json::to_string(message.tool_calls).unwrap_or_else(|_| "[]".into()))
        .bind(enum_to_string(&message.status))
        .bind(message.error)
        .bind(message.provider.map(LlmProvider::as_str))
        .bind(message.model);
        bind_usage(query, &message.usage)
            .bind(message.cost_usd)
            .bind(now)
            .bind(serde_json::to_string(message.attachments).unwrap_or_else(|_| "[]".into()))
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        self.record_model_call(user, id, message, now).await?;
        self.touch(user, id, now).await?;
        Ok(message_id)
    }

    /// Keeps the tokens and cost of the model call that wrote `message` apart from it, for
    /// budgets. Messages no model wrote have none.
    async fn record_model_call(&self, user: &UserId, id: &ConversationId, message: &NewMessage<'_>, now: i64) -> Result<(), ChatError> {
        let (Some(provider), Some(model)) = (message.provider, message.model) else { return Ok(()) };
        let call = ModelCall { provider, model, usage: &message.usage, cost_usd: message.cost_usd, on_server_key: message.on_server_key };
        self.insert_model_call(user, Some(id.as_str()), &call, now).await
    }

    /// Keeps the tokens and cost of a model call, in a conversation or outside one (a
    /// workflow's step), for budgets.
    pub async fn insert_model_call(&self, user: &UserId, conversation_id: Option<&str>, call: &ModelCall<'_>, now: i64) -> Result<(), ChatError> {
        let (provider, model) = (call.provider, call.model);
        let query = sqlx::query(
            "INSERT INTO model_calls (id, user_id, conversation_id, provider, model, input_tokens, cached_tokens, output_tokens, \
             thinking_tokens, cost_usd, created_ms, on_server_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(user.as_str())
        .bind(conversation_id)
        .bind(provider.as_str())
        .bind(model);
        bind_usage(query, call.usage)
            .bind(call.cost_usd)
            .bind(now)
            .bind(i64::from(call.on_server_key))
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Saves a message's tool calls and status after calls ran or were answered.
    pub async fn update_message(&self, user: &UserId, message_id: &str, tool_calls: &[StoredCall], status: MessageStatus) -> Result<(), ChatError> {
        sqlx::query("UPDATE messages SET tool_calls = $1, status = $2 WHERE id = $3 AND user_id = $4")
            .bind(serde_json::to_string(tool_calls).unwrap_or_else(|_| "[]".into()))
            .bind(enum_to_string(&status))
            .bind(message_id)
            .bind(user.as_str())
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn touch(&self, user: &UserId, id: &ConversationId, now: i64) -> Result<(), ChatError> {
        sqlx::query("UPDATE conversations SET updated_ms = $1 WHERE id = $2 AND user_id = $3")
            .bind(now)
            .bind(id.as_str())
            .bind(user.as_str())
            .execute(self.db.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Tokens and cost of one conversation.
    pub async fn conversation_totals(&self, user: &UserId, id: &str) -> Result<(Usage, f64), ChatError> {
        let row: TotalsRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOTALS} FROM messages WHERE conversation_id = $1 AND user_id = $2")))
            .bind(id)
            .bind(user.as_str())
            .fetch_one(self.db.pool())
            .await
            .map_err(db)?;
        Ok(row.totals())
    }

    /// Tokens and cost of the user's model calls since `since_ms`, deleted conversations included.
    pub async fn spent_since(&self, user: &UserId, since_ms: i64) -> Result<(Usage, f64), ChatError> {
        self.calls_since(user, since_ms, false).await
    }

    /// What the user's model calls paid with the server's key cost since `since_ms`.
    pub async fn spent_on_server_key_since(&self, user: &UserId, since_ms: i64) -> Result<f64, ChatError> {
        Ok(self.calls_since(user, since_ms, true).await?.1)
    }

    async fn calls_since(&self, user: &UserId, since_ms: i64, server_key_only: bool) -> Result<(Usage, f64), ChatError> {
        let sql = format!("SELECT {TOTALS} FROM model_calls WHERE user_id = $1 AND created_ms >= $2 AND on_server_key >= $3");
        let row: TotalsRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user.as_str())
            .bind(since_ms)
            .bind(i64::from(server_key_only))
            .fetch_one(self.db.pool())
            .await
            .map_err(db)?;
        Ok(row.totals())
    }

    /// The administrator's budget on the server's key; no limits until one is saved.
    pub async fn server_key_budget(&self) -> Result<ServerKeyBudget, ChatError> {
        let row: Option<(Option<f64>, Option<f64>)> = sqlx::query_as("SELECT daily_usd, monthly_usd FROM server_key_budget WHERE id = 1")
            .fetch_optional(self.db.pool())
            .await
            .map_err(db)?;
        Ok(row.map(|(daily_usd, monthly_usd)| ServerKeyBudget { daily_usd, monthly_usd }).unwrap_or_default())
    }

    pub async fn save_server_key_budget(&self, budget: &ServerKeyBudget) -> Result<(), ChatError> {
        sqlx::query(
            "INSERT INTO server_key_budget (id, daily_usd, monthly_usd, saved_ms) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET daily_usd = excluded.daily_usd, monthly_usd = excluded.monthly_usd, saved_ms = excluded.saved_ms",
        )
        .bind(budget.daily_usd)
        .bind(budget.monthly_usd)
        .bind(now_ms())
        .execute(self.db.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    pub async fn preferences(&self, user: &UserId) -> Result<ChatPreferences, ChatError> {
        let row: Option<PreferencesRow> =
            sqlx::query_as("SELECT approval_policy, daily_budget_usd, monthly_budget_usd FROM chat_preferences WHERE user_id = $1")
                .bind(user.as_str())
                .fetch_optional(self.db.pool())
                .await
                .map_err(db)?;
        Ok(row
            .map(|r| ChatPreferences {
                approval_policy: ApprovalPolicy::parse(&r.approval_policy).unwrap_or_default(),
                daily_budget_usd: r.daily_budget_usd,
                monthly_budget_usd: r.monthly_budget_usd,
            })
            .unwrap_or_default())
    }

    pub async fn save_preferences(&self, user: &UserId, preferences: &ChatPreferences) -> Result<(), ChatError> {
        sqlx::query(
            "INSERT INTO chat_preferences (user_id, approval_policy, daily_budget_usd, monthly_budget_usd, saved_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET approval_policy = excluded.approval_policy, \
             daily_budget_usd = excluded.daily_budget_usd, monthly_budget_usd = excluded.monthly_budget_usd, saved_ms = excluded.saved_ms",
        )
        .bind(user.as_str())
        .bind(preferences.approval_policy.as_str())
        .bind(preferences.daily_budget_usd)
        .bind(preferences.monthly_budget_usd)
        .bind(now_ms())
        .execute(self.db.pool())
        .await
        .map_err(db)?;
        Ok(())
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds a usage's counts in the order of the tables' columns: input, cached, output, thinking.
fn bind_usage<'q>(query: AnyQuery<'q>, usage: &Usage) -> AnyQuery<'q> {
    let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    query
        .bind(tokens(usage.input_tokens))
        .bind(tokens(usage.cached_tokens))
        .bind(tokens(usage.output_tokens))
        .bind(tokens(usage.thinking_tokens))
}

fn db(e: sqlx::Error) -> ChatError {
    ChatError::Db(e.into())
}

/// A serde unit variant's name, as `rename_all = "snake_case"` writes it.
pub(crate) fn enum_to_string<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn enum_from_str<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(Value::String(text.to_owned())).ok()
}
