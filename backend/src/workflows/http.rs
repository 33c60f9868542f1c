//! A workflow's HTTP step: a request to a public address, or to a host the administrator
//! allowed, with no redirects followed and the answer read up to a limit.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use url::Url;

use crate::outbound::{self, AllowedHosts, PublicOnly, Route, is_blocked};

/// The most of an answer a step reads; the rest is cut off and said so.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// How long a request may take, connection to last byte.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP clients for steps. Cheap to clone.
#[derive(Clone)]
pub struct StepHttp {
    public_only: reqwest::Client,
    allowed: reqwest::Client,
    allowed_hosts: AllowedHosts,
}

/// Why a request was not made or not answered.
#[derive(Debug, thiserror::Error)]
pub enum HttpStepError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0} is a local, private or reserved address; an administrator can allow the host in PYAIRTABLE_WORKFLOW_ALLOWED_HOSTS.")]
    Blocked(String),
    #[error("The request to {0} failed: {1}.")]
    Failed(String, String),
}

impl StepHttp {
    pub fn new(allowed_hosts: AllowedHosts) -> Self {
        crate::tls::install_crypto_provider();
        // A proxy would resolve the name itself, past the check; steps go direct.
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .user_agent(concat!("PyAirtable-Workflows/", env!("CARGO_PKG_VERSION")))
        };
        Self {
            public_only: builder().dns_resolver(PublicOnly).build().expect("the HTTP client builds"),
            allowed: builder().build().expect("the HTTP client builds"),
            allowed_hosts,
        }
    }

    /// Sends the request and answers `{status, headers, body}`, the body as JSON when it is.
    ///
    /// # Errors
    /// A bad method, URL or header, a blocked address, or a failed connection.
    pub async fn send(&self, method: &str, url: &str, headers: &Value, body: Option<&Value>) -> Result<Value, HttpStepError> {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| HttpStepError::Invalid(format!("“{method}” is not an HTTP method.")))?;
        let parsed = Url::parse(url.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
        let url = parsed.ok_or_else(|| HttpStepError::Invalid(format!("“{}” is not an http or https address.", url.chars().take(200).collect::<String>())))?;
        let shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
        let client = match outbound::route(&url, &self.allowed_hosts) {
            Ok(Route::Allowed) => &self.allowed,
            Ok(Route::PublicOnly) => &self.public_only,
            Err(_) => return Err(HttpStepError::Blocked(shown)),
        };
        let mut request = client.request(method, url);
        for (name, value) in headers.as_object().into_iter().flatten() {
            let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            request = request.header(name.as_str(), value);
        }
        request = match body {
            None | Some(Value::Null) => request,
            Some(Value::String(text)) => request.body(text.clone()),
            Some(json_body) => request.json(json_body),
        };
        let response = request.send().await.map_err(|e| {
            if is_blocked(&e) { HttpStepError::Blocked(shown.clone()) } else { HttpStepError::Failed(shown.clone(), reason(&e)) }
        })?;
        let status = response.status().as_u16();
        let answer_headers: serde_json::Map<String, Value> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), json!(value.to_str().ok()?))))
            .collect();
        let mut bytes = Vec::new();
        let mut truncated = false;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| HttpStepError::Failed(shown.clone(), reason(&e)))?;
            let room = MAX_ANSWER_BYTES - bytes.len();
            if chunk.len() > room {
                bytes.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        let mut answer = json!({"status": status, "ok": (200..300).contains(&status), "headers": answer_headers, "body": body});
        if truncated {
            answer["truncated"] = json!(true);
        }
        Ok(answer)
    }
}

/// The reason, without the URL (which may carry a secret in its query).
fn reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "it took longer than 30 seconds".into()
    } else if e.is_connect() {
        "the connection was refused or could not be made".into()
    } else {
        "the connection broke off".into()
    }
}
