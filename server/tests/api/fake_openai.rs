//! A local server that answers as OpenAI's chat-completions API does, from a script: each
//! request takes the next scripted [`FakeReply`] (or one computed from the request), and every
//! request is kept for the test to read (unless the builder says to forget them).
//!
//! ```ignore
//! let fake = FakeOpenAi::start(vec![FakeReply::call("list_tables", json!({})), FakeReply::text("Done.")]).await;
//! let provider = Llm::new(HttpPolicy::default()).provider(&fake.endpoint(None));
//! // … then fake.requests() holds the bodies sent.
//! ```

// Each test binary (and a benchmark, through `#[path]`) uses only part of this.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use backend::llm::LlmEndpoint;
use backend::model::llm::LlmProvider;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The model `endpoint` names.
pub const FAKE_MODEL: &str = "gpt-4o-mini";

/// A running fake; it stops when dropped, and ends any answer left hanging.
pub struct FakeOpenAi {
    /// `http://127.0.0.1:<port>/v1`: what Settings calls the endpoint.
    pub base_url: String,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

/// A [`FakeOpenAi`] with options; see [`FakeOpenAi::builder`].
#[derive(Default)]
pub struct FakeOpenAiBuilder {
    key: Option<String>,
    forget_requests: bool,
}

/// What one request was sent with.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub body: Value,
    /// The token after `Authorization: Bearer`, if any.
    pub bearer: Option<String>,
}

impl FakeOpenAi {
    /// Answers requests with `replies`, in order, and any key or none. A request past the last
    /// reply gets a 400 saying so.
    pub async fn start(replies: Vec<FakeReply>) -> Self {
        Self::builder().start(replies).await
    }

    /// Answers each request with what `script` makes of its JSON body.
    pub async fn answering(script: impl Fn(&Value) -> FakeReply + Send + Sync + 'static) -> Self {
        Self::builder().answering(script).await
    }

    /// A fake with a required key or without request recording; finish with `start` or
    /// `answering`.
    pub fn builder() -> FakeOpenAiBuilder {
        FakeOpenAiBuilder::default()
    }

    /// A fake that answers 401, as OpenAI does, unless sent `Authorization: Bearer <key>`;
    /// short for `builder().key(key)`.
    pub fn requiring_key(key: &str) -> FakeOpenAiBuilder {
        Self::builder().key(key)
    }

    /// An endpoint for this fake, with `api_key` if given, as the server's configuration gives
    /// one (a user's own endpoint is `origin: EndpointOrigin::User`).
    pub fn endpoint(&self, api_key: Option<&str>) -> LlmEndpoint {
        LlmEndpoint {
            provider: LlmProvider::OpenaiCompatible,
            model: FAKE_MODEL.into(),
            base_url: Some(self.base_url.parse().expect("the fake's address parses")),
            api_key: api_key.map(|k| secrecy::SecretString::from(k.to_owned())),
            origin: backend::llm::EndpointOrigin::Server,
        }
    }

    /// Queues one more reply after those not yet taken (for a fake made by `start`).
    pub fn push(&self, reply: FakeReply) {
        match &self.shared.script {
            Script::Queue(queue) => queue.lock().unwrap().push_back(reply),
            Script::Function(_) => panic!("this fake computes its replies; it has no queue to add to"),
        }
    }

    /// The JSON bodies of every request so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Value> {
        self.seen().into_iter().map(|s| s.body).collect()
    }

    /// Every request so far, with the key it carried.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// How many requests arrived, recorded or not.
    pub fn request_count(&self) -> usize {
        self.shared.count.load(Ordering::SeqCst)
    }

    /// How many scripted replies no request has taken yet.
    pub fn unused_replies(&self) -> usize {
        match &self.shared.script {
            Script::Queue(queue) => queue.lock().unwrap().len(),
            Script::Function(_) => 0,
        }
    }
}

impl FakeOpenAiBuilder {
    /// Answers 401, as OpenAI does, unless sent `Authorization: Bearer <key>`.
    pub fn key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }

    /// Keeps no request bodies, so that a benchmark's thousands of requests don't pile up.
    pub fn forget_requests(mut self) -> Self {
        self.forget_requests = true;
        self
    }

    pub async fn start(self, replies: Vec<FakeReply>) -> FakeOpenAi {
        self.spawn(Script::Queue(Mutex::new(replies.into()))).await
    }

    pub async fn answering(self, script: impl Fn(&Value) -> FakeReply + Send + Sync + 'static) -> FakeOpenAi {
        self.spawn(Script::Function(Box::new(script))).await
    }

    async fn spawn(self, script: Script) -> FakeOpenAi {
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            script,
            key: self.key,
            keep_requests: !self.forget_requests,
            seen: Mutex::default(),
            count: AtomicUsize::new(0),
            stop,
        });
        let router = axum::Router::new().route("/v1/chat/completions", post(complete)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port for the fake");
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("the fake OpenAI server runs");
        });
        FakeOpenAi { base_url, shared, server }
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
        self.server.abort();
    }
}

/// One scripted answer: text, tool calls, or an error, and when and how it is sent.
#[derive(Debug, Clone, Default)]
pub struct FakeReply {
    text: String,
    calls: Vec<(String, Value)>,
    usage: Option<FakeUsage>,
    status: Option<u16>,
    delay: Duration,
    chunk_delay: Duration,
    hang: Option<Hang>,
    interleaved: bool,
}

/// Token counts as OpenAI reports them: cached tokens are part of `prompt_tokens`, reasoning
/// tokens part of `completion_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FakeUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hang {
    /// Nothing is ever sent, not even the status line.
    Silent,
    /// A stream sends its chunks, then stays open; an answer sent whole is never sent.
    AfterChunks,
}

impl FakeReply {
    /// An answer of `text`, streamed a word at a time.
    pub fn text(text: &str) -> Self {
        Self { text: text.into(), ..Self::default() }
    }

    /// A call of the tool `name`; add more with [`FakeReply::and_call`] for parallel calls.
    /// Call IDs are `call_<request>_<n>`, counting from 1 and 0.
    pub fn call(name: &str, arguments: Value) -> Self {
        Self::default().and_call(name, arguments)
    }

    /// One more call in the same answer (after any text).
    pub fn and_call(mut self, name: &str, arguments: Value) -> Self {
        self.calls.push((name.into(), arguments));
        self
    }

    /// OpenAI's error answer for `status`: 401 `invalid_api_key`, 429 `rate_limit_exceeded`,
    /// 404 `model_not_found`, 500 `server_error`, 503 overloaded, 400 otherwise.
    pub fn error(status: u16) -> Self {
        Self { status: Some(status), ..Self::default() }
    }

    /// A request that is taken in but never answered (to test timeouts and cancelling).
    pub fn no_answer() -> Self {
        Self { hang: Some(Hang::Silent), ..Self::default() }
    }

    /// Once the text and calls are streamed, the stream stays open instead of ending.
    pub fn then_hang(mut self) -> Self {
        self.hang = Some(Hang::AfterChunks);
        self
    }

    /// These counts instead of an estimate from the lengths of the request and answer.
    pub fn usage(mut self, usage: FakeUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Waits this long before answering at all.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// Waits this long before each streamed chunk.
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Streams parallel calls' fragments taking turns, the last call first, instead of one call
    /// after the other as OpenAI does.
    pub fn interleaved(mut self) -> Self {
        self.interleaved = true;
        self
    }
}

struct Shared {
    script: Script,
    key: Option<String>,
    keep_requests: bool,
    seen: Mutex<Vec<SeenRequest>>,
    /// Requests so far; it numbers them.
    count: AtomicUsize,
    stop: watch::Sender<bool>,
}

impl Shared {
    /// Returns once the fake is dropped.
    async fn stopped(&self) {
        let mut stop = self.stop.subscribe();
        let _ = stop.wait_for(|stopped| *stopped).await;
    }
}

enum Script {
    Queue(Mutex<VecDeque<FakeReply>>),
    Function(Box<dyn Fn(&Value) -> FakeReply + Send + Sync>),
}

async fn complete(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let number = shared.count.fetch_add(1, Ordering::SeqCst) + 1;
    if shared.keep_requests {
        let body = parsed.clone().unwrap_or_else(|| Value::String(String::from_utf8_lossy(&body).into_owned()));
        shared.seen.lock().unwrap().push(SeenRequest { body, bearer: bearer.clone() });
    }
    if let Some(key) = &shared.key
        && bearer.as_deref() != Some(key.as_str())
    {
        return key_refused(bearer.as_deref());
    }
    let Some(request) = parsed else {
        let message = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)";
        return error_response(400, message, "invalid_request_error", Value::Null);
    };
    let reply = match &shared.script {
        Script::Function(script) => script(&request),
        Script::Queue(queue) => match queue.lock().unwrap().pop_front() {
            Some(reply) => reply,
            None => {
                let message = format!("fake_openai has no scripted reply left for request {number}: give it one more FakeReply");
                return error_response(400, &message, "invalid_request_error", Value::Null);
            }
        },
    };

    if reply.hang == Some(Hang::Silent) {
        shared.stopped().await;
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    tokio::time::sleep(reply.delay).await;
    let model = request["model"].as_str().unwrap_or(FAKE_MODEL).to_owned();
    if let Some(status) = reply.status {
        return scripted_error(status, &model);
    }
    let answer = Answer::new(&reply, number, model, body.len());
    if request["stream"] == json!(true) {
        let include_usage = request["stream_options"]["include_usage"] == json!(true);
        stream(shared, reply, answer, include_usage)
    } else if reply.hang.is_some() {
        shared.stopped().await;
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    } else {
        axum::Json(answer.whole()).into_response()
    }
}

/// What both answer shapes are made of.
struct Answer {
    id: String,
    created: u64,
    model: String,
    text: String,
    /// ID, name and arguments as the JSON string the API sends.
    calls: Vec<(String, String, String)>,
    usage: FakeUsage,
}

impl Answer {
    fn new(reply: &FakeReply, number: usize, model: String, request_bytes: usize) -> Self {
        let calls: Vec<(String, String, String)> = reply
            .calls
            .iter()
            .enumerate()
            .map(|(i, (name, arguments))| (format!("call_{number}_{i}"), name.clone(), arguments.to_string()))
            .collect();
        let answer_bytes = reply.text.len() + calls.iter().map(|(_, n, a)| n.len() + a.len()).sum::<usize>();
        // Roughly four bytes a token, as OpenAI's own rule of thumb goes.
        let usage = reply.usage.unwrap_or(FakeUsage {
            prompt_tokens: (request_bytes / 4) as u64,
            completion_tokens: (answer_bytes / 4 + 1) as u64,
            ..FakeUsage::default()
        });
        let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Self { id: format!("chatcmpl-fake{number}"), created, model, text: reply.text.clone(), calls, usage }
    }

    fn finish_reason(&self) -> &'static str {
        if self.calls.is_empty() { "stop" } else { "tool_calls" }
    }

    fn usage(&self) -> Value {
        let u = self.usage;
        json!({
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": u.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": u.reasoning_tokens, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
            },
        })
    }

    /// A `chat.completion` object.
    fn whole(&self) -> Value {
        let mut message = json!({
            "role": "assistant",
            "content": if self.text.is_empty() { Value::Null } else { json!(self.text) },
            "refusal": null,
            "annotations": [],
        });
        if !self.calls.is_empty() {
            let calls: Vec<Value> = self
                .calls
                .iter()
                .map(|(id, name, arguments)| json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}))
                .collect();
            message["tool_calls"] = json!(calls);
        }
        json!({
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": self.finish_reason()}],
            "usage": self.usage(),
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        })
    }

    /// The `chat.completion.chunk`s of a streamed answer, the usage chunk last when asked for.
    fn chunks(&self, interleaved: bool, include_usage: bool) -> Vec<Value> {
        let first = json!({"role": "assistant", "content": if self.text.is_empty() { Value::Null } else { json!("") }});
        let mut deltas = vec![first];
        deltas.extend(self.text.split_inclusive(' ').map(|word| json!({"content": word})));
        deltas.extend(self.call_deltas(interleaved));

        let mut chunks: Vec<Value> = deltas.into_iter().map(|delta| self.chunk(delta, Value::Null, include_usage)).collect();
        chunks.push(self.chunk(json!({}), json!(self.finish_reason()), include_usage));
        if include_usage {
            chunks.push(json!({
                "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "system_fingerprint": "fp_fake", "choices": [], "usage": self.usage(),
            }));
        }
        chunks
    }

    fn chunk(&self, delta: Value, finish_reason: Value, include_usage: bool) -> Value {
        let mut chunk = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        });
        if include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }

    /// Each call's first fragment (ID, name, no arguments), then its arguments a few
    /// characters at a time.
    fn call_deltas(&self, interleaved: bool) -> Vec<Value> {
        let mut per_call: Vec<VecDeque<Value>> = self
            .calls
            .iter()
            .enumerate()
            .map(|(index, (id, name, arguments))| {
                let start = json!({"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}});
                let chars: Vec<char> = arguments.chars().collect();
                let pieces = chars.chunks(6).map(|piece| json!({"index": index, "function": {"arguments": piece.iter().collect::<String>()}}));
                std::iter::once(start).chain(pieces).collect()
            })
            .collect();
        let mut fragments = Vec::new();
        if interleaved {
            while per_call.iter().any(|c| !c.is_empty()) {
                for call in per_call.iter_mut().rev() {
                    fragments.extend(call.pop_front());
                }
            }
        } else {
            fragments.extend(per_call.into_iter().flatten());
        }
        fragments.into_iter().map(|fragment| json!({"tool_calls": [fragment]})).collect()
    }
}

fn stream(shared: Arc<Shared>, reply: FakeReply, answer: Answer, include_usage: bool) -> Response {
    let (events, body) = futures::channel::mpsc::unbounded::<Result<String, Infallible>>();
    tokio::spawn(async move {
        for chunk in answer.chunks(reply.interleaved, include_usage) {
            tokio::time::sleep(reply.chunk_delay).await;
            if events.unbounded_send(Ok(format!("data: {chunk}\n\n"))).is_err() {
                return; // the client hung up
            }
        }
        if reply.hang.is_some() {
            shared.stopped().await;
            return;
        }
        let _ = events.unbounded_send(Ok("data: [DONE]\n\n".into()));
    });
    ([(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")], Body::from_stream(body)).into_response()
}

/// OpenAI's 401 for a missing or wrong key.
fn key_refused(bearer: Option<&str>) -> Response {
    match bearer {
        None => error_response(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Value::Null,
        ),
        Some(key) => {
            // OpenAI shows the start and end of the key it refused, never the whole of it.
            let chars: Vec<char> = key.chars().collect();
            let masked = match chars.len() {
                n if n > 8 => format!("{}****{}", chars[..3].iter().collect::<String>(), chars[n - 4..].iter().collect::<String>()),
                n => "*".repeat(n),
            };
            let message = format!("Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys.");
            error_response(401, &message, "invalid_request_error", json!("invalid_api_key"))
        }
    }
}

fn scripted_error(status: u16, model: &str) -> Response {
    match status {
        401 => key_refused(Some("sk-fake-rejected-key")),
        404 => error_response(
            404,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            json!("model_not_found"),
        ),
        429 => error_response(
            429,
            &format!("Rate limit reached for {model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s."),
            "requests",
            json!("rate_limit_exceeded"),
        ),
        500 => error_response(500, "The server had an error while processing your request. Sorry about that!", "server_error", Value::Null),
        503 => error_response(503, "The engine is currently overloaded, please try again later.", "server_error", Value::Null),
        status => error_response(status, "Invalid request.", "invalid_request_error", Value::Null),
    }
}

fn error_response(status: u16, message: &str, kind: &str, code: Value) -> Response {
    let status = StatusCode::from_u16(status).expect("a valid HTTP status");
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": code}});
    (status, axum::Json(body)).into_response()
}
