//! Prometheus metrics: requests by route and status, their latency, and process memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use app::error::AppError;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use backend::analytics::Analytics;
use backend::jobs::Jobs;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::routes::{ApiError, bearer};

/// The label set of one request series. `route` is the matched pattern, never the raw path,
/// so that typos and IDs can't create unbounded series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The metrics registry and the series the server keeps up to date.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

/// The label set of an analytics counter: its labels as analytics keeps them (none for some).
type AnalyticsLabels = Vec<(String, String)>;

/// The analytics counters' series, each fed from analytics' own counters at scrape time, so
/// the dashboard and `/metrics` count from one source.
struct AnalyticsSeries {
    analytics: Analytics,
    counters: HashMap<&'static str, Family<AnalyticsLabels, Counter>>,
    queue_depth: Gauge,
    dropped: Counter,
    /// Held while copying, so two scrapes at once don't add the same increase twice.
    copying: Mutex<()>,
}

/// Analytics counters and their help texts; each is exposed as `pyairtable_<name>_total`.
const ANALYTICS_COUNTERS: [(&str, &str); 7] = [
    ("chat_turns", "Chat turns answered, by outcome"),
    ("tool_calls", "Tool calls, by where they came from and outcome"),
    ("airtable_requests", "Requests to Airtable (or the sandbox), by outcome"),
    ("sagas", "Sagas settled, by outcome (done, compensated, needs_attention) and source"),
    ("logins", "Password logins, by outcome"),
    ("signups", "Accounts created"),
    ("client_events", "Events sent by browsers"),
];

/// The job queue's gauges, read from the database at scrape time.
struct JobSeries {
    jobs: Jobs,
    waiting: Gauge,
    running: Gauge,
    failed: Gauge,
    oldest_waiting_seconds: Gauge,
}

struct Inner {
    analytics: Option<AnalyticsSeries>,
    jobs: Option<JobSeries>,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RequestLabels, Histogram>,
    resident_memory: Gauge,
    virtual_memory: Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        Self::build(None)
    }

    /// Metrics that also show `analytics`' counters, its queue depth and dropped events.
    pub fn with_analytics(analytics: Analytics) -> Self {
        Self::build(Some(analytics))
    }

    fn build(analytics: Option<Analytics>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        // 1 ms to about 16 s, doubling.
        let durations = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        let resident_memory = Gauge::default();
        let virtual_memory = Gauge::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, to the response head",
            durations.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of this process",
            resident_memory.clone(),
        );
        registry.register(
            "process_virtual_memory_bytes",
            "Virtual memory of this process",
            virtual_memory.clone(),
        );
        let analytics = analytics.map(|analytics| {
            let mut counters = HashMap::new();
            for (name, help) in ANALYTICS_COUNTERS {
                let family = Family::<AnalyticsLabels, Counter>::default();
                registry.register(format!("pyairtable_{name}"), help, family.clone());
                counters.insert(name, family);
            }
            let queue_depth = Gauge::default();
            let dropped = Counter::default();
            registry.register("pyairtable_analytics_queue_depth", "Analytics events waiting to be written", queue_depth.clone());
            registry.register("pyairtable_analytics_events_dropped", "Analytics events dropped because the queue was full", dropped.clone());
            AnalyticsSeries { analytics, counters, queue_depth, dropped, copying: Mutex::new(()) }
        });
        Self { inner: Arc::new(Inner { analytics, jobs: None, registry, requests, durations, resident_memory, virtual_memory }) }
    }

    /// The same metrics, with the job queue's depth, running and failed jobs.
    ///
    /// # Panics
    /// When called on metrics already shared (clones exist); it is meant for start-up.
    #[must_use]
    pub fn with_jobs(mut self, jobs: Jobs) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("with_jobs is called before the metrics are shared");
        let gauge = |name: &str, help: &str, registry: &mut Registry| {
            let gauge = Gauge::default();
            registry.register(format!("pyairtable_jobs_{name}"), help, gauge.clone());
            gauge
        };
        inner.jobs = Some(JobSeries {
            jobs,
            waiting: gauge("waiting", "Background jobs waiting for a worker", &mut inner.registry),
            running: gauge("running", "Background jobs running", &mut inner.registry),
            failed: gauge("failed", "Background jobs whose last attempt failed", &mut inner.registry),
            oldest_waiting_seconds: gauge("oldest_waiting_seconds", "How long the oldest waiting job has waited", &mut inner.registry),
        });
        self
    }

    /// Reads the job queue's figures into their gauges; a failure leaves the last figures.
    async fn refresh_jobs(&self) {
        let Some(series) = &self.inner.jobs else { return };
        match series.jobs.stats().await {
            Ok(stats) => {
                let set = |gauge: &Gauge, n: u64| gauge.set(i64::try_from(n).unwrap_or(i64::MAX));
                set(&series.waiting, stats.waiting);
                set(&series.running, stats.running);
                set(&series.failed, stats.failed);
                set(&series.oldest_waiting_seconds, stats.oldest_waiting_s.unwrap_or(0));
            }
            Err(e) => tracing::warn!(error = %e, "could not read the job queue for /metrics"),
        }
    }

    fn observe(&self, labels: RequestLabels, seconds: f64) {
        self.inner.requests.get_or_create(&labels).inc();
        self.inner.durations.get_or_create(&labels).observe(seconds);
    }

    /// The exposition in OpenMetrics text format, with memory read afresh.
    pub fn render(&self) -> String {
        if let Some(usage) = memory_stats::memory_stats() {
            self.inner.resident_memory.set(i64::try_from(usage.physical_mem).unwrap_or(i64::MAX));
            self.inner.virtual_memory.set(i64::try_from(usage.virtual_mem).unwrap_or(i64::MAX));
        }
        if let Some(series) = &self.inner.analytics {
            series.copy();
        }
        let mut text = String::new();
        // Writing into a String can't fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }
}

impl AnalyticsSeries {
    /// Brings every series up to analytics' counters, which only grow.
    fn copy(&self) {
        let _copying = self.copying.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, value) in self.analytics.counters() {
            let Some(family) = self.counters.get(key.metric) else { continue };
            let labels: AnalyticsLabels = key.labels.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect();
            let counter = family.get_or_create(&labels).clone();
            counter.inc_by(value.saturating_sub(counter.get()));
        }
        self.queue_depth.set(i64::try_from(self.analytics.queue_depth()).unwrap_or(i64::MAX));
        self.dropped.inc_by(self.analytics.dropped().saturating_sub(self.dropped.get()));
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware that counts and times every request.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(
            || {
                // The sandbox is a nested service, which sets no matched path; static files and
                // the 404 page are served by the fallback.
                if request.uri().path().starts_with("/sandbox/") { "/sandbox/v0/*".to_owned() } else { "fallback".to_owned() }
            },
            |p| p.as_str().to_owned(),
        );
    let method = method_label(request.method());
    let start = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels { method, route, status: response.status().as_u16() };
    metrics.observe(labels, start.elapsed().as_secs_f64());
    response
}

/// Who may read `/metrics`. Its figures (routes, users' activity, memory) help an attacker
/// map the server, so beyond loopback they need a token.
#[derive(Clone)]
pub enum MetricsAccess {
    /// The server listens on loopback only, and no token is set.
    Open,
    /// `Authorization: Bearer <token>` is required.
    Token(SecretString),
    /// The server listens beyond loopback and no token is set: `/metrics` is refused.
    Closed,
}

impl MetricsAccess {
    fn allows(&self, headers: &HeaderMap) -> Result<(), AppError> {
        match self {
            Self::Open => Ok(()),
            Self::Closed => Err(AppError::Forbidden(
                "Metrics are off because the server listens beyond loopback. Set PYAIRTABLE_METRICS_TOKEN and scrape with Authorization: Bearer <token>.".into(),
            )),
            Self::Token(token) => {
                let sent = bearer(headers).unwrap_or_default();
                if bool::from(sent.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
                    Ok(())
                } else {
                    Err(AppError::Unauthorized("/metrics needs Authorization: Bearer <the PYAIRTABLE_METRICS_TOKEN value>.".into()))
                }
            }
        }
    }
}

/// `GET /metrics`.
pub async fn serve(State(metrics): State<Metrics>, State(access): State<MetricsAccess>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    access.allows(&headers)?;
    metrics.refresh_jobs().await;
    Ok((
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        metrics.render(),
    ))
}

/// Methods the server answers keep their name; invented ones share one label.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observed_request_appears_in_the_exposition() {
        let metrics = Metrics::new();
        let labels = RequestLabels { method: "GET", route: "/api/health".into(), status: 200 };
        metrics.observe(labels.clone(), 0.003);
        metrics.observe(labels, 0.004);
        let text = metrics.render();
        assert!(
            text.contains(r#"http_requests_total{method="GET",route="/api/health",status="200"} 2"#),
            "{text}"
        );
        assert!(text.contains("http_request_duration_seconds_bucket"), "{text}");
    }

    #[test]
    fn analytics_counters_appear_with_their_labels() {
        use backend::analytics::{Event, EventKind};
        let analytics = Analytics::default();
        let metrics = Metrics::with_analytics(analytics.clone());
        analytics.record(Event::new(EventKind::Login, "password").failed("wrong password"));
        let text = metrics.render();
        assert!(text.contains(r#"pyairtable_logins_total{outcome="error"} 1"#), "{text}");
        analytics.record(Event::new(EventKind::Login, "password").failed("wrong password"));
        assert!(metrics.render().contains(r#"pyairtable_logins_total{outcome="error"} 2"#));
        assert!(text.contains("pyairtable_analytics_queue_depth 0"), "{text}");
        assert!(text.contains("pyairtable_analytics_events_dropped_total 0"), "{text}");
    }

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
