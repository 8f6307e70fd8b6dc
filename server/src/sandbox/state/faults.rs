//! Fault rules set through the control surface: a key's next N requests
//! whose path starts with a prefix fail one way. The edge applies them
//! ([`crate::sandbox::edge::faults`]); this module only keeps them.

use std::sync::Mutex;
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
    pub fn take(&self, key: &str, path: &str) -> Option<FaultKind> {
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
