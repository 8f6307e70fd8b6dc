//! Payments: the PaymentIntents the app created for a user, as last known.
//! Stripe's answers and webhook events arrive in any order, so a read is
//! stored only when it is newer: a later `status_at` (an event's `created`,
//! or when the app read it), or on the same second a status further along
//! ([`PaymentStatus::rank`]); a final status (`succeeded`, `canceled`) is
//! never replaced. Webhook events are recorded in the same transaction as
//! their effect (see [`super::events`]), so a redelivery changes nothing.

use super::{Conn, Storage, StorageError};
use crate::clock::unix_now as now;
use app::model::payments::FINAL_RANK;
use app::model::{AccountId, Money, Payment, PaymentFailure, PaymentIntentId, PaymentStatus};
use app::service::UserId;

/// At most this many payments are listed (newest first).
pub const LIST_LIMIT: i64 = 100;

const PAYMENT_COLUMNS: &str = "id, account_id, amount_minor, currency, description, bank, status, failure_code, \
                               failure_message, verification_url, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: String,
    account_id: Option<String>,
    amount_minor: i64,
    currency: String,
    description: Option<String>,
    bank: Option<String>,
    status: String,
    failure_code: Option<String>,
    failure_message: Option<String>,
    verification_url: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<PaymentRow> for Payment {
    type Error = StorageError;
    fn try_from(r: PaymentRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str| StorageError::Corrupt(format!("payment {}: {what}", r.id));
        let failure = (r.failure_code.is_some() || r.failure_message.is_some()).then(|| PaymentFailure {
            code: r.failure_code.clone(),
            message: r.failure_message.clone(),
        });
        Ok(Payment {
            id: PaymentIntentId::parse(&r.id).map_err(|_| corrupt("id"))?,
            account: match &r.account_id {
                Some(a) => Some(AccountId::parse(a).map_err(|_| corrupt("account"))?),
                None => None,
            },
            amount: Money {
                minor: r.amount_minor,
                currency: r.currency.clone(),
            },
            description: r.description.clone(),
            status: PaymentStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            failure,
            verification_url: r.verification_url.clone(),
            bank: r.bank.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// A new payment's fixed facts.
#[derive(Clone, Debug)]
pub struct NewPayment<'a> {
    pub user: &'a UserId,
    pub account: Option<&'a AccountId>,
    pub amount: &'a Money,
    pub description: Option<&'a str>,
    pub bank: Option<&'a str>,
    pub attempt: &'a str,
}

/// What Stripe said about a PaymentIntent, and as of when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentSeen {
    pub id: PaymentIntentId,
    pub status: PaymentStatus,
    pub failure: Option<PaymentFailure>,
    pub verification_url: Option<String>,
    pub payment_method: Option<String>,
    pub mandate: Option<String>,
    /// Unix seconds: the event's `created`, or when the app read it.
    pub at: i64,
}

impl PaymentSeen {
    fn rank(&self) -> i64 {
        self.status.rank(self.failure.is_some())
    }
}

impl Storage {
    /// Records a payment the app just created (a retried create of the same
    /// PaymentIntent adds nothing) and stores `seen` if it is newer than
    /// what is stored (a webhook may have come first).
    pub async fn record_payment(&self, new: NewPayment<'_>, seen: &PaymentSeen) -> Result<Payment, StorageError> {
        let mut c = self.acquire().await?;
        let mut tx = c.conn().begin().await?;
        let t = now();
        sql!(tx, |e| sqlx::query(
            "INSERT INTO payments (id, user_id, account_id, amount_minor, currency, description, bank, attempt, \
             status, status_rank, status_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT (id) DO NOTHING"
        )
        .bind(seen.id.as_str())
        .bind(new.user.as_str())
        .bind(new.account.map(AccountId::as_str))
        .bind(new.amount.minor)
        .bind(new.amount.currency.as_str())
        .bind(new.description)
        .bind(new.bank)
        .bind(new.attempt)
        .bind(seen.status.as_str())
        .bind(seen.rank())
        .bind(seen.at)
        .bind(t)
        .execute(e)
        .await?
        .rows_affected());
        // Never another user's: an id Stripe gave this user is this user's.
        match owned(tx.conn(), &seen.id).await? {
            Some((owner, _)) if &owner == new.user => {}
            _ => {
                tx.rollback().await?;
                return Err(StorageError::Corrupt(format!("payment {} belongs to another user", seen.id)));
            }
        }
        update(tx.conn(), seen).await?;
        let row = read(tx.conn(), new.user, &seen.id).await?;
        tx.commit().await?;
        row.ok_or_else(|| StorageError::Corrupt(format!("payment {} vanished", seen.id)))
    }

    /// Stores `seen` if it is newer than what is stored; returns the
    /// payment's owner and its stored state (`None` for a payment this app
    /// did not make).
    pub async fn observe_payment(&self, seen: &PaymentSeen) -> Result<Option<(UserId, Payment)>, StorageError> {
        let mut c = self.acquire().await?;
        let mut tx = c.conn().begin().await?;
        update(tx.conn(), seen).await?;
        let found = owned(tx.conn(), &seen.id).await?;
        tx.commit().await?;
        Ok(found)
    }

    /// Records a webhook event about a PaymentIntent and applies `seen` in
    /// one transaction. Returns the payment's owner when the event was new
    /// and the payment is this app's (its pages are told), else `None`.
    pub async fn apply_payment_event(
        &self,
        event_id: &str,
        kind: &str,
        seen: &PaymentSeen,
    ) -> Result<Option<UserId>, StorageError> {
        let mut c = self.acquire().await?;
        let mut tx = c.conn().begin().await?;
        if !super::events::record(tx.conn(), event_id, kind).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        update(tx.conn(), seen).await?;
        let owner = owned(tx.conn(), &seen.id).await?.map(|(u, _)| u);
        tx.commit().await?;
        Ok(owner)
    }

    /// One of the user's payments (`None` for anyone else's).
    pub async fn payment(&self, user: &UserId, id: &PaymentIntentId) -> Result<Option<Payment>, StorageError> {
        let mut c = self.acquire().await?;
        read(c.conn(), user, id).await
    }

    /// The user's payments, newest first, all or from one account.
    pub async fn payments(&self, user: &UserId, account: Option<&AccountId>) -> Result<Vec<Payment>, StorageError> {
        let mut c = self.acquire().await?;
        let rows: Vec<PaymentRow> = sql!(c, |e| sqlx::query_as(&format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE user_id = $1 AND ($2 IS NULL OR account_id = $2) \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(user.as_str())
        .bind(account.map(AccountId::as_str))
        .bind(LIST_LIMIT)
        .fetch_all(e)
        .await?);
        rows.into_iter().map(Payment::try_from).collect()
    }
}

/// The ordering rule, in one statement (so concurrent writers on any
/// instance cannot interleave a read and a write).
async fn update(mut c: Conn<'_>, seen: &PaymentSeen) -> Result<bool, StorageError> {
    let code = seen.failure.as_ref().and_then(|f| f.code.as_deref());
    let message = seen.failure.as_ref().and_then(|f| f.message.as_deref());
    let changed = sql!(c, |e| sqlx::query(
        "UPDATE payments SET status = $2, status_rank = $3, status_at = $4, failure_code = $5, failure_message = $6, \
         verification_url = $7, payment_method = COALESCE($8, payment_method), mandate = COALESCE($9, mandate), \
         updated_at = $10 \
         WHERE id = $1 AND status_rank < $11 \
         AND ($3 >= $11 OR status_at < $4 OR (status_at = $4 AND status_rank <= $3))"
    )
    .bind(seen.id.as_str())
    .bind(seen.status.as_str())
    .bind(seen.rank())
    .bind(seen.at)
    .bind(code)
    .bind(message)
    .bind(seen.verification_url.as_deref())
    .bind(seen.payment_method.as_deref())
    .bind(seen.mandate.as_deref())
    .bind(now())
    .bind(FINAL_RANK)
    .execute(e)
    .await?
    .rows_affected());
    Ok(changed == 1)
}

async fn read(mut c: Conn<'_>, user: &UserId, id: &PaymentIntentId) -> Result<Option<Payment>, StorageError> {
    let row: Option<PaymentRow> = sql!(c, |e| sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1 AND user_id = $2"
    ))
    .bind(id.as_str())
    .bind(user.as_str())
    .fetch_optional(e)
    .await?);
    row.map(Payment::try_from).transpose()
}

async fn owned(mut c: Conn<'_>, id: &PaymentIntentId) -> Result<Option<(UserId, Payment)>, StorageError> {
    #[derive(sqlx::FromRow)]
    struct Owned {
        user_id: String,
        #[sqlx(flatten)]
        payment: PaymentRow,
    }
    let row: Option<Owned> = sql!(c, |e| sqlx::query_as(&format!(
        "SELECT user_id, {PAYMENT_COLUMNS} FROM payments WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(e)
    .await?);
    row.map(|r| Ok((UserId::new(r.user_id), Payment::try_from(r.payment)?)))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::super::accounts::tests::linked_one;
    use super::super::testing::TestDb;
    use super::*;
    use app::model::{AccountId, CustomerId};

    fn usd(minor: i64) -> Money {
        Money {
            minor,
            currency: "usd".into(),
        }
    }

    fn seen(id: &str, status: PaymentStatus, at: i64) -> PaymentSeen {
        PaymentSeen {
            id: PaymentIntentId::parse(id).unwrap(),
            status,
            failure: None,
            verification_url: None,
            payment_method: Some("pm_1".into()),
            mandate: None,
            at,
        }
    }

    fn failed(id: &str, at: i64) -> PaymentSeen {
        PaymentSeen {
            failure: Some(PaymentFailure {
                code: Some("insufficient_funds".into()),
                message: Some("The customer's account has insufficient funds to cover this payment.".into()),
            }),
            ..seen(id, PaymentStatus::RequiresPaymentMethod, at)
        }
    }

    async fn record(s: &Storage, user: &UserId, id: &str, at: i64) -> Payment {
        let account = AccountId::parse("fca_1").unwrap();
        let new = NewPayment {
            user,
            account: Some(&account),
            amount: &usd(1_250),
            description: Some("Invoice 42"),
            bank: Some("Test Institution ••6789"),
            attempt: "attempt-1",
        };
        s.record_payment(new, &seen(id, PaymentStatus::Processing, at)).await.unwrap()
    }

    crate::backend_tests!(
        payments_are_recorded_once_and_listed_for_their_user_only,
        later_reads_win_and_final_statuses_stay,
        a_payment_event_applies_once,
        payment_constraints_hold,
    );

    async fn payments_are_recorded_once_and_listed_for_their_user_only(db: TestDb) {
        let s = db.open().await;
        let user = linked_one(&s).await;
        let p = record(&s, &user, "pi_1", 100).await;
        assert_eq!(p.status, PaymentStatus::Processing);
        assert_eq!(p.amount, usd(1_250));
        assert_eq!(p.account.as_ref().map(AccountId::as_str), Some("fca_1"));
        assert_eq!(p.description.as_deref(), Some("Invoice 42"));
        // A retried create (the same PaymentIntent back from Stripe) adds nothing.
        assert_eq!(record(&s, &user, "pi_1", 100).await, p);
        assert_eq!(db.query_i64("SELECT COUNT(*) FROM payments", &[]).await, 1);
        record(&s, &user, "pi_2", 101).await;
        let listed = s.payments(&user, None).await.unwrap();
        assert_eq!(listed.len(), 2);
        let other_account = AccountId::parse("fca_2").unwrap();
        assert!(s.payments(&user, Some(&other_account)).await.unwrap().is_empty());
        assert_eq!(
            s.payments(&user, Some(&AccountId::parse("fca_1").unwrap()))
                .await
                .unwrap()
                .len(),
            2
        );
        // Another user sees none of them, and cannot read one by id.
        let bob = UserId::new("bob");
        s.set_customer(&bob, &CustomerId::parse("cus_bob").unwrap()).await.unwrap();
        assert!(s.payments(&bob, None).await.unwrap().is_empty());
        assert_eq!(s.payment(&bob, &p.id).await.unwrap(), None);
        assert_eq!(s.payment(&user, &p.id).await.unwrap(), Some(p.clone()));
        // Bob's "create" of Alice's PaymentIntent id does not take it over.
        let account = AccountId::parse("fca_1").unwrap();
        let hijack = NewPayment {
            user: &bob,
            account: Some(&account),
            amount: &usd(50),
            description: None,
            bank: None,
            attempt: "attempt-2",
        };
        assert!(s
            .record_payment(hijack, &seen("pi_1", PaymentStatus::Processing, 100))
            .await
            .is_err());
        assert_eq!(s.payment(&user, &p.id).await.unwrap().unwrap().amount, usd(1_250));
    }

    async fn later_reads_win_and_final_statuses_stay(db: TestDb) {
        let s = db.open().await;
        let user = linked_one(&s).await;
        record(&s, &user, "pi_1", 100).await;
        let status = async |s: &Storage| {
            s.payment(&user, &PaymentIntentId::parse("pi_1").unwrap())
                .await
                .unwrap()
                .unwrap()
        };
        // An older read is ignored; a same-second read only if further along.
        s.observe_payment(&seen("pi_1", PaymentStatus::RequiresConfirmation, 99))
            .await
            .unwrap();
        assert_eq!(status(&s).await.status, PaymentStatus::Processing);
        s.observe_payment(&seen("pi_1", PaymentStatus::RequiresConfirmation, 100))
            .await
            .unwrap();
        assert_eq!(status(&s).await.status, PaymentStatus::Processing);
        // Failure in the same second as processing: failed wins, with its reason.
        s.observe_payment(&failed("pi_1", 100)).await.unwrap();
        let p = status(&s).await;
        assert_eq!(p.state(), "failed");
        assert_eq!(p.failure.unwrap().code.as_deref(), Some("insufficient_funds"));
        // A late `processing` event of that same second does not undo it.
        s.observe_payment(&seen("pi_1", PaymentStatus::Processing, 100))
            .await
            .unwrap();
        assert_eq!(status(&s).await.state(), "failed");

        // Succeeded (even stamped earlier) replaces processing; nothing replaces it.
        record(&s, &user, "pi_2", 200).await;
        let owner = s.observe_payment(&seen("pi_2", PaymentStatus::Succeeded, 150)).await.unwrap();
        assert_eq!(
            owner.as_ref().map(|(u, p)| (u, p.status)),
            Some((&user, PaymentStatus::Succeeded))
        );
        for late in [
            seen("pi_2", PaymentStatus::Processing, 300),
            seen("pi_2", PaymentStatus::Canceled, 300),
            failed("pi_2", 300),
        ] {
            s.observe_payment(&late).await.unwrap();
        }
        let p = s
            .payment(&user, &PaymentIntentId::parse("pi_2").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((p.status, p.failure), (PaymentStatus::Succeeded, None));
        // A PaymentIntent the app did not make: nothing stored, no owner.
        assert_eq!(
            s.observe_payment(&seen("pi_other", PaymentStatus::Succeeded, 1))
                .await
                .unwrap(),
            None
        );
    }

    async fn a_payment_event_applies_once(db: TestDb) {
        let s = db.open().await;
        let user = linked_one(&s).await;
        record(&s, &user, "pi_1", 100).await;
        let kind = "payment_intent.succeeded";
        let done = seen("pi_1", PaymentStatus::Succeeded, 101);
        assert_eq!(s.apply_payment_event("evt_1", kind, &done).await.unwrap(), Some(user.clone()));
        // Redelivered: recorded already, nothing to tell.
        assert_eq!(s.apply_payment_event("evt_1", kind, &done).await.unwrap(), None);
        // About a PaymentIntent of another app: recorded, nobody to tell.
        let foreign = seen("pi_foreign", PaymentStatus::Succeeded, 101);
        assert_eq!(s.apply_payment_event("evt_2", kind, &foreign).await.unwrap(), None);
        assert_eq!(
            db.query_i64("SELECT COUNT(*) FROM webhook_events WHERE id IN ('evt_1', 'evt_2')", &[])
                .await,
            2
        );
        assert_eq!(db.query_i64("SELECT COUNT(*) FROM payments", &[]).await, 1);
    }

    async fn payment_constraints_hold(db: TestDb) {
        let s = db.open().await;
        linked_one(&s).await;
        // A payment needs a user, and a positive amount.
        let no_user = UserId::new("nobody");
        let new = NewPayment {
            user: &no_user,
            account: None,
            amount: &usd(100),
            description: None,
            bank: None,
            attempt: "attempt-1",
        };
        assert!(s
            .record_payment(new, &seen("pi_x", PaymentStatus::Processing, 1))
            .await
            .is_err());
        let user = UserId::new("u");
        let zero = NewPayment {
            user: &user,
            account: None,
            amount: &usd(0),
            description: None,
            bank: None,
            attempt: "attempt-1",
        };
        assert!(s
            .record_payment(zero, &seen("pi_y", PaymentStatus::Processing, 1))
            .await
            .is_err());
    }
}
