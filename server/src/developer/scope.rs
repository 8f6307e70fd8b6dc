//! Whose behalf the current work is on: a task-local scope that the Stripe
//! client asks when it finishes a request, so no call site passes a user
//! along. [`on_behalf_of`] wraps a user's request (every service call the
//! pages make goes through it); [`webhook`] wraps a webhook's processing,
//! whose user is learnt on the way ([`attribute`]): entries recorded before
//! that are held, then filed under that user, or dropped if none is named.
//! Outside any scope (start-up, health checks) nothing is recorded.

use super::DevLog;
use app::model::developer::LogDetail;
use app::service::UserId;
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Entries held while a webhook's user is unknown, at most.
const MAX_HELD: usize = 64;

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

struct Scope {
    log: Arc<DevLog>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    user: Option<UserId>,
    held: Vec<(i64, LogDetail)>,
    applied: Option<bool>,
}

impl Scope {
    fn new(log: &Arc<DevLog>, user: Option<UserId>) -> Arc<Self> {
        Arc::new(Scope {
            log: log.clone(),
            state: Mutex::new(State {
                user,
                ..State::default()
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `work` recording what it asks Stripe as `user`'s.
pub async fn on_behalf_of<F: Future>(log: &Arc<DevLog>, user: &UserId, work: F) -> F::Output {
    SCOPE.scope(Scope::new(log, Some(user.clone())), work).await
}

/// What a webhook's processing found out about whose data it touched.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Attribution {
    pub user: Option<UserId>,
    /// `Some(false)`: the event had been applied before (a redelivery).
    pub applied: Option<bool>,
}

/// Runs a webhook's `work`, holding what it asks Stripe until
/// [`attribute`] names the user.
pub async fn webhook<F: Future>(log: &Arc<DevLog>, work: F) -> (F::Output, Attribution) {
    let scope = Scope::new(log, None);
    let out = SCOPE.scope(scope.clone(), work).await;
    let mut state = scope.state();
    let attribution = Attribution {
        user: state.user.take(),
        applied: state.applied,
    };
    (out, attribution)
}

/// Names the user whose data the current webhook touches (no-op outside a
/// scope, or when `user` is `None`): what was held is filed as theirs.
pub fn attribute(user: Option<&UserId>) {
    let Some(user) = user else { return };
    let _ = SCOPE.try_with(|scope| {
        let held = {
            let mut state = scope.state();
            state.user = Some(user.clone());
            std::mem::take(&mut state.held)
        };
        for (at_ms, detail) in held {
            scope.log.record(user.clone(), at_ms, detail);
        }
    });
}

/// Says whether the current webhook event was applied (false: a redelivery).
pub fn applied(applied: bool) {
    let _ = SCOPE.try_with(|scope| scope.state().applied = Some(applied));
}

/// Whether anything would be recorded here (the Stripe client skips the
/// work of describing a request otherwise).
pub fn recording() -> bool {
    SCOPE.try_with(|_| ()).is_ok()
}

/// Records `detail` for the scope's user, or holds it until one is named.
pub fn record(at_ms: i64, detail: LogDetail) {
    let _ = SCOPE.try_with(move |scope| {
        let mut state = scope.state();
        match state.user.clone() {
            Some(user) => {
                drop(state);
                scope.log.record(user, at_ms, detail);
            }
            None if state.held.len() < MAX_HELD => state.held.push((at_ms, detail)),
            None => {}
        }
    });
}
