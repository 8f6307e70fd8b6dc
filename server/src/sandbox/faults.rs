//! Fault injection (sandbox control surface): a key's next N requests whose
//! path starts with a prefix fail the way real networks and APIs fail — HTTP 500,
//! 429 with or without `Stripe-Should-Retry`, a delay, a dropped connection.

use super::error::ApiError;
use super::store::Sandbox;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// 500 `api_error`.
    ServerError,
    /// 429 `rate_limit` without `Stripe-Should-Retry`.
    RateLimit,
    /// 429 with `Stripe-Should-Retry: true`.
    RateLimitRetry,
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// Starts the response, then drops the connection.
    Drop,
}

impl FaultKind {
    pub fn parse(kind: &str, delay_ms: Option<u64>) -> Option<Self> {
        Some(match kind {
            "server_error" => FaultKind::ServerError,
            "rate_limit" => FaultKind::RateLimit,
            "rate_limit_retry" => FaultKind::RateLimitRetry,
            "delay" => FaultKind::Delay(Duration::from_millis(delay_ms.unwrap_or(5_000).min(120_000))),
            "drop" => FaultKind::Drop,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct Fault {
    /// Only requests made with this secret key are affected.
    pub key: String,
    pub path_prefix: String,
    pub remaining: u32,
    pub kind: FaultKind,
}

#[derive(Default)]
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    pub fn add(&self, fault: Fault) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(fault);
    }

    pub fn clear(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).retain(|f| f.key != key);
    }

    /// Takes one use of the first fault for `key` matching `path`.
    fn take(&self, key: &str, path: &str) -> Option<FaultKind> {
        let mut faults = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let i = faults
            .iter()
            .position(|f| f.key == key && f.remaining > 0 && path.starts_with(&f.path_prefix))?;
        faults[i].remaining -= 1;
        let kind = faults[i].kind;
        faults.retain(|f| f.remaining > 0);
        Some(kind)
    }
}

/// Middleware: applies a pending fault to a matching request.
pub async fn inject(State(sandbox): State<Arc<Sandbox>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sandbox") {
        return next.run(req).await;
    }
    let Ok(key) = super::api::bearer_key(req.headers()) else {
        return next.run(req).await;
    };
    match sandbox.faults.take(&key, &path) {
        None => next.run(req).await,
        Some(FaultKind::ServerError) => ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "api_error",
            code: None,
            message: "Injected fault: an error occurred with our connection to Stripe.".into(),
            param: None,
        }
        .into_response(),
        Some(kind @ (FaultKind::RateLimit | FaultKind::RateLimitRetry)) => {
            let mut resp = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                kind: "invalid_request_error",
                code: Some("rate_limit"),
                message: "Injected fault: too many requests hit the API too quickly.".into(),
                param: None,
            }
            .into_response();
            if kind == FaultKind::RateLimitRetry {
                resp.headers_mut()
                    .insert("Stripe-Should-Retry", HeaderValue::from_static("true"));
            }
            resp
        }
        Some(FaultKind::Delay(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(FaultKind::Drop) => {
            // A body that fails mid-stream makes the server abort the connection.
            let stream = futures_util::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("injected connection drop"))
            });
            (StatusCode::OK, Body::from_stream(stream)).into_response()
        }
    }
}
