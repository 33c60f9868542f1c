//! The agent loop: one turn answers one user message, step by step. Each step sends the
//! conversation to the model; the tool calls it asks for run at once (in parallel) when they
//! only read or the user allowed them, or wait for the user's approval, which ends the turn
//! until the answer resumes it. A turn stops at its step limit, or when the user cancels.

use std::sync::Arc;

use serde_json::{Value, json};

use super::live::Running;
use super::prompt;
use super::store::{ConversationId, NewMessage, StoredCall, StoredMessage, enum_to_string};
use super::{ChatError, Inner};
use crate::analytics::event::{NEW_MESSAGE_TURN, RESUMED_TURN};
use crate::analytics::{Event, EventKind};
use crate::auth::UserId;
use crate::llm::{EndpointOrigin, LlmEndpoint, Provider, Reply, Request, ToolSpec};
use crate::model::analytics::ToolSource;
use crate::model::auth::Scope;
use crate::model::chat::{ApprovalPolicy, MessageStatus, Role, ToolCallState};
use crate::shown::Shown;
use crate::tools::ToolContext;

/// What the model is told when the user says no.
pub(crate) const DENIED: &str = "The user denied this call, so nothing was changed. Don't try it again in another way; tell the user what was not done.";
/// The most tool calls one model step may make; a reply asking for more gets the rest refused.
pub(crate) const MAX_CALLS_PER_STEP: usize = 32;
const TOO_MANY_CALLS: &str = "Not run: one step may make at most 32 tool calls, and this reply asked for more. Make the calls still needed in the next step, at most 32 at once.";
const READ_ONLY_POLICY: &str = "The user's settings let the chat read but never change data, so this call was not made. Tell the user what change is needed; they can make it themselves or allow changes in Settings → Chat.";

/// One running turn of one conversation.
pub(crate) struct Turn {
    pub inner: Arc<Inner>,
    pub user: UserId,
    pub scope: Scope,
    pub conversation: ConversationId,
    pub running: Arc<Running>,
    /// Whether this turn goes on after an approval rather than answering a new message.
    pub resumed: bool,
    /// What the turn's messages added up to, for its analytics event.
    pub tally: std::sync::Mutex<Tally>,
}

/// The provider, model, tokens, cost and error of a turn's messages so far.
#[derive(Default)]
pub(crate) struct Tally {
    provider: Option<&'static str>,
    model: Option<String>,
    tokens: u64,
    cost_usd: f64,
    error: Option<String>,
}

/// What a step decided.
enum Next {
    Continue,
    Finish(MessageStatus),
}

/// Fixed for the whole turn: who answers, with which tools, reading which base.
struct Setup {
    endpoint: LlmEndpoint,
    provider: Arc<dyn Provider>,
    system: String,
    base_id: Option<String>,
    tools: Vec<ToolSpec>,
    tool_context: Result<ToolContext, String>,
    policy: ApprovalPolicy,
    allowed_tools: Vec<String>,
}

impl Turn {
    /// Runs the turn to its end and tells the listeners how it ended.
    pub async fn run(self) -> MessageStatus {
        let started = std::time::Instant::now();
        let status = match self.steps().await {
            Ok(status) => status,
            Err(e) => {
                tracing::error!(error = %e, conversation.id = self.conversation.as_str(), "a chat turn failed");
                let message = "Something went wrong on our side while answering. Send your message again; if it keeps happening, check the server log.";
                let _ = self.append_failure("", message, None).await;
                MessageStatus::Failed
            }
        };
        self.inner.live.finish(self.conversation.as_str(), status);
        self.record(status, started.elapsed());
        status
    }

    /// The turn's analytics event: named by its provider, with its tokens, cost and outcome.
    fn record(&self, status: MessageStatus, took: std::time::Duration) {
        let tally = std::mem::take(&mut *self.tally.lock().expect("the tally is never left half-updated"));
        let outcome = enum_to_string(&status);
        let mut event = Event::new(EventKind::ChatTurn, tally.provider.unwrap_or("none")).by(Some(self.user.as_str())).took(took);
        if status == MessageStatus::Failed {
            event = event.failed(tally.error.unwrap_or_else(|| "the turn failed".into()));
        }
        self.inner.analytics.record(Event {
            source: if self.resumed { RESUMED_TURN } else { NEW_MESSAGE_TURN }.into(),
            conversation_id: Some(self.conversation.as_str().to_owned()),
            model: tally.model,
            outcome,
            tokens: i64::try_from(tally.tokens).unwrap_or(i64::MAX),
            cost_usd: tally.cost_usd,
            ..event
        });
    }

    async fn steps(&self) -> Result<MessageStatus, ChatError> {
        let setup = match self.setup().await {
            Ok(setup) => setup,
            Err(problem) => {
                self.append_failure("", &problem, None).await?;
                return Ok(MessageStatus::Failed);
            }
        };
        loop {
            let messages = self.inner.store.messages(&self.user, &self.conversation).await?;
            let Some(last) = messages.last() else { return Ok(MessageStatus::Complete) };
            if last.role == Role::Assistant {
                if last.tool_calls.is_empty() {
                    return Ok(last.status);
                }
                if last.tool_calls.iter().any(|c| c.state == ToolCallState::AwaitingApproval) {
                    return Ok(MessageStatus::AwaitingApproval);
                }
                if last.tool_calls.iter().any(|c| c.state == ToolCallState::Running) {
                    self.run_calls(last, &setup).await?;
                    continue;
                }
                if self.running.cancel.is_cancelled() {
                    self.inner.store.update_message(&self.user, &last.id, &last.tool_calls, MessageStatus::Cancelled).await?;
                    self.running.changed();
                    return Ok(MessageStatus::Cancelled);
                }
            }
            let steps = messages.iter().rev().take_while(|m| m.role == Role::Assistant).count();
            if steps >= self.inner.settings.max_steps {
                let text = format!(
                    "I stopped after {steps} steps, the most one message may take. Say “go on” if there is more to do, or ask in smaller parts."
                );
                self.append(NewMessage { status: MessageStatus::StepLimit, ..NewMessage::assistant(&text) }).await?;
                return Ok(MessageStatus::StepLimit);
            }
            if let Next::Finish(status) = self.step(&messages, &setup).await? {
                return Ok(status);
            }
        }
    }

    async fn setup(&self) -> Result<Setup, String> {
        let inner = &self.inner;
        let endpoint = inner.llm_settings.endpoint(&self.user).await.map_err(|e| e.shown())?;
        let provider = inner.llm.provider(&endpoint);
        let conversation = inner.store.conversation(&self.user, &self.conversation).await.map_err(|e| e.shown())?;
        let preferences = inner.store.preferences(&self.user).await.map_err(|e| e.shown())?;
        let connection = inner.connections.for_user(&self.user).await.map_err(|e| e.shown());
        let system = match (&conversation.base_id, &connection) {
            (None, _) => prompt::system(None),
            (Some(id), Err(problem)) => prompt::system(Some((id, id, Err(problem.clone())))),
            (Some(id), Ok(connection)) => {
                let base = crate::model::airtable::BaseId::parse(id).map_err(|e| e.to_string())?;
                let name = connection.client.list_bases().await.ok().and_then(|bases| bases.into_iter().find(|b| b.id == base).map(|b| b.name));
                let schema = connection.client.base_schema(&base).await;
                prompt::system(Some((id, name.as_deref().unwrap_or(id), schema.as_deref().map_err(|e| e.to_string()))))
            }
        };
        let read_only = preferences.approval_policy == ApprovalPolicy::ReadOnly;
        let tools = inner
            .catalog
            .list(self.scope)
            .into_iter()
            .filter(|info| !read_only || info.annotations.read_only_hint)
            .map(|info| ToolSpec { name: info.name.clone(), description: info.description.clone(), parameters: info.input_schema.clone() })
            .collect();
        Ok(Setup {
            endpoint,
            provider,
            system,
            base_id: conversation.base_id.clone(),
            tools,
            tool_context: connection
                .map(|c| ToolContext::new(c.client, ToolSource::Chat, Some(self.user.as_str().to_owned())).in_conversation(self.conversation.as_str())),
            policy: preferences.approval_policy,
            allowed_tools: conversation.allowed_tools(),
        })
    }

    /// One call to the model, streamed to the listeners, and its answer saved.
    async fn step(&self, messages: &[StoredMessage], setup: &Setup) -> Result<Next, ChatError> {
        let request = Request {
            model: setup.endpoint.model.clone(),
            system: setup.system.clone(),
            messages: prompt::history(messages, self.inner.settings.history_tokens),
            tools: setup.tools.clone(),
            base_id: setup.base_id.clone(),
        };
        let (sink, mut pieces) = tokio::sync::mpsc::unbounded_channel::<String>();
        let mut partial = String::new();
        let answer = setup.provider.stream(&request, &sink);
        tokio::pin!(answer);
        let outcome = loop {
            tokio::select! {
                biased;
                () = self.running.cancel.cancelled() => break None,
                Some(piece) = pieces.recv() => {
                    self.running.text(&piece);
                    partial.push_str(&piece);
                }
                result = &mut answer => break Some(result),
            }
        };
        match outcome {
            None => {
                self.append(NewMessage { status: MessageStatus::Cancelled, ..self.from(setup, &partial) }).await?;
                Ok(Next::Finish(MessageStatus::Cancelled))
            }
            Some(Err(e)) => {
                tracing::warn!(provider = setup.endpoint.provider.as_str(), error = %e, "the LLM call failed");
                self.append_failure(&partial, &e.to_string(), Some(setup)).await?;
                Ok(Next::Finish(MessageStatus::Failed))
            }
            Some(Ok(reply)) => self.save_reply(reply, setup).await,
        }
    }

    async fn save_reply(&self, reply: Reply, setup: &Setup) -> Result<Next, ChatError> {
        if reply.tool_calls.len() > MAX_CALLS_PER_STEP {
            tracing::warn!(conversation.id = self.conversation.as_str(), calls = reply.tool_calls.len(), "a model step asked for too many tool calls; refused the rest");
        }
        let calls: Vec<StoredCall> = reply
            .tool_calls
            .into_iter()
            .enumerate()
            .map(|(position, call)| {
                let (state, result, arguments) = if position < MAX_CALLS_PER_STEP {
                    let (state, result) = self.decide(&call.name, setup);
                    (state, result, call.arguments)
                } else {
                    // Kept, so that every call the model made gets its result, but kept small.
                    (ToolCallState::Failed, Some(json!({ "error": TOO_MANY_CALLS })), json!({}))
                };
                StoredCall { id: call.id, name: call.name, arguments, signature: call.signature, state, result }
            })
            .collect();
        let awaiting = calls.iter().any(|c| c.state == ToolCallState::AwaitingApproval);
        let cost_usd = self.inner.settings.prices.cost(&setup.endpoint.model, &reply.usage);
        let message = NewMessage {
            tool_calls: &calls,
            status: if awaiting { MessageStatus::AwaitingApproval } else { MessageStatus::Complete },
            usage: reply.usage,
            cost_usd,
            ..self.from(setup, &reply.text)
        };
        self.append(message).await?;
        Ok(if calls.is_empty() { Next::Finish(MessageStatus::Complete) } else { Next::Continue })
    }

    /// Whether a call runs now, waits for the user, or is refused by their policy.
    fn decide(&self, tool: &str, setup: &Setup) -> (ToolCallState, Option<Value>) {
        let reads = self.inner.catalog.info(tool).is_none_or(|info| info.annotations.read_only_hint);
        match setup.policy {
            _ if reads => (ToolCallState::Running, None),
            ApprovalPolicy::ReadOnly => (ToolCallState::Denied, Some(json!({ "error": READ_ONLY_POLICY }))),
            ApprovalPolicy::AutoApproveWrites => (ToolCallState::Running, None),
            ApprovalPolicy::AlwaysAsk if setup.allowed_tools.iter().any(|t| t == tool) => (ToolCallState::Running, None),
            ApprovalPolicy::AlwaysAsk => (ToolCallState::AwaitingApproval, None),
        }
    }

    /// Runs the step's allowed calls together and saves each one's result.
    async fn run_calls(&self, message: &StoredMessage, setup: &Setup) -> Result<(), ChatError> {
        let mut calls = message.tool_calls.clone();
        let runs = calls.iter().filter(|c| c.state == ToolCallState::Running).map(|call| async {
            let context = setup.tool_context.as_ref().map_err(Clone::clone)?;
            self.inner.catalog.call(context, self.scope, &call.name, call.arguments.clone()).await.map_err(|e| e.shown())
        });
        let results = futures::future::join_all(runs).await;
        for (call, result) in calls.iter_mut().filter(|c| c.state == ToolCallState::Running).zip(results) {
            (call.state, call.result) = match result {
                Ok(value) => (ToolCallState::Done, Some(value)),
                Err(error) => (ToolCallState::Failed, Some(json!({ "error": error }))),
            };
        }
        self.inner.store.update_message(&self.user, &message.id, &calls, message.status).await?;
        self.running.changed();
        Ok(())
    }

    /// An assistant message from this turn's provider.
    fn from<'a>(&self, setup: &'a Setup, text: &'a str) -> NewMessage<'a> {
        NewMessage {
            provider: Some(setup.endpoint.provider),
            model: Some(&setup.endpoint.model),
            on_server_key: setup.endpoint.origin == EndpointOrigin::Server,
            ..NewMessage::assistant(text)
        }
    }

    async fn append_failure(&self, partial: &str, error: &str, setup: Option<&Setup>) -> Result<(), ChatError> {
        let base = match setup {
            Some(setup) => self.from(setup, partial),
            None => NewMessage::assistant(partial),
        };
        self.append(NewMessage { status: MessageStatus::Failed, error: Some(error), ..base }).await
    }

    async fn append(&self, message: NewMessage<'_>) -> Result<(), ChatError> {
        self.inner.store.append(&self.user, &self.conversation, &message).await?;
        {
            let mut tally = self.tally.lock().expect("the tally is never left half-updated");
            tally.tokens += message.usage.total();
            tally.cost_usd += message.cost_usd;
            if let Some(provider) = message.provider {
                tally.provider = Some(provider.as_str());
            }
            if let Some(model) = message.model {
                tally.model = Some(model.to_owned());
            }
            if let Some(error) = message.error {
                tally.error = Some(error.to_owned());
            }
        }
        self.running.changed();
        Ok(())
    }
}
