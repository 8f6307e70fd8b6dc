//! Webhook delivery: one attempt to POST an event to an endpoint, signed
//! exactly like Stripe (`Stripe-Signature` with the endpoint's `whsec_…`),
//! recorded in the key's delivery log and, while the endpoint fails, tried
//! again later with exponential backoff. Attempts go only to the URL the
//! endpoint has when they are made (so never to a deleted endpoint), never
//! follow redirects or use a proxy, and at most `max_deliveries_per_key`
//! of a key and `max_deliveries_in_flight` in all are in flight at once
//! (the rest wait their turn).

use crate::sandbox::clock::now;
use crate::sandbox::state::{DeliveryAttempt, Job, Sandbox, Space};
use crate::wire::signature;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;

/// How long an attempt waits for the endpoint's answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How soon an attempt that found no free slot looks again.
const WAIT_FOR_SLOT: Duration = Duration::from_millis(50);

/// The HTTP client deliveries use: no redirects, no proxy, and `localhost`
/// always meaning the loopback address.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], 0)))
        .timeout(TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// What a due attempt may do now.
enum Begin {
    /// Send to this URL with this secret.
    Send(String, String, OwnedSemaphorePermit),
    /// Nothing: the delivery was abandoned, or it waits for a slot.
    Nothing,
}

/// Runs a due attempt: sends it in the background if the endpoint still
/// exists and a slot is free, else waits or gives up.
pub fn run(sandbox: &Arc<Sandbox>, http: &reqwest::Client, key: String, a: DeliveryAttempt) {
    let permits = sandbox.delivery_permits();
    let begin = sandbox.with_existing_space(&key, |s| begin(s, &a, &permits));
    if let Some(Begin::Send(url, secret, permit)) = begin {
        tokio::spawn(send(sandbox.clone(), http.clone(), key, a, url, secret, permit));
    }
}

fn begin(s: &mut Space, a: &DeliveryAttempt, permits: &Arc<tokio::sync::Semaphore>) -> Begin {
    let Some((url, secret)) = s.endpoint(&a.endpoint).map(|e| (e.url.clone(), e.secret.clone())) else {
        if let Some(d) = s.deliveries.get_mut(&a.delivery) {
            d.status = "abandoned";
            d.job = None;
        }
        return Begin::Nothing;
    };
    let permit = if s.deliveries_in_flight < s.limits().max_deliveries_per_key {
        permits.clone().try_acquire_owned().ok()
    } else {
        None
    };
    let Some(permit) = permit else {
        let job = s.schedule(WAIT_FOR_SLOT, Job::Deliver(a.clone()));
        if let Some(d) = s.deliveries.get_mut(&a.delivery) {
            d.job = Some(job);
        }
        return Begin::Nothing;
    };
    s.deliveries_in_flight += 1;
    if let Some(d) = s.deliveries.get_mut(&a.delivery) {
        d.job = None;
        d.sending = Some(a.clone());
    }
    Begin::Send(url, secret, permit)
}

/// Sends one attempt, records its outcome, and schedules the next attempt
/// while the endpoint fails and the retry policy allows.
async fn send(
    sandbox: Arc<Sandbox>,
    http: reqwest::Client,
    key: String,
    a: DeliveryAttempt,
    url: String,
    secret: String,
    permit: OwnedSemaphorePermit,
) {
    let sent = http
        .post(&url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
        .header("Stripe-Signature", signature::header(&secret, now(), a.body.as_bytes()))
        .body(a.body.to_string())
        .send()
        .await;
    drop(permit);
    let status = sent.as_ref().ok().map(|r| r.status().as_u16());
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let policy = sandbox.webhook_policy;
    let last = a.attempt >= policy.attempts;
    sandbox.with_existing_space(&key, |s| {
        s.deliveries_in_flight = s.deliveries_in_flight.saturating_sub(1);
        let endpoint_exists = s.endpoint(&a.endpoint).is_some();
        let Some(d) = s.deliveries.get_mut(&a.delivery) else {
            return; // pushed out of the log: abandoned
        };
        d.attempts = a.attempt;
        d.last_http_status = status;
        d.sending = None;
        if ok {
            d.status = "succeeded";
        } else if !endpoint_exists {
            d.status = "abandoned";
        } else if last {
            d.status = "failed";
        } else {
            let next = DeliveryAttempt {
                attempt: a.attempt + 1,
                backoff: (a.backoff * 2).min(policy.max_backoff),
                ..a.clone()
            };
            let job = s.schedule(a.backoff, Job::Deliver(next));
            if let Some(d) = s.deliveries.get_mut(&a.delivery) {
                d.job = Some(job);
            }
        }
    });
    sandbox.flush().await;
}
