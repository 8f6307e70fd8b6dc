//! What the app remembers: users, their Stripe Customer, the sessions they may
//! confirm and the accounts they linked. SQLite through sqlx (WAL, foreign
//! keys, migrations run at start), in portable SQL so PostgreSQL can follow.
//! Nothing outside this module writes SQL.

use crate::clock::unix_now as now;
use app::error::AppError;
use app::model::transactions::{CHART_DAYS, PER_PAGE};
use app::model::{
    AccountDetail, AccountId, CustomerDetails, CustomerId, DailyFlow, Day, LinkedAccount, Money, Permission, SessionId,
    Transaction, TransactionFilter, TransactionStatus, TransactionsView,
};
use app::service::UserId;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
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

/// What one sync brings from Stripe: every transaction that refreshes after
/// the stored cursor created or changed, up to and including `refresh_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactionSync {
    /// `fctxnref_…`, the new cursor.
    pub refresh_id: String,
    /// That refresh's `last_attempted_at`: a cursor never moves back to an older one.
    pub refreshed_at: i64,
    pub transactions: Vec<Transaction>,
}

pub struct Storage {
    pool: SqlitePool,
    /// One async lock per user, held while its Customer is created or changed.
    customer_locks: crate::locks::KeyedLocks<UserId>,
}

/// An enum's wire name (`"checking"`), as stored.
fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
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
        Ok(Storage {
            pool,
            customer_locks: Default::default(),
        })
    }

    pub fn customer_lock(&self, user: &UserId) -> Arc<tokio::sync::Mutex<()>> {
        self.customer_locks.get(user)
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
            customer: customer
                .map(|c| CustomerId::parse(&c).map_err(|_| StorageError::Corrupt(c)))
                .transpose()?,
            details: CustomerDetails {
                name: row.try_get("name")?,
                email: row.try_get("email")?,
            },
        })
    }

    /// Records the user's Customer unless one is already recorded; returns
    /// the one that is (so a lost race keeps the first).
    pub async fn set_customer(
        &self,
        user: &UserId,
        customer: &CustomerId,
        details: &CustomerDetails,
    ) -> Result<CustomerId, StorageError> {
        self.ensure_user(user).await?;
        sqlx::query("UPDATE users SET customer_id = ?, name = ?, email = ? WHERE id = ? AND customer_id IS NULL")
            .bind(customer.as_str())
            .bind(&details.name)
            .bind(&details.email)
            .bind(user.as_str())
            .execute(&self.pool)
            .await?;
        self.user(user)
            .await?
            .customer
            .ok_or_else(|| StorageError::Corrupt("customer not recorded".into()))
    }

    pub async fn set_details(&self, user: &UserId, details: &CustomerDetails) -> Result<(), StorageError> {
        self.ensure_user(user).await?;
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
        for a in accounts {
            insert_account(&mut tx, user, customer, a).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records a webhook event and applies its effect in one transaction:
    /// `account` (re-fetched from Stripe by the caller) replaces the stored
    /// copy if the app knows that account and nothing newer is stored; with
    /// `adopt`, an account the user linked but the app never confirmed is
    /// first recorded as theirs. Returns false for an event id seen before,
    /// in which case nothing changes.
    pub async fn apply_event(
        &self,
        event_id: &str,
        kind: &str,
        account: Option<Observed<'_>>,
        sync: Option<&TransactionSync>,
        adopt: Option<(&UserId, &CustomerId)>,
    ) -> Result<bool, StorageError> {
        let mut tx = self.pool.begin().await?;
        let fresh =
            sqlx::query("INSERT INTO webhook_events (id, type, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
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
        if let Some(seen) = account {
            if let Some((user, customer)) = adopt {
                insert_account(&mut tx, user, customer, seen.account).await?;
            }
            update_account(&mut tx, seen).await?;
            if let Some(sync) = sync {
                store_transactions(&mut tx, &seen.account.id, sync).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Records accounts Stripe lists for the user's Customer that the app
    /// does not have yet (linked, but never confirmed here), and when it
    /// looked. Returns how many were new.
    pub async fn adopt_accounts(
        &self,
        user: &UserId,
        customer: &CustomerId,
        accounts: &[LinkedAccount],
    ) -> Result<usize, StorageError> {
        let mut tx = self.pool.begin().await?;
        let mut added = 0;
        for a in accounts {
            added += insert_account(&mut tx, user, customer, a).await? as usize;
        }
        sqlx::query("UPDATE users SET accounts_checked_at = ? WHERE id = ?")
            .bind(now())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// When the user's accounts were last listed from Stripe (Unix seconds).
    pub async fn accounts_checked_at(&self, user: &UserId) -> Result<Option<i64>, StorageError> {
        let at: Option<Option<i64>> = sqlx::query_scalar("SELECT accounts_checked_at FROM users WHERE id = ?")
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(at.flatten())
    }

    /// The user whose Customer this is, if any.
    pub async fn user_with_customer(&self, customer: &CustomerId) -> Result<Option<UserId>, StorageError> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE customer_id = ?")
            .bind(customer.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(id.map(UserId::new))
    }

    /// Stores what Stripe just said about an account (its columns and the
    /// whole view as a snapshot), and the transactions a sync brought,
    /// together.
    pub async fn reconcile(&self, detail: &AccountDetail, sync: Option<&TransactionSync>) -> Result<(), StorageError> {
        let account = &detail.account;
        let mut tx = self.pool.begin().await?;
        let seen = Observed {
            account,
            at_ms: detail.fetched_at_ms,
        };
        if update_account(&mut tx, seen).await? {
            let snapshot = serde_json::to_string(detail).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            sqlx::query("UPDATE accounts SET snapshot = ?, snapshot_at = ? WHERE id = ?")
                .bind(snapshot)
                .bind(now())
                .bind(account.id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(sync) = sync {
            store_transactions(&mut tx, &account.id, sync).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The last stored view of an account, with its columns (which webhooks
    /// keep current) laid over it and `stored_at` set; `None` if there is
    /// none yet.
    pub async fn snapshot(&self, id: &AccountId) -> Result<Option<AccountDetail>, StorageError> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, snapshot, snapshot_at FROM accounts WHERE id = ?"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (Some(json), Some(at)) = (
            row.try_get::<Option<String>, _>("snapshot")?,
            row.try_get::<Option<i64>, _>("snapshot_at")?,
        ) else {
            return Ok(None);
        };
        let mut detail: AccountDetail = serde_json::from_str(&json).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        detail.account = linked_account(&row)?;
        detail.stored_at = Some(at);
        Ok(Some(detail))
    }

    /// The newest transaction refresh already stored for the account.
    pub async fn transactions_cursor(&self, id: &AccountId) -> Result<Option<String>, StorageError> {
        let row = sqlx::query("SELECT transactions_cursor FROM accounts WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| r.try_get::<Option<String>, _>("transactions_cursor"))
            .transpose()?
            .flatten())
    }

    /// One page of the account's stored transactions (newest first) that
    /// match `filter`, with the daily net flow of the [`CHART_DAYS`] days up
    /// to `today`.
    pub async fn transactions(
        &self,
        id: &AccountId,
        filter: &TransactionFilter,
        today: Day,
    ) -> Result<TransactionsView, StorageError> {
        let (start, end) = filter.time_range();
        // One read transaction: a sync committing meanwhile cannot make the
        // counts, the page and the chart disagree.
        let mut tx = self.pool.begin().await?;
        let status = filter.status.map(TransactionStatus::as_str);
        // Numbered parameters: ?1 account, ?2 start, ?3 end, ?4 status (each optional but the first).
        const MATCHING: &str = "FROM transactions WHERE account_id = ?1 \
             AND (?2 IS NULL OR transacted_at >= ?2) AND (?3 IS NULL OR transacted_at < ?3) AND (?4 IS NULL OR status = ?4)";
        let matching: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {MATCHING}"))
            .bind(id.as_str())
            .bind(start)
            .bind(end)
            .bind(status)
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT id, amount_minor, currency, description, status, transacted_at, updated {MATCHING} \
             ORDER BY transacted_at DESC, id DESC LIMIT ?5 OFFSET ?6"
        ))
        .bind(id.as_str())
        .bind(start)
        .bind(end)
        .bind(status)
        .bind(i64::from(PER_PAGE))
        .bind(i64::from(filter.page.saturating_sub(1)) * i64::from(PER_PAGE))
        .fetch_all(&mut *tx)
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(Transaction {
                    id: r.try_get("id")?,
                    amount: Money {
                        minor: r.try_get("amount_minor")?,
                        currency: r.try_get("currency")?,
                    },
                    description: r.try_get("description")?,
                    status: TransactionStatus::parse(&status).ok_or(StorageError::Corrupt(status))?,
                    transacted_at: r.try_get("transacted_at")?,
                    updated: r.try_get("updated")?,
                })
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE account_id = ?")
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        let synced_at: Option<i64> = sqlx::query_scalar("SELECT transactions_synced_at FROM accounts WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
        let flows = daily_flows(&mut tx, id, today).await?;
        tx.commit().await?;
        Ok(TransactionsView {
            filter: filter.clone(),
            items,
            matching: matching.max(0) as u64,
            stored: stored.max(0) as u64,
            synced_at,
            flows,
        })
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

    /// Who linked this account, if anyone (webhooks for accounts nobody
    /// here linked are ignored).
    pub async fn owner_of(&self, id: &AccountId) -> Result<Option<UserId>, StorageError> {
        let row = sqlx::query("SELECT user_id FROM accounts WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>("user_id")).transpose()?.map(UserId::new))
    }

    /// The user's accounts, first linked first.
    pub async fn accounts(&self, user: &UserId) -> Result<Vec<LinkedAccount>, StorageError> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = ? ORDER BY linked_at, rowid"
        ))
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(linked_account).collect()
    }
}

/// The columns [`linked_account`] reads.
const ACCOUNT_COLUMNS: &str =
    "id, institution_name, display_name, last4, category, subcategory, status, permissions, balance_minor, balance_currency";

fn linked_account(r: &sqlx::sqlite::SqliteRow) -> Result<LinkedAccount, StorageError> {
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
        balance: match (
            r.try_get::<Option<i64>, _>("balance_minor")?,
            r.try_get::<Option<String>, _>("balance_currency")?,
        ) {
            (Some(minor), Some(currency)) => Some(Money { minor, currency }),
            _ => None,
        },
    })
}

/// Money in minus money out per day (void transactions excluded), one
/// series per currency, over the [`CHART_DAYS`] days ending `today`.
async fn daily_flows(conn: &mut sqlx::SqliteConnection, id: &AccountId, today: Day) -> Result<Vec<DailyFlow>, StorageError> {
    let first = today.plus(1 - CHART_DAYS as i64);
    let rows = sqlx::query(
        "SELECT currency, transacted_at / 86400 AS day, SUM(amount_minor) AS net, \
         SUM(CASE WHEN amount_minor > 0 THEN amount_minor ELSE 0 END) AS money_in, \
         SUM(CASE WHEN amount_minor < 0 THEN amount_minor ELSE 0 END) AS money_out \
         FROM transactions WHERE account_id = ? AND status <> 'void' AND transacted_at >= ? AND transacted_at < ? \
         GROUP BY currency, transacted_at / 86400 ORDER BY currency, day",
    )
    .bind(id.as_str())
    .bind(first.start())
    .bind(today.plus(1).start())
    .fetch_all(conn)
    .await?;
    let mut flows: Vec<DailyFlow> = Vec::new();
    for r in rows {
        let currency: String = r.try_get("currency")?;
        if flows.last().is_none_or(|f| f.currency != currency) {
            flows.push(DailyFlow {
                currency,
                first_day: first,
                net: vec![0; CHART_DAYS],
                money_in: 0,
                money_out: 0,
            });
        }
        let Some(flow) = flows.last_mut() else { continue };
        let day: i64 = r.try_get("day")?;
        if let Some(slot) = usize::try_from(day - first.0).ok().and_then(|i| flow.net.get_mut(i)) {
            *slot = r.try_get("net")?;
        }
        flow.money_in = flow.money_in.saturating_add(r.try_get("money_in")?);
        flow.money_out = flow.money_out.saturating_add(r.try_get("money_out")?);
    }
    Ok(flows)
}

/// Upserts a sync's transactions (a newer `updated` always wins, so an older
/// answer arriving late cannot undo a pending → posted change) and moves the
/// cursor forward, never back.
async fn store_transactions(
    conn: &mut sqlx::SqliteConnection,
    account: &AccountId,
    sync: &TransactionSync,
) -> Result<(), StorageError> {
    for t in &sync.transactions {
        sqlx::query(
            "INSERT INTO transactions (id, account_id, amount_minor, currency, description, status, transacted_at, updated) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET amount_minor = excluded.amount_minor, \
             currency = excluded.currency, description = excluded.description, status = excluded.status, \
             transacted_at = excluded.transacted_at, updated = excluded.updated \
             WHERE transactions.account_id = excluded.account_id AND excluded.updated >= transactions.updated",
        )
        .bind(&t.id)
        .bind(account.as_str())
        .bind(t.amount.minor)
        .bind(&t.amount.currency)
        .bind(&t.description)
        .bind(t.status.as_str())
        .bind(t.transacted_at)
        .bind(t.updated)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE accounts SET transactions_cursor = ?, transactions_synced_at = ? \
         WHERE id = ? AND (transactions_synced_at IS NULL OR transactions_synced_at <= ?)",
    )
    .bind(&sync.refresh_id)
    .bind(sync.refreshed_at)
    .bind(account.as_str())
    .bind(sync.refreshed_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What Stripe said about an account, and when the app read it (Unix ms).
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    pub account: &'a LinkedAccount,
    pub at_ms: i64,
}

/// Records an account as `user`'s unless it is stored already; returns
/// whether it was new. The one place accounts are created (confirming a
/// link, or adopting one Stripe knows and the app missed).
async fn insert_account(
    conn: &mut sqlx::SqliteConnection,
    user: &UserId,
    customer: &CustomerId,
    a: &LinkedAccount,
) -> Result<bool, StorageError> {
    let permissions: Vec<&str> = a.permissions.iter().map(|p| p.as_str()).collect();
    let t = now();
    let inserted = sqlx::query(
        "INSERT INTO accounts (id, user_id, customer_id, institution_name, display_name, last4, category, \
         subcategory, status, permissions, linked_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO NOTHING",
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
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Overwrites the stored copy of an account (never its owner) unless a
/// later read of it is stored already; returns whether it did.
async fn update_account(conn: &mut sqlx::SqliteConnection, seen: Observed<'_>) -> Result<bool, StorageError> {
    let a = seen.account;
    let permissions: Vec<&str> = a.permissions.iter().map(|p| p.as_str()).collect();
    let updated = sqlx::query(
        "UPDATE accounts SET institution_name = ?, display_name = ?, last4 = ?, category = ?, subcategory = ?, \
         status = ?, permissions = ?, updated_at = ?, observed_at_ms = ?, \
         balance_minor = COALESCE(?, balance_minor), balance_currency = COALESCE(?, balance_currency), \
         balance_as_of = CASE WHEN ? IS NULL THEN balance_as_of ELSE ? END \
         WHERE id = ? AND (observed_at_ms IS NULL OR observed_at_ms <= ?)",
    )
    .bind(&a.institution_name)
    .bind(&a.display_name)
    .bind(&a.last4)
    .bind(name_of(&a.category))
    .bind(name_of(&a.subcategory))
    .bind(a.status.as_str())
    .bind(serde_json::to_string(&permissions).unwrap_or_else(|_| "[]".into()))
    .bind(now())
    .bind(seen.at_ms)
    // A refresh that brought no balance keeps the last known one.
    .bind(a.balance.as_ref().map(|m| m.minor))
    .bind(a.balance.as_ref().map(|m| m.currency.clone()))
    .bind(a.balance.as_ref().map(|m| m.minor))
    .bind(a.balance.as_ref().map(|_| now()))
    .bind(a.id.as_str())
    .bind(seen.at_ms)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
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

    /// The page's view of `a`, as the service stores it.
    fn detail(a: &LinkedAccount) -> AccountDetail {
        AccountDetail {
            account: a.clone(),
            balance: None,
            balance_refresh: None,
            owners: None,
            ownership_refresh: None,
            name_match: app::model::NameMatch::NoOwnerData,
            transaction_refresh: None,
            subscribed: false,
            fetched_at_ms: 0,
            stored_at: None,
        }
    }

    /// `a` as read from Stripe just now.
    fn seen(a: &LinkedAccount) -> Observed<'_> {
        Observed {
            account: a,
            at_ms: crate::clock::unix_now_ms(),
        }
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
        let details = CustomerDetails {
            name: Some("Jenny".into()),
            email: None,
        };
        assert_eq!(s.set_customer(&user, &cus, &details).await.unwrap(), cus);
        let sess = SessionId::parse("fcsess_1").unwrap();
        s.add_pending_session(&user, &sess).await.unwrap();
        assert!(s.confirm(&user, &sess, &cus, &[account("fca_1")]).await.unwrap());
        drop(s);
        let again = Storage::open(&format!("sqlite://{}", path.display())).await.unwrap();
        assert_eq!(
            again.user(&user).await.unwrap(),
            UserRecord {
                customer: Some(cus),
                details
            }
        );
        assert_eq!(again.accounts(&user).await.unwrap(), vec![account("fca_1")]);
    }

    #[tokio::test]
    async fn a_customer_is_recorded_once() {
        let (s, _) = temp_db().await;
        let user = UserId::new("u1");
        let first = CustomerId::parse("cus_first").unwrap();
        s.set_customer(&user, &first, &CustomerDetails::default()).await.unwrap();
        let kept = s
            .set_customer(&user, &CustomerId::parse("cus_second").unwrap(), &CustomerDetails::default())
            .await
            .unwrap();
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
        assert!(
            !s.confirm(&alice, &sess, &cus, &[account("fca_a")]).await.unwrap(),
            "second confirm"
        );
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
            s.add_pending_session(&user, &SessionId::parse(&format!("fcsess_{i}")).unwrap())
                .await
                .unwrap();
        }
        assert!(!s.is_pending(&user, &SessionId::parse("fcsess_0").unwrap()).await.unwrap());
        assert!(s.is_pending(&user, &SessionId::parse("fcsess_7").unwrap()).await.unwrap());
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_sessions")
            .fetch_one(&s.pool)
            .await
            .unwrap();
        assert_eq!(n, MAX_PENDING_SESSIONS);
    }

    /// A user "u" with customer `cus_1` who linked `fca_1` through `fcsess_1`.
    async fn linked_one(s: &Storage) -> UserId {
        let user = UserId::new("u");
        let sess = SessionId::parse("fcsess_1").unwrap();
        s.add_pending_session(&user, &sess).await.unwrap();
        s.confirm(&user, &sess, &CustomerId::parse("cus_1").unwrap(), &[account("fca_1")])
            .await
            .unwrap();
        user
    }

    #[tokio::test]
    async fn the_last_known_balance_is_kept() {
        let (s, _) = temp_db().await;
        let user = linked_one(&s).await;
        let mut with_balance = account("fca_1");
        with_balance.balance = Some(Money {
            minor: 12_345,
            currency: "usd".into(),
        });
        s.reconcile(&detail(&with_balance), None).await.unwrap();
        s.reconcile(&detail(&account("fca_1")), None).await.unwrap(); // no balance in this answer
        assert_eq!(s.accounts(&user).await.unwrap()[0].balance, with_balance.balance);
    }

    #[tokio::test]
    async fn the_last_view_is_kept_with_the_current_columns_over_it() {
        let (s, _) = temp_db().await;
        linked_one(&s).await;
        let id = AccountId::parse("fca_1").unwrap();
        assert_eq!(s.snapshot(&id).await.unwrap(), None, "nothing stored yet");
        let mut last_view = detail(&account("fca_1"));
        last_view.subscribed = true;
        last_view.owners = Some(vec![]);
        s.reconcile(&last_view, None).await.unwrap();
        // A webhook later says the account is inactive.
        let mut inactive = account("fca_1");
        inactive.status = AccountStatus::Inactive;
        s.apply_event(
            "evt_1",
            "financial_connections.account.deactivated",
            Some(seen(&inactive)),
            None,
            None,
        )
        .await
        .unwrap();
        let stored = s.snapshot(&id).await.unwrap().unwrap();
        assert!(stored.stored_at.is_some());
        assert_eq!((stored.subscribed, stored.owners), (true, Some(vec![])));
        assert_eq!(stored.account.status, AccountStatus::Inactive);
    }

    #[tokio::test]
    async fn an_event_applies_once() {
        let (s, _) = temp_db().await;
        let user = linked_one(&s).await;
        let mut inactive = account("fca_1");
        inactive.status = AccountStatus::Inactive;
        assert!(s
            .apply_event(
                "evt_1",
                "financial_connections.account.deactivated",
                Some(seen(&inactive)),
                None,
                None
            )
            .await
            .unwrap());
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Inactive);
        // Redelivered: a no-op, even with other data.
        assert!(!s
            .apply_event(
                "evt_1",
                "financial_connections.account.deactivated",
                Some(seen(&account("fca_1"))),
                None,
                None
            )
            .await
            .unwrap());
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Inactive);
        assert_eq!(s.owner_of(&AccountId::parse("fca_1").unwrap()).await.unwrap(), Some(user));
        assert_eq!(s.owner_of(&AccountId::parse("fca_2").unwrap()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_older_read_never_overwrites_a_newer_one() {
        let (s, _) = temp_db().await;
        let user = linked_one(&s).await;
        let mut inactive = account("fca_1");
        inactive.status = AccountStatus::Inactive;
        let newer = Observed {
            account: &inactive,
            at_ms: 2_000,
        };
        s.apply_event(
            "evt_new",
            "financial_connections.account.deactivated",
            Some(newer),
            None,
            None,
        )
        .await
        .unwrap();
        // A page load that read the account before the webhook did stores last.
        let mut stale = detail(&account("fca_1"));
        stale.fetched_at_ms = 1_000;
        s.reconcile(&stale, None).await.unwrap();
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Inactive);
        let mut fresh = detail(&account("fca_1"));
        fresh.fetched_at_ms = 3_000;
        s.reconcile(&fresh, None).await.unwrap();
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Active);
    }

    #[tokio::test]
    async fn accounts_the_app_never_confirmed_are_adopted_once() {
        let (s, _) = temp_db().await;
        let user = UserId::new("u");
        let cus = CustomerId::parse("cus_1").unwrap();
        s.set_customer(&user, &cus, &CustomerDetails::default()).await.unwrap();
        assert_eq!(s.user_with_customer(&cus).await.unwrap(), Some(user.clone()));
        assert_eq!(
            s.user_with_customer(&CustomerId::parse("cus_2").unwrap()).await.unwrap(),
            None
        );
        // By webhook: the account is recorded for the Customer's user.
        let lost = account("fca_lost");
        let applied = s
            .apply_event(
                "evt_1",
                "financial_connections.account.created",
                Some(seen(&lost)),
                None,
                Some((&user, &cus)),
            )
            .await
            .unwrap();
        assert!(applied);
        assert_eq!(s.owner_of(&lost.id).await.unwrap(), Some(user.clone()));
        // By listing: only what is missing is added, and the time is kept.
        assert_eq!(s.accounts_checked_at(&user).await.unwrap(), None);
        let added = s
            .adopt_accounts(&user, &cus, &[lost.clone(), account("fca_other")])
            .await
            .unwrap();
        assert_eq!(added, 1);
        assert!(s.accounts_checked_at(&user).await.unwrap().is_some());
        assert_eq!(s.accounts(&user).await.unwrap().len(), 2);
    }

    fn txn(id: &str, minor: i64, status: TransactionStatus, at: i64, updated: i64) -> Transaction {
        Transaction {
            id: id.into(),
            amount: Money {
                minor,
                currency: "usd".into(),
            },
            description: format!("txn {id}"),
            status,
            transacted_at: at,
            updated,
        }
    }

    fn sync(refresh: &str, at: i64, transactions: Vec<Transaction>) -> TransactionSync {
        TransactionSync {
            refresh_id: refresh.into(),
            refreshed_at: at,
            transactions,
        }
    }

    #[tokio::test]
    async fn transaction_syncs_upsert_and_never_go_back() {
        let (s, _) = temp_db().await;
        linked_one(&s).await;
        let id = AccountId::parse("fca_1").unwrap();
        let a = account("fca_1");
        let day = Day(20_781);
        let t = day.start() + 3_600;
        // Refresh `refresh` at time `at` reports transaction `fctxn_a` as `status`.
        let report = async |refresh: &str, at: i64, status| {
            let txns = vec![txn("fctxn_a", -500, status, t, at)];
            s.reconcile(&detail(&a), Some(&sync(refresh, at, txns))).await.unwrap();
        };
        report("fctxnref_1", 100, TransactionStatus::Pending).await;
        assert_eq!(s.transactions_cursor(&id).await.unwrap().as_deref(), Some("fctxnref_1"));
        // A newer refresh posts it; an older answer arriving late changes nothing.
        report("fctxnref_2", 200, TransactionStatus::Posted).await;
        report("fctxnref_1", 100, TransactionStatus::Pending).await;
        assert_eq!(s.transactions_cursor(&id).await.unwrap().as_deref(), Some("fctxnref_2"));
        let all = TransactionFilter {
            page: 1,
            ..Default::default()
        };
        let v = s.transactions(&id, &all, day).await.unwrap();
        assert_eq!((v.stored, v.matching, v.synced_at), (1, 1, Some(200)));
        assert_eq!(v.items[0].status, TransactionStatus::Posted);
        // A redelivered event applies nothing, not even its transactions.
        let late = sync(
            "fctxnref_3",
            300,
            vec![txn("fctxn_b", 900, TransactionStatus::Posted, t, 300)],
        );
        assert!(s
            .apply_event(
                "evt_1",
                "financial_connections.account.refreshed_transactions",
                Some(seen(&a)),
                Some(&late),
                None
            )
            .await
            .unwrap());
        let dup = sync("fctxnref_4", 400, vec![txn("fctxn_c", 1, TransactionStatus::Posted, t, 400)]);
        assert!(!s
            .apply_event(
                "evt_1",
                "financial_connections.account.refreshed_transactions",
                Some(seen(&a)),
                Some(&dup),
                None
            )
            .await
            .unwrap());
        assert_eq!(s.transactions(&id, &all, day).await.unwrap().stored, 2);
    }

    #[tokio::test]
    async fn transactions_filter_page_and_chart() {
        let (s, _) = temp_db().await;
        linked_one(&s).await;
        let id = AccountId::parse("fca_1").unwrap();
        let today = Day(20_781);
        let mut txns = Vec::new();
        for i in 0..100i64 {
            // One a day going back 100 days: 2 in, then 3 out; every 10th is void.
            let status = if i % 10 == 0 {
                TransactionStatus::Void
            } else {
                TransactionStatus::Posted
            };
            let amount = if i % 2 == 0 { 200 } else { -300 };
            txns.push(txn(&format!("fctxn_{i:03}"), amount, status, today.plus(-i).start() + 60, 1));
        }
        s.reconcile(&detail(&account("fca_1")), Some(&sync("fctxnref_1", 1, txns)))
            .await
            .unwrap();

        let p = |page, status, from: Option<Day>, to: Option<Day>| TransactionFilter { from, to, status, page };
        let first = s.transactions(&id, &p(1, None, None, None), today).await.unwrap();
        assert_eq!((first.stored, first.matching, first.page_count()), (100, 100, 5));
        assert_eq!(first.items.len(), PER_PAGE as usize);
        assert_eq!(first.items[0].id, "fctxn_000", "newest first");
        let last = s.transactions(&id, &p(5, None, None, None), today).await.unwrap();
        assert_eq!(last.items.last().map(|t| t.id.as_str()), Some("fctxn_099"));
        let void = s
            .transactions(&id, &p(1, Some(TransactionStatus::Void), None, None), today)
            .await
            .unwrap();
        assert_eq!(void.matching, 10);
        let week = s
            .transactions(&id, &p(1, None, Some(today.plus(-6)), Some(today)), today)
            .await
            .unwrap();
        assert_eq!(week.matching, 7, "both ends included");

        let flow = &first.flows[0];
        assert_eq!(
            (flow.currency.as_str(), flow.net.len(), flow.first_day),
            ("usd", CHART_DAYS, today.plus(-89))
        );
        assert_eq!(flow.net[89], 0, "today's transaction is void");
        assert_eq!(flow.net[88], -300);
        assert_eq!(flow.net[87], 200);
        // Days 0..=89 back, void ones (every 10th, all even) left out.
        let ins = (0..90).filter(|i| i % 2 == 0 && i % 10 != 0).count() as i64;
        let outs = (0..90).filter(|i| i % 2 == 1).count() as i64;
        assert_eq!((flow.money_in, flow.money_out), (200 * ins, -300 * outs));
        assert_eq!(flow.net.iter().sum::<i64>(), flow.money_in + flow.money_out);
    }

    #[tokio::test]
    async fn transactions_belong_to_their_account() {
        let (s, _) = temp_db().await;
        let orphan = sqlx::query("INSERT INTO transactions VALUES ('fctxn_x', 'fca_nobody', 1, 'usd', 'x', 'posted', 0, 0)")
            .execute(&s.pool)
            .await;
        assert!(orphan.is_err(), "foreign key to accounts");
        linked_one(&s).await;
        let bad = sqlx::query("INSERT INTO transactions VALUES ('fctxn_y', 'fca_1', 1, 'usd', 'x', 'refunded', 0, 0)")
            .execute(&s.pool)
            .await;
        assert!(bad.is_err(), "status is checked");
    }

    #[tokio::test]
    async fn constraints_hold() {
        let (s, _) = temp_db().await;
        let orphan =
            sqlx::query("INSERT INTO pending_sessions (session_id, user_id, created_at) VALUES ('fcsess_x', 'nobody', 0)")
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
