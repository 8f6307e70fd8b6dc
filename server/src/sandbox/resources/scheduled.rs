//! Control surface: what a key has waiting on the clock (refreshes that
//! will settle, subscriptions' next refreshes, payments that will settle,
//! webhook delivery attempts),
//! soonest first, for tests and for seeing why something has not happened yet.

use crate::sandbox::state::{Job, Sandbox};
use serde_json::{json, Value};
use std::time::Instant;

/// `GET /_sandbox/scheduled`.
pub fn list(sb: &Sandbox, key: &str) -> Value {
    let now = Instant::now();
    let data: Vec<Value> = sb.read(key, |s| {
        s.jobs()
            .list()
            .into_iter()
            .map(|(at, job)| {
                let due_in_ms = at.saturating_duration_since(now).as_millis() as u64;
                match job {
                    Job::Settle { account, feature } => {
                        json!({ "kind": "refresh", "account": account, "feature": feature, "due_in_ms": due_in_ms })
                    }
                    Job::Subscription { account } => {
                        json!({ "kind": "subscription", "account": account, "due_in_ms": due_in_ms })
                    }
                    Job::SettlePayment { intent } => {
                        json!({ "kind": "payment", "payment_intent": intent, "due_in_ms": due_in_ms })
                    }
                    Job::Deliver(a) => json!({
                        "kind": "delivery",
                        "delivery": a.delivery,
                        "webhook_endpoint": a.endpoint,
                        "attempt": a.attempt,
                        "due_in_ms": due_in_ms,
                    }),
                }
            })
            .collect()
    });
    json!({ "object": "list", "data": data })
}
