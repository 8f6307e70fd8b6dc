//! The sandbox's state: one [`Space`] per secret key, the client-secret
//! index the modal uses, stored idempotent responses, fault rules, the
//! webhook delivery log, and the due-time index of every key's waiting
//! [`Job`]s. Plain data and bookkeeping: what requests do is in
//! [`crate::sandbox::resources`], what the clock does in
//! [`crate::sandbox::work`]. All in memory.

pub mod deliveries;
pub mod faults;
pub mod objects;
pub mod space;

pub use deliveries::{Deliveries, Delivery};
pub use faults::{Fault, FaultKind, Faults};
pub use objects::*;
pub use space::{DeliveryAttempt, Job, Space};

use crate::sandbox::clock::{new_id, now};
use crate::sandbox::config::{RetryPolicy, Timing};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Default)]
struct State {
    spaces: HashMap<String, Space>,
    /// client secret → (space key, session id)
    secrets: HashMap<String, (String, String)>,
    /// (space key, idempotency key) → first response
    idempotency: HashMap<(String, String), StoredResponse>,
    /// Every space's waiting jobs by due time: (due, job id) → space key.
    due: BTreeMap<(Instant, u64), String>,
}

/// Why the modal cannot run for a client secret, as Stripe.js reports it.
#[derive(Debug, PartialEq)]
pub enum ModalError {
    Unknown,
    Expired,
    Used,
}

#[derive(Default)]
pub struct Sandbox {
    state: Mutex<State>,
    pub timing: Timing,
    pub faults: Faults,
    pub webhook_policy: RetryPolicy,
    pub deliveries: Deliveries,
    /// Woken when a job is scheduled (the background driver waits on it).
    wake: Arc<Notify>,
    driver: AtomicBool,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Lets the background driver see the sandbox is gone and stop.
        self.wake.notify_one();
    }
}

impl Sandbox {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_timing(timing: Timing) -> Self {
        let mut sandbox = Self::default();
        sandbox.timing = timing;
        sandbox
    }

    pub fn with_webhook_policy(mut self, policy: RetryPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the space of `key`, creating it on first use, then queues
    /// delivery of the events it emitted and indexes the jobs it scheduled.
    pub fn with_space<R>(&self, key: &str, f: impl FnOnce(&mut Space) -> R) -> R {
        let mut st = self.lock();
        let State { spaces, due, .. } = &mut *st;
        let space = spaces.entry(key.to_owned()).or_default();
        let result = f(space);
        self.flush(key, space, due);
        result
    }

    /// Like [`Self::with_space`] for a key that still has a space (background
    /// work of a forgotten key finds none and does nothing).
    pub fn with_existing_space<R>(&self, key: &str, f: impl FnOnce(&mut Space) -> R) -> Option<R> {
        let mut st = self.lock();
        let State { spaces, due, .. } = &mut *st;
        let space = spaces.get_mut(key)?;
        let result = f(space);
        self.flush(key, space, due);
        Some(result)
    }

    /// Turns the space's new events into deliveries (one per endpoint that
    /// wants it) and indexes its new jobs by due time.
    fn flush(&self, key: &str, space: &mut Space, due: &mut BTreeMap<(Instant, u64), String>) {
        for event in space.take_outbox() {
            let kind = event["type"].as_str().unwrap_or_default();
            let body: Arc<str> = Arc::from(event.to_string());
            let targets: Vec<(String, String)> = space
                .webhook_endpoints
                .iter()
                .filter(|e| e.wants(kind))
                .map(|e| (e.url.clone(), e.secret.clone()))
                .collect();
            for (url, secret) in targets {
                let id = new_id("whdel_");
                self.deliveries.start(Delivery {
                    id: id.clone(),
                    key: key.to_owned(),
                    event: event["id"].as_str().unwrap_or_default().to_owned(),
                    event_type: kind.to_owned(),
                    url: url.clone(),
                    attempts: 0,
                    status: "pending",
                    last_http_status: None,
                });
                space.schedule(
                    Duration::ZERO,
                    Job::Deliver(DeliveryAttempt {
                        delivery: id,
                        url,
                        secret,
                        body: body.clone(),
                        attempt: 1,
                        backoff: self.webhook_policy.first_backoff,
                    }),
                );
            }
        }
        let new = space.take_unindexed();
        if !new.is_empty() {
            for (id, at) in new {
                due.insert((at, id), key.to_owned());
            }
            self.wake.notify_one();
        }
    }

    /// Customers across all keys (tests use it to count what was created).
    pub fn customer_count(&self) -> usize {
        self.lock().spaces.values().map(|s| s.customers.len()).sum()
    }

    /// Forgets everything one key made, its waiting jobs included.
    pub fn reset_space(&self, key: &str) {
        let mut st = self.lock();
        if let Some(space) = st.spaces.remove(key) {
            for (id, at) in space.job_times() {
                st.due.remove(&(at, id));
            }
        }
        st.secrets.retain(|_, (k, _)| k != key);
        st.idempotency.retain(|(k, _), _| k != key);
        drop(st);
        self.faults.clear(key);
        self.deliveries.clear(key);
    }

    pub fn idempotent_lookup(&self, key: &str, idem: &str) -> Option<StoredResponse> {
        self.lock()
            .idempotency
            .get(&(key.to_owned(), idem.to_owned()))
            .filter(|r| now() - r.at < IDEMPOTENCY_TTL_SECS)
            .cloned()
    }

    pub fn idempotent_store(&self, key: &str, idem: &str, resp: StoredResponse) {
        let mut st = self.lock();
        let t = now();
        st.idempotency.retain(|_, r| t - r.at < IDEMPOTENCY_TTL_SECS);
        st.idempotency.insert((key.to_owned(), idem.to_owned()), resp);
    }

    /// Stores a new session and indexes its client secret for the modal.
    pub fn insert_session(&self, key: &str, session: Session) -> Value {
        let mut st = self.lock();
        st.secrets
            .insert(session.client_secret.clone(), (key.to_owned(), session.id.clone()));
        let json = session.to_json(&[]);
        st.spaces
            .entry(key.to_owned())
            .or_default()
            .sessions
            .insert(session.id.clone(), session);
        json
    }

    /// Runs `f` on the session a client secret belongs to (and its key's
    /// space), if the session can still be used.
    pub fn with_open_session<R>(
        &self,
        client_secret: &str,
        f: impl FnOnce(&str, &mut Session, &mut Space) -> R,
    ) -> Result<R, ModalError> {
        let mut st = self.lock();
        let (key, sid) = st.secrets.get(client_secret).cloned().ok_or(ModalError::Unknown)?;
        let State { spaces, due, .. } = &mut *st;
        let space = spaces.get_mut(&key).ok_or(ModalError::Unknown)?;
        let mut session = space.sessions.remove(&sid).ok_or(ModalError::Unknown)?;
        let result = if session.state == SessionState::Used {
            Err(ModalError::Used)
        } else if session.expired() {
            Err(ModalError::Expired)
        } else {
            Ok(f(&key, &mut session, space))
        };
        space.sessions.insert(sid, session);
        self.flush(&key, space, due);
        result
    }

    /// Removes and returns the jobs due by `now`, with their keys.
    pub fn take_due(&self, now: Instant) -> Vec<(String, Job)> {
        let mut st = self.lock();
        let mut out = Vec::new();
        while let Some(entry) = st.due.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, id), key) = entry.remove_entry();
            if let Some(job) = st.spaces.get_mut(&key).and_then(|s| s.take_job(id)) {
                out.push((key, job));
            }
        }
        out
    }

    /// When the next job is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.lock().due.first_key_value().map(|((at, _), _)| *at)
    }

    /// Every job waiting, across keys (tests count them).
    pub fn jobs_waiting(&self) -> usize {
        self.lock().due.len()
    }

    /// What the background driver waits on.
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// True once: for whoever starts the background driver.
    pub fn claim_driver(&self) -> bool {
        !self.driver.swap(true, Ordering::SeqCst)
    }
}
