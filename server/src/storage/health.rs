//! Whether the database answers: which errors mean "unreachable" (503 for
//! the caller, never 500), the `SELECT 1` that `/readyz` runs, and the
//! last known state that pages check before they render ([`Storage::available`]).
//!
//! Nothing here keeps the app from recovering: every check that finds the
//! database down is remembered for at most [`RECHECK_AFTER`], after which the
//! next caller asks the database again; and every connection the pool hands
//! out marks it up again. sqlx's pool opens new connections by itself once
//! the server is back, so no restart is needed.

use super::{Storage, StorageError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A down state older than this is checked again before it is believed.
pub const RECHECK_AFTER: Duration = Duration::from_secs(1);
/// The longest a page waits for that check.
const PAGE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `e` means the database could not be reached or cannot serve now
/// (as opposed to a bug or a constraint): no connection within the acquire
/// timeout, a refused or dropped connection, the server shutting down or
/// out of connections (PostgreSQL's classes 08, 57P0x, 53300), a SQLite
/// file held locked by another process past the busy timeout.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY and SQLITE_LOCKED, extended codes included.
                code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            } else {
                code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
            }
        }
        _ => false,
    }
}

/// The last thing known about the database: up or down, and when.
pub(super) struct Health {
    up: AtomicBool,
    /// Milliseconds from `epoch` to when `up` was last set.
    at_ms: AtomicU64,
    epoch: Instant,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            up: AtomicBool::new(true),
            at_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

impl Health {
    fn set(&self, up: bool) {
        let was = self.up.swap(up, Ordering::Relaxed);
        self.at_ms.store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        match (was, up) {
            (true, false) => tracing::warn!("database unreachable: requests answer 503 until it is back"),
            (false, true) => tracing::info!("database reachable again"),
            _ => {}
        }
    }

    /// Records what a use of the database showed (only errors that say
    /// something about reachability count).
    pub(super) fn observe<T>(&self, result: &Result<T, sqlx::Error>) {
        match result {
            Ok(_) => {
                if !self.up.load(Ordering::Relaxed) {
                    self.set(true);
                }
            }
            Err(e) if is_unavailable(e) => self.set(false),
            Err(_) => {}
        }
    }

    /// `Some(false)` while a recent failure stands; `None` when it is time to ask again.
    fn believed_down(&self) -> Option<bool> {
        if self.up.load(Ordering::Relaxed) {
            return Some(false);
        }
        let age = (self.epoch.elapsed().as_millis() as u64).saturating_sub(self.at_ms.load(Ordering::Relaxed));
        (age < RECHECK_AFTER.as_millis() as u64).then_some(true)
    }
}

impl Storage {
    /// Runs `SELECT 1` on a pooled connection within `timeout` (waiting for
    /// a connection included), and remembers the outcome.
    pub async fn ping(&self, timeout: Duration) -> Result<(), StorageError> {
        let attempt = async {
            let mut c = self.acquire().await?;
            let one: Result<(), sqlx::Error> = sql!(c, |e| sqlx::query("SELECT 1").execute(e).await.map(|_| ()));
            self.health.observe(&one);
            one
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(result) => Ok(result?),
            Err(_) => {
                self.health.set(false);
                Err(StorageError::NoAnswer(timeout))
            }
        }
    }

    /// Whether the database is believed reachable: yes while nothing has
    /// failed; after a failure, no for [`RECHECK_AFTER`], then a fresh
    /// [`ping`](Self::ping) decides. Costs nothing while the database is up.
    pub async fn available(&self) -> bool {
        match self.health.believed_down() {
            Some(down) => !down,
            None => {
                let timeout = self.acquire_timeout.min(PAGE_CHECK_TIMEOUT);
                self.ping(timeout).await.is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reachability_errors_are_told_apart_from_others() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }

    #[test]
    fn a_failure_is_believed_for_a_moment_then_checked_again() {
        let health = Health::default();
        assert_eq!(health.believed_down(), Some(false));
        health.observe::<()>(&Err(sqlx::Error::PoolTimedOut));
        assert_eq!(health.believed_down(), Some(true));
        // An unrelated error says nothing about reachability.
        health.observe::<()>(&Err(sqlx::Error::RowNotFound));
        assert_eq!(health.believed_down(), Some(true));
        // Later: time to ask the database again.
        let aged = Health {
            epoch: Instant::now() - RECHECK_AFTER - Duration::from_millis(10),
            ..Health::default()
        };
        aged.set(false);
        aged.at_ms.store(0, Ordering::Relaxed);
        assert_eq!(aged.believed_down(), None);
        aged.observe(&Ok(()));
        assert_eq!(aged.believed_down(), Some(false));
    }
}
