//! How the sandbox behaves over time: refresh timing and webhook retries,
//! each with Stripe-like defaults and tests' faster settings.

use std::time::Duration;

/// How long refreshes take and how soon another may start.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub refresh_delay: Duration,
    pub refresh_cooldown_secs: i64,
    /// How often a `subscribe`d account refreshes its transactions (Stripe: daily).
    pub subscription_interval: Duration,
}

impl Timing {
    /// `SANDBOX_REFRESH_DELAY_MS` (default 1000) and
    /// `SANDBOX_REFRESH_COOLDOWN_SECS` (default 10); unparsable values keep the default.
    pub fn from_env() -> Self {
        let d = Self::default();
        Timing {
            refresh_delay: env_u64("SANDBOX_REFRESH_DELAY_MS")
                .map(Duration::from_millis)
                .unwrap_or(d.refresh_delay),
            refresh_cooldown_secs: env_u64("SANDBOX_REFRESH_COOLDOWN_SECS")
                .map(|s| s as i64)
                .unwrap_or(d.refresh_cooldown_secs),
            subscription_interval: d.subscription_interval,
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            refresh_delay: Duration::from_secs(1),
            refresh_cooldown_secs: 10,
            subscription_interval: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// How webhook deliveries are retried while an endpoint fails.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok())
}
