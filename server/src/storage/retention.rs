//! What is forgotten, and when: ended browser sessions, users nobody can
//! reach any more, stale pending sessions, old webhook event ids and the
//! developer log's old or surplus entries. One
//! idempotent pass ([`Storage::prune`]), safe to run on every instance at
//! once; [`crate::housekeeping`] runs it on a timer.

use super::{Storage, StorageError};
use crate::config::{RetentionConfig, SessionConfig};

/// How many rows one pass removed, per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
    pub users: u64,
    pub pending_sessions: u64,
    pub webhook_events: u64,
    pub developer_log: u64,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.sessions + self.users + self.pending_sessions + self.webhook_events + self.developer_log
    }
}

impl Storage {
    /// One pass at `now` (Unix seconds):
    /// - sessions that are revoked, idle past `sessions.idle` or older than
    ///   `sessions.max_age`, and sessions older than `users_after` whose
    ///   browser never saved anything (no user row);
    /// - users older than `users_after` with no linked account and either no
    ///   Customer or no live session (nothing of theirs can be reached or
    ///   is worth keeping; users with accounts or payments are always kept);
    /// - pending link sessions older than `pending_sessions_after`;
    /// - handled webhook event ids older than `webhook_events_after` (Stripe
    ///   stops retrying an event after three days);
    /// - developer log entries older than `developer_log_after`, past each
    ///   user's newest `developer_log_per_user`, or of users who are gone.
    pub async fn prune(&self, sessions: &SessionConfig, retention: &RetentionConfig, now: i64) -> Result<Pruned, StorageError> {
        let ago = |d: std::time::Duration| now.saturating_sub(d.as_secs() as i64);
        let (idle_since, born_after) = (ago(sessions.idle), ago(sessions.max_age));
        let users_before = ago(retention.users_after);
        let mut c = self.acquire().await?;
        let ended = sql!(c, |e| sqlx::query(
            "DELETE FROM browser_sessions WHERE revoked_at IS NOT NULL OR last_seen_at < $1 OR created_at < $2 \
             OR (created_at < $3 AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = browser_sessions.user_id))"
        )
        .bind(idle_since)
        .bind(born_after)
        .bind(users_before)
        .execute(e)
        .await?
        .rows_affected());
        let users = sql!(c, |e| sqlx::query(
            "DELETE FROM users WHERE created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.user_id = users.id) \
             AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.user_id = users.id) \
             AND (customer_id IS NULL OR NOT EXISTS (SELECT 1 FROM browser_sessions s WHERE s.user_id = users.id))"
        )
        .bind(users_before)
        .execute(e)
        .await?
        .rows_affected());
        let pending_sessions = sql!(c, |e| sqlx::query("DELETE FROM pending_sessions WHERE created_at < $1")
            .bind(ago(retention.pending_sessions_after))
            .execute(e)
            .await?
            .rows_affected());
        let webhook_events = sql!(c, |e| sqlx::query("DELETE FROM webhook_events WHERE received_at < $1")
            .bind(ago(retention.webhook_events_after))
            .execute(e)
            .await?
            .rows_affected());
        let developer_log = super::developer_log::prune(
            c.conn(),
            ago(retention.developer_log_after).saturating_mul(1000),
            retention.developer_log_per_user,
            users_before.saturating_mul(1000),
        )
        .await?;
        Ok(Pruned {
            sessions: ended,
            users,
            pending_sessions,
            webhook_events,
            developer_log,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestDb;
    use super::*;
    use app::model::{CustomerId, SessionId};
    use app::service::UserId;
    use std::time::Duration;

    crate::backend_tests!(prunes_what_nobody_can_reach_and_keeps_the_rest);

    const DAY: i64 = 86_400;

    async fn prunes_what_nobody_can_reach_and_keeps_the_rest(db: TestDb) {
        let s = db.open().await;
        let sessions = SessionConfig {
            idle: Duration::from_secs(7 * DAY as u64),
            max_age: Duration::from_secs(30 * DAY as u64),
        };
        let retention = RetentionConfig {
            users_after: Duration::from_secs(DAY as u64),
            pending_sessions_after: Duration::from_secs(DAY as u64),
            webhook_events_after: Duration::from_secs(30 * DAY as u64),
            developer_log_after: Duration::from_secs(7 * DAY as u64),
            developer_log_per_user: 500,
            interval: Duration::from_secs(3600),
        };
        let now = 100 * DAY;
        let insert_user = |id: &'static str, customer: Option<&'static str>, created: i64| {
            let db = &db;
            async move {
                db.execute(
                    "INSERT INTO users (id, customer_id, created_at) VALUES ($1, NULLIF($2, ''), CAST($3 AS BIGINT))",
                    &[id, customer.unwrap_or(""), &created.to_string()],
                )
                .await
                .unwrap();
            }
        };
        // Kept: a user with an account, whatever its sessions.
        insert_user("with_account", Some("cus_a"), now - 90 * DAY).await;
        db.execute(
            "INSERT INTO accounts (id, user_id, customer_id, institution_name, category, subcategory, status, \
             permissions, linked_at, updated_at) VALUES ('fca_1', 'with_account', 'cus_a', 'Bank', 'cash', \
             'checking', 'active', '[]', 0, 0)",
            &[],
        )
        .await
        .unwrap();
        // Kept: a Customer and a live session (about to link).
        insert_user("about_to_link", Some("cus_b"), now - 3 * DAY).await;
        s.start_session("live", &UserId::new("about_to_link"), now - DAY)
            .await
            .unwrap();
        // Pruned: a Customer but no live session (its one session idled out).
        insert_user("gone", Some("cus_c"), now - 20 * DAY).await;
        s.start_session("idle", &UserId::new("gone"), now - 10 * DAY).await.unwrap();
        // Pruned: no Customer, no account, older than a day (typed details only).
        insert_user("details_only", None, now - 2 * DAY).await;
        // Kept: too new to judge.
        insert_user("new", None, now - 60).await;
        // Sessions: revoked → pruned; never saved anything for over a day → pruned; fresh → kept.
        s.start_session("revoked", &UserId::new("about_to_link"), now - 60)
            .await
            .unwrap();
        db.execute("UPDATE browser_sessions SET revoked_at = 1 WHERE token_hash = 'revoked'", &[])
            .await
            .unwrap();
        s.start_session("browsed_once", &UserId::new("no_row"), now - 2 * DAY)
            .await
            .unwrap();
        s.start_session("browsing", &UserId::new("no_row_yet"), now - 60)
            .await
            .unwrap();
        // Pending sessions and webhook events, one old and one new of each.
        s.add_pending_session(&UserId::new("about_to_link"), &SessionId::parse("fcsess_new").unwrap())
            .await
            .unwrap();
        db.execute(
            "INSERT INTO pending_sessions (session_id, user_id, created_at) VALUES ('fcsess_old', 'about_to_link', 0)",
            &[],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO webhook_events (id, type, received_at) VALUES ('evt_old', 't', 0)",
            &[],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO webhook_events (id, type, received_at) VALUES ('evt_new', 't', CAST($1 AS BIGINT))",
            &[&(now - DAY).to_string()],
        )
        .await
        .unwrap();

        let pruned = s.prune(&sessions, &retention, now).await.unwrap();
        assert_eq!(
            pruned,
            Pruned {
                sessions: 3,
                users: 2,
                pending_sessions: 1,
                webhook_events: 1,
                developer_log: 0
            }
        );
        let users = |id: &'static str| {
            let db = &db;
            async move { db.query_i64("SELECT COUNT(*) FROM users WHERE id = $1", &[id]).await }
        };
        for kept in ["with_account", "about_to_link", "new"] {
            assert_eq!(users(kept).await, 1, "{kept} is kept");
        }
        for gone in ["gone", "details_only"] {
            assert_eq!(users(gone).await, 0, "{gone} is pruned");
        }
        assert_eq!(
            s.session_user("live", &sessions, now).await.unwrap(),
            Some(UserId::new("about_to_link"))
        );
        assert_eq!(
            s.session_user("browsing", &sessions, now).await.unwrap(),
            Some(UserId::new("no_row_yet"))
        );
        assert!(s
            .is_pending(&UserId::new("about_to_link"), &SessionId::parse("fcsess_new").unwrap())
            .await
            .unwrap());
        assert_eq!(db.query_i64("SELECT COUNT(*) FROM webhook_events", &[]).await, 1);
        assert_eq!(
            s.user(&UserId::new("about_to_link")).await.unwrap().customer,
            Some(CustomerId::parse("cus_b").unwrap())
        );
        // A second pass finds nothing more.
        assert_eq!(s.prune(&sessions, &retention, now).await.unwrap().total(), 0);
    }
}
