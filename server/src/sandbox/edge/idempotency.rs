//! `Idempotency-Key` on POSTs, as Stripe runs it: the first response for a
//! key is stored and replayed (`Idempotent-Replayed: true`) to later
//! requests with the same parameters; other parameters are refused.

use super::Edge;
use crate::sandbox::clock::now;
use crate::sandbox::error::ApiError;
use crate::sandbox::state::StoredResponse;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Runs a POST once per `Idempotency-Key`: replays the first response for the
/// same parameters, refuses the key with different ones.
pub fn idempotent(
    edge: &Edge,
    key: &str,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    run: impl FnOnce() -> Result<(StatusCode, Value), ApiError>,
) -> Response {
    let idem = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.is_empty() && k.len() <= 255 => Some(k.to_owned()),
        Some(_) => return ApiError::invalid("Idempotency-Key", "Idempotency-Key must be 1 to 255 characters.").into_response(),
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
    let _guard = edge.idem_lock.lock().unwrap_or_else(|e| e.into_inner());
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
    let (status, body_json) = match &result {
        Ok((s, v)) => (*s, v.clone()),
        Err(e) => (e.status, e.body()),
    };
    // Like Stripe: a request refused by validation saves nothing, so the key
    // can be retried with corrected parameters; results and 5xx are replayed.
    if status.is_success() || status.is_server_error() {
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
