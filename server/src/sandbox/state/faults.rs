//! Fault rules set through the control surface: a key's next N requests
//! whose path starts with a prefix fail one way. The edge applies them
//! ([`crate::sandbox::edge::faults`]); each key's space keeps its own.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fault {
    pub path_prefix: String,
    pub remaining: u32,
    pub kind: FaultKind,
}

/// One key's fault rules, in the order they were added.
#[derive(Default, Serialize, Deserialize)]
pub struct Faults(Vec<Fault>);

impl Faults {
    pub fn add(&mut self, fault: Fault) {
        self.0.push(fault);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes one use of the first fault matching `path`.
    pub fn take(&mut self, path: &str) -> Option<FaultKind> {
        let i = self
            .0
            .iter()
            .position(|f| f.remaining > 0 && path.starts_with(&f.path_prefix))?;
        self.0[i].remaining -= 1;
        let kind = self.0[i].kind;
        self.0.retain(|f| f.remaining > 0);
        Some(kind)
    }
}
