//! One secret key's world: everything a key made (customers, sessions,
//! accounts and their data, events, webhook endpoints) and the background
//! jobs it has waiting, so forgetting a key forgets its work too.

use super::objects::{Account, Customer, Endpoint, Feature, Ownership, Session, Transaction};
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Work that waits on the clock, run by [`crate::sandbox::work`].
#[derive(Clone, Debug)]
pub enum Job {
    /// A pending refresh settles.
    Settle { account: String, feature: Feature },
    /// A subscribed account's periodic transactions refresh (one per account).
    Subscription { account: String },
    /// One attempt to deliver an event to a webhook endpoint.
    Deliver(DeliveryAttempt),
}

#[derive(Clone, Debug)]
pub struct DeliveryAttempt {
    /// The entry in the delivery log.
    pub delivery: String,
    pub url: String,
    pub secret: String,
    pub body: Arc<str>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The wait before the attempt after this one.
    pub backoff: Duration,
}

/// Job ids, unique in the process.
static NEXT_JOB: AtomicU64 = AtomicU64::new(1);

/// One secret key's world.
#[derive(Default)]
pub struct Space {
    pub customers: HashMap<String, Customer>,
    pub sessions: HashMap<String, Session>,
    /// In creation order (lists are newest first).
    pub accounts: Vec<Account>,
    /// Per account, oldest first.
    pub transactions: HashMap<String, Vec<Transaction>>,
    /// Per account: the ids of its transaction refreshes, oldest first.
    pub transaction_refreshes: HashMap<String, Vec<String>>,
    pub ownerships: HashMap<String, Ownership>,
    /// Newest last.
    pub events: Vec<Value>,
    /// Control surface: this many next refreshes fail.
    pub fail_next_refreshes: u32,
    /// Bank account tokens made by `collectBankAccountToken`.
    pub tokens: HashMap<String, Value>,
    pub webhook_endpoints: Vec<Endpoint>,
    /// Events emitted but not yet handed to webhook delivery.
    outbox: Vec<Value>,
    /// This key's waiting jobs, by id, with when they are due.
    jobs: HashMap<u64, (Instant, Job)>,
    /// Jobs added since the sandbox last indexed them by due time.
    unindexed: Vec<u64>,
}

impl Space {
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
            .map(|a| json!(a))
            .ok_or_else(|| ApiError::not_found("financial_connections.account", id, "account"))
    }

    /// Records an event about an account (its current state is `data.object`).
    pub fn emit(&mut self, kind: &str, account_id: &str) -> Option<Value> {
        let object = json!(self.account(account_id)?);
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
        self.events.push(event.clone());
        self.outbox.push(event.clone());
        Some(event)
    }

    /// Runs `job` after `after`.
    pub fn schedule(&mut self, after: Duration, job: Job) {
        let id = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
        self.jobs.insert(id, (Instant::now() + after, job));
        self.unindexed.push(id);
    }

    /// Whether the account already has its subscription job.
    pub fn subscription_scheduled(&self, account_id: &str) -> bool {
        self.jobs
            .values()
            .any(|(_, j)| matches!(j, Job::Subscription { account } if account == account_id))
    }

    /// The jobs waiting, soonest first (for the control surface).
    pub fn jobs(&self) -> Vec<(Instant, &Job)> {
        let mut jobs: Vec<(Instant, &Job)> = self.jobs.values().map(|(at, j)| (*at, j)).collect();
        jobs.sort_by_key(|(at, _)| *at);
        jobs
    }

    pub(super) fn take_outbox(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.outbox)
    }

    pub(super) fn take_unindexed(&mut self) -> Vec<(u64, Instant)> {
        let ids = std::mem::take(&mut self.unindexed);
        ids.into_iter()
            .filter_map(|id| self.jobs.get(&id).map(|(at, _)| (id, *at)))
            .collect()
    }

    pub(super) fn take_job(&mut self, id: u64) -> Option<Job> {
        self.jobs.remove(&id).map(|(_, j)| j)
    }

    /// Every waiting job's id and due time (to unindex a forgotten space).
    pub(super) fn job_times(&self) -> impl Iterator<Item = (u64, Instant)> + '_ {
        self.jobs.iter().map(|(id, (at, _))| (*id, *at))
    }
}
