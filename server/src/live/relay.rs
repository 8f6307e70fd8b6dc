//! Live updates between instances on PostgreSQL. Each update this instance
//! makes is published with `NOTIFY` (ids only: instance, user, and the
//! account, the payment, or `developer` for a developer-log update) by a
//! publisher task; one listener task feeds what the other instances
//! published into the local broadcast, skipping this instance's own (already
//! delivered locally). When the listener's connection was lost, whatever
//! was sent meanwhile is gone: every local stream is told to resync. Both
//! tasks end on shutdown.

use super::Update;
use crate::storage::notify::{Heard, Listener};
use crate::storage::Storage;
use app::model::{AccountId, PaymentIntentId};
use app::service::UserId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Updates waiting to be published; past this, new ones are dropped (logged).
const OUTBOX: usize = 1024;
/// Tries per NOTIFY before the update is given up for other instances.
const ATTEMPTS: u32 = 3;

/// The NOTIFY payload.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Message {
    /// The publishing instance (random per process).
    from: String,
    user: String,
    /// The account that changed (empty for a payment).
    #[serde(default)]
    account: String,
    /// The payment that changed, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment: Option<String>,
    /// The user's developer log changed (no account).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    developer: bool,
}

pub(super) struct Relay {
    instance: String,
    outbox: mpsc::Sender<String>,
}

/// Starts the publisher and the listener on `storage`; `None` (nothing to
/// relay) on SQLite.
pub(super) fn start(storage: Arc<Storage>, updates: broadcast::Sender<Update>, stop: CancellationToken) -> Option<Relay> {
    let listener = storage.listener()?;
    let instance = crate::session::new_token()[..16].to_owned();
    let (outbox, queued) = mpsc::channel(OUTBOX);
    tokio::spawn(publish(storage, queued, stop.clone()));
    tokio::spawn(listen(listener, instance.clone(), updates, stop));
    Some(Relay { instance, outbox })
}

impl Relay {
    pub(super) fn publish(&self, user: &UserId, account: &AccountId) {
        self.send(Message {
            from: self.instance.clone(),
            user: user.as_str().to_owned(),
            account: account.as_str().to_owned(),
            payment: None,
            developer: false,
        });
    }

    pub(super) fn publish_payment(&self, user: &UserId, payment: &PaymentIntentId) {
        self.send(Message {
            from: self.instance.clone(),
            user: user.as_str().to_owned(),
            account: String::new(),
            payment: Some(payment.as_str().to_owned()),
            developer: false,
        });
    }

    pub(super) fn publish_developer(&self, user: &UserId) {
        self.send(Message {
            from: self.instance.clone(),
            user: user.as_str().to_owned(),
            account: String::new(),
            payment: None,
            developer: true,
        });
    }

    fn send(&self, message: Message) {
        let Ok(payload) = serde_json::to_string(&message) else {
            return;
        };
        if self.outbox.try_send(payload).is_err() {
            tracing::warn!("live-update outbox full or closed: other instances miss this update");
        }
    }
}

async fn publish(storage: Arc<Storage>, mut queued: mpsc::Receiver<String>, stop: CancellationToken) {
    loop {
        let payload = tokio::select! {
            _ = stop.cancelled() => return,
            next = queued.recv() => match next {
                Some(payload) => payload,
                None => return,
            },
        };
        for attempt in 1..=ATTEMPTS {
            match storage.notify(&payload).await {
                Ok(()) => break,
                Err(e) if attempt < ATTEMPTS => {
                    tracing::warn!("live-update notify failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
                Err(e) => tracing::warn!("live-update notify failed ({e}): other instances miss this update"),
            }
        }
    }
}

async fn listen(mut listener: Listener, instance: String, updates: broadcast::Sender<Update>, stop: CancellationToken) {
    loop {
        let heard = tokio::select! {
            _ = stop.cancelled() => return,
            heard = listener.next() => heard,
        };
        if let Some(update) = update_from(heard, &instance) {
            let _ = updates.send(update);
        }
    }
}

/// What a notification means here: another instance's account update, a
/// resync after a gap, or nothing (this instance's own, or malformed).
fn update_from(heard: Heard, instance: &str) -> Option<Update> {
    let payload = match heard {
        Heard::Missed => {
            tracing::info!("live updates from other instances may have been missed: open pages resync");
            return Some(Update::Resync);
        }
        Heard::Message(payload) => payload,
    };
    let message = match serde_json::from_str::<Message>(&payload) {
        Ok(m) if m.from == instance => return None,
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("ignoring a malformed live-update notification: {e}");
            return None;
        }
    };
    if message.developer && !message.user.is_empty() {
        return Some(Update::Developer(UserId::new(message.user)));
    }
    if let Some(payment) = &message.payment {
        return match PaymentIntentId::parse(payment) {
            Ok(id) if !message.user.is_empty() => Some(Update::Payment(UserId::new(message.user), id)),
            _ => {
                tracing::warn!("ignoring a live-update notification without a valid user and payment");
                None
            }
        };
    }
    match AccountId::parse(&message.account) {
        Ok(account) if !message.user.is_empty() => Some(Update::Account(UserId::new(message.user), account)),
        _ => {
            tracing::warn!("ignoring a live-update notification without a valid user and account");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testing::TestDb;
    use crate::storage::Backend;

    /// Polls the count `sql` gives until it is `n` (at most 5 s).
    async fn until_count(db: &TestDb, sql: &str, n: i64) {
        for _ in 0..250 {
            if db.query_i64(sql, &[]).await == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{sql} never gave {n}");
    }

    #[tokio::test]
    async fn the_listener_stops_on_shutdown() {
        let Some(db) = TestDb::new(Backend::Postgres).await else {
            return;
        };
        let shutdown = CancellationToken::new();
        let live = super::super::Live::new(4, 100, shutdown.clone(), &Arc::new(db.open().await));
        let listening = "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'bank-link-listener' \
                         AND query LIKE '%' || current_schema() || '%'";
        until_count(&db, listening, 1).await;
        shutdown.cancel();
        until_count(&db, listening, 0).await;
        drop(live);
    }

    fn message(from: &str, user: &str, account: &str) -> Heard {
        Heard::Message(serde_json::json!({"from": from, "user": user, "account": account}).to_string())
    }

    #[test]
    fn others_updates_are_delivered_and_ours_are_not_twice() {
        let Some(Update::Account(user, account)) = update_from(message("b", "u1", "fca_1"), "a") else {
            panic!("another instance's update is delivered");
        };
        assert_eq!((user.as_str(), account.as_str()), ("u1", "fca_1"));
        assert!(
            update_from(message("a", "u1", "fca_1"), "a").is_none(),
            "ours went out locally"
        );
        assert!(matches!(update_from(Heard::Missed, "a"), Some(Update::Resync)));
        let developer = Heard::Message(serde_json::json!({"from": "b", "user": "u1", "developer": true}).to_string());
        assert!(matches!(update_from(developer, "a"), Some(Update::Developer(u)) if u.as_str() == "u1"));
        let paid = serde_json::json!({"from": "b", "user": "u1", "payment": "pi_1"}).to_string();
        let Some(Update::Payment(user, payment)) = update_from(Heard::Message(paid), "a") else {
            panic!("another instance's payment update is delivered");
        };
        assert_eq!((user.as_str(), payment.as_str()), ("u1", "pi_1"));
    }

    #[test]
    fn malformed_notifications_are_ignored() {
        for heard in [
            Heard::Message("".into()),
            Heard::Message("fca_1".into()),
            Heard::Message("{\"from\":\"b\"}".into()),
            message("b", "", "fca_1"),
            message("b", "u1", "cus_1"),
            message("b", "u1", &format!("fca_{}", "x".repeat(300))),
            Heard::Message(serde_json::json!({"from": "b", "user": "u1", "payment": "fca_1"}).to_string()),
            Heard::Message(serde_json::json!({"from": "b", "user": "", "payment": "pi_1"}).to_string()),
        ] {
            assert!(update_from(heard, "a").is_none());
        }
    }
}
