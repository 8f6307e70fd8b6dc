//! Live updates for open pages: `GET /events` is a server-sent-event stream
//! of `account` events (the account id as data) for the current user's
//! accounts, sent when a webhook changed one of them.

use app::model::AccountId;
use app::service::UserId;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// How many updates may queue before a slow page misses some (it then
/// reloads on the next one it gets).
const BUFFER: usize = 256;

pub struct Live {
    tx: broadcast::Sender<(UserId, AccountId)>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            tx: broadcast::channel(BUFFER).0,
        }
    }
}

impl Live {
    /// Tells `user`'s open pages that `account` changed.
    pub fn account_changed(&self, user: UserId, account: AccountId) {
        let _ = self.tx.send((user, account)); // no page open: nobody to tell
    }

    /// The SSE response for one user.
    pub fn stream(&self, user: UserId) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
        let rx = self.tx.subscribe();
        let events = futures_util::stream::unfold((rx, user), |(mut rx, user)| async move {
            loop {
                match rx.recv().await {
                    Ok((u, account)) if u == user => {
                        let event = Event::default().event("account").data(account.as_str());
                        return Some((Ok(event), (rx, user)));
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
    }
}

/// `GET /events` (behind the session middleware, which supplies the user).
pub async fn events(
    Extension(live): Extension<Arc<Live>>,
    Extension(user): Extension<UserId>,
) -> impl axum::response::IntoResponse {
    live.stream(user)
}
