//! Control surface: the key's request log (`GET /_sandbox/requests`), the
//! newest [`REQUEST_LOG_CAP`] `/v1` requests made with it, newest first,
//! each with its method, path, decoded parameters, `Idempotency-Key`,
//! `Stripe-Version`, status and `Request-Id`, so an app's tests can assert
//! exactly what it sent.

use crate::sandbox::state::{LoggedRequest, Sandbox};
use serde_json::{json, Value};

/// Requests kept per key (or `SANDBOX_MAX_OBJECTS`, if lower).
pub const REQUEST_LOG_CAP: usize = 200;

/// Logs a request of `key`, if the key has data (a request that made none,
/// such as a read by a new key, is not worth a space of its own).
pub fn record(sb: &Sandbox, key: &str, request: LoggedRequest) {
    let cap = REQUEST_LOG_CAP.min(sb.limits.max_objects);
    sb.with_existing_space(key, |s| s.requests.push(request, cap));
}

/// `GET /_sandbox/requests`.
pub fn list(sb: &Sandbox, key: &str) -> Value {
    let data: Vec<Value> = sb.read(key, |s| s.requests.newest_first().map(|r| json!(r)).collect());
    json!({ "object": "list", "data": data })
}
