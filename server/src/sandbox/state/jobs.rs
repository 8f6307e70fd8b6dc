//! A key's waiting background work: each [`Job`] with when it is due. The
//! sandbox indexes every key's jobs by due time for the driver in
//! [`crate::sandbox::work`]; keeping them per key means forgetting a key
//! drops its work with it. In the state file a job keeps its due time as a
//! wall-clock time and gets a new id when it is read back.

use super::stored;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::objects::Feature;

/// Work that waits on the clock, run by [`crate::sandbox::work`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Job {
    /// A pending refresh settles.
    Settle { account: String, feature: Feature },
    /// A subscribed account's periodic transactions refresh (one per account).
    Subscription { account: String },
    /// One attempt to deliver an event to a webhook endpoint.
    Deliver(DeliveryAttempt),
    /// A processing payment settles (succeeds or fails).
    SettlePayment { intent: String },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// The entry in the delivery log.
    pub delivery: String,
    /// The endpoint (its URL and secret are read when the attempt is made).
    pub endpoint: String,
    #[serde(serialize_with = "stored::arc_str_out", deserialize_with = "stored::arc_str_in")]
    pub body: Arc<str>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The wait before the attempt after this one.
    pub backoff: Duration,
}

/// Where a job sits in the sandbox's due-time index: when, and its id.
pub type Due = (Instant, u64);

/// Job ids, unique in the process.
static NEXT_JOB: AtomicU64 = AtomicU64::new(1);

#[derive(Default)]
pub struct Jobs {
    /// By id, with when each is due.
    waiting: HashMap<u64, (Instant, Job)>,
    /// Added, and cancelled, since the sandbox last indexed them.
    added: Vec<u64>,
    cancelled: Vec<Due>,
    /// Old id → new id of jobs read back from the state file.
    renumbered: HashMap<u64, u64>,
}

/// A waiting job as the state file keeps it.
#[derive(Serialize, Deserialize)]
struct StoredJob {
    id: u64,
    /// Unix milliseconds.
    due: i64,
    job: Job,
}

impl Serialize for Jobs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut jobs: Vec<StoredJob> = self
            .waiting
            .iter()
            .map(|(id, (at, job))| StoredJob {
                id: *id,
                due: stored::instant_to_unix_ms(*at),
                job: job.clone(),
            })
            .collect();
        jobs.sort_by_key(|j| (j.due, j.id));
        jobs.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Jobs {
    /// Each job gets a new id (ids are unique only in the process that made
    /// them) and is waiting to be indexed, as if just scheduled.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut jobs = Jobs::default();
        for StoredJob { id, due, job } in Vec::<StoredJob>::deserialize(d)? {
            let new = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
            jobs.waiting.insert(new, (stored::unix_ms_to_instant(due), job));
            jobs.added.push(new);
            jobs.renumbered.insert(id, new);
        }
        Ok(jobs)
    }
}

impl Jobs {
    /// Runs `job` after `after`; returns its id.
    pub fn schedule(&mut self, after: Duration, job: Job) -> u64 {
        let id = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
        self.waiting.insert(id, (Instant::now() + after, job));
        self.added.push(id);
        id
    }

    /// Drops a waiting job.
    pub fn cancel(&mut self, id: u64) {
        if let Some((at, _)) = self.waiting.remove(&id) {
            self.cancelled.push((at, id));
        }
    }

    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Whether the account already has its subscription job.
    pub fn subscription_scheduled(&self, account_id: &str) -> bool {
        self.waiting
            .values()
            .any(|(_, j)| matches!(j, Job::Subscription { account } if account == account_id))
    }

    /// The jobs waiting, soonest first.
    pub fn list(&self) -> Vec<(Instant, &Job)> {
        let mut jobs: Vec<(Instant, &Job)> = self.waiting.values().map(|(at, j)| (*at, j)).collect();
        jobs.sort_by_key(|(at, _)| *at);
        jobs
    }

    /// Jobs added and cancelled since the last call, for the due-time index.
    pub(super) fn take_index_changes(&mut self) -> (Vec<Due>, Vec<Due>) {
        let added = std::mem::take(&mut self.added)
            .into_iter()
            .filter_map(|id| self.waiting.get(&id).map(|(at, _)| (*at, id)))
            .collect();
        (added, std::mem::take(&mut self.cancelled))
    }

    /// The ids that jobs read back from the state file had there, mapped to
    /// their new ones (for what refers to them), emptied by the first call.
    pub(super) fn take_renumbered(&mut self) -> HashMap<u64, u64> {
        std::mem::take(&mut self.renumbered)
    }

    /// Removes a job that is due.
    pub(super) fn take(&mut self, id: u64) -> Option<Job> {
        self.waiting.remove(&id).map(|(_, j)| j)
    }

    /// Every waiting job's id and due time (to unindex a forgotten space).
    pub(super) fn times(&self) -> impl Iterator<Item = Due> + '_ {
        self.waiting.iter().map(|(id, (at, _))| (*at, *id))
    }
}
