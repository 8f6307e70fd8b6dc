//! Webhook delivery: one attempt to POST an event to an endpoint, signed
//! exactly like Stripe (`Stripe-Signature` with the endpoint's `whsec_…`),
//! recorded in the delivery log and, while the endpoint fails, tried again
//! later with exponential backoff.

use crate::sandbox::clock::now;
use crate::sandbox::state::{DeliveryAttempt, Job, Sandbox};
use crate::wire::signature;
use std::sync::Arc;
use std::time::Duration;

/// The HTTP client deliveries use.
pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Sends one attempt and records its outcome; schedules the next attempt
/// while the endpoint fails and the retry policy allows.
pub async fn attempt(sandbox: Arc<Sandbox>, http: reqwest::Client, key: String, a: DeliveryAttempt) {
    let sent = http
        .post(&a.url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        .header("Stripe-Signature", signature::header(&a.secret, now(), a.body.as_bytes()))
        .timeout(Duration::from_secs(10))
        .body(a.body.to_string())
        .send()
        .await;
    let status = sent.as_ref().ok().map(|r| r.status().as_u16());
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let policy = sandbox.webhook_policy;
    let last = a.attempt >= policy.attempts;
    sandbox.deliveries.update(&a.delivery, |d| {
        d.attempts = a.attempt;
        d.last_http_status = status;
        if ok {
            d.status = "succeeded";
        } else if last {
            d.status = "failed";
        }
    });
    if !ok && !last {
        let next = DeliveryAttempt {
            attempt: a.attempt + 1,
            backoff: (a.backoff * 2).min(policy.max_backoff),
            ..a.clone()
        };
        sandbox.with_existing_space(&key, |s| s.schedule(a.backoff, Job::Deliver(next)));
    }
}
