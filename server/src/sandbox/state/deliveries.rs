//! A key's webhook delivery log: each event on its way to each endpoint,
//! its attempts and outcome, the newest kept. `GET /_sandbox/webhook_deliveries`
//! and tests read it; a pending delivery pushed out of the log is abandoned.

use serde::Serialize;
use std::collections::VecDeque;

/// One event on its way to one endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    pub id: String,
    pub event: String,
    pub event_type: String,
    pub url: String,
    #[serde(rename = "webhook_endpoint")]
    pub endpoint: String,
    pub attempts: u32,
    /// `pending`, `succeeded`, `failed` (gave up) or `abandoned` (the
    /// endpoint was deleted, or the delivery left the log, before it succeeded).
    pub status: &'static str,
    pub last_http_status: Option<u16>,
    /// The job that makes its next attempt, while it is pending.
    #[serde(skip)]
    pub job: Option<u64>,
}

/// Approximate heap of one log entry.
pub const DELIVERY_BYTES: usize = 512;

#[derive(Default)]
pub struct DeliveryLog(VecDeque<Delivery>);

impl DeliveryLog {
    /// Logs a delivery, keeping the newest `cap`; returns those pushed out.
    pub fn push(&mut self, d: Delivery, cap: usize) -> Vec<Delivery> {
        self.0.push_back(d);
        let excess = self.0.len().saturating_sub(cap.max(1));
        self.0.drain(..excess).collect()
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Delivery> {
        self.0.iter_mut().find(|d| d.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Delivery> {
        self.0.iter()
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Delivery> {
        self.0.iter_mut()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
