//! Live updates for open pages: `GET /events` is a server-sent-event stream
//! of `account` events (the account id as data) for the current user's
//! accounts, sent when a webhook changed one of them. Streams are capped per
//! user and per instance, send a heartbeat comment every 15 s, and all end at
//! once when the server shuts down (browsers reconnect to another instance).

use app::model::AccountId;
use app::service::UserId;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// How many updates may queue before a slow page misses some (it then
/// reloads on the next one it gets).
const BUFFER: usize = 256;
/// A comment line this often keeps proxies from closing an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long a refused page should wait before opening another stream.
const RETRY_AFTER_SECS: u64 = 10;

pub struct Live {
    tx: broadcast::Sender<(UserId, AccountId)>,
    open: Mutex<Open>,
    per_user: usize,
    total: usize,
    shutdown: CancellationToken,
}

/// Streams open now, per user and in all.
#[derive(Default)]
struct Open {
    by_user: HashMap<UserId, usize>,
    total: usize,
}

/// One open stream's place under the caps; freed when the stream is dropped.
struct Slot {
    live: Arc<Live>,
    user: UserId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.live.open.lock().unwrap_or_else(|e| e.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.by_user.remove(&self.user);
            }
        }
    }
}

impl Live {
    /// At most `per_user` streams per user and `total` on this instance;
    /// every stream ends when `shutdown` is cancelled.
    pub fn new(per_user: usize, total: usize, shutdown: CancellationToken) -> Arc<Self> {
        Arc::new(Live {
            tx: broadcast::channel(BUFFER).0,
            open: Mutex::default(),
            per_user,
            total,
            shutdown,
        })
    }

    /// Tells `user`'s open pages that `account` changed.
    pub fn account_changed(&self, user: UserId, account: AccountId) {
        let _ = self.tx.send((user, account)); // no page open: nobody to tell
    }

    /// Streams open now (for tests and metrics).
    pub fn open_streams(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    fn take_slot(self: &Arc<Self>, user: &UserId) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = open.by_user.get(user).copied().unwrap_or(0);
        if open.total >= self.total || mine >= self.per_user {
            return None;
        }
        open.total += 1;
        *open.by_user.entry(user.clone()).or_default() += 1;
        Some(Slot {
            live: self.clone(),
            user: user.clone(),
        })
    }

    /// The SSE response for one user, or 429 when the user or the instance
    /// has as many streams open as allowed.
    pub fn stream(self: &Arc<Self>, user: UserId) -> Response {
        let Some(slot) = self.take_slot(&user) else {
            tracing::info!("refused an event stream: too many open");
            return crate::limits::too_many("/events", Duration::from_secs(RETRY_AFTER_SECS));
        };
        let rx = self.tx.subscribe();
        let events = futures_util::stream::unfold((rx, slot), |(mut rx, slot)| async move {
            loop {
                match rx.recv().await {
                    Ok((u, account)) if u == slot.user => {
                        let event = Event::default().event("account").data(account.as_str());
                        return Some((Ok::<_, Infallible>(event), (rx, slot)));
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .take_until(self.shutdown.clone().cancelled_owned());
        Sse::new(events)
            .keep_alive(KeepAlive::new().interval(HEARTBEAT))
            .into_response()
    }
}

/// `GET /events` (behind the session middleware, which supplies the user).
pub async fn events(Extension(live): Extension<Arc<Live>>, Extension(user): Extension<UserId>) -> Response {
    live.stream(user)
}
