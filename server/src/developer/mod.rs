//! The developer panel's log (`/developer`): every Stripe API request the
//! server made on a user's behalf, every webhook event that touched their
//! data, and every Stripe.js result their pages reported, redacted
//! ([`redact`]) and stored per user with a retention limit.
//!
//! Nothing here is on a request's hot path: [`DevLog::record`] puts an entry
//! on a bounded queue and returns; one writer task per instance stores
//! entries in batches, trims each user's log to its limit and tells the
//! user's open pages (live updates). When the queue is full the entry is
//! dropped and counted ([`DevLog::dropped`]) rather than making a request wait.
//! Whose behalf a Stripe request is on comes from a task-local [`scope`]
//! set around each service call ([`Attributed`]) and each webhook.

pub mod redact;
mod scope;
mod service;

pub use scope::{applied, attribute, on_behalf_of, recording, webhook, Attribution};
pub use service::{Attributed, Panel};

use crate::live::Live;
use crate::storage::{NewLogEntry, Storage};
use app::model::developer::{LogDetail, RetryNote, StripeRequestLog};
use app::service::UserId;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, OwnedRwLockWriteGuard, RwLock};
use tokio_util::sync::CancellationToken;

/// Entries the writer stores in one transaction, at most.
const BATCH: usize = 64;

pub struct DevLog {
    queue: mpsc::Sender<NewLogEntry>,
    dropped: AtomicU64,
    /// The writer holds it (shared) while it stores a batch; see [`DevLog::hold_writer`].
    gate: Arc<RwLock<()>>,
}

impl DevLog {
    /// Starts the writer: at most `queue` entries wait, each user keeps their
    /// newest `per_user`. It ends with `shutdown`, after storing what waits.
    pub fn start(storage: Arc<Storage>, live: Arc<Live>, queue: usize, per_user: u32, shutdown: CancellationToken) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let gate = Arc::new(RwLock::new(()));
        tokio::spawn(write(storage, live, rx, per_user, gate.clone(), shutdown));
        Arc::new(DevLog {
            queue: tx,
            dropped: AtomicU64::new(0),
            gate,
        })
    }

    /// Queues an entry for `user`; never waits. A full queue drops it.
    pub fn record(&self, user: UserId, at_ms: i64, detail: LogDetail) {
        match self.queue.try_send(NewLogEntry { user, at_ms, detail }) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n == 1 || n.is_multiple_of(1000) {
                    tracing::warn!(dropped = n, "developer log queue full: entries dropped");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {} // shutting down
        }
    }

    /// Entries dropped because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops the writer before its next batch until the guard is dropped
    /// (for tests of a stalled writer; the queue then fills and drops).
    pub async fn hold_writer(&self) -> OwnedRwLockWriteGuard<()> {
        self.gate.clone().write_owned().await
    }
}

async fn write(
    storage: Arc<Storage>,
    live: Arc<Live>,
    mut queue: mpsc::Receiver<NewLogEntry>,
    per_user: u32,
    gate: Arc<RwLock<()>>,
    shutdown: CancellationToken,
) {
    loop {
        let first = tokio::select! {
            biased;
            next = queue.recv() => match next {
                Some(entry) => entry,
                None => return,
            },
            _ = shutdown.cancelled() => return,
        };
        let open = gate.read().await;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
        let stored = storage.insert_log(&batch, per_user).await;
        drop(open);
        match stored {
            Ok(()) => {
                let users: HashSet<&UserId> = batch.iter().map(|e| &e.user).collect();
                for user in users {
                    live.developer_log_changed(user.clone());
                }
            }
            Err(e) => tracing::warn!(entries = batch.len(), "could not store developer log entries: {e}"),
        }
    }
}

/// One finished Stripe API call as the client saw it.
pub struct StripeExchange<'a> {
    pub method: &'static str,
    pub path: &'a str,
    pub params: &'a [(String, String)],
    pub idempotency_key: Option<&'a str>,
    pub attempts: u32,
    pub retries: Vec<RetryNote>,
    pub started: Instant,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub body: Option<&'a [u8]>,
    pub error: Option<String>,
}

/// Records a Stripe call for the current scope's user (nothing outside a scope).
pub fn record_stripe(x: StripeExchange<'_>) {
    if !recording() {
        return;
    }
    let elapsed = x.started.elapsed();
    let detail = LogDetail::StripeRequest(StripeRequestLog {
        method: x.method.to_owned(),
        path: redact::redact_str(x.path),
        status: x.status,
        request_id: x.request_id,
        idempotency_key: x.idempotency_key.map(redact::redact_str),
        attempts: x.attempts,
        retries: x.retries,
        duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        params: redact::pretty(&mut redact::form_json(x.params)),
        response: x.body.map(redact::body_text),
        error: x.error.map(|e| redact::redact_str(&e)),
    });
    let started_ms = crate::clock::unix_now_ms() - i64::try_from(elapsed.as_millis()).unwrap_or(0);
    scope::record(started_ms, detail);
}
