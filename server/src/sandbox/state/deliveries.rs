//! A key's webhook delivery log: each event on its way to each endpoint,
//! its attempts and outcome, the newest kept. `GET /_sandbox/webhook_deliveries`
//! and tests read it; a pending delivery pushed out of the log is abandoned.

use super::jobs::DeliveryAttempt;
use super::objects::without;
use super::stored;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};

/// One event on its way to one endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    #[serde(deserialize_with = "stored::static_str")]
    pub status: stored::Const,
    pub last_http_status: Option<u16>,
    /// The job that makes its next attempt, while it is pending. Not shown.
    pub job: Option<u64>,
    /// The attempt being sent right now, if any: a restart that cuts it
    /// short sends it again. Not shown.
    #[serde(default)]
    pub sending: Option<DeliveryAttempt>,
}

impl Delivery {
    /// As `GET /_sandbox/webhook_deliveries` shows it.
    pub fn to_json(&self) -> Value {
        without(json!(self), &["job", "sending"])
    }
}

/// Approximate heap of one log entry.
pub const DELIVERY_BYTES: usize = 512;

#[derive(Default, Serialize, Deserialize)]
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

    /// After a restart: each pending delivery's job follows its new id
    /// (`renumbered`: old → new). Returns the attempts that were being sent
    /// when the sandbox stopped, to send again; a pending delivery with
    /// neither is abandoned.
    pub fn restore(&mut self, renumbered: &HashMap<u64, u64>) -> Vec<DeliveryAttempt> {
        let mut resend = Vec::new();
        for d in self.0.iter_mut() {
            d.job = d.job.and_then(|old| renumbered.get(&old).copied());
            if d.status == "pending" && d.job.is_none() {
                match d.sending.take() {
                    Some(attempt) => resend.push(attempt),
                    None => d.status = "abandoned",
                }
            }
        }
        resend
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn delivery(id: &str, job: Option<u64>, sending: bool) -> Delivery {
        Delivery {
            id: id.into(),
            event: "evt_1".into(),
            event_type: "financial_connections.account.created".into(),
            url: "http://127.0.0.1:9/hook".into(),
            endpoint: "we_1".into(),
            attempts: 0,
            status: "pending",
            last_http_status: None,
            job,
            sending: sending.then(|| DeliveryAttempt {
                delivery: id.into(),
                endpoint: "we_1".into(),
                body: Arc::from("{}"),
                attempt: 2,
                backoff: Duration::from_secs(1),
            }),
        }
    }

    #[test]
    fn a_restart_renumbers_jobs_and_resends_what_was_being_sent() {
        let mut log = DeliveryLog::default();
        for d in [
            delivery("waiting", Some(7), false),
            delivery("sending", None, true),
            delivery("lost", Some(8), false),
        ] {
            log.push(d, 10);
        }
        let resend = log.restore(&HashMap::from([(7, 70)]));
        assert_eq!(resend.len(), 1);
        assert_eq!((resend[0].delivery.as_str(), resend[0].attempt), ("sending", 2));
        let by_id = |id: &str| log.iter().find(|d| d.id == id).unwrap().clone();
        assert_eq!(by_id("waiting").job, Some(70));
        assert_eq!(by_id("lost").status, "abandoned", "no job and nothing being sent");
        assert!(by_id("sending").sending.is_none());
    }

    #[test]
    fn what_stripe_does_not_show_is_not_shown() {
        let v = delivery("d", Some(1), true).to_json();
        assert!(v.get("job").is_none() && v.get("sending").is_none(), "{v}");
        assert_eq!(v["webhook_endpoint"], "we_1");
    }
}
