//! Browser sessions: which user a cookie's token stands for, until the
//! session is idle too long, too old, or revoked. Only a hash of the token is
//! stored. [`crate::session`] is the HTTP side.

use super::{Conn, Storage, StorageError};
use crate::config::SessionConfig;
use app::service::UserId;

/// `last_seen_at` is written at most this often per session (seconds), so a
/// busy page costs one read per request, not one write.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: String,
    created_at: i64,
    last_seen_at: i64,
    revoked_at: Option<i64>,
}

impl Storage {
    /// The user of the session whose token hashes to `token_hash`, if that
    /// session is live at `now` (Unix seconds): not revoked, used within the
    /// idle timeout, younger than the absolute lifetime.
    pub async fn session_user(&self, token_hash: &str, rules: &SessionConfig, now: i64) -> Result<Option<UserId>, StorageError> {
        let mut c = self.acquire().await?;
        let row: Option<SessionRow> = sql!(c, |e| sqlx::query_as(
            "SELECT user_id, created_at, last_seen_at, revoked_at FROM browser_sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(e)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let live = row.revoked_at.is_none()
            && now - row.last_seen_at < rules.idle.as_secs() as i64
            && now - row.created_at < rules.max_age.as_secs() as i64;
        if !live {
            return Ok(None);
        }
        if now - row.last_seen_at >= TOUCH_EVERY_SECS {
            sql!(c, |e| sqlx::query(
                "UPDATE browser_sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1"
            )
            .bind(now)
            .bind(token_hash)
            .execute(e)
            .await?
            .rows_affected());
        }
        Ok(Some(UserId::new(row.user_id)))
    }

    /// Records a new session for `user`.
    pub async fn start_session(&self, token_hash: &str, user: &UserId, now: i64) -> Result<(), StorageError> {
        insert(self.acquire().await?.conn(), token_hash, user, now).await
    }

    /// A cookie from before sessions were stored named its user directly
    /// (`user` is derived from it). If that user exists and has not been
    /// adopted yet, records the session (it now expires like any other) and
    /// returns true. Each such user is adopted once: after that, only its
    /// session row counts.
    pub async fn adopt_legacy_session(&self, token_hash: &str, user: &UserId, now: i64) -> Result<bool, StorageError> {
        let mut c = self.acquire().await?;
        // A read first: an unknown cookie (the common case) costs no write.
        let legacy: Option<i64> = sql!(c, |e| sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM users WHERE id = $1 AND legacy_session = TRUE"
        )
        .bind(user.as_str())
        .fetch_optional(e)
        .await?);
        if legacy.is_none() {
            return Ok(false);
        }
        let mut tx = c.conn().begin().await?;
        let adopted = sql!(tx, |e| sqlx::query(
            "UPDATE users SET legacy_session = FALSE WHERE id = $1 AND legacy_session = TRUE"
        )
        .bind(user.as_str())
        .execute(e)
        .await?
        .rows_affected());
        if adopted == 1 {
            insert(tx.conn(), token_hash, user, now).await?;
        }
        tx.commit().await?;
        Ok(adopted == 1)
    }

    /// Ends every live session of `user` (the browser gets a new, empty
    /// user on its next page load). Returns how many were ended.
    pub async fn revoke_sessions(&self, user: &UserId, now: i64) -> Result<u64, StorageError> {
        let mut c = self.acquire().await?;
        Ok(sql!(c, |e| sqlx::query(
            "UPDATE browser_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL"
        )
        .bind(now)
        .bind(user.as_str())
        .execute(e)
        .await?
        .rows_affected()))
    }

    /// Ends every live session (after a suspected cookie leak, say).
    pub async fn revoke_all_sessions(&self, now: i64) -> Result<u64, StorageError> {
        let mut c = self.acquire().await?;
        Ok(sql!(c, |e| sqlx::query(
            "UPDATE browser_sessions SET revoked_at = $1 WHERE revoked_at IS NULL"
        )
        .bind(now)
        .execute(e)
        .await?
        .rows_affected()))
    }
}

/// A session row, begun and last seen `now` (a token already stored keeps its row).
async fn insert(mut c: Conn<'_>, token_hash: &str, user: &UserId, now: i64) -> Result<(), StorageError> {
    sql!(c, |e| sqlx::query(
        "INSERT INTO browser_sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (token_hash) DO NOTHING"
    )
    .bind(token_hash)
    .bind(user.as_str())
    .bind(now)
    .execute(e)
    .await?
    .rows_affected());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestDb;
    use super::*;
    use std::time::Duration;

    crate::backend_tests!(
        a_session_lives_until_idle_or_too_old,
        revoked_sessions_end_and_others_stay,
        a_legacy_cookie_is_adopted_once,
    );

    fn rules() -> SessionConfig {
        SessionConfig {
            idle: Duration::from_secs(1000),
            max_age: Duration::from_secs(5000),
        }
    }

    async fn a_session_lives_until_idle_or_too_old(db: TestDb) {
        let s = db.open().await;
        let user = UserId::new("u1");
        s.start_session("h1", &user, 10_000).await.unwrap();
        assert_eq!(s.session_user("h1", &rules(), 10_000).await.unwrap(), Some(user.clone()));
        assert_eq!(s.session_user("nope", &rules(), 10_000).await.unwrap(), None, "unknown token");
        // Used every 900 s, it stays alive, as each use moves last_seen_at…
        for t in [10_900, 11_800, 12_700, 13_600, 14_500] {
            assert_eq!(s.session_user("h1", &rules(), t).await.unwrap(), Some(user.clone()), "at {t}");
        }
        // …until its absolute lifetime ends.
        assert_eq!(s.session_user("h1", &rules(), 15_000).await.unwrap(), None, "too old");
        // Left alone longer than the idle timeout, a session ends.
        s.start_session("h2", &user, 20_000).await.unwrap();
        assert_eq!(s.session_user("h2", &rules(), 21_000).await.unwrap(), None, "idle");
        // The idle clock is not moved by a read within a minute of the last write.
        s.start_session("h3", &user, 30_000).await.unwrap();
        s.session_user("h3", &rules(), 30_059).await.unwrap();
        let seen = db
            .query_i64("SELECT last_seen_at FROM browser_sessions WHERE token_hash = 'h3'", &[])
            .await;
        assert_eq!(seen, 30_000);
    }

    async fn revoked_sessions_end_and_others_stay(db: TestDb) {
        let s = db.open().await;
        let (a, b) = (UserId::new("a"), UserId::new("b"));
        s.start_session("a1", &a, 100).await.unwrap();
        s.start_session("a2", &a, 100).await.unwrap();
        s.start_session("b1", &b, 100).await.unwrap();
        assert_eq!(s.revoke_sessions(&a, 110).await.unwrap(), 2);
        assert_eq!(s.session_user("a1", &rules(), 120).await.unwrap(), None);
        assert_eq!(s.session_user("a2", &rules(), 120).await.unwrap(), None);
        assert_eq!(s.session_user("b1", &rules(), 120).await.unwrap(), Some(b));
        assert_eq!(s.revoke_all_sessions(130).await.unwrap(), 1);
        assert_eq!(s.session_user("b1", &rules(), 140).await.unwrap(), None);
    }

    async fn a_legacy_cookie_is_adopted_once(db: TestDb) {
        let s = db.open().await;
        let old = UserId::new("legacy");
        // A user from before sessions were stored (the migration marks them).
        db.execute(
            "INSERT INTO users (id, created_at, legacy_session) VALUES ('legacy', 0, TRUE)",
            &[],
        )
        .await
        .unwrap();
        assert!(
            !s.adopt_legacy_session("h", &UserId::new("stranger"), 100).await.unwrap(),
            "no such user"
        );
        assert!(s.adopt_legacy_session("h", &old, 100).await.unwrap());
        assert_eq!(s.session_user("h", &rules(), 100).await.unwrap(), Some(old.clone()));
        // Once adopted, the old cookie is an ordinary session: revoked, it stays revoked.
        s.revoke_sessions(&old, 110).await.unwrap();
        assert!(!s.adopt_legacy_session("h", &old, 120).await.unwrap());
        assert_eq!(s.session_user("h", &rules(), 120).await.unwrap(), None);
        // Users made now are not legacy.
        s.set_details(&UserId::new("new"), &Default::default()).await.unwrap();
        assert!(!s.adopt_legacy_session("h2", &UserId::new("new"), 130).await.unwrap());
    }
}
