//! Fault injection, a layer in front of every route: a key's next N requests
//! whose path starts with a prefix fail the way real networks and APIs fail
//! (HTTP 500, 429 with or without `Stripe-Should-Retry`, a delay, a dropped
//! connection). The rules are set with `POST /_sandbox/faults` (at most
//! `SANDBOX_MAX_FAULTS` per key) and kept in the key's space.

use super::auth::bearer_key;
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::{Fault, FaultKind, Sandbox};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

/// Middleware: applies a pending fault to a matching request.
pub async fn inject(State(sandbox): State<Arc<Sandbox>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/_sandbox") {
        return next.run(req).await;
    }
    let Ok(key) = bearer_key(req.headers()) else {
        return next.run(req).await;
    };
    match sandbox.take_fault(&key, &path) {
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

/// `POST /_sandbox/faults`:
/// `path=/v1/…&kind=server_error|rate_limit|rate_limit_retry|delay|drop&count=N[&delay_ms=…]`:
/// the calling key's next `count` requests whose path starts with `path` fail that way.
pub fn add(sandbox: &Sandbox, key: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["path", "kind", "count", "delay_ms"])?;
    let path = p
        .str("path")?
        .filter(|x| x.starts_with('/'))
        .ok_or_else(|| ApiError::invalid("path", "path must start with /."))?;
    let delay_ms = p
        .str("delay_ms")?
        .map(|d| d.parse::<u64>())
        .transpose()
        .map_err(|_| ApiError::invalid("delay_ms", "delay_ms must be an integer."))?;
    let kind = FaultKind::parse(p.str("kind")?.as_deref().unwrap_or(""), delay_ms).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            "kind must be one of server_error, rate_limit, rate_limit_retry, delay, drop.",
        )
    })?;
    let count = p
        .str("count")?
        .unwrap_or_else(|| "1".into())
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(|| ApiError::invalid("count", "count must be an integer from 1 to 1000."))?;
    sandbox.with_space(key, |s| {
        s.add_fault(Fault {
            path_prefix: path.clone(),
            remaining: count,
            kind,
        })
    })?;
    Ok(json!({ "path": path, "count": count, "kind": format!("{kind:?}") }))
}
