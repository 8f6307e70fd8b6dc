//! Transactions: the local copy of each account's transactions, the cursor
//! of the newest refresh it includes, and what the page reads from it (one
//! filtered page, the counts and the daily net flow for the chart).

use super::{Conn, Held, Storage, StorageError};
use app::model::transactions::{CHART_DAYS, PER_PAGE};
use app::model::{AccountId, DailyFlow, Day, Money, Transaction, TransactionFilter, TransactionStatus, TransactionsView};

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

/// The stored transactions of account $1 that match a filter: $2 start, $3
/// end, $4 status, $5 the search's `LIKE` pattern on the lowercased
/// description (each optional but the first).
const MATCHING: &str = "FROM transactions WHERE account_id = $1 \
     AND ($2 IS NULL OR transacted_at >= $2) AND ($3 IS NULL OR transacted_at < $3) AND ($4 IS NULL OR status = $4) \
     AND ($5 IS NULL OR LOWER(description) LIKE $5 ESCAPE '\\')";

/// The columns [`TransactionRow`] reads.
const TRANSACTION_COLUMNS: &str = "id, amount_minor, currency, description, status, transacted_at, updated";

/// Most rows one export answers: 200 syncs' worth of Stripe pages, far
/// beyond 180 days of any account.
pub const MAX_EXPORT: i64 = 20_000;

#[derive(sqlx::FromRow)]
struct TransactionRow {
    id: String,
    amount_minor: i64,
    currency: String,
    description: String,
    status: String,
    transacted_at: i64,
    updated: i64,
}

impl TryFrom<TransactionRow> for Transaction {
    type Error = StorageError;
    fn try_from(r: TransactionRow) -> Result<Self, StorageError> {
        Ok(Transaction {
            status: TransactionStatus::parse(&r.status).ok_or(StorageError::Corrupt(r.status))?,
            id: r.id,
            amount: Money {
                minor: r.amount_minor,
                currency: r.currency,
            },
            description: r.description,
            transacted_at: r.transacted_at,
            updated: r.updated,
        })
    }
}

#[derive(sqlx::FromRow)]
struct FlowRow {
    currency: String,
    day: i64,
    net: i64,
    money_in: i64,
    money_out: i64,
}

impl Storage {
    /// The newest transaction refresh already stored for the account.
    pub async fn transactions_cursor(&self, id: &AccountId) -> Result<Option<String>, StorageError> {
        cursor(self.acquire().await?.conn(), id).await
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
        let status = filter.status.map(TransactionStatus::as_str);
        let search = filter.search_pattern();
        // One read transaction on one snapshot: a sync committing meanwhile
        // cannot make the counts, the page and the chart disagree. SQLite's
        // read transaction keeps its snapshot; PostgreSQL's default (read
        // committed) takes a new one per statement, so ask for one.
        let mut c = self.acquire().await?;
        let mut tx = c.conn().begin().await?;
        sql!(tx,
            sqlite: |_e| (),
            postgres: |e| {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(e)
                    .await?;
            },
        );
        let matching: i64 = sql!(tx, |e| sqlx::query_scalar(&format!("SELECT COUNT(*) {MATCHING}"))
            .bind(id.as_str())
            .bind(start)
            .bind(end)
            .bind(status)
            .bind(search.as_deref())
            .fetch_one(e)
            .await?);
        let rows: Vec<TransactionRow> = sql!(tx, |e| sqlx::query_as(&format!(
            "SELECT {TRANSACTION_COLUMNS} {MATCHING} ORDER BY transacted_at DESC, id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(id.as_str())
        .bind(start)
        .bind(end)
        .bind(status)
        .bind(search.as_deref())
        .bind(i64::from(PER_PAGE))
        .bind(i64::from(filter.page.saturating_sub(1)) * i64::from(PER_PAGE))
        .fetch_all(e)
        .await?);
        let items = rows.into_iter().map(Transaction::try_from).collect::<Result<Vec<_>, _>>()?;
        let stored: i64 = sql!(tx, |e| sqlx::query_scalar(
            "SELECT COUNT(*) FROM transactions WHERE account_id = $1"
        )
        .bind(id.as_str())
        .fetch_one(e)
        .await?);
        let synced_at: Option<i64> = sql!(tx, |e| sqlx::query_scalar(
            "SELECT transactions_synced_at FROM accounts WHERE id = $1"
        )
        .bind(id.as_str())
        .fetch_optional(e)
        .await?)
        .flatten();
        let flows = daily_flows(tx.conn(), id, today).await?;
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
}

impl Storage {
    /// Every stored transaction of the account that matches `filter` (its
    /// page ignored), newest first, at most [`MAX_EXPORT`].
    pub async fn matching_transactions(
        &self,
        id: &AccountId,
        filter: &TransactionFilter,
    ) -> Result<Vec<Transaction>, StorageError> {
        let (start, end) = filter.time_range();
        let status = filter.status.map(TransactionStatus::as_str);
        let search = filter.search_pattern();
        let mut c = self.acquire().await?;
        let rows: Vec<TransactionRow> = sql!(c, |e| sqlx::query_as(&format!(
            "SELECT {TRANSACTION_COLUMNS} {MATCHING} ORDER BY transacted_at DESC, id DESC LIMIT $6"
        ))
        .bind(id.as_str())
        .bind(start)
        .bind(end)
        .bind(status)
        .bind(search.as_deref())
        .bind(MAX_EXPORT)
        .fetch_all(e)
        .await?);
        rows.into_iter().map(Transaction::try_from).collect()
    }
}

/// The same, under the account's [`crate::locks::LockKey::TransactionSync`] lock.
impl Held {
    pub async fn transactions_cursor(&mut self, id: &AccountId) -> Result<Option<String>, StorageError> {
        cursor(self.handle().await?.conn(), id).await
    }
}

async fn cursor(mut c: Conn<'_>, id: &AccountId) -> Result<Option<String>, StorageError> {
    let cursor: Option<Option<String>> = sql!(c, |e| sqlx::query_scalar(
        "SELECT transactions_cursor FROM accounts WHERE id = $1"
    )
    .bind(id.as_str())
    .fetch_optional(e)
    .await?);
    Ok(cursor.flatten())
}

/// Money in minus money out per day (void transactions excluded), one
/// series per currency, over the [`CHART_DAYS`] days ending `today`. Sums are
/// cast back to BIGINT: PostgreSQL's `SUM(bigint)` is a `numeric`.
async fn daily_flows(mut c: Conn<'_>, id: &AccountId, today: Day) -> Result<Vec<DailyFlow>, StorageError> {
    let first = today.plus(1 - CHART_DAYS as i64);
    let rows: Vec<FlowRow> = sql!(c, |e| sqlx::query_as(
        "SELECT currency, transacted_at / 86400 AS day, CAST(SUM(amount_minor) AS BIGINT) AS net, \
         CAST(SUM(CASE WHEN amount_minor > 0 THEN amount_minor ELSE 0 END) AS BIGINT) AS money_in, \
         CAST(SUM(CASE WHEN amount_minor < 0 THEN amount_minor ELSE 0 END) AS BIGINT) AS money_out \
         FROM transactions WHERE account_id = $1 AND status <> 'void' AND transacted_at >= $2 AND transacted_at < $3 \
         GROUP BY currency, transacted_at / 86400 ORDER BY currency, day",
    )
    .bind(id.as_str())
    .bind(first.start())
    .bind(today.plus(1).start())
    .fetch_all(e)
    .await?);
    let mut flows: Vec<DailyFlow> = Vec::new();
    for r in rows {
        if flows.last().is_none_or(|f| f.currency != r.currency) {
            flows.push(DailyFlow {
                currency: r.currency.clone(),
                first_day: first,
                net: vec![0; CHART_DAYS],
                money_in: 0,
                money_out: 0,
            });
        }
        let Some(flow) = flows.last_mut() else { continue };
        if let Some(slot) = usize::try_from(r.day - first.0).ok().and_then(|i| flow.net.get_mut(i)) {
            *slot = r.net;
        }
        flow.money_in = flow.money_in.saturating_add(r.money_in);
        flow.money_out = flow.money_out.saturating_add(r.money_out);
    }
    Ok(flows)
}

/// Upserts a sync's transactions (a newer `updated` always wins, so an older
/// answer arriving late cannot undo a pending → posted change) and moves the
/// cursor forward, never back. Runs inside the caller's transaction.
pub(super) async fn store(mut c: Conn<'_>, account: &AccountId, sync: &TransactionSync) -> Result<(), StorageError> {
    for t in &sync.transactions {
        sql!(c, |e| sqlx::query(
            "INSERT INTO transactions (id, account_id, amount_minor, currency, description, status, transacted_at, updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET amount_minor = excluded.amount_minor, \
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
        .execute(e)
        .await?
        .rows_affected());
    }
    sql!(c, |e| sqlx::query(
        "UPDATE accounts SET transactions_cursor = $1, transactions_synced_at = $2 \
         WHERE id = $3 AND (transactions_synced_at IS NULL OR transactions_synced_at <= $2)",
    )
    .bind(&sync.refresh_id)
    .bind(sync.refreshed_at)
    .bind(account.as_str())
    .execute(e)
    .await?
    .rows_affected());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::accounts::tests::{account, detail, linked_one, seen};
    use super::super::testing::TestDb;
    use super::*;

    crate::backend_tests!(
        transaction_syncs_upsert_and_never_go_back,
        transactions_filter_page_and_chart,
        transactions_belong_to_their_account,
    );

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

    async fn transaction_syncs_upsert_and_never_go_back(db: TestDb) {
        let s = db.open().await;
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
        let kind = "financial_connections.account.refreshed_transactions";
        assert!(s.apply_event("evt_1", kind, Some(seen(&a)), Some(&late), None).await.unwrap());
        let dup = sync("fctxnref_4", 400, vec![txn("fctxn_c", 1, TransactionStatus::Posted, t, 400)]);
        assert!(!s.apply_event("evt_1", kind, Some(seen(&a)), Some(&dup), None).await.unwrap());
        assert_eq!(s.transactions(&id, &all, day).await.unwrap().stored, 2);
        assert_eq!(s.transactions_cursor(&id).await.unwrap().as_deref(), Some("fctxnref_3"));
    }

    async fn transactions_filter_page_and_chart(db: TestDb) {
        let s = db.open().await;
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
        // A second currency today, in amounts far beyond f64's exact integers.
        let big = i64::MAX / 4;
        for (id, at) in [("fctxn_eur1", 3_600), ("fctxn_eur2", 3_601)] {
            let mut t = txn(id, big, TransactionStatus::Posted, today.start() + at, 1);
            t.amount.currency = "eur".into();
            txns.push(t);
        }
        s.reconcile(&detail(&account("fca_1")), Some(&sync("fctxnref_1", 1, txns)))
            .await
            .unwrap();

        let p = |page, status, from: Option<Day>, to: Option<Day>| TransactionFilter {
            from,
            to,
            status,
            search: None,
            page,
        };
        let first = s.transactions(&id, &p(1, None, None, None), today).await.unwrap();
        assert_eq!((first.stored, first.matching, first.page_count()), (102, 102, 6));
        assert_eq!(first.items.len(), PER_PAGE as usize);
        assert_eq!(first.items[0].id, "fctxn_eur2", "newest first");
        let last = s.transactions(&id, &p(6, None, None, None), today).await.unwrap();
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
        assert_eq!(week.matching, 9, "both ends included");

        // Search: case-insensitive, `%` and `_` literal, with the other filters.
        let search = |q: &str, status| TransactionFilter {
            search: Some(q.into()),
            ..p(1, status, None, None)
        };
        let found = s.transactions(&id, &search("FCTXN_00", None), today).await.unwrap();
        assert_eq!((found.matching, found.stored), (10, 102));
        assert!(found.items.iter().all(|t| t.description.starts_with("txn fctxn_00")));
        let posted = s
            .transactions(&id, &search("fctxn_00", Some(TransactionStatus::Posted)), today)
            .await
            .unwrap();
        assert_eq!(posted.matching, 9, "fctxn_000 is void");
        for (literal, n) in [("%", 0), ("_", 102), ("n_eur", 2), ("txn%", 0)] {
            let v = s.transactions(&id, &search(literal, None), today).await.unwrap();
            assert_eq!(v.matching, n, "{literal:?}");
        }
        // The export: every match, not one page, in the page's order.
        let all = s.matching_transactions(&id, &p(3, None, None, None)).await.unwrap();
        assert_eq!(all.len(), 102);
        assert_eq!(all[0].id, "fctxn_eur2");
        let some = s.matching_transactions(&id, &search("fctxn_00", None)).await.unwrap();
        assert_eq!(some.len(), 10);
        let other = AccountId::parse("fca_other").unwrap();
        assert!(s
            .matching_transactions(&other, &p(1, None, None, None))
            .await
            .unwrap()
            .is_empty());

        let eur = &first.flows[0];
        assert_eq!((eur.currency.as_str(), eur.net[89], eur.money_in), ("eur", 2 * big, 2 * big));
        let flow = &first.flows[1];
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

    async fn transactions_belong_to_their_account(db: TestDb) {
        let s = db.open().await;
        let orphan = db
            .execute(
                "INSERT INTO transactions VALUES ('fctxn_x', 'fca_nobody', 1, 'usd', 'x', 'posted', 0, 0)",
                &[],
            )
            .await;
        assert!(orphan.is_err(), "foreign key to accounts");
        linked_one(&s).await;
        let bad = db
            .execute(
                "INSERT INTO transactions VALUES ('fctxn_y', 'fca_1', 1, 'usd', 'x', 'refunded', 0, 0)",
                &[],
            )
            .await;
        assert!(bad.is_err(), "status is checked");
    }
}
