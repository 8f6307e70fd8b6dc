//! `Idempotency-Key` on POSTs, as Stripe runs it: while a request with a key
//! runs, another with the same key gets `409 idempotency_key_in_use`
//! ([`claim`], a layer outside fault injection, so an injected delay counts
//! as running); the first result of a request that ran is stored, 4xx
//! included, and replayed (`Idempotent-Replayed: true`) to later requests
//! with the same parameters; other parameters get an `idempotency_error`. A
//! request refused by parameter validation before it ran stores nothing.

use super::auth::bearer_key;
use super::Edge;
use crate::sandbox::clock::now;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::StoredResponse;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The `Idempotency-Key` of a request, if it has a usable one.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(k)) if !k.is_empty() && k.len() <= 255 => Ok(Some(k.to_owned())),
        Some(_) => Err(ApiError::invalid(
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 255 characters.",
        )),
    }
}

/// Releases a claimed key when its request ends, however it ends.
struct Claim {
    edge: Arc<Edge>,
    entry: (String, String),
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.edge.in_flight().remove(&self.entry);
    }
}

/// Middleware: a `/v1` POST holds its (secret key, idempotency key) while
/// it runs; a second one with the same pair meanwhile gets 409.
pub async fn claim(State(edge): State<Arc<Edge>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.uri().path().starts_with("/v1/") {
        return next.run(req).await;
    }
    let (Ok(key), Ok(Some(idem))) = (bearer_key(req.headers()), idempotency_key(req.headers())) else {
        return next.run(req).await;
    };
    let entry = (key, idem);
    if !edge.in_flight().insert(entry.clone()) {
        let mut resp = ApiError::key_in_use(&entry.1).into_response();
        resp.headers_mut()
            .insert("Stripe-Should-Retry", HeaderValue::from_static("true"));
        return resp;
    }
    let _claim = Claim { edge, entry };
    next.run(req).await
}

/// Runs a POST once per `Idempotency-Key`: replays the first result for the
/// same parameters, refuses the key with different ones.
pub fn idempotent(
    edge: &Edge,
    key: &str,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    run: impl FnOnce() -> Result<(StatusCode, Value), ApiError>,
) -> Response {
    let idem = match idempotency_key(headers) {
        Ok(idem) => idem,
        Err(e) => return e.into_response(),
    };
    let Some(idem) = idem else {
        return respond(run(), false);
    };
    let fingerprint = hex::encode(
        Sha256::new()
            .chain_update(path)
            .chain_update(b"\n")
            .chain_update(body)
            .finalize(),
    );
    if let Some(stored) = edge.sandbox.idempotent_lookup(key, &idem) {
        if stored.fingerprint != fingerprint {
            return ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                 Try using a key other than '{idem}' if you meant to execute a different request."
            ))
            .into_response();
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        return respond(Ok((status, stored.body)), true);
    }
    let result = run();
    let stored = match &result {
        Ok((s, v)) => Some((*s, v.clone())),
        Err(e) if !e.before_running() => Some((e.status, e.body())),
        Err(_) => None,
    };
    if let Some((status, body_json)) = stored {
        edge.sandbox.idempotent_store(
            key,
            &idem,
            StoredResponse {
                fingerprint,
                status: status.as_u16(),
                body: body_json,
                at: now(),
            },
        );
    }
    respond(result, false)
}

fn respond(result: Result<(StatusCode, Value), ApiError>, replayed: bool) -> Response {
    let mut resp = match result {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(e) => e.into_response(),
    };
    if replayed {
        resp.headers_mut()
            .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
    }
    resp
}
