//! What the app remembers: users, their Stripe Customer, the sessions they may
//! confirm and the accounts they linked. SQLite through sqlx (WAL, foreign
//! keys, migrations run at start), in portable SQL so PostgreSQL can follow.
//! Nothing outside this module writes SQL.

use app::error::AppError;
use app::model::{AccountId, CustomerDetails, CustomerId, LinkedAccount, Money, Permission, SessionId};
use app::service::UserId;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many unconfirmed sessions a user may have at once (several tabs).
pub const MAX_PENDING_SESSIONS: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unreadable row: {0}")]
    Corrupt(String),
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        tracing::error!("storage: {e}");
        AppError::Internal
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserRecord {
    pub customer: Option<CustomerId>,
    pub details: CustomerDetails,
}

pub struct Storage {
    pool: SqlitePool,
    /// One async lock per user, held while its Customer is created.
    customer_locks: Mutex<HashMap<UserId, Arc<tokio::sync::Mutex<()>>>>,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// An enum's wire name (`"checking"`), as stored.
fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn parse_name<T: DeserializeOwned>(s: &str) -> Result<T, StorageError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|e| StorageError::Corrupt(format!("{s}: {e}")))
}

impl Storage {
    /// Opens (creating if missing) the database at `url`, e.g.
    /// `sqlite://fc_app.db`, and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Storage { pool, customer_locks: Mutex::default() })
    }

    pub fn customer_lock(&self, user: &UserId) -> Arc<tokio::sync::Mutex<()>> {
        self.customer_locks.lock().unwrap_or_else(|e| e.into_inner()).entry(user.clone()).or_default().clone()
    }

    async fn ensure_user(&self, user: &UserId) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(user.as_str())
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn user(&self, user: &UserId) -> Result<UserRecord, StorageError> {
        let row = sqlx::query("SELECT customer_id, name, email FROM users WHERE id = ?")
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(UserRecord::default()) };
        let customer: Option<String> = row.try_get("customer_id")?;
        Ok(UserRecord {
            customer: customer.map(|c| CustomerId::parse(&c).map_err(|_| StorageError::Corrupt(c))).transpose()?,
            details: CustomerDetails { name: row.try_get("name")?, email: row.try_get("email")? },
        })
    }

    /// Records the user's Customer unless one is already recorded; returns
    /// the one that is (so a lost race keeps the first).
    pub async fn set_customer(&self, user: &UserId, customer: &CustomerId, details: &CustomerDetails) -> Result<CustomerId, StorageError> {
        self.ensure_user(user).await?;
        sqlx::query("UPDATE users SET customer_id = ?, name = ?, email = ? WHERE id = ? AND customer_id IS NULL")
            .bind(customer.as_str())
            .bind(&details.name)
            .bind(&details.email)
            .bind(user.as_str())
            .execute(&self.pool)
            .await?;
        self.user(user).await?.customer.ok_or_else(|| StorageError::Corrupt("customer not recorded".into()))
    }

    pub async fn set_details(&self, user: &UserId, details: &CustomerDetails) -> Result<(), StorageError> {
        sqlx::query("UPDATE users SET name = ?, email = ? WHERE id = ?")
            .bind(&details.name)
            .bind(&details.email)
            .bind(user.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Remembers a session as confirmable, keeping the newest few.
    pub async fn add_pending_session(&self, user: &UserId, session: &SessionId) -> Result<(), StorageError> {
        self.ensure_user(user).await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO pending_sessions (session_id, user_id, created_at) VALUES (?, ?, ?)")
            .bind(session.as_str())
            .bind(user.as_str())
            .bind(now())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM pending_sessions WHERE user_id = ? AND session_id NOT IN \
             (SELECT session_id FROM pending_sessions WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)",
        )
        .bind(user.as_str())
        .bind(user.as_str())
        .bind(MAX_PENDING_SESSIONS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn is_pending(&self, user: &UserId, session: &SessionId) -> Result<bool, StorageError> {
        let row = sqlx::query("SELECT 1 FROM pending_sessions WHERE session_id = ? AND user_id = ?")
            .bind(session.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Consumes a pending session and records what it linked, in one
    /// transaction. Returns false (and records nothing) when the session was
    /// not pending for this user, e.g. a concurrent confirm got there first.
    pub async fn confirm(
        &self,
        user: &UserId,
        session: &SessionId,
        customer: &CustomerId,
        accounts: &[LinkedAccount],
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let taken = sqlx::query("DELETE FROM pending_sessions WHERE session_id = ? AND user_id = ?")
            .bind(session.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if taken != 1 {
            return Ok(false);
        }
        let t = now();
        for a in accounts {
            let permissions: Vec<&str> = a.permissions.iter().map(|p| p.as_str()).collect();
            sqlx::query(
                "INSERT INTO accounts (id, user_id, customer_id, institution_name, display_name, last4, category, \
                 subcategory, status, permissions, linked_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET institution_name = excluded.institution_name, \
                 display_name = excluded.display_name, last4 = excluded.last4, category = excluded.category, \
                 subcategory = excluded.subcategory, status = excluded.status, permissions = excluded.permissions, \
                 updated_at = excluded.updated_at WHERE accounts.user_id = excluded.user_id",
            )
            .bind(a.id.as_str())
            .bind(user.as_str())
            .bind(customer.as_str())
            .bind(&a.institution_name)
            .bind(&a.display_name)
            .bind(&a.last4)
            .bind(name_of(&a.category))
            .bind(name_of(&a.subcategory))
            .bind(a.status.as_str())
            .bind(serde_json::to_string(&permissions).unwrap_or_else(|_| "[]".into()))
            .bind(t)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records a webhook event and applies its effect in one transaction:
    /// `account` (re-fetched from Stripe by the caller) replaces the stored
    /// copy if the app knows that account. Returns false for an event id seen
    /// before, in which case nothing changes.
    pub async fn apply_event(&self, event_id: &str, kind: &str, account: Option<&LinkedAccount>) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let fresh = sqlx::query("INSERT INTO webhook_events (id, type, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(event_id)
            .bind(kind)
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !fresh {
            return Ok(false);
        }
        if let Some(a) = account {
            update_account(&mut *tx, a).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Stores what Stripe just said about an account.
    pub async fn reconcile(&self, account: &LinkedAccount) -> Result<(), StorageError> {
        let mut conn = self.pool.acquire().await?;
        update_account(&mut *conn, account).await
    }

    /// Whether `user` linked account `id`: the check before any read or
    /// action on an account.
    pub async fn owns(&self, user: &UserId, id: &AccountId) -> Result<bool, StorageError> {
        let row = sqlx::query("SELECT 1 FROM accounts WHERE id = ? AND user_id = ?")
            .bind(id.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Who linked this account, if anyone.
    pub async fn owner_of(&self, id: &AccountId) -> Result<Option<UserId>, StorageError> {
        let row = sqlx::query("SELECT user_id FROM accounts WHERE id = ?").bind(id.as_str()).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get::<String, _>("user_id")).transpose()?.map(UserId::new))
    }

    /// Whether any user linked this account (webhooks for others are ignored).
    pub async fn knows_account(&self, id: &AccountId) -> Result<bool, StorageError> {
        Ok(sqlx::query("SELECT 1 FROM accounts WHERE id = ?").bind(id.as_str()).fetch_optional(&self.pool).await?.is_some())
    }

    /// The user's accounts, first linked first.
    pub async fn accounts(&self, user: &UserId) -> Result<Vec<LinkedAccount>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, institution_name, display_name, last4, category, subcategory, status, permissions, \
             balance_minor, balance_currency FROM accounts WHERE user_id = ? ORDER BY linked_at, rowid",
        )
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let permissions: String = r.try_get("permissions")?;
                let names: Vec<String> = serde_json::from_str(&permissions).map_err(|e| StorageError::Corrupt(e.to_string()))?;
                Ok(LinkedAccount {
                    id: AccountId::parse(&id).map_err(|_| StorageError::Corrupt(id.clone()))?,
                    institution_name: r.try_get("institution_name")?,
                    display_name: r.try_get("display_name")?,
                    last4: r.try_get("last4")?,
                    category: parse_name(&r.try_get::<String, _>("category")?)?,
                    subcategory: parse_name(&r.try_get::<String, _>("subcategory")?)?,
                    status: parse_name(&r.try_get::<String, _>("status")?)?,
                    permissions: names.iter().filter_map(|n| Permission::parse(n)).collect(),
                    balance: match (r.try_get::<Option<i64>, _>("balance_minor")?, r.try_get::<Option<String>, _>("balance_currency")?) {
                        (Some(minor), Some(currency)) => Some(Money { minor, currency }),
                        _ => None,
                    },
                })
            })
            .collect()
    }
}

/// Overwrites the stored copy of an account (never its owner).
async fn update_account(conn: &mut sqlx::SqliteConnection, a: &LinkedAccount) -> Result<(), StorageError> {
    let permissions: Vec<&str> = a.permissions.iter().map(|p| p.as_str()).collect();
    sqlx::query(
        "UPDATE accounts SET institution_name = ?, display_name = ?, last4 = ?, category = ?, subcategory = ?, \
         status = ?, permissions = ?, updated_at = ?, \
         balance_minor = COALESCE(?, balance_minor), balance_currency = COALESCE(?, balance_currency), \
         balance_as_of = CASE WHEN ? IS NULL THEN balance_as_of ELSE ? END WHERE id = ?",
    )
    .bind(&a.institution_name)
    .bind(&a.display_name)
    .bind(&a.last4)
    .bind(name_of(&a.category))
    .bind(name_of(&a.subcategory))
    .bind(a.status.as_str())
    .bind(serde_json::to_string(&permissions).unwrap_or_else(|_| "[]".into()))
    .bind(now())
    // A refresh that brought no balance keeps the last known one.
    .bind(a.balance.as_ref().map(|m| m.minor))
    .bind(a.balance.as_ref().map(|m| m.currency.clone()))
    .bind(a.balance.as_ref().map(|m| m.minor))
    .bind(a.balance.as_ref().map(|_| now()))
    .bind(a.id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{AccountCategory, AccountStatus, AccountSubcategory};

    async fn temp_db() -> (Storage, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("fc-storage-{}.db", crate::session::new_token()));
        let s = Storage::open(&format!("sqlite://{}", path.display())).await.unwrap();
        (s, path)
    }

    fn account(id: &str) -> LinkedAccount {
        LinkedAccount {
            id: AccountId::parse(id).unwrap(),
            institution_name: "Test Institution".into(),
            display_name: Some("Success".into()),
            last4: Some("6789".into()),
            category: AccountCategory::Cash,
            subcategory: AccountSubcategory::Checking,
            status: AccountStatus::Active,
            permissions: vec![Permission::Balances, Permission::Transactions],
            balance: None,
        }
    }

    #[tokio::test]
    async fn migrations_run_and_data_survives_reopening() {
        let (s, path) = temp_db().await;
        let user = UserId::new("u1");
        let cus = CustomerId::parse("cus_1").unwrap();
        let details = CustomerDetails { name: Some("Jenny".into()), email: None };
        assert_eq!(s.set_customer(&user, &cus, &details).await.unwrap(), cus);
        let sess = SessionId::parse("fcsess_1").unwrap();
        s.add_pending_session(&user, &sess).await.unwrap();
        assert!(s.confirm(&user, &sess, &cus, &[account("fca_1")]).await.unwrap());
        drop(s);
        let again = Storage::open(&format!("sqlite://{}", path.display())).await.unwrap();
        assert_eq!(again.user(&user).await.unwrap(), UserRecord { customer: Some(cus), details });
        assert_eq!(again.accounts(&user).await.unwrap(), vec![account("fca_1")]);
    }

    #[tokio::test]
    async fn a_customer_is_recorded_once() {
        let (s, _) = temp_db().await;
        let user = UserId::new("u1");
        let first = CustomerId::parse("cus_first").unwrap();
        s.set_customer(&user, &first, &CustomerDetails::default()).await.unwrap();
        let kept = s.set_customer(&user, &CustomerId::parse("cus_second").unwrap(), &CustomerDetails::default()).await.unwrap();
        assert_eq!(kept, first);
    }

    #[tokio::test]
    async fn a_session_confirms_once_and_only_for_its_user() {
        let (s, _) = temp_db().await;
        let (alice, bob) = (UserId::new("alice"), UserId::new("bob"));
        let cus = CustomerId::parse("cus_a").unwrap();
        let sess = SessionId::parse("fcsess_a").unwrap();
        s.add_pending_session(&alice, &sess).await.unwrap();
        s.ensure_user(&bob).await.unwrap();
        assert!(!s.is_pending(&bob, &sess).await.unwrap());
        assert!(!s.confirm(&bob, &sess, &cus, &[account("fca_b")]).await.unwrap());
        assert!(s.accounts(&bob).await.unwrap().is_empty());
        assert!(s.confirm(&alice, &sess, &cus, &[account("fca_a")]).await.unwrap());
        assert!(!s.confirm(&alice, &sess, &cus, &[account("fca_a")]).await.unwrap(), "second confirm");
    }

    #[tokio::test]
    async fn an_account_cannot_move_to_another_user() {
        let (s, _) = temp_db().await;
        let (alice, bob) = (UserId::new("alice"), UserId::new("bob"));
        let cus = CustomerId::parse("cus_a").unwrap();
        for (u, sess) in [(&alice, "fcsess_1"), (&bob, "fcsess_2")] {
            let sess = SessionId::parse(sess).unwrap();
            s.add_pending_session(u, &sess).await.unwrap();
            s.confirm(u, &sess, &cus, &[account("fca_shared")]).await.unwrap();
        }
        assert_eq!(s.accounts(&alice).await.unwrap().len(), 1);
        assert!(s.accounts(&bob).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn only_the_newest_pending_sessions_are_kept() {
        let (s, _) = temp_db().await;
        let user = UserId::new("u");
        for i in 0..8 {
            s.add_pending_session(&user, &SessionId::parse(&format!("fcsess_{i}")).unwrap()).await.unwrap();
        }
        assert!(!s.is_pending(&user, &SessionId::parse("fcsess_0").unwrap()).await.unwrap());
        assert!(s.is_pending(&user, &SessionId::parse("fcsess_7").unwrap()).await.unwrap());
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_sessions").fetch_one(&s.pool).await.unwrap();
        assert_eq!(n, MAX_PENDING_SESSIONS);
    }

    /// A user "u" with customer `cus_1` who linked `fca_1` through `fcsess_1`.
    async fn linked_one(s: &Storage) -> UserId {
        let user = UserId::new("u");
        let sess = SessionId::parse("fcsess_1").unwrap();
        s.add_pending_session(&user, &sess).await.unwrap();
        s.confirm(&user, &sess, &CustomerId::parse("cus_1").unwrap(), &[account("fca_1")]).await.unwrap();
        user
    }

    #[tokio::test]
    async fn the_last_known_balance_is_kept() {
        let (s, _) = temp_db().await;
        let user = linked_one(&s).await;
        let mut with_balance = account("fca_1");
        with_balance.balance = Some(Money { minor: 12_345, currency: "usd".into() });
        s.reconcile(&with_balance).await.unwrap();
        s.reconcile(&account("fca_1")).await.unwrap(); // no balance in this answer
        assert_eq!(s.accounts(&user).await.unwrap()[0].balance, with_balance.balance);
    }

    #[tokio::test]
    async fn an_event_applies_once() {
        let (s, _) = temp_db().await;
        let user = linked_one(&s).await;
        let mut inactive = account("fca_1");
        inactive.status = AccountStatus::Inactive;
        assert!(s.apply_event("evt_1", "financial_connections.account.deactivated", Some(&inactive)).await.unwrap());
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Inactive);
        // Redelivered: a no-op, even with other data.
        assert!(!s.apply_event("evt_1", "financial_connections.account.deactivated", Some(&account("fca_1"))).await.unwrap());
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Inactive);
        assert!(s.knows_account(&AccountId::parse("fca_1").unwrap()).await.unwrap());
        assert!(!s.knows_account(&AccountId::parse("fca_2").unwrap()).await.unwrap());
    }

    #[tokio::test]
    async fn constraints_hold() {
        let (s, _) = temp_db().await;
        let orphan = sqlx::query("INSERT INTO pending_sessions (session_id, user_id, created_at) VALUES ('fcsess_x', 'nobody', 0)")
            .execute(&s.pool)
            .await;
        assert!(orphan.is_err(), "foreign keys are enforced");
        s.ensure_user(&UserId::new("u")).await.unwrap();
        let bad_status = sqlx::query(
            "INSERT INTO accounts VALUES ('fca_x', 'u', 'cus_1', 'I', NULL, NULL, 'cash', 'checking', 'exploded', '[]', 0, 0)",
        )
        .execute(&s.pool)
        .await;
        assert!(bad_status.is_err(), "status is checked");
    }
}
