//! The developer panel's log: one row per recorded entry (a Stripe request,
//! a webhook event, a Stripe.js result), its detail as redacted JSON text.
//! Each user keeps their newest entries up to a limit, trimmed as they are
//! written; [`super::retention`] also forgets entries past an age, beyond
//! the limit, and those of users who are gone.

use super::{Conn, Storage, StorageError};
use app::model::developer::{LogDetail, LogEntry, LogQuery};
use app::service::UserId;

/// An entry on its way to storage.
#[derive(Clone, Debug)]
pub struct NewLogEntry {
    pub user: UserId,
    pub at_ms: i64,
    pub detail: LogDetail,
}

impl Storage {
    /// Stores `entries` in one transaction, then trims each of their users'
    /// logs to the newest `per_user`.
    pub async fn insert_log(&self, entries: &[NewLogEntry], per_user: u32) -> Result<(), StorageError> {
        let mut c = self.acquire().await?;
        let mut tx = c.conn().begin().await?;
        for entry in entries {
            let detail = serde_json::to_string(&entry.detail).map_err(|e| StorageError::Corrupt(e.to_string()))?;
            sql!(tx, |e| sqlx::query(
                "INSERT INTO developer_log (user_id, at_ms, kind, detail) VALUES ($1, $2, $3, $4)"
            )
            .bind(entry.user.as_str())
            .bind(entry.at_ms)
            .bind(entry.detail.kind().as_str())
            .bind(&detail)
            .execute(e)
            .await?
            .rows_affected());
        }
        let mut users: Vec<&UserId> = entries.iter().map(|e| &e.user).collect();
        users.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        users.dedup();
        for user in users {
            trim(tx.conn(), user, per_user).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user's entries matching `query`, newest first, at most `limit`;
    /// and whether older ones match too.
    pub async fn log_page(&self, user: &UserId, query: &LogQuery, limit: u32) -> Result<(Vec<LogEntry>, bool), StorageError> {
        let mut c = self.acquire().await?;
        let kind = query.kind.map(|k| k.as_str()).unwrap_or("");
        let rows: Vec<(i64, i64, String)> = sql!(c, |e| sqlx::query_as(
            "SELECT id, at_ms, detail FROM developer_log \
             WHERE user_id = $1 AND ($2 = '' OR kind = $2) AND id < $3 ORDER BY id DESC LIMIT $4"
        )
        .bind(user.as_str())
        .bind(kind)
        .bind(query.before.unwrap_or(i64::MAX))
        .bind(i64::from(limit) + 1)
        .fetch_all(e)
        .await?);
        let more = rows.len() > limit as usize;
        let entries = rows
            .into_iter()
            .take(limit as usize)
            .map(|(id, at_ms, detail)| {
                let detail =
                    serde_json::from_str(&detail).map_err(|e| StorageError::Corrupt(format!("developer_log {id}: {e}")))?;
                Ok(LogEntry { id, at_ms, detail })
            })
            .collect::<Result<_, StorageError>>()?;
        Ok((entries, more))
    }
}

/// Deletes all but `user`'s newest `keep` entries.
async fn trim(mut c: Conn<'_>, user: &UserId, keep: u32) -> Result<u64, StorageError> {
    Ok(sql!(c, |e| sqlx::query(
        "DELETE FROM developer_log WHERE user_id = $1 AND id <= \
         (SELECT id FROM developer_log WHERE user_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)"
    )
    .bind(user.as_str())
    .bind(i64::from(keep))
    .execute(e)
    .await?
    .rows_affected()))
}

/// The retention pass's part: entries older than `before_ms`, entries past
/// each user's newest `per_user`, and entries older than `orphans_before_ms`
/// whose user no longer exists.
pub(super) async fn prune(mut c: Conn<'_>, before_ms: i64, per_user: u32, orphans_before_ms: i64) -> Result<u64, StorageError> {
    let old = sql!(c, |e| sqlx::query("DELETE FROM developer_log WHERE at_ms < $1")
        .bind(before_ms)
        .execute(e)
        .await?
        .rows_affected());
    let over = sql!(c, |e| sqlx::query(
        "DELETE FROM developer_log WHERE id IN (SELECT id FROM (SELECT id, \
         ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY id DESC) AS n FROM developer_log) ranked WHERE n > $1)"
    )
    .bind(i64::from(per_user))
    .execute(e)
    .await?
    .rows_affected());
    let orphans = sql!(c, |e| sqlx::query(
        "DELETE FROM developer_log WHERE at_ms < $1 \
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = developer_log.user_id)"
    )
    .bind(orphans_before_ms)
    .execute(e)
    .await?
    .rows_affected());
    Ok(old + over + orphans)
}

#[cfg(test)]
mod tests {
    use super::super::testing::TestDb;
    use super::*;
    use app::model::developer::{LogKind, StripeJsCall, StripeJsLog, WebhookLog, WebhookOutcome};

    crate::backend_tests!(
        pages_are_per_user_newest_first_and_filtered,
        each_user_keeps_their_newest,
        pruning_by_age_count_and_gone_users
    );

    fn entry(user: &str, at_ms: i64, kind: LogKind) -> NewLogEntry {
        let detail = match kind {
            LogKind::Webhook => LogDetail::Webhook(WebhookLog {
                event_id: format!("evt_{at_ms}"),
                event_type: "financial_connections.account.refreshed_balance".into(),
                outcome: WebhookOutcome::Applied,
                processing_ms: 1,
            }),
            _ => LogDetail::StripeJs(StripeJsLog {
                call: StripeJsCall::CollectFinancialConnectionsAccounts,
                result: format!("{{\"n\": {at_ms}}}"),
            }),
        };
        NewLogEntry {
            user: UserId::new(user),
            at_ms,
            detail,
        }
    }

    async fn pages_are_per_user_newest_first_and_filtered(db: TestDb) {
        let s = db.open().await;
        let mut entries: Vec<NewLogEntry> = (1..=5).map(|i| entry("u1", i, LogKind::StripeJs)).collect();
        entries.push(entry("u1", 6, LogKind::Webhook));
        entries.push(entry("u2", 7, LogKind::Webhook));
        s.insert_log(&entries, 100).await.unwrap();
        let u1 = UserId::new("u1");
        let (all, more) = s.log_page(&u1, &LogQuery::default(), 100).await.unwrap();
        assert!(!more);
        assert_eq!(all.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [6, 5, 4, 3, 2, 1]);
        assert_eq!(all[0].kind(), LogKind::Webhook);
        let (first, more) = s.log_page(&u1, &LogQuery::default(), 2).await.unwrap();
        assert!(more);
        let next = LogQuery {
            kind: None,
            before: Some(first[1].id),
        };
        let (second, _) = s.log_page(&u1, &next, 2).await.unwrap();
        assert_eq!(second.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [4, 3]);
        let hooks = LogQuery {
            kind: Some(LogKind::Webhook),
            before: None,
        };
        let (only, _) = s.log_page(&u1, &hooks, 100).await.unwrap();
        assert_eq!(only.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [6]);
        let (theirs, _) = s.log_page(&UserId::new("u2"), &LogQuery::default(), 100).await.unwrap();
        assert_eq!(theirs.len(), 1, "u2 sees only their own");
        assert_eq!(theirs[0].at_ms, 7);
    }

    async fn each_user_keeps_their_newest(db: TestDb) {
        let s = db.open().await;
        for i in 0..5 {
            s.insert_log(&[entry("u1", i, LogKind::StripeJs), entry("u2", i, LogKind::StripeJs)], 3)
                .await
                .unwrap();
        }
        for user in ["u1", "u2"] {
            let (kept, _) = s.log_page(&UserId::new(user), &LogQuery::default(), 100).await.unwrap();
            assert_eq!(kept.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [4, 3, 2], "{user}");
        }
    }

    async fn pruning_by_age_count_and_gone_users(db: TestDb) {
        let s = db.open().await;
        db.execute("INSERT INTO users (id, created_at) VALUES ('u1', 0)", &[])
            .await
            .unwrap();
        let mut entries: Vec<NewLogEntry> = (1..=6).map(|i| entry("u1", i * 1000, LogKind::StripeJs)).collect();
        entries.push(entry("gone", 5000, LogKind::StripeJs));
        entries.push(entry("gone_recently", 9000, LogKind::StripeJs));
        s.insert_log(&entries, 100).await.unwrap();
        let mut c = s.acquire().await.unwrap();
        // Older than 2 s: one of u1's; past u1's newest 3: two more; "gone" (no user row, old enough).
        let pruned = prune(c.conn(), 2000, 3, 8000).await.unwrap();
        assert_eq!(pruned, 4);
        let (kept, _) = s.log_page(&UserId::new("u1"), &LogQuery::default(), 100).await.unwrap();
        assert_eq!(kept.iter().map(|e| e.at_ms).collect::<Vec<_>>(), [6000, 5000, 4000]);
        let (recent, _) = s
            .log_page(&UserId::new("gone_recently"), &LogQuery::default(), 100)
            .await
            .unwrap();
        assert_eq!(recent.len(), 1, "too recent to judge");
        assert_eq!(
            prune(c.conn(), 2000, 3, 8000).await.unwrap(),
            0,
            "a second pass finds nothing"
        );
    }
}
