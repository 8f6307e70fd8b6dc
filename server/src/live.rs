//! Live updates for open pages: `GET /events` is a server-sent-event stream
//! of `account` events (the account id as data) for the current user's
//! accounts, sent when a webhook changed one of them, `payment` events (the
//! PaymentIntent id) when one of their payments changed, `developer` events
//! when the user's developer log has new entries, and `resync` events
//! when updates may have been missed (the page then reloads). Streams are
//! capped per user and per instance, send a heartbeat comment every 15 s,
//! and all end at once when the server shuts down (browsers reconnect to
//! another instance).
//!
//! Every update goes through one in-process broadcast. On PostgreSQL
//! [`relay`] also carries it to the other instances sharing the database and
//! feeds theirs into this one, so a webhook handled by any instance reaches
//! the user's pages on all of them.

mod relay;

use crate::storage::Storage;
use app::model::{AccountId, PaymentIntentId};
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

/// How many updates may queue before a slow page misses some (it is then
/// told to resync).
const BUFFER: usize = 256;
/// A comment line this often keeps proxies from closing an idle stream.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long a refused page should wait before opening another stream.
const RETRY_AFTER_SECS: u64 = 10;

/// What the broadcast carries to this instance's streams.
#[derive(Clone, Debug)]
enum Update {
    /// A user's account changed.
    Account(UserId, AccountId),
    /// A user's developer log has new entries.
    Developer(UserId),
    /// A user's payment changed.
    Payment(UserId, PaymentIntentId),
    /// Updates may have been lost (another instance's, while the listener
    /// was down): every page reloads what it shows.
    Resync,
}

pub struct Live {
    tx: broadcast::Sender<Update>,
    /// PostgreSQL: the other instances.
    relay: Option<relay::Relay>,
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
    /// every stream ends when `shutdown` is cancelled. On PostgreSQL
    /// (`storage`) updates are also relayed between instances, by a listener
    /// and a publisher task that end with `shutdown` too.
    pub fn new(per_user: usize, total: usize, shutdown: CancellationToken, storage: &Arc<Storage>) -> Arc<Self> {
        let tx = broadcast::channel(BUFFER).0;
        let relay = relay::start(storage.clone(), tx.clone(), shutdown.clone());
        Arc::new(Live {
            tx,
            relay,
            open: Mutex::default(),
            per_user,
            total,
            shutdown,
        })
    }

    /// Tells `user`'s open pages, on every instance, that `account` changed.
    pub fn account_changed(&self, user: UserId, account: AccountId) {
        if let Some(relay) = &self.relay {
            relay.publish(&user, &account);
        }
        let _ = self.tx.send(Update::Account(user, account)); // no page open: nobody to tell
    }

    /// Tells `user`'s open pages, on every instance, that their developer
    /// log has new entries.
    pub fn developer_log_changed(&self, user: UserId) {
        if let Some(relay) = &self.relay {
            relay.publish_developer(&user);
        }
        let _ = self.tx.send(Update::Developer(user));
    }

    /// Tells `user`'s open pages, on every instance, that `payment` changed.
    pub fn payment_changed(&self, user: UserId, payment: PaymentIntentId) {
        if let Some(relay) = &self.relay {
            relay.publish_payment(&user, &payment);
        }
        let _ = self.tx.send(Update::Payment(user, payment));
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
                let event = match rx.recv().await {
                    Ok(Update::Account(u, account)) if u == slot.user => Event::default().event("account").data(account.as_str()),
                    Ok(Update::Developer(u)) if u == slot.user => Event::default().event("developer").data("log"),
                    Ok(Update::Payment(u, id)) if u == slot.user => Event::default().event("payment").data(id.as_str()),
                    Ok(Update::Account(..) | Update::Payment(..) | Update::Developer(_)) => continue,
                    // An event with empty data is never dispatched: say "all".
                    Ok(Update::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        Event::default().event("resync").data("all")
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                };
                return Some((Ok::<_, Infallible>(event), (rx, slot)));
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
