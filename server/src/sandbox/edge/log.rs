//! The request log's layer, outside every other: each `/v1` request made
//! with a test key (or with a publishable key for a PaymentIntent, logged
//! under the intent's key) is recorded once it has been answered, with its
//! decoded parameters (client secrets redacted, values cut at 500
//! characters), `Idempotency-Key`,
//! `Stripe-Version`, status and `Request-Id`. Faults, replays and refusals
//! are recorded as the client saw them.

use super::auth::bearer_key;
use super::MAX_BODY;
use crate::sandbox::clock::now;
use crate::sandbox::error::ApiError;
use crate::sandbox::form;
use crate::sandbox::resources::requests;
use crate::sandbox::state::{LoggedRequest, Sandbox};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

/// Middleware: records `/v1` requests in their key's log.
pub async fn record(State(sandbox): State<Arc<Sandbox>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if !path.starts_with("/v1/") {
        return next.run(req).await;
    }
    let key = bearer_key(req.headers())
        .ok()
        .or_else(|| intent_key(&sandbox, req.headers(), &path));
    let Some(key) = key else {
        return next.run(req).await;
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        // The body limit inside answers it.
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        let refused = ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..ApiError::invalid("", format!("Request bodies are limited to {MAX_BODY} bytes."))
        };
        return super::stripe_shaped(refused.into_response()).await;
    };
    let raw: &[u8] = if parts.method == Method::POST {
        &bytes
    } else {
        parts.uri.query().unwrap_or_default().as_bytes()
    };
    let mut params = form::decode(raw).unwrap_or(Value::Null);
    redact(&mut params);
    let header_str = |h: &HeaderMap, name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(255).collect::<String>())
    };
    let idempotency_key = header_str(&parts.headers, "idempotency-key");
    let stripe_version = header_str(&parts.headers, "stripe-version");
    let method = parts.method.to_string();
    let resp = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let entry = LoggedRequest {
        id: header_str(resp.headers(), "request-id").unwrap_or_default(),
        created: now(),
        method,
        path,
        params,
        idempotency_key,
        stripe_version,
        status: resp.status().as_u16(),
    };
    requests::record(&sandbox, &key, entry);
    resp
}

/// The key of the PaymentIntent a publishable-key request names.
fn intent_key(sandbox: &Sandbox, headers: &HeaderMap, path: &str) -> Option<String> {
    if !super::auth::publishable(headers) {
        return None;
    }
    let id = path.strip_prefix("/v1/payment_intents/")?.split('/').next()?;
    sandbox.key_of_intent(id, None)
}

/// Longest string value the log keeps, in characters (the rest is cut, marked `…`).
pub const LOGGED_STRING: usize = 500;

/// Client secrets are secrets: the log shows that one was sent, not what
/// it was. Long values are shortened, so the log stays small.
fn redact(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        if let Some(s) = m.get_mut("client_secret") {
            *s = Value::String("[redacted]".into());
        }
    }
    shorten(v);
}

fn shorten(v: &mut Value) {
    match v {
        Value::String(s) if s.chars().count() > LOGGED_STRING => {
            let mut cut: String = s.chars().take(LOGGED_STRING).collect();
            cut.push('…');
            *s = cut;
        }
        Value::Array(a) => a.iter_mut().for_each(shorten),
        Value::Object(m) => m.values_mut().for_each(shorten),
        _ => {}
    }
}
