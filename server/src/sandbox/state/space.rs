//! One secret key's world: everything a key made (customers, sessions,
//! accounts and their data, events, webhook endpoints), what is kept for it
//! (idempotent responses, fault rules, its delivery log) and the background
//! jobs it has waiting, so forgetting a key forgets its work too. Each kind
//! is bounded by [`Limits`]: what a caller creates is refused past its
//! limit, records keep their newest.
//!
//! A space is also what the state file keeps for a key ([`super::store`]):
//! serde writes every field but the bookkeeping marked `skip`, and a field
//! missing from an older file takes its value from [`Space::default`].

use super::customer::Customer;
use super::deliveries::{Delivery, DeliveryLog, DELIVERY_BYTES};
use super::endpoint::Endpoint;
use super::faults::{Fault, FaultKind, Faults};
use super::idempotency::{Idempotency, StoredResponse};
use super::jobs::{DeliveryAttempt, Job, Jobs};
use super::objects::{Account, Ownership, RefreshHistory, Session, Transaction};
use super::payments::Payments;
use super::requests::RequestLog;
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::config::Limits;
use crate::sandbox::error::ApiError;
use crate::sandbox::version::{self, ApiVersion};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Approximate heap per object of the kinds whose size does not vary much
/// (the others are measured: see `approx_bytes`).
const SPACE_BYTES: usize = 4096;
const ACCOUNT_BYTES: usize = 2048;
const TRANSACTION_BYTES: usize = 512;
/// An event, and its body while deliveries of it are pending.
const EVENT_BYTES: usize = 4096;
const TOKEN_BYTES: usize = 1024;
const OWNER_BYTES: usize = 512;
const REFRESH_ID_BYTES: usize = 64;

/// One secret key's world.
#[derive(Serialize, Deserialize)]
#[serde(default)]
pub struct Space {
    #[serde(skip)]
    limits: Limits,
    pub customers: HashMap<String, Customer>,
    /// The `seq` the next customer gets.
    next_customer: u64,
    /// The key's default API version (`POST /_sandbox/api_version`); `None`
    /// is [`ApiVersion::current`].
    pub api_version: Option<ApiVersion>,
    pub sessions: HashMap<String, Session>,
    /// Session ids, oldest first.
    session_order: VecDeque<String>,
    /// In creation order (lists are newest first).
    pub accounts: Vec<Account>,
    /// Per account, oldest first.
    pub transactions: HashMap<String, Vec<Transaction>>,
    /// Per account: its transaction refreshes, oldest first.
    pub transaction_refreshes: HashMap<String, RefreshHistory>,
    /// The current ownership of each account that has one.
    pub ownerships: HashMap<String, Ownership>,
    /// Newest last.
    pub events: VecDeque<Value>,
    /// Control surface: this many next refreshes fail.
    pub fail_next_refreshes: u32,
    /// Bank account tokens made by `collectBankAccountToken`.
    pub tokens: HashMap<String, Value>,
    pub webhook_endpoints: Vec<Endpoint>,
    /// PaymentIntents, PaymentMethods, Mandates.
    pub payments: Payments,
    /// The newest `/v1` requests made with the key.
    pub requests: RequestLog,
    faults: Faults,
    pub deliveries: DeliveryLog,
    /// Deliveries of this key being sent right now.
    #[serde(skip)]
    pub deliveries_in_flight: usize,
    idempotency: Idempotency,
    /// Events emitted but not yet handed to webhook delivery (always empty
    /// between requests, so never written).
    #[serde(skip)]
    outbox: Vec<Value>,
    jobs: Jobs,
    /// When a request last used the key (the sandbox's LRU clock).
    #[serde(skip)]
    pub(super) last_used: u64,
    /// Its size when the sandbox last measured it.
    #[serde(skip)]
    pub(super) bytes: usize,
}

impl Default for Space {
    fn default() -> Self {
        Space::new(Limits::default())
    }
}

impl Space {
    pub fn new(limits: Limits) -> Self {
        Space {
            limits,
            customers: HashMap::new(),
            next_customer: 0,
            api_version: None,
            sessions: HashMap::new(),
            session_order: VecDeque::new(),
            accounts: Vec::new(),
            transactions: HashMap::new(),
            transaction_refreshes: HashMap::new(),
            ownerships: HashMap::new(),
            events: VecDeque::new(),
            fail_next_refreshes: 0,
            tokens: HashMap::new(),
            webhook_endpoints: Vec::new(),
            payments: Payments::default(),
            requests: RequestLog::default(),
            faults: Faults::default(),
            deliveries: DeliveryLog::default(),
            deliveries_in_flight: 0,
            idempotency: Idempotency::default(),
            outbox: Vec::new(),
            jobs: Jobs::default(),
            last_used: 0,
            bytes: 0,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Makes a space read back from the state file live again under
    /// `limits`: what refers to its jobs follows their new ids, and a
    /// delivery a restart cut short is sent again.
    pub(super) fn restore(&mut self, limits: Limits) {
        self.limits = limits;
        let renumbered = self.jobs.take_renumbered();
        for attempt in self.deliveries.restore(&renumbered) {
            let id = attempt.delivery.clone();
            let job = self.schedule(Duration::ZERO, Job::Deliver(attempt));
            if let Some(d) = self.deliveries.get_mut(&id) {
                d.job = Some(job);
            }
        }
    }

    // --- size and room ----------------------------------------------------------

    /// Roughly the heap this key's data holds.
    pub fn approx_bytes(&self) -> usize {
        let transactions: usize = self.transactions.values().map(Vec::len).sum();
        let refreshes: usize = self.transaction_refreshes.values().map(RefreshHistory::len).sum();
        let owners: usize = self.ownerships.values().map(|o| o.owners.len() + 1).sum();
        SPACE_BYTES
            + self.customers.values().map(Customer::approx_bytes).sum::<usize>()
            + self.sessions.values().map(Session::approx_bytes).sum::<usize>()
            + self.webhook_endpoints.iter().map(Endpoint::approx_bytes).sum::<usize>()
            + self.idempotency.bytes()
            + self.payments.approx_bytes()
            + self.requests.bytes()
            + self.accounts.len() * ACCOUNT_BYTES
            + transactions * TRANSACTION_BYTES
            + refreshes * REFRESH_ID_BYTES
            + owners * OWNER_BYTES
            + self.events.len() * EVENT_BYTES
            + self.tokens.len() * TOKEN_BYTES
            + self.deliveries.len() * DELIVERY_BYTES
            + self.jobs.len() * 128
    }

    /// Whether the key holds more than one key may (half the sandbox's memory).
    pub fn over_share(&self) -> bool {
        self.approx_bytes() > self.limits.max_bytes / 2
    }

    /// Refuses to create `adding` more `what` when the key has `have` of them
    /// and may have `cap`, or holds more than its share of memory.
    pub(super) fn room(&self, what: &str, have: usize, adding: usize, cap: usize, param: Option<&str>) -> Result<(), ApiError> {
        if have + adding > cap {
            return Err(ApiError::limit(
                param,
                format!(
                    "This key has reached the sandbox's limit of {cap} {what}. \
                     POST /_sandbox/reset forgets what the key made; another test key starts empty."
                ),
            ));
        }
        if self.over_share() {
            return Err(ApiError::limit(
                param,
                "This key holds more data than the sandbox allows one key (half of SANDBOX_MAX_MEMORY_MB). \
                 POST /_sandbox/reset forgets what the key made; another test key starts empty.",
            ));
        }
        Ok(())
    }

    // --- objects ----------------------------------------------------------------

    pub fn add_customer(&mut self, mut c: Customer) -> Result<Value, ApiError> {
        self.room("customers", self.customers.len(), 1, self.limits.max_objects, None)?;
        c.seq = self.next_customer;
        self.next_customer += 1;
        let json = c.to_json();
        self.customers.insert(c.id.clone(), c);
        Ok(json)
    }

    /// A customer that exists and is not deleted.
    pub fn live_customer(&self, id: &str) -> Option<&Customer> {
        self.customers.get(id).filter(|c| !c.deleted)
    }

    /// The version the key's requests and events default to.
    pub fn default_version(&self) -> ApiVersion {
        self.api_version.clone().unwrap_or_default()
    }

    /// Stores a new session. At the limit, the oldest finished (used or
    /// expired) session is forgotten to make room; returns the client
    /// secrets of those forgotten.
    pub fn add_session(&mut self, session: Session) -> Result<Vec<String>, ApiError> {
        let mut forgotten = Vec::new();
        if self.sessions.len() >= self.limits.max_objects {
            let oldest_finished = self
                .session_order
                .iter()
                .position(|id| self.sessions.get(id).is_none_or(Session::finished));
            if let Some(i) = oldest_finished {
                if let Some(id) = self.session_order.remove(i) {
                    forgotten.extend(self.sessions.remove(&id).map(|s| s.client_secret));
                }
            }
        }
        self.room("open sessions", self.sessions.len(), 1, self.limits.max_objects, None)?;
        self.session_order.push_back(session.id.clone());
        self.sessions.insert(session.id.clone(), session);
        Ok(forgotten)
    }

    /// Whether `n` more accounts may be linked.
    pub fn room_for_accounts(&self, n: usize) -> Result<(), ApiError> {
        self.room("accounts", self.accounts.len(), n, self.limits.max_objects, Some("accounts"))
    }

    pub fn account_mut(&mut self, id: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.id == id)
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The account, or Stripe's `resource_missing` for it.
    pub fn account_or_404(&mut self, id: &str) -> Result<&mut Account, ApiError> {
        self.account_mut(id)
            .ok_or_else(|| ApiError::not_found("financial_connections.account", id, "account"))
    }

    /// The account as JSON, or Stripe's `resource_missing` for it.
    pub fn account_json(&self, id: &str) -> Result<Value, ApiError> {
        self.account(id)
            .map(|a| a.to_json())
            .ok_or_else(|| ApiError::not_found("financial_connections.account", id, "account"))
    }

    /// Stores a bank token (one per account linked in a token flow, so the
    /// accounts limit bounds them).
    pub fn add_token(&mut self, id: String, token: Value) {
        self.tokens.insert(id, token);
    }

    /// Makes `ownership` the account's current one (the previous one can no
    /// longer be reached, so it is dropped).
    pub fn set_ownership(&mut self, account_id: &str, ownership: Ownership) {
        let Some(account) = self.account_mut(account_id) else {
            return;
        };
        let previous = account.ownership.replace(ownership.id.clone());
        if let Some(old) = previous {
            self.ownerships.remove(&old);
        }
        self.ownerships.insert(ownership.id.clone(), ownership);
    }

    /// Records a transaction refresh of the account; returns its sequence number.
    pub fn record_transaction_refresh(&mut self, account_id: &str, refresh_id: &str) -> usize {
        let cap = self.limits.max_objects;
        self.transaction_refreshes
            .entry(account_id.to_owned())
            .or_default()
            .push(refresh_id.to_owned(), cap)
    }

    /// Records an event about an account (its current state is `data.object`),
    /// keeping the newest events.
    pub fn emit(&mut self, kind: &str, account_id: &str) -> Option<Value> {
        let object = self.account(account_id)?.to_json();
        Some(self.emit_object(kind, object))
    }

    /// Records an event about any object (`data.object`), keeping the newest events.
    pub fn emit_object(&mut self, kind: &str, object: Value) -> Value {
        let event = json!({
            "id": new_id("evt_"),
            "object": "event",
            "api_version": crate::wire::STRIPE_VERSION,
            "created": now(),
            "data": { "object": object },
            "livemode": false,
            "pending_webhooks": 0,
            "request": { "id": null, "idempotency_key": null },
            "type": kind,
        });
        self.events.push_back(event.clone());
        while self.events.len() > self.limits.max_objects {
            self.events.pop_front();
        }
        self.outbox.push(event.clone());
        event
    }

    // --- webhook endpoints and deliveries --------------------------------------

    pub fn add_endpoint(&mut self, e: Endpoint) -> Result<(), ApiError> {
        let cap = self.limits.max_webhook_endpoints;
        self.room("webhook endpoints", self.webhook_endpoints.len(), 1, cap, Some("url"))?;
        self.webhook_endpoints.push(e);
        Ok(())
    }

    pub fn endpoint(&self, id: &str) -> Option<&Endpoint> {
        self.webhook_endpoints.iter().find(|e| e.id == id)
    }

    pub fn endpoint_mut(&mut self, id: &str) -> Option<&mut Endpoint> {
        self.webhook_endpoints.iter_mut().find(|e| e.id == id)
    }

    /// Deletes an endpoint; its pending deliveries are abandoned, never retried.
    pub fn delete_endpoint(&mut self, id: &str) -> bool {
        let before = self.webhook_endpoints.len();
        self.webhook_endpoints.retain(|e| e.id != id);
        if self.webhook_endpoints.len() == before {
            return false;
        }
        let jobs: Vec<u64> = self
            .deliveries
            .iter_mut()
            .filter(|d| d.endpoint == id && d.status == "pending")
            .filter_map(|d| {
                d.status = "abandoned";
                d.job.take()
            })
            .collect();
        for job in jobs {
            self.cancel_job(job);
        }
        true
    }

    /// Turns the events emitted since the last call into deliveries, one per
    /// endpoint that wants each (in the endpoint's API version, else the
    /// key's; not an event its version does not have), logged and scheduled now.
    pub(super) fn dispatch_outbox(&mut self, first_backoff: Duration) {
        let default = self.default_version();
        for event in std::mem::take(&mut self.outbox) {
            let kind = event["type"].as_str().unwrap_or_default().to_owned();
            let targets: Vec<(String, String, ApiVersion)> = self
                .webhook_endpoints
                .iter()
                .filter(|e| e.wants(&kind))
                .map(|e| {
                    let v = e.api_version.as_deref().and_then(ApiVersion::parse);
                    (e.id.clone(), e.url.clone(), v.unwrap_or_else(|| default.clone()))
                })
                .filter(|(_, _, v)| version::event_exists(&kind, v))
                .collect();
            for (endpoint, url, v) in targets {
                let mut shaped = event.clone();
                version::render(&mut shaped, &v);
                let body: Arc<str> = Arc::from(shaped.to_string());
                let id = new_id("whdel_");
                let job = self.schedule(
                    Duration::ZERO,
                    Job::Deliver(DeliveryAttempt {
                        delivery: id.clone(),
                        endpoint: endpoint.clone(),
                        body,
                        attempt: 1,
                        backoff: first_backoff,
                    }),
                );
                let entry = Delivery {
                    id,
                    event: event["id"].as_str().unwrap_or_default().to_owned(),
                    event_type: kind.clone(),
                    url,
                    endpoint,
                    attempts: 0,
                    status: "pending",
                    last_http_status: None,
                    job: Some(job),
                    sending: None,
                };
                let cap = self.limits.max_objects;
                for dropped in self.deliveries.push(entry, cap) {
                    if let Some(job) = dropped.job {
                        self.cancel_job(job);
                    }
                }
            }
        }
    }

    // --- fault rules and idempotency -------------------------------------------

    pub fn add_fault(&mut self, fault: Fault) -> Result<(), ApiError> {
        let cap = self.limits.max_faults;
        self.room("fault rules", self.faults.len(), 1, cap, Some("path"))?;
        self.faults.add(fault);
        Ok(())
    }

    pub fn take_fault(&mut self, path: &str) -> Option<FaultKind> {
        self.faults.take(path)
    }

    pub fn idempotent_get(&self, idem: &str) -> Option<&StoredResponse> {
        self.idempotency.get(idem, now())
    }

    pub fn idempotent_put(&mut self, idem: &str, resp: StoredResponse) {
        let cap = self.limits.max_objects;
        self.idempotency.put(idem, resp, now(), cap);
    }

    // --- jobs -------------------------------------------------------------------

    /// Runs `job` after `after`; returns its id.
    pub fn schedule(&mut self, after: Duration, job: Job) -> u64 {
        self.jobs.schedule(after, job)
    }

    /// Drops a waiting job.
    pub fn cancel_job(&mut self, id: u64) {
        self.jobs.cancel(id);
    }

    /// The key's waiting jobs.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    pub(super) fn jobs_mut(&mut self) -> &mut Jobs {
        &mut self.jobs
    }
}
