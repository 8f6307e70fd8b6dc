//! Webhook delivery from the sandbox: endpoints registered through Stripe's
//! `/v1/webhook_endpoints` receive every matching event, signed exactly like
//! Stripe (`Stripe-Signature` with the endpoint's `whsec_…`), retried with
//! exponential backoff while they fail. Deliveries are recorded for tests.

use super::store::{new_id, now};
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug, Serialize)]
pub struct Endpoint {
    pub id: String,
    pub object: &'static str,
    pub url: String,
    pub enabled_events: Vec<String>,
    pub secret: String,
    pub status: &'static str,
    pub created: i64,
    pub livemode: bool,
    pub api_version: &'static str,
}

impl Endpoint {
    pub fn new(url: String, enabled_events: Vec<String>) -> Self {
        Endpoint {
            id: new_id("we_"),
            object: "webhook_endpoint",
            url,
            enabled_events,
            secret: new_id("whsec_"),
            status: "enabled",
            created: now(),
            livemode: false,
            api_version: crate::stripe::STRIPE_VERSION,
        }
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled_events.iter().any(|e| e == "*" || e == event_type)
    }
}

/// The delivery log keeps the newest this many.
pub const MAX_LOGGED: usize = 1000;
/// Webhook endpoints one key may register.
pub const MAX_ENDPOINTS: usize = 16;

/// One event on its way to one endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: String,
    /// The secret key whose space emitted the event.
    #[serde(skip)]
    pub key: String,
    pub event: String,
    pub event_type: String,
    pub url: String,
    pub attempts: u32,
    /// `pending`, `succeeded` or `failed` (gave up).
    pub status: &'static str,
    pub last_http_status: Option<u16>,
}

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

#[derive(Default)]
pub struct Deliveries(Mutex<Vec<Delivery>>);

impl Deliveries {
    pub fn all(&self) -> Vec<Delivery> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn for_key(&self, key: &str) -> Vec<Delivery> {
        self.all().into_iter().filter(|d| d.key == key).collect()
    }

    pub fn clear(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).retain(|d| d.key != key);
    }

    fn start(&self, d: Delivery) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.push(d);
        let excess = all.len().saturating_sub(MAX_LOGGED);
        all.drain(..excess);
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut Delivery)) {
        if let Some(d) = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
            .find(|d| d.id == id)
        {
            f(d);
        }
    }
}

/// Sends `event` to `endpoint` in the background until it answers 2xx or the
/// policy gives up. Outside a Tokio runtime (plain unit tests) nothing is sent.
pub fn deliver(http: reqwest::Client, log: Arc<Deliveries>, policy: RetryPolicy, key: &str, endpoint: &Endpoint, event: &Value) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let body = event.to_string();
    let (url, secret) = (endpoint.url.clone(), endpoint.secret.clone());
    let id = new_id("whdel_");
    log.start(Delivery {
        id: id.clone(),
        key: key.to_owned(),
        event: event["id"].as_str().unwrap_or_default().to_owned(),
        event_type: event["type"].as_str().unwrap_or_default().to_owned(),
        url: url.clone(),
        attempts: 0,
        status: "pending",
        last_http_status: None,
    });
    handle.spawn(async move {
        let mut backoff = policy.first_backoff;
        for attempt in 1..=policy.attempts {
            let signature = crate::webhooks::header(&secret, now(), body.as_bytes());
            let sent = http
                .post(&url)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
                .header("Stripe-Signature", signature)
                .timeout(Duration::from_secs(10))
                .body(body.clone())
                .send()
                .await;
            let status = sent.as_ref().ok().map(|r| r.status().as_u16());
            let ok = status.is_some_and(|s| (200..300).contains(&s));
            log.update(&id, |d| {
                d.attempts = attempt;
                d.last_http_status = status;
                if ok {
                    d.status = "succeeded";
                } else if attempt == policy.attempts {
                    d.status = "failed";
                }
            });
            if ok || attempt == policy.attempts {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(policy.max_backoff);
        }
    });
}
