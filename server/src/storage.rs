//! What the app remembers per user: its Stripe Customer, the session it is
//! linking with, and the accounts it linked. In memory for now, behind a
//! small API so a database can replace it without touching callers.

use app::model::{CustomerDetails, CustomerId, LinkedAccount, SessionId};
use app::service::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many unconfirmed sessions a user may have at once.
pub const MAX_PENDING_SESSIONS: usize = 5;

#[derive(Clone, Debug, Default)]
pub struct UserRecord {
    pub customer: Option<CustomerId>,
    pub details: CustomerDetails,
    /// Sessions `start_link` made that are not confirmed yet, newest last;
    /// only these may be confirmed (several tabs may be linking at once).
    pub pending_sessions: Vec<SessionId>,
    /// Newest last; one entry per account id.
    pub accounts: Vec<LinkedAccount>,
}

#[derive(Default)]
pub struct Storage {
    users: Mutex<HashMap<UserId, UserRecord>>,
    /// One async lock per user, held while its Customer is created.
    customer_locks: Mutex<HashMap<UserId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Storage {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn user(&self, user: &UserId) -> UserRecord {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).get(user).cloned().unwrap_or_default()
    }

    pub fn update<R>(&self, user: &UserId, f: impl FnOnce(&mut UserRecord) -> R) -> R {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        f(users.entry(user.clone()).or_default())
    }

    pub fn customer_lock(&self, user: &UserId) -> Arc<tokio::sync::Mutex<()>> {
        self.customer_locks.lock().unwrap_or_else(|e| e.into_inner()).entry(user.clone()).or_default().clone()
    }

    /// Remembers a session as confirmable, keeping the newest few.
    pub fn add_pending_session(&self, user: &UserId, session: SessionId) {
        self.update(user, |u| {
            u.pending_sessions.push(session);
            let excess = u.pending_sessions.len().saturating_sub(MAX_PENDING_SESSIONS);
            u.pending_sessions.drain(..excess);
        })
    }

    /// Adds or replaces accounts by id, keeping first-linked order.
    pub fn upsert_accounts(&self, user: &UserId, accounts: &[LinkedAccount]) {
        self.update(user, |u| {
            for a in accounts {
                match u.accounts.iter_mut().find(|x| x.id == a.id) {
                    Some(existing) => *existing = a.clone(),
                    None => u.accounts.push(a.clone()),
                }
            }
        })
    }
}
