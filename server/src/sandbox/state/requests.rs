//! A key's request log: the newest `/v1` requests made with it (method,
//! path, decoded parameters, `Idempotency-Key`, `Stripe-Version`, status,
//! `Request-Id`), so tests of an app can assert what it sent.
//! `GET /_sandbox/requests` reads it, newest first.

use super::objects::approx_json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::VecDeque;

/// One request as the sandbox received it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Its `Request-Id` (`req_…`).
    pub id: String,
    pub created: i64,
    pub method: String,
    pub path: String,
    /// The query (GET, DELETE) or form body (POST), decoded as the API reads it.
    pub params: Value,
    pub idempotency_key: Option<String>,
    pub stripe_version: Option<String>,
    pub status: u16,
}

impl LoggedRequest {
    fn approx_bytes(&self) -> usize {
        256 + self.path.len() + approx_json(&self.params) + self.idempotency_key.as_ref().map_or(0, String::len)
    }
}

/// The newest requests of a key, at most a fixed number.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RequestLog {
    entries: VecDeque<LoggedRequest>,
    bytes: usize,
}

impl RequestLog {
    /// Logs a request, keeping the newest `cap`.
    pub fn push(&mut self, r: LoggedRequest, cap: usize) {
        self.bytes += r.approx_bytes();
        self.entries.push_back(r);
        while self.entries.len() > cap.max(1) {
            if let Some(old) = self.entries.pop_front() {
                self.bytes -= old.approx_bytes();
            }
        }
    }

    /// Newest first.
    pub fn newest_first(&self) -> impl Iterator<Item = &LoggedRequest> {
        self.entries.iter().rev()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(i: usize) -> LoggedRequest {
        LoggedRequest {
            id: format!("req_{i}"),
            created: 0,
            method: "POST".into(),
            path: "/v1/customers".into(),
            params: serde_json::json!({ "name": "x".repeat(100) }),
            idempotency_key: None,
            stripe_version: None,
            status: 200,
        }
    }

    #[test]
    fn keeps_the_newest_and_accounts_for_them() {
        let mut log = RequestLog::default();
        for i in 0..5 {
            log.push(req(i), 3);
        }
        let ids: Vec<&str> = log.newest_first().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["req_4", "req_3", "req_2"]);
        assert_eq!(log.bytes(), 3 * req(0).approx_bytes());
    }
}
