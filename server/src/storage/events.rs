//! Handled webhook events: each event id is recorded once (a unique row, so
//! a redelivery is a no-op whichever instance it reaches) in the same
//! transaction as its effect on the account and its transactions.

use super::accounts::{self, Observed};
use super::transactions::{self, TransactionSync};
use super::{Conn, Held, Storage, StorageError};
use crate::clock::unix_now as now;
use app::model::CustomerId;
use app::service::UserId;

impl Storage {
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
        apply(self.acquire().await?.conn(), event_id, kind, account, sync, adopt).await
    }
}

/// The same, under the account's [`crate::locks::LockKey::TransactionSync`] lock.
impl Held {
    pub async fn apply_event(
        &mut self,
        event_id: &str,
        kind: &str,
        account: Option<Observed<'_>>,
        sync: Option<&TransactionSync>,
        adopt: Option<(&UserId, &CustomerId)>,
    ) -> Result<bool, StorageError> {
        apply(self.handle().await?.conn(), event_id, kind, account, sync, adopt).await
    }
}

async fn apply(
    c: Conn<'_>,
    event_id: &str,
    kind: &str,
    account: Option<Observed<'_>>,
    sync: Option<&TransactionSync>,
    adopt: Option<(&UserId, &CustomerId)>,
) -> Result<bool, StorageError> {
    let mut tx = c.begin().await?;
    if !record(tx.conn(), event_id, kind).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    if let Some(seen) = account {
        if let Some((user, customer)) = adopt {
            accounts::insert(tx.conn(), user, customer, seen.account).await?;
        }
        accounts::update(tx.conn(), seen).await?;
        if let Some(sync) = sync {
            transactions::store(tx.conn(), &seen.account.id, sync).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Records an event id as handled, in the caller's transaction; false when
/// it was handled before. Another instance inserting the same id at once
/// waits for this transaction, then finds the row: exactly one of them
/// applies it.
pub(super) async fn record(mut c: Conn<'_>, event_id: &str, kind: &str) -> Result<bool, StorageError> {
    let inserted = sql!(c, |e| sqlx::query(
        "INSERT INTO webhook_events (id, type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING"
    )
    .bind(event_id)
    .bind(kind)
    .bind(now())
    .execute(e)
    .await?
    .rows_affected());
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use super::super::accounts::tests::{account, linked_one, seen};
    use super::super::testing::TestDb;
    use super::*;
    use crate::locks::LockKey;
    use app::model::{AccountId, AccountStatus};

    crate::backend_tests!(an_event_applies_once, an_event_applies_once_under_concurrent_deliveries);

    async fn an_event_applies_once(db: TestDb) {
        let s = db.open().await;
        let user = linked_one(&s).await;
        let mut inactive = account("fca_1");
        inactive.status = AccountStatus::Inactive;
        let kind = "financial_connections.account.deactivated";
        assert!(s.apply_event("evt_1", kind, Some(seen(&inactive)), None, None).await.unwrap());
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Inactive);
        // Redelivered: a no-op, even with other data.
        let other = account("fca_1");
        assert!(!s.apply_event("evt_1", kind, Some(seen(&other)), None, None).await.unwrap());
        assert_eq!(s.accounts(&user).await.unwrap()[0].status, AccountStatus::Inactive);
        // An event about no account is recorded all the same.
        assert!(s.apply_event("evt_2", "customer.created", None, None, None).await.unwrap());
        assert!(!s.apply_event("evt_2", "customer.created", None, None, None).await.unwrap());
    }

    /// Two instances (two pools on one database) get the same event at once,
    /// each under its own lock on the account, as the service applies them.
    async fn an_event_applies_once_under_concurrent_deliveries(db: TestDb) {
        let (a, b) = (db.open().await, db.open().await);
        linked_one(&a).await;
        let fca_1 = account("fca_1");
        let deliver = async |s: &Storage| {
            let key = LockKey::TransactionSync(AccountId::parse("fca_1").unwrap());
            let mut held = s.lock(key).await.unwrap();
            let applied = held
                .apply_event(
                    "evt_twice",
                    "financial_connections.account.refreshed_balance",
                    Some(seen(&fca_1)),
                    None,
                    None,
                )
                .await
                .unwrap();
            held.release().await.unwrap();
            applied
        };
        let (first, second) = tokio::join!(deliver(&a), deliver(&b));
        assert!(first ^ second, "exactly one applied it: {first} {second}");
        let rows = db
            .query_i64("SELECT COUNT(*) FROM webhook_events WHERE id = 'evt_twice'", &[])
            .await;
        assert_eq!(rows, 1);
    }
}
