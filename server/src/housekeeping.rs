//! The app's own upkeep on a timer: every `PRUNE_INTERVAL_SECS` (and a
//! minute after start) it runs [`Storage::prune`], which forgets ended
//! sessions, users nobody can reach, stale pending sessions, old webhook
//! event ids and old or surplus developer log entries. Every instance runs it; the pass is idempotent, so several at
//! once only repeat each other's deletes.

use crate::clock::unix_now;
use crate::config::{RetentionConfig, SessionConfig};
use crate::storage::Storage;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The first pass waits this long, so start-up (and a test) is not also a prune.
const FIRST_PASS_AFTER: Duration = Duration::from_secs(60);

/// Starts the pruning loop; it ends with `shutdown`.
pub fn spawn(storage: Arc<Storage>, sessions: SessionConfig, retention: RetentionConfig, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut wait = FIRST_PASS_AFTER.min(retention.interval);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(wait) => {}
            }
            wait = retention.interval;
            match storage.prune(&sessions, &retention, unix_now()).await {
                Ok(pruned) if pruned.total() > 0 => tracing::info!(
                    sessions = pruned.sessions,
                    users = pruned.users,
                    pending_sessions = pruned.pending_sessions,
                    webhook_events = pruned.webhook_events,
                    developer_log = pruned.developer_log,
                    "pruned"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!("pruning failed (next try in {:?}): {e}", retention.interval),
            }
        }
    });
}
