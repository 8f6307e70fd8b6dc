//! The sandbox's state: one [`Space`] per secret key, the client-secret
//! index the modal uses, and the due-time index of every key's waiting
//! [`Job`]s. Plain data and bookkeeping: what requests do is in
//! [`crate::sandbox::resources`], what the clock does in
//! [`crate::sandbox::work`]. Held in memory, bounded by [`Limits`]: past
//! `max_keys` keys, or `max_bytes` of data, the least recently used keys are
//! forgotten (never a pinned one, such as the embedded app's). With a state
//! file ([`persist`]) every space that changed is written to it before the
//! response, and read back at the next start.

pub mod customer;
pub mod deliveries;
pub mod endpoint;
pub mod faults;
pub mod idempotency;
pub mod jobs;
pub mod objects;
pub mod payments;
pub mod persist;
pub mod requests;
pub mod space;
pub mod store;
pub mod stored;

pub use customer::Customer;
pub use deliveries::Delivery;
pub use endpoint::Endpoint;
pub use faults::{Fault, FaultKind};
pub use idempotency::{StoredResponse, IDEMPOTENCY_TTL_SECS};
pub use jobs::{DeliveryAttempt, Job};
pub use objects::*;
pub use payments::{Acceptance, BankAccount, BillingDetails, IntentStatus, Mandate, Outcome, PaymentIntent, PaymentMethod};
pub use requests::LoggedRequest;
pub use space::Space;

use crate::sandbox::config::{Limits, RetryPolicy, Timing};
use crate::sandbox::error::ApiError;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::{Notify, Semaphore};

#[derive(Default)]
struct State {
    spaces: HashMap<String, Space>,
    /// Keys never forgotten for room.
    pinned: HashSet<String>,
    /// Unpinned keys by when a request last used them, oldest first.
    lru: BTreeMap<u64, String>,
    tick: u64,
    /// Sum of the spaces' last measured sizes.
    bytes: usize,
    /// client secret → (space key, session id)
    secrets: HashMap<String, (String, String)>,
    /// Every space's waiting jobs by due time: (due, job id) → space key.
    due: BTreeMap<(Instant, u64), String>,
    /// Keys whose space changed since the state file was last written.
    dirty: HashSet<String>,
    /// Keys forgotten since then.
    removed: HashSet<String>,
}

impl State {
    /// Forgets a key: its space, its waiting jobs and its client secrets.
    fn forget(&mut self, key: &str) {
        let Some(space) = self.spaces.remove(key) else {
            return;
        };
        self.dirty.remove(key);
        self.removed.insert(key.to_owned());
        for due in space.jobs().times() {
            self.due.remove(&due);
        }
        for s in space.sessions.values() {
            self.secrets.remove(&s.client_secret);
        }
        self.lru.remove(&space.last_used);
        self.bytes -= space.bytes;
    }

    /// The least recently used key that may be forgotten, other than `keep`.
    fn evictable(&self, keep: &str) -> Option<String> {
        self.lru.values().find(|k| k.as_str() != keep).cloned()
    }
}

/// Why the modal cannot run for a client secret, as Stripe.js reports it.
#[derive(Debug, PartialEq)]
pub enum ModalError {
    Unknown,
    Expired,
    Used,
}

pub struct Sandbox {
    state: Mutex<State>,
    pub timing: Timing,
    pub limits: Limits,
    pub webhook_policy: RetryPolicy,
    /// Hosts besides loopback that webhook endpoints may use (standalone only).
    webhook_hosts: Vec<String>,
    /// Deliveries in flight, all keys together.
    delivery_permits: Arc<Semaphore>,
    /// Woken when a job is scheduled (the background driver waits on it).
    wake: Arc<Notify>,
    driver: AtomicBool,
    /// The state file, when there is one.
    store: Option<store::Store>,
    /// One write of the state file at a time, in order.
    flushing: tokio::sync::Mutex<()>,
}

impl Default for Sandbox {
    fn default() -> Self {
        let limits = Limits::default();
        Sandbox {
            state: Mutex::default(),
            timing: Timing::default(),
            limits,
            webhook_policy: RetryPolicy::default(),
            webhook_hosts: Vec::new(),
            delivery_permits: Arc::new(Semaphore::new(limits.max_deliveries_in_flight)),
            wake: Arc::default(),
            driver: AtomicBool::new(false),
            store: None,
            flushing: tokio::sync::Mutex::new(()),
        }
    }
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

    /// Timing and limits from the environment (`SANDBOX_*`).
    pub fn from_env() -> Result<Self, String> {
        Ok(Self::with_timing(Timing::from_env()).with_limits(Limits::from_env()?))
    }

    pub fn with_webhook_policy(mut self, policy: RetryPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.delivery_permits = Arc::new(Semaphore::new(limits.max_deliveries_in_flight));
        self
    }

    /// Lets webhook endpoints use these hosts besides loopback (as the URL
    /// parser prints them: see [`crate::sandbox::urls::allowed_host`]).
    pub fn with_webhook_hosts(mut self, hosts: Vec<String>) -> Self {
        self.webhook_hosts = hosts;
        self
    }

    pub fn webhook_hosts(&self) -> &[String] {
        &self.webhook_hosts
    }

    pub fn delivery_permits(&self) -> Arc<Semaphore> {
        self.delivery_permits.clone()
    }

    /// Never forgets `key` for room (the embedded app's own key).
    pub fn pin_key(&self, key: &str) {
        let mut st = self.lock();
        st.pinned.insert(key.to_owned());
        if let Some(space) = st.spaces.get(key) {
            let tick = space.last_used;
            st.lru.remove(&tick);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the space of `key` for a request: creates it on first use
    /// (forgetting the least recently used key past `max_keys`), marks it
    /// used, then queues delivery of the events it emitted, indexes the jobs
    /// it scheduled and keeps the sandbox within its memory.
    pub fn with_space<R>(&self, key: &str, f: impl FnOnce(&mut Space) -> R) -> R {
        let mut st = self.lock();
        if !st.spaces.contains_key(key) {
            while st.spaces.len() >= self.limits.max_keys {
                let Some(old) = st.evictable(key) else { break };
                st.forget(&old);
            }
        }
        let limits = self.limits;
        let result = f(st.spaces.entry(key.to_owned()).or_insert_with(|| Space::new(limits)));
        st.dirty.insert(key.to_owned());
        self.touch(&mut st, key);
        self.settle(&mut st, key);
        result
    }

    /// Runs `f` on the space of `key` for a request that only reads: a key
    /// with no data reads an empty space (none is made, so no key is forgotten).
    pub fn read<R>(&self, key: &str, f: impl FnOnce(&Space) -> R) -> R {
        let mut st = self.lock();
        if st.spaces.contains_key(key) {
            self.touch(&mut st, key);
            if let Some(space) = st.spaces.get(key) {
                return f(space);
            }
        }
        drop(st);
        f(&Space::new(self.limits))
    }

    /// Like [`Self::with_space`] for background work: a key that has no
    /// space (forgotten or reset) gets none, and its recency is not changed.
    pub fn with_existing_space<R>(&self, key: &str, f: impl FnOnce(&mut Space) -> R) -> Option<R> {
        let mut st = self.lock();
        let result = f(st.spaces.get_mut(key)?);
        st.dirty.insert(key.to_owned());
        self.settle(&mut st, key);
        Some(result)
    }

    fn touch(&self, st: &mut State, key: &str) {
        if st.pinned.contains(key) {
            return;
        }
        st.tick += 1;
        let tick = st.tick;
        let Some(space) = st.spaces.get_mut(key) else {
            return;
        };
        let previous = std::mem::replace(&mut space.last_used, tick);
        st.lru.remove(&previous);
        st.lru.insert(tick, key.to_owned());
    }

    /// After a space changed: its events become deliveries, its jobs are
    /// (un)indexed, its size is measured, and least recently used keys are
    /// forgotten while the sandbox holds more than `max_bytes`.
    fn settle(&self, st: &mut State, key: &str) {
        let State { spaces, due, bytes, .. } = st;
        let Some(space) = spaces.get_mut(key) else {
            return;
        };
        space.dispatch_outbox(self.webhook_policy.first_backoff);
        let (added, cancelled) = space.jobs_mut().take_index_changes();
        for entry in cancelled {
            due.remove(&entry);
        }
        if !added.is_empty() {
            for entry in added {
                due.insert(entry, key.to_owned());
            }
            self.wake.notify_one();
        }
        let size = space.approx_bytes();
        *bytes = *bytes - space.bytes + size;
        space.bytes = size;
        while st.bytes > self.limits.max_bytes {
            let Some(old) = st.evictable(key) else { break };
            st.forget(&old);
        }
    }

    /// Customers across all keys (tests use it to count what was created).
    pub fn customer_count(&self) -> usize {
        self.lock().spaces.values().map(|s| s.customers.len()).sum()
    }

    /// Keys that have data.
    pub fn key_count(&self) -> usize {
        self.lock().spaces.len()
    }

    /// Approximate bytes of all keys' data.
    pub fn approx_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Every key's webhook deliveries (tests read them).
    pub fn deliveries(&self) -> Vec<Delivery> {
        let st = self.lock();
        st.spaces.values().flat_map(|s| s.deliveries.iter().cloned()).collect()
    }

    /// Forgets everything one key made, its waiting jobs included.
    pub fn reset_space(&self, key: &str) {
        self.lock().forget(key);
    }

    pub fn idempotent_lookup(&self, key: &str, idem: &str) -> Option<StoredResponse> {
        self.lock().spaces.get(key)?.idempotent_get(idem).cloned()
    }

    pub fn idempotent_store(&self, key: &str, idem: &str, resp: StoredResponse) {
        self.with_space(key, |s| s.idempotent_put(idem, resp));
    }

    /// Takes one use of the first fault rule of `key` matching `path`.
    pub fn take_fault(&self, key: &str, path: &str) -> Option<FaultKind> {
        let mut st = self.lock();
        let fault = st.spaces.get_mut(key)?.take_fault(path)?;
        st.dirty.insert(key.to_owned());
        Some(fault)
    }

    /// Stores a new session and indexes its client secret for the modal.
    pub fn insert_session(&self, key: &str, session: Session) -> Result<Value, ApiError> {
        let json = session.to_json(&[]);
        let secret = session.client_secret.clone();
        let id = session.id.clone();
        let forgotten = self.with_space(key, |s| s.add_session(session))?;
        let mut st = self.lock();
        for old in forgotten {
            st.secrets.remove(&old);
        }
        if st.spaces.get(key).is_some_and(|s| s.sessions.contains_key(&id)) {
            st.secrets.insert(secret, (key.to_owned(), id));
        }
        Ok(json)
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
        self.touch(&mut st, &key);
        let space = st.spaces.get_mut(&key).ok_or(ModalError::Unknown)?;
        let mut session = space.sessions.remove(&sid).ok_or(ModalError::Unknown)?;
        let result = if session.state == SessionState::Used {
            Err(ModalError::Used)
        } else if session.expired() {
            Err(ModalError::Expired)
        } else {
            Ok(f(&key, &mut session, space))
        };
        space.sessions.insert(sid, session);
        st.dirty.insert(key.clone());
        self.settle(&mut st, &key);
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
            if let Some(job) = st.spaces.get_mut(&key).and_then(|s| s.jobs_mut().take(id)) {
                st.dirty.insert(key.clone());
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
