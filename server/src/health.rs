//! What a load balancer asks, and what pages do while the database is down.
//!
//! - `GET /healthz`: the process is up (always `ok`; no dependency checked).
//! - `GET /readyz`: this instance can serve: the database answers a
//!   `SELECT 1` within [`DB_TIMEOUT`], and its Stripe is usable: the keys
//!   were parsed at start (the server does not start otherwise) and a
//!   cheap read (`GET /v1/customers?limit=1`, no retries) gets an answer
//!   that is not a refusal of the key. That read is remembered for
//!   [`STRIPE_OK_FOR`] ([`STRIPE_FAILED_FOR`] after a failure) and made by
//!   one caller at a time, so polling `/readyz` never hammers Stripe. In
//!   sandbox mode the same read goes to the sandbox (embedded or not).
//!   `200 {"status":"ready",…}` or `503 {"status":"unavailable","failed":[…],
//!   "checks":{…}}` naming what failed. Neither route is rate limited, and
//!   they log at debug only ([`crate::logging`]); a change of readiness logs once.
//! - [`pages_need_database`]: a page answers `503` with a sentence saying
//!   the database cannot be reached (instead of a page of errors) while the
//!   storage believes it down, and renders again as soon as it answers.

use crate::storage::Storage;
use crate::stripe::{ClientOptions, Form, StripeClient, StripeError};
use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest `/readyz` waits for the database.
pub const DB_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest the Stripe read may take.
pub const STRIPE_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a Stripe read that succeeded is believed.
pub const STRIPE_OK_FOR: Duration = Duration::from_secs(30);
/// How long a Stripe read that failed is believed.
pub const STRIPE_FAILED_FOR: Duration = Duration::from_secs(5);
/// What a page's 503 asks the browser to wait before trying again.
const RETRY_AFTER_SECS: &str = "5";

/// The Stripe half of `/readyz`: one cheap read, remembered.
pub struct StripeProbe {
    client: StripeClient,
    last: tokio::sync::Mutex<Option<(Instant, Result<(), String>)>>,
}

impl StripeProbe {
    /// A probe of the Stripe at `base` with `key` (the app's own).
    pub fn new(base: &str, key: SecretString) -> Result<Self, StripeError> {
        let options = ClientOptions {
            timeout: STRIPE_TIMEOUT,
            max_retries: 0,
            ..ClientOptions::default()
        };
        Ok(StripeProbe {
            client: StripeClient::new(base, key, options)?,
            last: tokio::sync::Mutex::new(None),
        })
    }

    /// The remembered answer while it is fresh, else a new read (callers
    /// arriving meanwhile wait for it rather than making their own).
    pub async fn check(&self) -> Result<(), String> {
        let mut last = self.last.lock().await;
        if let Some((at, outcome)) = &*last {
            let fresh_for = if outcome.is_ok() { STRIPE_OK_FOR } else { STRIPE_FAILED_FOR };
            if at.elapsed() < fresh_for {
                return outcome.clone();
            }
        }
        let outcome = self.read().await;
        *last = Some((Instant::now(), outcome.clone()));
        outcome
    }

    async fn read(&self) -> Result<(), String> {
        let query = Form::new().field("limit", "1");
        match self.client.get::<Value>("/v1/customers", &query).await {
            Ok(_) => Ok(()),
            // Our key refused: nothing will work until the configuration changes.
            Err(StripeError::Api { status: 401, .. }) => Err("the secret key was refused (401)".to_owned()),
            Err(StripeError::Api { status, .. }) if status >= 500 => Err(format!("answered {status}")),
            // Any other answer (a 429, another refusal) means Stripe is there.
            Err(StripeError::Api { .. }) | Err(StripeError::Decode(_)) => Ok(()),
            Err(StripeError::Network(e)) => Err(format!("unreachable: {e}")),
        }
    }
}

/// Everything `/readyz` checks.
pub struct Readiness {
    pub storage: Arc<Storage>,
    pub stripe: StripeProbe,
    /// The last answer, to log changes only.
    ready: AtomicBool,
}

impl Readiness {
    pub fn new(storage: Arc<Storage>, stripe: StripeProbe) -> Self {
        Readiness {
            storage,
            stripe,
            ready: AtomicBool::new(true),
        }
    }

    /// Both checks (at once); what failed, by name.
    pub async fn check(&self) -> (bool, Value) {
        let (db, stripe) = tokio::join!(self.storage.ping(DB_TIMEOUT), self.stripe.check());
        let db = db.map_err(|e| e.to_string());
        let mut checks = Map::new();
        let mut failed = Vec::new();
        for (name, outcome) in [("database", db), ("stripe", stripe)] {
            match outcome {
                Ok(()) => {
                    checks.insert(name.into(), "ok".into());
                }
                Err(e) => {
                    checks.insert(name.into(), e.into());
                    failed.push(name);
                }
            }
        }
        let ready = failed.is_empty();
        if self.ready.swap(ready, Ordering::Relaxed) != ready {
            if ready {
                tracing::info!("ready again");
            } else {
                let why = serde_json::to_string(&checks).unwrap_or_default();
                tracing::warn!(?failed, "not ready: {why}");
            }
        }
        let body = if ready {
            json!({ "status": "ready", "checks": checks })
        } else {
            json!({ "status": "unavailable", "failed": failed, "checks": checks })
        };
        (ready, body)
    }
}

/// `GET /readyz`.
pub async fn readyz(readiness: Arc<Readiness>) -> Response {
    let (ready, body) = readiness.check().await;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response()
}

/// Middleware for the pages (not server functions, which answer
/// [`AppError::DatabaseUnavailable`] themselves): while the database is
/// believed down ([`Storage::available`]), a page is a `503` that says so
/// and asks the browser to retry, instead of a page of error notices.
pub async fn pages_need_database(State(storage): State<Arc<Storage>>, req: Request, next: Next) -> Response {
    let page = matches!(*req.method(), Method::GET | Method::HEAD) && !req.uri().path().starts_with("/api/");
    if page && !storage.available().await {
        return database_unavailable_page();
    }
    next.run(req).await
}

/// The answer for an error before a route ran (the session lookup): a page
/// gets the database-unavailable page when that is the error, anything else
/// (and every server function or event stream) the JSON of [`AppError`].
pub fn error_response(path: &str, error: &AppError) -> Response {
    let page = !path.starts_with("/api/") && path != "/events";
    if page && *error == AppError::DatabaseUnavailable {
        return database_unavailable_page();
    }
    crate::web::app_error_response(error)
}

fn database_unavailable_page() -> Response {
    let message = AppError::DatabaseUnavailable.to_string();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Temporarily unavailable</title><link rel=\"stylesheet\" href=\"/pkg/fc_app.css\"></head>\
         <body><main><section class=\"card\"><h1>Temporarily unavailable</h1>\
         <p class=\"status error\" role=\"alert\" data-testid=\"database-unavailable\">{message}</p>\
         <p class=\"muted\">This page works again by itself once the database is back: reload it in a moment.</p>\
         </section></main></body></html>"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS)),
        ],
        html,
    )
        .into_response()
}
