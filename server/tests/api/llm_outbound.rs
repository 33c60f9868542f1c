//! Where users' own LLM endpoints may send the server: no loopback, private, link-local or
//! metadata address (literal or behind a name) unless the administrator allowed the host, no
//! redirects, answers of bounded size, and errors that never repeat what the address answered.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode as AxumStatus, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use backend::db::Dialect;
use backend::llm::{
    AllowedHosts, EndpointOrigin, HttpPolicy, Llm, LlmEndpoint, LlmError, MAX_ANSWER_BYTES,
    Message, Request,
};
use backend::model::llm::LlmProvider;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_openai::{FakeOpenAi, FakeReply};
use crate::helpers::spawn_app_with;

/// What an internal service might answer, which must never reach a user.
const SECRET: &str = "AKIAINTERNALSECRET0123";

fn policy() -> HttpPolicy {
    HttpPolicy {
        retries: 0,
        first_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(20),
    }
}

fn request() -> Request {
    Request {
        model: "gpt-4o-mini".into(),
        system: "Be brief.".into(),
        messages: vec![Message::User("Hi".into())],
        tools: vec![],
        base_id: None,
    }
}

/// An endpoint a user saved in Settings.
fn users(base_url: &str) -> LlmEndpoint {
    LlmEndpoint {
        provider: LlmProvider::OpenaiCompatible,
        model: "gpt-4o-mini".into(),
        base_url: Some(base_url.parse().unwrap()),
        api_key: None,
        origin: EndpointOrigin::User,
    }
}

fn allowing(hosts: &str) -> Llm {
    Llm::with_allowed_hosts(policy(), AllowedHosts::parse(hosts).unwrap())
}

/// Both ways of asking, each expected to fail the same way.
async fn both_fail(llm: &Llm, endpoint: &LlmEndpoint) -> Vec<LlmError> {
    let provider = llm.provider(endpoint);
    let (sink, _pieces) = tokio::sync::mpsc::unbounded_channel();
    vec![
        provider.generate(&request()).await.unwrap_err(),
        provider.stream(&request(), &sink).await.unwrap_err(),
    ]
}

#[tokio::test]
async fn a_users_endpoint_at_a_local_private_or_metadata_address_is_never_called() {
    let fake = FakeOpenAi::start(vec![]).await;
    let port = fake
        .base_url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/v1")
        .to_owned();
    let llm = Llm::new(policy());
    for base in [
        fake.base_url.clone(),
        format!("http://localhost:{port}/v1"),
        format!("http://[::1]:{port}/v1"),
        format!("http://[::ffff:127.0.0.1]:{port}/v1"),
        "http://169.254.169.254/latest/meta-data".into(),
        "http://10.0.0.1/v1".into(),
    ] {
        for error in both_fail(&llm, &users(&base)).await {
            assert!(
                matches!(error, LlmError::Blocked { .. }),
                "{base}: {error:?}"
            );
            assert!(
                error.to_string().contains("PYAIRTABLE_LLM_ALLOWED_HOSTS"),
                "{error}"
            );
        }
    }
    assert_eq!(fake.request_count(), 0, "no request reached the fake");
}

#[tokio::test]
async fn a_listed_host_is_reached_and_the_servers_own_endpoint_is_never_filtered() {
    let fake = FakeOpenAi::answering(|_| FakeReply::text("Hello.")).await;
    let port = fake
        .base_url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/v1")
        .to_owned();

    let by_address = allowing(&format!("127.0.0.1:{port}")).provider(&users(&fake.base_url));
    assert_eq!(
        by_address.generate(&request()).await.unwrap().text,
        "Hello."
    );
    let by_name = allowing("localhost").provider(&users(&format!("http://localhost:{port}/v1")));
    assert_eq!(by_name.generate(&request()).await.unwrap().text, "Hello.");

    // The allowed port is the only one allowed.
    let other_port = allowing("127.0.0.1:1")
        .provider(&users(&fake.base_url))
        .generate(&request())
        .await;
    assert!(
        matches!(other_port, Err(LlmError::Blocked { .. })),
        "{other_port:?}"
    );

    // The administrator's default endpoint may be anywhere.
    let server = Llm::new(policy()).provider(&fake.endpoint(None));
    assert_eq!(server.generate(&request()).await.unwrap().text, "Hello.");
    assert_eq!(fake.request_count(), 3);
}

/// A local server whose every `POST /v1/chat/completions` gets what `answer` makes.
struct Raw {
    base_url: String,
    count: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Raw {
    async fn start(answer: impl Fn(Value) -> Response + Clone + Send + Sync + 'static) -> Self {
        let count = Arc::new(AtomicUsize::new(0));
        let counted = count.clone();
        let handler = move |body: Bytes| {
            counted.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            async move { answer(serde_json::from_slice(&body).unwrap_or(Value::Null)) }
        };
        let router = axum::Router::new().route("/v1/chat/completions", post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            base_url,
            count,
            server,
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[tokio::test]
async fn a_redirect_from_an_allowed_endpoint_is_not_followed() {
    let target = FakeOpenAi::answering(|_| FakeReply::text("You should not see this.")).await;
    let location = format!(
        "{}/chat/completions",
        target.base_url.replace("127.0.0.1", "localhost")
    );
    let redirecting = Raw::start(move |_| {
        (
            AxumStatus::TEMPORARY_REDIRECT,
            [(header::LOCATION, location.clone())],
        )
            .into_response()
    })
    .await;
    for error in both_fail(
        &allowing("127.0.0.1, localhost"),
        &users(&redirecting.base_url),
    )
    .await
    {
        assert!(
            matches!(error, LlmError::Redirected { status: 307, .. }),
            "{error:?}"
        );
    }
    assert_eq!(redirecting.count.load(Ordering::SeqCst), 2);
    assert_eq!(target.request_count(), 0, "the redirect was not followed");
}

/// A completion whose text is `text`.
fn completion(text: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_refused() {
    let big = "x".repeat(MAX_ANSWER_BYTES + 1);
    let whole = {
        let body = completion(&big).to_string();
        Raw::start(move |_| {
            ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
        })
        .await
    };
    // Without a length up front, in pieces, as a stream would come.
    let chunked = {
        let body = Bytes::from(completion(&big).to_string());
        Raw::start(move |_| {
            let pieces: Vec<Result<Bytes, std::io::Error>> = body
                .chunks(64 * 1024)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(futures::stream::iter(pieces)),
            )
                .into_response()
        })
        .await
    };
    let llm = allowing("127.0.0.1");
    for raw in [&whole, &chunked] {
        let error = llm
            .provider(&users(&raw.base_url))
            .generate(&request())
            .await
            .unwrap_err();
        assert!(matches!(error, LlmError::TooLarge { .. }), "{error:?}");
        assert!(
            error.to_string().contains("answer was too large"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_stream_over_the_size_limit_in_all_or_in_one_line_is_refused() {
    let event = |text: &str| {
        let chunk = json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
        format!("data: {chunk}\n\n")
    };
    let many = {
        let piece = event(&"y".repeat(64 * 1024));
        Raw::start(move |_| {
            let count = MAX_ANSWER_BYTES / piece.len() + 2;
            let pieces = futures::stream::iter((0..count).map({
                let piece = piece.clone();
                move |_| Ok::<_, std::io::Error>(piece.clone())
            }));
            (
                [(header::CONTENT_TYPE, "text/event-stream")],
                Body::from_stream(pieces),
            )
                .into_response()
        })
        .await
    };
    let one_long_line = {
        let line = event(&"z".repeat(2 * 1024 * 1024));
        Raw::start(move |_| {
            ([(header::CONTENT_TYPE, "text/event-stream")], line.clone()).into_response()
        })
        .await
    };
    let llm = allowing("127.0.0.1");
    for raw in [&many, &one_long_line] {
        let (sink, _pieces) = tokio::sync::mpsc::unbounded_channel();
        let error = llm
            .provider(&users(&raw.base_url))
            .stream(&request(), &sink)
            .await
            .unwrap_err();
        assert!(matches!(error, LlmError::TooLarge { .. }), "{error:?}");
    }
}

#[tokio::test]
async fn what_an_endpoint_answers_never_shows_in_the_error() {
    let answers: Vec<(u16, &str, String)> = vec![
        (
            400,
            "application/json",
            json!({"error": {"message": SECRET}}).to_string(),
        ),
        (500, "text/plain", SECRET.to_owned()),
        (404, "text/plain", SECRET.to_owned()),
        (200, "text/plain", format!("root:x:0:0:{SECRET}")),
        (
            200,
            "application/json",
            json!({"choices": SECRET}).to_string(),
        ),
        (
            200,
            "text/event-stream",
            format!("data: {{\"choices\": \"{SECRET}\"}}\n\n"),
        ),
    ];
    for (status, kind, body) in answers {
        let raw = Raw::start(move |_| {
            (
                AxumStatus::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, kind)],
                body.clone(),
            )
                .into_response()
        })
        .await;
        let provider = allowing("127.0.0.1").provider(&users(&raw.base_url));
        let (sink, _pieces) = tokio::sync::mpsc::unbounded_channel();
        let generated = provider.generate(&request()).await;
        assert!(generated.is_err(), "{status} {kind}: {generated:?}");
        // A stream of events with no data in them is an empty answer, not an error.
        let streamed = provider.stream(&request(), &sink).await;
        for error in [generated.err(), streamed.err()].into_iter().flatten() {
            let text = error.to_string();
            assert!(!text.contains(SECRET), "{status} {kind}: {text}");
            assert!(text.contains("OpenAI-compatible endpoint"), "{text}");
        }
    }
}

#[tokio::test]
async fn settings_refuse_a_local_private_or_metadata_endpoint_unless_allowed() {
    let app = spawn_app_with(Dialect::Sqlite, |s| s.llm_allowed_hosts = None).await;
    app.services
        .auth
        .users
        .create("ada@example.com", "correct horse battery", false)
        .await
        .unwrap();
    let token = app
        .access_token("ada@example.com", "correct horse battery")
        .await;
    let save = |base_url: String| {
        let request = app
            .client
            .post(app.url("/api/llm/save"))
            .bearer_auth(&token);
        request
            .form(&[
                ("provider", "openai_compatible"),
                ("model", "llama3.1:8b"),
                ("base_url", base_url.as_str()),
            ])
            .send()
    };
    for base_url in [
        "http://127.0.0.1:11434/v1",
        "http://169.254.169.254/latest",
        "http://10.0.0.1/v1",
        "http://[::1]:11434/v1",
        "http://localhost:11434/v1",
        "http://2130706433/v1",
    ] {
        let refused = save(base_url.into()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{base_url}");
        let message = refused.text().await.unwrap();
        assert!(
            message.contains("local or private")
                && message.contains("PYAIRTABLE_LLM_ALLOWED_HOSTS"),
            "{message}"
        );
    }
    let view: Value = app
        .client
        .post(app.url("/api/llm/settings"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["source"], "server", "nothing was saved");

    let allowed = spawn_app_with(Dialect::Sqlite, |s| {
        s.llm_allowed_hosts = Some("localhost:11434".into())
    })
    .await;
    allowed
        .services
        .auth
        .users
        .create("ada@example.com", "correct horse battery", false)
        .await
        .unwrap();
    let token = allowed
        .access_token("ada@example.com", "correct horse battery")
        .await;
    let form = [
        ("provider", "openai_compatible"),
        ("model", "llama3.1:8b"),
        ("base_url", "http://localhost:11434/v1"),
    ];
    let saved = allowed
        .client
        .post(allowed.url("/api/llm/save"))
        .bearer_auth(&token)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
}
