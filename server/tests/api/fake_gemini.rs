//! A local stand-in for Google's Gemini REST API: `POST /v1beta/models/{model}:generateContent`
//! and `:streamGenerateContent` (server-sent events with `alt=sse`, else one JSON array). It
//! checks the `x-goog-api-key` header, answers from a script the test gives, one answer a call,
//! and keeps every request it received so the test can check what was sent.
//!
//! ```ignore
//! let gemini = FakeGemini::start(vec![
//!     Answer::call("list_tables", json!({"base_id": "appAAAAAAAAAAAAAA"})).signed("c2ln"),
//!     Answer::text("There are two tables.").usage(120, 0, 8, 30),
//! ])
//! .await;
//! // Point the provider at gemini.base_url with FakeGemini::API_KEY, then:
//! assert_eq!(gemini.requests()[1].body["contents"][2]["parts"][0]["functionResponse"]["name"], "list_tables");
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::{Json, Router};
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use backend::llm::LlmEndpoint;
use backend::model::llm::LlmProvider;
use serde_json::{Value, json};

/// One scripted answer: a model turn, or an error status with Google's error JSON.
#[derive(Debug, Clone)]
pub struct Answer(Scripted);

#[derive(Debug, Clone)]
enum Scripted {
    Turn { pieces: Vec<Piece>, usage: Usage },
    Error(StatusCode),
}

/// What a turn says, in order. Streamed, each piece is a chunk of its own.
#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Call { name: String, args: Value, signature: Option<String> },
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    prompt: u64,
    cached: u64,
    candidates: u64,
    thoughts: u64,
}

impl Answer {
    /// A turn that says `text`.
    pub fn text(text: &str) -> Self {
        Self::turn(Piece::Text(text.into()))
    }

    /// A turn that calls the function `name` with `args`, with no thought signature.
    pub fn call(name: &str, args: Value) -> Self {
        Self::turn(Piece::Call { name: name.into(), args, signature: None })
    }

    /// An error as Google sends it for `status`: 429 `RESOURCE_EXHAUSTED`, 503 `UNAVAILABLE`…
    pub fn error(status: u16) -> Self {
        Self(Scripted::Error(StatusCode::from_u16(status).expect("an HTTP status")))
    }

    /// More text after what the turn says so far.
    pub fn then_text(self, text: &str) -> Self {
        self.push(Piece::Text(text.into()))
    }

    /// Another call after what the turn says so far: several calls are parallel calls.
    pub fn then_call(self, name: &str, args: Value) -> Self {
        self.push(Piece::Call { name: name.into(), args, signature: None })
    }

    /// Puts a `thoughtSignature` on the turn's last call, as a thinking model does.
    pub fn signed(mut self, signature: &str) -> Self {
        if let Scripted::Turn { pieces, .. } = &mut self.0 {
            match pieces.iter_mut().rev().find(|p| matches!(p, Piece::Call { .. })) {
                Some(Piece::Call { signature: slot, .. }) => *slot = Some(signature.into()),
                _ => panic!("signed() needs a call before it"),
            }
        }
        self
    }

    /// The token counts the turn reports in `usageMetadata` (the default is 10 in and 5 out).
    pub fn usage(mut self, prompt: u64, cached: u64, candidates: u64, thoughts: u64) -> Self {
        if let Scripted::Turn { usage, .. } = &mut self.0 {
            *usage = Usage { prompt, cached, candidates, thoughts };
        }
        self
    }

    fn turn(piece: Piece) -> Self {
        Self(Scripted::Turn { pieces: vec![piece], usage: Usage { prompt: 10, cached: 0, candidates: 5, thoughts: 0 } })
    }

    fn push(mut self, piece: Piece) -> Self {
        if let Scripted::Turn { pieces, .. } = &mut self.0 {
            pieces.push(piece);
        }
        self
    }
}

/// A request the fake received, key checks and errors included.
#[derive(Debug, Clone)]
pub struct Received {
    /// With its query, e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`.
    pub path: String,
    /// The JSON body, or `null` if it wasn't JSON.
    pub body: Value,
}

/// A running fake, until the test's runtime ends.
pub struct FakeGemini {
    /// What an endpoint's `base_url` should be, e.g. `http://127.0.0.1:41234/v1beta`.
    pub base_url: String,
    shared: Arc<Shared>,
}

struct Shared {
    script: Mutex<VecDeque<Answer>>,
    received: Mutex<Vec<Received>>,
}

impl FakeGemini {
    /// The only key the fake accepts.
    pub const API_KEY: &'static str = "AIzaSyFakeGeminiKeyForTests0000000000";

    /// Starts a fake that gives `script`'s answers in order, one per request.
    pub async fn start(script: Vec<Answer>) -> Self {
        let shared = Arc::new(Shared { script: Mutex::new(script.into()), received: Mutex::new(Vec::new()) });
        let app = Router::new().route("/v1beta/models/{call}", post(generate)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("a bound address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base_url: format!("http://{address}/v1beta"), shared }
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// A Gemini endpoint on this fake with its key, as the server's configuration gives one
    /// (a user's own endpoint is `origin: EndpointOrigin::User`).
    pub fn endpoint(&self) -> LlmEndpoint {
        LlmEndpoint {
            provider: LlmProvider::Gemini,
            model: "gemini-2.5-flash".into(),
            base_url: Some(self.base_url.parse().expect("the fake's address parses")),
            api_key: Some(Self::API_KEY.to_owned().into()),
            origin: backend::llm::EndpointOrigin::Server,
        }
    }
}

async fn generate(
    State(shared): State<Arc<Shared>>,
    Path(call): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    shared.received.lock().unwrap().push(Received { path: format!("/v1beta/models/{call}{query}"), body: body.clone() });

    match headers.get("x-goog-api-key").map(|k| k.to_str().unwrap_or_default()) {
        None => return google_error(StatusCode::FORBIDDEN, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."),
        Some(key) if key != FakeGemini::API_KEY => return bad_key(),
        Some(_) => {}
    }
    let Some((model, method)) = call.rsplit_once(':') else {
        return google_error(StatusCode::NOT_FOUND, "Method not found.");
    };
    let streaming = match method {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return google_error(StatusCode::NOT_FOUND, "Method not found."),
    };
    if body["contents"].as_array().is_none_or(Vec::is_empty) {
        return google_error(StatusCode::BAD_REQUEST, "* GenerateContentRequest.contents: contents is not specified\n");
    }
    let Some(Answer(answer)) = shared.script.lock().unwrap().pop_front() else {
        return google_error(StatusCode::BAD_REQUEST, "The fake Gemini has no scripted answer left for this request.");
    };
    let (pieces, usage) = match answer {
        Scripted::Error(status) => return google_error(status, default_message(status)),
        Scripted::Turn { pieces, usage } => (pieces, usage),
    };
    if !streaming {
        return Json(chunk(model, whole(&pieces), Some("STOP"), usage_json(usage, true))).into_response();
    }
    // Google counts the prompt in every chunk, and the answer so far; the last chunk is the total.
    let last = pieces.len().saturating_sub(1);
    let chunks: Vec<Value> = pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let done = i == last;
            chunk(model, vec![part(piece)], done.then_some("STOP"), usage_json(usage, done))
        })
        .collect();
    if query.contains("alt=sse") {
        let frames = chunks.into_iter().map(|c| Ok::<_, std::convert::Infallible>(format!("data: {c}\r\n\r\n")));
        ([(header::CONTENT_TYPE, "text/event-stream")], Body::from_stream(futures::stream::iter(frames))).into_response()
    } else {
        Json(Value::Array(chunks)).into_response()
    }
}

/// A whole answer's parts: neighbouring text joins into one part, as Google sends it.
fn whole(pieces: &[Piece]) -> Vec<Value> {
    let mut parts: Vec<Value> = Vec::new();
    for piece in pieces {
        match (piece, parts.last_mut()) {
            (Piece::Text(more), Some(Value::Object(last))) if last.contains_key("text") => {
                let joined = format!("{}{more}", last["text"].as_str().unwrap_or_default());
                last.insert("text".into(), joined.into());
            }
            (piece, _) => parts.push(part(piece)),
        }
    }
    parts
}

fn part(piece: &Piece) -> Value {
    match piece {
        Piece::Text(text) => json!({"text": text}),
        Piece::Call { name, args, signature: None } => json!({"functionCall": {"name": name, "args": args}}),
        Piece::Call { name, args, signature: Some(signature) } => {
            json!({"functionCall": {"name": name, "args": args}, "thoughtSignature": signature})
        }
    }
}

/// One `GenerateContentResponse`.
fn chunk(model: &str, parts: Vec<Value>, finish_reason: Option<&str>, usage: Value) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(reason) = finish_reason {
        candidate["finishReason"] = reason.into();
    }
    json!({"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": "fake-response"})
}

/// `usageMetadata`, in full, or with the prompt only as early chunks of a stream carry it.
fn usage_json(usage: Usage, complete: bool) -> Value {
    if !complete {
        return json!({"promptTokenCount": usage.prompt, "totalTokenCount": usage.prompt});
    }
    let mut json = json!({
        "promptTokenCount": usage.prompt,
        "candidatesTokenCount": usage.candidates,
        "totalTokenCount": usage.prompt + usage.candidates + usage.thoughts,
    });
    // Google leaves out counts that don't apply.
    if usage.cached > 0 {
        json["cachedContentTokenCount"] = usage.cached.into();
    }
    if usage.thoughts > 0 {
        json["thoughtsTokenCount"] = usage.thoughts.into();
    }
    json
}

fn bad_key() -> Response {
    let body = json!({"error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}],
    }});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        429 => "You exceeded your current quota, please check your plan and billing details.",
        500 => "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        503 => "The model is overloaded. Please try again later.",
        _ => "Request contains an invalid argument.",
    }
}

/// Google's error JSON: `{"error": {"code", "message", "status"}}`.
fn google_error(status: StatusCode, message: &str) -> Response {
    let name = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    let mut error = json!({"code": status.as_u16(), "message": message, "status": name});
    if status == StatusCode::TOO_MANY_REQUESTS {
        error["details"] = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]);
    }
    (status, Json(json!({"error": error}))).into_response()
}
