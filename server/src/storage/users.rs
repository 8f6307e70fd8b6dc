//! Users: their Stripe Customer and the details they gave (name, email),
//! and the sessions they started but have not confirmed yet.

use super::{Conn, Held, Storage, StorageError};
use crate::clock::unix_now as now;
use app::model::{CustomerDetails, CustomerId, SessionId};
use app::service::UserId;

/// How many unconfirmed sessions a user may have at once (several tabs).
pub const MAX_PENDING_SESSIONS: i64 = 5;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserRecord {
    pub customer: Option<CustomerId>,
    pub details: CustomerDetails,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    customer_id: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

impl Storage {
    pub async fn user(&self, user: &UserId) -> Result<UserRecord, StorageError> {
        read(self.acquire().await?.conn(), user).await
    }

    /// Records the user's Customer unless one is already recorded; returns
    /// the one that is (so a lost race keeps the first).
    pub async fn set_customer(&self, user: &UserId, customer: &CustomerId) -> Result<CustomerId, StorageError> {
        record_customer(self.acquire().await?.conn(), user, customer).await
    }

    pub async fn set_details(&self, user: &UserId, details: &CustomerDetails) -> Result<(), StorageError> {
        write_details(self.acquire().await?.conn(), user, details).await
    }

    /// Remembers a session as confirmable, keeping the newest few.
    pub async fn add_pending_session(&self, user: &UserId, session: &SessionId) -> Result<(), StorageError> {
        add_pending(self.acquire().await?.conn(), user, session).await
    }

    /// When the user's accounts were last listed from Stripe (Unix seconds).
    pub async fn accounts_checked_at(&self, user: &UserId) -> Result<Option<i64>, StorageError> {
        let mut c = self.acquire().await?;
        let at: Option<Option<i64>> = sql!(c, |e| sqlx::query_scalar(
            "SELECT accounts_checked_at FROM users WHERE id = $1"
        )
        .bind(user.as_str())
        .fetch_optional(e)
        .await?);
        Ok(at.flatten())
    }

    /// The user whose Customer this is, if any.
    pub async fn user_with_customer(&self, customer: &CustomerId) -> Result<Option<UserId>, StorageError> {
        let mut c = self.acquire().await?;
        let id: Option<String> = sql!(c, |e| sqlx::query_scalar("SELECT id FROM users WHERE customer_id = $1")
            .bind(customer.as_str())
            .fetch_optional(e)
            .await?);
        Ok(id.map(UserId::new))
    }

    pub async fn is_pending(&self, user: &UserId, session: &SessionId) -> Result<bool, StorageError> {
        let mut c = self.acquire().await?;
        Ok(sql!(c, |e| sqlx::query(
            "SELECT 1 FROM pending_sessions WHERE session_id = $1 AND user_id = $2"
        )
        .bind(session.as_str())
        .bind(user.as_str())
        .fetch_optional(e)
        .await?
        .is_some()))
    }
}

/// The same, under the user's [`crate::locks::LockKey::Customer`] lock.
impl Held {
    pub async fn user(&mut self, user: &UserId) -> Result<UserRecord, StorageError> {
        read(self.handle().await?.conn(), user).await
    }

    pub async fn set_customer(&mut self, user: &UserId, customer: &CustomerId) -> Result<CustomerId, StorageError> {
        record_customer(self.handle().await?.conn(), user, customer).await
    }

    pub async fn set_details(&mut self, user: &UserId, details: &CustomerDetails) -> Result<(), StorageError> {
        write_details(self.handle().await?.conn(), user, details).await
    }
}

pub(super) async fn ensure_user(mut c: Conn<'_>, user: &UserId) -> Result<(), StorageError> {
    sql!(c, |e| sqlx::query(
        "INSERT INTO users (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING"
    )
    .bind(user.as_str())
    .bind(now())
    .execute(e)
    .await?
    .rows_affected());
    Ok(())
}

async fn read(mut c: Conn<'_>, user: &UserId) -> Result<UserRecord, StorageError> {
    let row: Option<UserRow> = sql!(c, |e| sqlx::query_as(
        "SELECT customer_id, name, email FROM users WHERE id = $1"
    )
    .bind(user.as_str())
    .fetch_optional(e)
    .await?);
    let Some(row) = row else { return Ok(UserRecord::default()) };
    Ok(UserRecord {
        customer: row
            .customer_id
            .map(|c| CustomerId::parse(&c).map_err(|_| StorageError::Corrupt(c)))
            .transpose()?,
        details: CustomerDetails {
            name: row.name,
            email: row.email,
        },
    })
}

async fn record_customer(mut c: Conn<'_>, user: &UserId, customer: &CustomerId) -> Result<CustomerId, StorageError> {
    ensure_user(c.conn(), user).await?;
    sql!(c, |e| sqlx::query(
        "UPDATE users SET customer_id = $1 WHERE id = $2 AND customer_id IS NULL"
    )
    .bind(customer.as_str())
    .bind(user.as_str())
    .execute(e)
    .await?
    .rows_affected());
    read(c, user)
        .await?
        .customer
        .ok_or_else(|| StorageError::Corrupt("customer not recorded".into()))
}

async fn write_details(mut c: Conn<'_>, user: &UserId, details: &CustomerDetails) -> Result<(), StorageError> {
    ensure_user(c.conn(), user).await?;
    sql!(c, |e| sqlx::query("UPDATE users SET name = $1, email = $2 WHERE id = $3")
        .bind(&details.name)
        .bind(&details.email)
        .bind(user.as_str())
        .execute(e)
        .await?
        .rows_affected());
    Ok(())
}

/// Notes that the user's accounts were just listed from Stripe.
pub(super) async fn checked_accounts(mut c: Conn<'_>, user: &UserId) -> Result<(), StorageError> {
    sql!(c, |e| sqlx::query("UPDATE users SET accounts_checked_at = $1 WHERE id = $2")
        .bind(now())
        .bind(user.as_str())
        .execute(e)
        .await?
        .rows_affected());
    Ok(())
}

async fn add_pending(mut c: Conn<'_>, user: &UserId, session: &SessionId) -> Result<(), StorageError> {
    ensure_user(c.conn(), user).await?;
    let mut tx = c.begin().await?;
    sql!(tx, |e| sqlx::query(
        "INSERT INTO pending_sessions (session_id, user_id, created_at) VALUES ($1, $2, $3)"
    )
    .bind(session.as_str())
    .bind(user.as_str())
    .bind(now())
    .execute(e)
    .await?
    .rows_affected());
    // The newest by time, then by insertion order: SQLite's rowid, PostgreSQL's identity column.
    sql!(tx,
        sqlite: |e| sqlx::query(
            "DELETE FROM pending_sessions WHERE user_id = $1 AND session_id NOT IN (SELECT session_id \
             FROM pending_sessions WHERE user_id = $1 ORDER BY created_at DESC, rowid DESC LIMIT $2)",
        )
        .bind(user.as_str())
        .bind(MAX_PENDING_SESSIONS)
        .execute(e)
        .await?
        .rows_affected(),
        postgres: |e| sqlx::query(
            "DELETE FROM pending_sessions WHERE user_id = $1 AND session_id NOT IN (SELECT session_id \
             FROM pending_sessions WHERE user_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2)",
        )
        .bind(user.as_str())
        .bind(MAX_PENDING_SESSIONS)
        .execute(e)
        .await?
        .rows_affected(),
    );
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestDb;
    use super::*;

    crate::backend_tests!(
        a_customer_is_recorded_once,
        details_are_kept_apart_from_the_customer,
        only_the_newest_pending_sessions_are_kept,
        sessions_need_their_user,
    );

    async fn a_customer_is_recorded_once(db: TestDb) {
        let s = db.open().await;
        let user = UserId::new("u1");
        assert_eq!(s.user(&user).await.unwrap(), UserRecord::default(), "unknown users are blank");
        let first = CustomerId::parse("cus_first").unwrap();
        assert_eq!(s.set_customer(&user, &first).await.unwrap(), first);
        let kept = s
            .set_customer(&user, &CustomerId::parse("cus_second").unwrap())
            .await
            .unwrap();
        assert_eq!(kept, first);
        // One Customer belongs to one user.
        let other = s.set_customer(&UserId::new("u2"), &first).await;
        assert!(other.is_err(), "customer_id is unique");
    }

    async fn details_are_kept_apart_from_the_customer(db: TestDb) {
        let s = db.open().await;
        let user = UserId::new("u1");
        let jenny = CustomerDetails {
            name: Some("Jenny Rosen".into()),
            email: Some("jenny@example.com".into()),
        };
        s.set_details(&user, &jenny).await.unwrap();
        let cus = CustomerId::parse("cus_1").unwrap();
        s.set_customer(&user, &cus).await.unwrap();
        assert_eq!(
            s.user(&user).await.unwrap(),
            UserRecord {
                customer: Some(cus),
                details: jenny
            }
        );
    }

    async fn only_the_newest_pending_sessions_are_kept(db: TestDb) {
        let s = db.open().await;
        let user = UserId::new("u");
        for i in 0..8 {
            s.add_pending_session(&user, &SessionId::parse(&format!("fcsess_{i}")).unwrap())
                .await
                .unwrap();
        }
        // All in the same second: insertion order decides.
        assert!(!s.is_pending(&user, &SessionId::parse("fcsess_2").unwrap()).await.unwrap());
        for kept in 3..8 {
            let session = SessionId::parse(&format!("fcsess_{kept}")).unwrap();
            assert!(s.is_pending(&user, &session).await.unwrap(), "fcsess_{kept}");
        }
        assert!(!s
            .is_pending(&UserId::new("v"), &SessionId::parse("fcsess_7").unwrap())
            .await
            .unwrap());
        let n = db.query_i64("SELECT COUNT(*) FROM pending_sessions", &[]).await;
        assert_eq!(n, MAX_PENDING_SESSIONS);
    }

    async fn sessions_need_their_user(db: TestDb) {
        db.open().await;
        let orphan = db
            .execute(
                "INSERT INTO pending_sessions (session_id, user_id, created_at) VALUES ('fcsess_x', 'nobody', 0)",
                &[],
            )
            .await;
        assert!(orphan.is_err(), "foreign keys are enforced");
    }
}
