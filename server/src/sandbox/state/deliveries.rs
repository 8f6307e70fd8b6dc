//! The webhook delivery log: each event on its way to each endpoint, its
//! attempts and outcome, newest kept. `GET /_sandbox/webhook_deliveries`
//! and tests read it.

use serde::Serialize;
use std::sync::Mutex;

/// The delivery log keeps the newest this many.
pub const MAX_LOGGED: usize = 1000;

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

    pub fn start(&self, d: Delivery) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.push(d);
        let excess = all.len().saturating_sub(MAX_LOGGED);
        all.drain(..excess);
    }

    pub fn update(&self, id: &str, f: impl FnOnce(&mut Delivery)) {
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
