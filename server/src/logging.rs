//! Logs: human-readable text (the default) or one JSON object per line
//! (`LOG_FORMAT=json`, for a log collector), and one access line per request.
//!
//! The access line ([`access`], target `server::access`) carries the method,
//! the path **without its query string**, the status, the latency to the
//! response's head in milliseconds, a request id (the caller's
//! `X-Request-Id` when well-formed, e.g. from a load balancer, else a new
//! one; echoed on the response and attached to every line the request logs)
//! and, when the session middleware knew the browser, its user id (kept
//! server-side with the session; never the session token). Health checks log at debug, so a
//! load balancer polling them fills no log. Headers, cookies, bodies and
//! query strings are never logged.

use app::service::UserId;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,tower_http=warn,server=info";
/// The request id header, read and echoed.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `LOG_FORMAT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines for people (the default).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, the event's
    /// fields (`message` among them) and `span` with the request id.
    Json,
}

impl LogFormat {
    /// `text` (or unset/empty) or `json`, in any case.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim).unwrap_or_default().to_ascii_lowercase().as_str() {
            "" | "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("LOG_FORMAT must be text or json, not `{other}`")),
        }
    }

    /// From the environment (after loading `.env`, as the configuration does).
    pub fn from_env() -> Result<Self, String> {
        let _ = dotenvy::dotenv();
        Self::parse(std::env::var("LOG_FORMAT").ok().as_deref())
    }
}

/// The formatting layer for `format`, writing to `writer` (stdout in the
/// server; a buffer in tests).
pub fn layer<S, W>(format: LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    }
}

/// Installs the process's logger: `format`, filtered by `RUST_LOG` or [`DEFAULT_FILTER`].
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::registry()
        .with(filter)
        .with(layer(format, std::io::stdout))
        .init();
}

/// The caller's request id when it looks like one (1–64 of `A-Za-z0-9._-`),
/// else a new random one (16 hex digits).
fn request_id(req: &Request) -> String {
    let given = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|v| {
        (1..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    match given {
        Some(id) => id.to_owned(),
        None => hex::encode(rand::thread_rng().gen::<[u8; 8]>()),
    }
}

/// Middleware around every route: the request's span (its id) and its access line.
pub async fn access(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    // The path only: query strings can carry anything a client put there.
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let mut resp = next.run(req).instrument(span).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = resp.status().as_u16();
    let user = resp.extensions().get::<UserId>().map(|u| u.as_str().to_owned());
    let user_id = user.as_deref().unwrap_or("");
    let probe = path == "/healthz" || path == "/readyz";
    if probe {
        tracing::debug!(target: "server::access", %method, path = path.as_str(), status, latency_ms, request_id = %id, user_id, "request");
    } else {
        tracing::info!(target: "server::access", %method, path = path.as_str(), status, latency_ms, request_id = %id, user_id, "request");
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("JSON")), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse(Some(" text ")), Ok(LogFormat::Text));
        assert!(LogFormat::parse(Some("yaml")).unwrap_err().contains("yaml"));
    }

    #[test]
    fn request_ids_are_bounded() {
        let with = |v: &str| {
            let req = axum::http::Request::builder()
                .header("x-request-id", v)
                .body(axum::body::Body::empty())
                .unwrap();
            request_id(&req)
        };
        assert_eq!(with("lb-1234.abc_DEF"), "lb-1234.abc_DEF");
        for hostile in ["", "a b", "x\"}", &"a".repeat(65)] {
            let id = with(hostile);
            assert!(
                id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
                "{hostile:?} → {id}"
            );
        }
    }
}
