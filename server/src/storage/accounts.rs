//! Linked accounts: linking them (a confirmed session's accounts, for its
//! user only, or ones Stripe lists for the user's Customer that the app
//! missed), their columns as last read from Stripe (status, last balance;
//! an earlier read never overwrites a later one), the snapshot of their last
//! full view, and who owns which.

use super::transactions::{self, TransactionSync};
use super::users;
use super::{Conn, Held, Storage, StorageError};
use crate::clock::unix_now as now;
use app::model::{AccountDetail, AccountId, CustomerId, LinkedAccount, Money, Permission, Refreshes, SessionId};
use app::service::UserId;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The columns [`AccountRow`] reads.
const ACCOUNT_COLUMNS: &str = "id, institution_name, display_name, last4, category, subcategory, status, permissions, \
     balance_minor, balance_currency, refreshes";

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: String,
    institution_name: String,
    display_name: Option<String>,
    last4: Option<String>,
    category: String,
    subcategory: String,
    status: String,
    permissions: String,
    balance_minor: Option<i64>,
    balance_currency: Option<String>,
    /// JSON of [`Refreshes`]; NULL before the account was first read.
    refreshes: Option<String>,
}

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    #[sqlx(flatten)]
    account: AccountRow,
    snapshot: Option<String>,
    snapshot_at: Option<i64>,
}

impl TryFrom<AccountRow> for LinkedAccount {
    type Error = StorageError;
    fn try_from(r: AccountRow) -> Result<Self, StorageError> {
        let names: Vec<String> = serde_json::from_str(&r.permissions).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        Ok(LinkedAccount {
            id: AccountId::parse(&r.id).map_err(|_| StorageError::Corrupt(r.id.clone()))?,
            institution_name: r.institution_name,
            display_name: r.display_name,
            last4: r.last4,
            category: parse_name(&r.category)?,
            subcategory: parse_name(&r.subcategory)?,
            status: parse_name(&r.status)?,
            permissions: names.iter().filter_map(|n| Permission::parse(n)).collect(),
            balance: match (r.balance_minor, r.balance_currency) {
                (Some(minor), Some(currency)) => Some(Money { minor, currency }),
                _ => None,
            },
            refreshes: match r.refreshes {
                Some(json) => serde_json::from_str(&json).map_err(|e| StorageError::Corrupt(e.to_string()))?,
                None => Refreshes::default(),
            },
        })
    }
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

/// What Stripe said about an account, and when the app read it (Unix ms).
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    pub account: &'a LinkedAccount,
    pub at_ms: i64,
}

fn permission_names(a: &LinkedAccount) -> String {
    let names: Vec<&str> = a.permissions.iter().map(|p| p.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

impl Storage {
    /// Consumes a pending session and records what it linked, in one
    /// transaction. Returns false (and records nothing) when the session was
    /// not pending for this user, e.g. a concurrent confirm got there first
    /// (on this instance or another: the delete decides).
    pub async fn confirm(
        &self,
        user: &UserId,
        session: &SessionId,
        customer: &CustomerId,
        accounts: &[LinkedAccount],
    ) -> Result<bool, StorageError> {
        let mut c = self.acquire().await?;
        let mut tx = c.conn().begin().await?;
        let taken = sql!(tx, |e| sqlx::query(
            "DELETE FROM pending_sessions WHERE session_id = $1 AND user_id = $2"
        )
        .bind(session.as_str())
        .bind(user.as_str())
        .execute(e)
        .await?
        .rows_affected());
        if taken != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        for a in accounts {
            insert(tx.conn(), user, customer, a).await?;
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
        let mut c = self.acquire().await?;
        let mut tx = c.conn().begin().await?;
        let mut added = 0;
        for a in accounts {
            added += usize::from(insert(tx.conn(), user, customer, a).await?);
        }
        users::checked_accounts(tx.conn(), user).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Stores what Stripe just said about an account (its columns and the
    /// whole view as a snapshot) unless a later read of it is stored, and
    /// the transactions a sync brought, together.
    pub async fn reconcile(&self, detail: &AccountDetail, sync: Option<&TransactionSync>) -> Result<(), StorageError> {
        reconcile(self.acquire().await?.conn(), detail, sync).await
    }

    /// Stores what Stripe said about an account (its columns, not the
    /// page's snapshot) unless a later read of it is stored; returns whether
    /// it did.
    pub async fn observe(&self, seen: Observed<'_>) -> Result<bool, StorageError> {
        update(self.acquire().await?.conn(), seen).await
    }

    /// The last stored view of an account, with its columns (which webhooks
    /// keep current) laid over it and `stored_at` set; `None` if there is
    /// none yet.
    pub async fn snapshot(&self, id: &AccountId) -> Result<Option<AccountDetail>, StorageError> {
        let mut c = self.acquire().await?;
        let row: Option<SnapshotRow> = sql!(c, |e| sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS}, snapshot, snapshot_at FROM accounts WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(e)
        .await?);
        let Some(SnapshotRow {
            account,
            snapshot: Some(json),
            snapshot_at: Some(at),
        }) = row
        else {
            return Ok(None);
        };
        let mut detail: AccountDetail = serde_json::from_str(&json).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        detail.account = account.try_into()?;
        detail.stored_at = Some(at);
        Ok(Some(detail))
    }

    /// Whether `user` linked account `id`: the check before any read or
    /// action on an account.
    pub async fn owns(&self, user: &UserId, id: &AccountId) -> Result<bool, StorageError> {
        let mut c = self.acquire().await?;
        Ok(sql!(c, |e| sqlx::query(
            "SELECT 1 FROM accounts WHERE id = $1 AND user_id = $2"
        )
        .bind(id.as_str())
        .bind(user.as_str())
        .fetch_optional(e)
        .await?
        .is_some()))
    }

    /// Who linked this account, if anyone (webhooks for accounts nobody
    /// here linked are ignored).
    pub async fn owner_of(&self, id: &AccountId) -> Result<Option<UserId>, StorageError> {
        let mut c = self.acquire().await?;
        let owner: Option<String> = sql!(c, |e| sqlx::query_scalar("SELECT user_id FROM accounts WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(e)
            .await?);
        Ok(owner.map(UserId::new))
    }

    /// The user's accounts, first linked first.
    pub async fn accounts(&self, user: &UserId) -> Result<Vec<LinkedAccount>, StorageError> {
        let mut c = self.acquire().await?;
        // Ties (one session's accounts) in insertion order: SQLite's rowid,
        // PostgreSQL's identity column.
        let rows: Vec<AccountRow> = sql!(c,
            sqlite: |e| sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = $1 ORDER BY linked_at, rowid"
            ))
            .bind(user.as_str())
            .fetch_all(e)
            .await?,
            postgres: |e| sqlx::query_as(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE user_id = $1 ORDER BY linked_at, seq"
            ))
            .bind(user.as_str())
            .fetch_all(e)
            .await?,
        );
        rows.into_iter().map(LinkedAccount::try_from).collect()
    }
}

/// The same, under the account's [`crate::locks::LockKey::TransactionSync`] lock.
impl Held {
    pub async fn reconcile(&mut self, detail: &AccountDetail, sync: Option<&TransactionSync>) -> Result<(), StorageError> {
        reconcile(self.handle().await?.conn(), detail, sync).await
    }
}

async fn reconcile(c: Conn<'_>, detail: &AccountDetail, sync: Option<&TransactionSync>) -> Result<(), StorageError> {
    let account = &detail.account;
    let snapshot = serde_json::to_string(detail).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let mut tx = c.begin().await?;
    let seen = Observed {
        account,
        at_ms: detail.fetched_at_ms,
    };
    if update(tx.conn(), seen).await? {
        sql!(tx, |e| sqlx::query(
            "UPDATE accounts SET snapshot = $1, snapshot_at = $2 WHERE id = $3"
        )
        .bind(&snapshot)
        .bind(now())
        .bind(account.id.as_str())
        .execute(e)
        .await?
        .rows_affected());
    }
    if let Some(sync) = sync {
        transactions::store(tx.conn(), &account.id, sync).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records an account as `user`'s unless it is stored already (an account
/// already linked by someone else stays theirs); returns whether it was new.
/// The one place accounts are created (confirming a link, or adopting one
/// Stripe knows and the app missed).
pub(super) async fn insert(
    mut c: Conn<'_>,
    user: &UserId,
    customer: &CustomerId,
    a: &LinkedAccount,
) -> Result<bool, StorageError> {
    let inserted = sql!(c, |e| sqlx::query(
        "INSERT INTO accounts (id, user_id, customer_id, institution_name, display_name, last4, category, \
         subcategory, status, permissions, linked_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (id) DO NOTHING",
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
    .bind(permission_names(a))
    .bind(now())
    .execute(e)
    .await?
    .rows_affected());
    Ok(inserted == 1)
}

/// Overwrites the stored copy of an account (never its owner) unless a
/// later read of it is stored already; returns whether it did. A refresh
/// that brought no balance keeps the last known one.
pub(super) async fn update(mut c: Conn<'_>, seen: Observed<'_>) -> Result<bool, StorageError> {
    let a = seen.account;
    let t = now();
    let refreshes = serde_json::to_string(&a.refreshes).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let updated = sql!(c, |e| sqlx::query(
        "UPDATE accounts SET institution_name = $1, display_name = $2, last4 = $3, category = $4, subcategory = $5, \
         status = $6, permissions = $7, updated_at = $8, observed_at_ms = $12, refreshes = $13, \
         balance_minor = COALESCE($9, balance_minor), balance_currency = COALESCE($10, balance_currency), \
         balance_as_of = CASE WHEN $9 IS NULL THEN balance_as_of ELSE $8 END \
         WHERE id = $11 AND (observed_at_ms IS NULL OR observed_at_ms <= $12)",
    )
    .bind(&a.institution_name)
    .bind(&a.display_name)
    .bind(&a.last4)
    .bind(name_of(&a.category))
    .bind(name_of(&a.subcategory))
    .bind(a.status.as_str())
    .bind(permission_names(a))
    .bind(t)
    .bind(a.balance.as_ref().map(|m| m.minor))
    .bind(a.balance.as_ref().map(|m| m.currency.as_str()))
    .bind(a.id.as_str())
    .bind(seen.at_ms)
    .bind(&refreshes)
    .execute(e)
    .await?
    .rows_affected());
    Ok(updated == 1)
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::TestDb;
    use super::*;
    use app::model::{AccountCategory, AccountStatus, AccountSubcategory};

    /// The page's view of `a`, as the service stores it.
    pub(crate) fn detail(a: &LinkedAccount) -> AccountDetail {
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
            payable: false,
        }
    }

    /// `a` as read from Stripe just now.
    pub(crate) fn seen(a: &LinkedAccount) -> Observed<'_> {
        Observed {
            account: a,
            at_ms: crate::clock::unix_now_ms(),
        }
    }

    pub(crate) fn account(id: &str) -> LinkedAccount {
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
            refreshes: Refreshes::default(),
        }
    }

    /// A user "u" with customer `cus_1` who linked `fca_1` through `fcsess_1`.
    pub(crate) async fn linked_one(s: &Storage) -> UserId {
        let user = UserId::new("u");
        let sess = SessionId::parse("fcsess_1").unwrap();
        s.add_pending_session(&user, &sess).await.unwrap();
        s.confirm(&user, &sess, &CustomerId::parse("cus_1").unwrap(), &[account("fca_1")])
            .await
            .unwrap();
        user
    }

    crate::backend_tests!(
        accounts_survive_reopening_in_link_order,
        a_session_confirms_once_and_only_for_its_user,
        an_account_cannot_move_to_another_user,
        the_last_known_balance_is_kept,
        each_refresh_state_is_stored_with_the_account,
        the_last_view_is_kept_with_the_current_columns_over_it,
        an_older_read_never_overwrites_a_newer_one,
        accounts_the_app_never_confirmed_are_adopted_once,
        account_constraints_hold,
    );

    async fn accounts_survive_reopening_in_link_order(db: TestDb) {
        let s = db.open().await;
        let user = UserId::new("u1");
        let cus = CustomerId::parse("cus_1").unwrap();
        s.set_customer(&user, &cus).await.unwrap();
        let sess = SessionId::parse("fcsess_1").unwrap();
        s.add_pending_session(&user, &sess).await.unwrap();
        // One session, one second: the order Stripe listed them in is kept.
        let linked = [account("fca_b"), account("fca_a"), account("fca_c")];
        assert!(s.confirm(&user, &sess, &cus, &linked).await.unwrap());
        drop(s);
        let again = db.open().await;
        assert_eq!(again.user(&user).await.unwrap().customer, Some(cus));
        assert_eq!(again.accounts(&user).await.unwrap(), linked);
    }

    async fn a_session_confirms_once_and_only_for_its_user(db: TestDb) {
        let s = db.open().await;
        let (alice, bob) = (UserId::new("alice"), UserId::new("bob"));
        let cus = CustomerId::parse("cus_a").unwrap();
        let sess = SessionId::parse("fcsess_a").unwrap();
        s.add_pending_session(&alice, &sess).await.unwrap();
        assert!(!s.is_pending(&bob, &sess).await.unwrap());
        assert!(!s.confirm(&bob, &sess, &cus, &[account("fca_b")]).await.unwrap());
        assert!(s.accounts(&bob).await.unwrap().is_empty());
        assert!(s.confirm(&alice, &sess, &cus, &[account("fca_a")]).await.unwrap());
        assert!(
            !s.confirm(&alice, &sess, &cus, &[account("fca_a")]).await.unwrap(),
            "second confirm"
        );
    }

    async fn an_account_cannot_move_to_another_user(db: TestDb) {
        let s = db.open().await;
        let (alice, bob) = (UserId::new("alice"), UserId::new("bob"));
        let cus = CustomerId::parse("cus_a").unwrap();
        for (u, sess) in [(&alice, "fcsess_1"), (&bob, "fcsess_2")] {
            let sess = SessionId::parse(sess).unwrap();
            s.add_pending_session(u, &sess).await.unwrap();
            s.confirm(u, &sess, &cus, &[account("fca_shared")]).await.unwrap();
        }
        assert_eq!(s.accounts(&alice).await.unwrap().len(), 1);
        assert!(s.accounts(&bob).await.unwrap().is_empty());
        let id = AccountId::parse("fca_shared").unwrap();
        assert!(s.owns(&alice, &id).await.unwrap() && !s.owns(&bob, &id).await.unwrap());
        assert_eq!(s.owner_of(&id).await.unwrap(), Some(alice));
        assert_eq!(s.owner_of(&AccountId::parse("fca_2").unwrap()).await.unwrap(), None);
    }

    async fn the_last_known_balance_is_kept(db: TestDb) {
        let s = db.open().await;
        let user = linked_one(&s).await;
        let mut with_balance = account("fca_1");
        with_balance.balance = Some(Money {
            minor: 9_007_199_254_740_993, // beyond f64's exact integers: BIGINT all the way
            currency: "usd".into(),
        });
        s.reconcile(&detail(&with_balance), None).await.unwrap();
        s.reconcile(&detail(&account("fca_1")), None).await.unwrap(); // no balance in this answer
        assert_eq!(s.accounts(&user).await.unwrap()[0].balance, with_balance.balance);
        let as_of = db
            .query_i64("SELECT COALESCE(balance_as_of, -1) FROM accounts WHERE id = 'fca_1'", &[])
            .await;
        assert!(as_of > 0, "when the balance was last reported");
    }

    async fn each_refresh_state_is_stored_with_the_account(db: TestDb) {
        use app::model::{RefreshState, RefreshStatus};
        let s = db.open().await;
        let user = linked_one(&s).await;
        assert_eq!(
            s.accounts(&user).await.unwrap()[0].refreshes,
            Refreshes::default(),
            "none yet"
        );
        let mut read = account("fca_1");
        read.refreshes.balance = Some(RefreshState {
            status: RefreshStatus::Succeeded,
            last_attempted_at: 1_700_000_000,
            next_refresh_available_at: Some(1_700_000_010),
        });
        read.refreshes.transactions = Some(RefreshState {
            status: RefreshStatus::Pending,
            last_attempted_at: 1_700_000_005,
            next_refresh_available_at: None,
        });
        assert!(s.observe(seen(&read)).await.unwrap());
        let stored = s.accounts(&user).await.unwrap().remove(0);
        assert_eq!(stored.refreshes, read.refreshes);
        assert_eq!(stored.refreshes.synced_at(), Some(1_700_000_000));
        // An older read (a slow answer) does not undo it.
        let mut older = account("fca_1");
        older.refreshes = Refreshes::default();
        assert!(!s
            .observe(Observed {
                account: &older,
                at_ms: 1
            })
            .await
            .unwrap());
        assert_eq!(s.accounts(&user).await.unwrap()[0].refreshes, read.refreshes);
    }

    async fn the_last_view_is_kept_with_the_current_columns_over_it(db: TestDb) {
        let s = db.open().await;
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

    async fn an_older_read_never_overwrites_a_newer_one(db: TestDb) {
        let s = db.open().await;
        let user = linked_one(&s).await;
        let mut inactive = account("fca_1");
        inactive.status = AccountStatus::Inactive;
        let newer = Observed {
            account: &inactive,
            at_ms: 2_000,
        };
        let kind = "financial_connections.account.deactivated";
        s.apply_event("evt_new", kind, Some(newer), None, None).await.unwrap();
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

    async fn accounts_the_app_never_confirmed_are_adopted_once(db: TestDb) {
        let s = db.open().await;
        let user = UserId::new("u");
        let cus = CustomerId::parse("cus_1").unwrap();
        s.set_customer(&user, &cus).await.unwrap();
        assert_eq!(s.user_with_customer(&cus).await.unwrap(), Some(user.clone()));
        let unknown = CustomerId::parse("cus_2").unwrap();
        assert_eq!(s.user_with_customer(&unknown).await.unwrap(), None);
        // By webhook: the account is recorded for the Customer's user.
        let lost = account("fca_lost");
        let kind = "financial_connections.account.created";
        let applied = s
            .apply_event("evt_1", kind, Some(seen(&lost)), None, Some((&user, &cus)))
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

    async fn account_constraints_hold(db: TestDb) {
        let s = db.open().await;
        linked_one(&s).await;
        let bad_status = db
            .execute(
                "INSERT INTO accounts (id, user_id, customer_id, institution_name, category, subcategory, status, \
                 permissions, linked_at, updated_at) VALUES ('fca_x', 'u', 'cus_1', 'I', 'cash', 'checking', 'exploded', '[]', 0, 0)",
                &[],
            )
            .await;
        assert!(bad_status.is_err(), "status is checked");
        let orphan = db
            .execute(
                "INSERT INTO accounts (id, user_id, customer_id, institution_name, category, subcategory, status, \
                 permissions, linked_at, updated_at) VALUES ('fca_y', 'nobody', 'cus_1', 'I', 'cash', 'checking', 'active', '[]', 0, 0)",
                &[],
            )
            .await;
        assert!(orphan.is_err(), "accounts belong to a user");
    }
}
