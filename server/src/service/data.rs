//! Data on first sight: what a link starts beyond Stripe's own prefetch
//! (daily transaction updates, when the person chose to fetch transactions
//! right away), **Refresh all**, and the transactions export.

use super::StripeService;
use crate::storage::Observed;
use crate::stripe::types::{FcAccount, FcSession};
use crate::stripe::Form;
use app::error::AppError;
use app::model::{AccountId, AccountStatus, LinkedAccount, Permission, Refreshes, Transaction, TransactionFilter};
use app::service::UserId;

impl StripeService {
    /// Stores the accounts a link confirmed as the session showed them
    /// (read at `at_ms`: their prefetch refreshes, pending, are on the
    /// dashboard at once); then, when the session prefetched transactions,
    /// turns on daily updates for each account that shares them (Stripe's
    /// subscription starts with a refresh, and keeps the data current).
    /// Best effort past storing: a failed subscription is logged, and the
    /// account stays linked without it. Returns the accounts as they now stand.
    pub(super) async fn after_link(
        &self,
        user: &UserId,
        session: &FcSession,
        at_ms: i64,
        linked: Vec<LinkedAccount>,
    ) -> Result<Vec<LinkedAccount>, AppError> {
        for account in &linked {
            self.storage.observe(Observed { account, at_ms }).await?;
        }
        let wants_transactions = session
            .prefetch
            .as_ref()
            .is_some_and(|p| p.iter().any(|f| f == "transactions"));
        if !wants_transactions {
            return Ok(linked);
        }
        let mut now = Vec::with_capacity(linked.len());
        for account in linked {
            if !account.permissions.contains(&Permission::Transactions) || account.status != AccountStatus::Active {
                now.push(account);
                continue;
            }
            let form = Form::new().list("features", ["transactions"]);
            let path = format!("/v1/financial_connections/accounts/{}/subscribe", account.id);
            match self.stripe.post::<FcAccount>(&path, &form, None).await {
                Ok(a) => {
                    tracing::info!(account = %a.id, "daily transaction updates on at link");
                    let detail = self.reconciled(user, a).await?;
                    now.push(detail.account);
                }
                Err(e) => {
                    tracing::warn!(account = %account.id, "could not turn on daily updates at link: {e}");
                    now.push(account);
                }
            }
        }
        Ok(now)
    }

    /// **Refresh all**: for each of the user's active accounts, reads it from
    /// Stripe and starts, in one call, a refresh of every kind of data it
    /// shares that may start now (none running, no cooldown). An account
    /// Stripe refuses is logged and shown as stored; Stripe unreachable or
    /// limiting us ends the whole call with that error.
    pub(super) async fn refresh_everything(&self, user: &UserId) -> Result<Vec<LinkedAccount>, AppError> {
        let stored = self.storage.accounts(user).await?;
        let now = crate::clock::unix_now();
        let mut result = Vec::with_capacity(stored.len());
        for account in stored {
            if account.status != AccountStatus::Active {
                result.push(account);
                continue;
            }
            match self.refresh_allowed(user, &account.id, now).await {
                Ok(fresh) => result.push(fresh),
                Err(e @ (AppError::Unavailable | AppError::RateLimited { .. } | AppError::DatabaseUnavailable)) => return Err(e),
                Err(e @ AppError::Stripe { status: 429, .. }) => return Err(e),
                Err(e) => {
                    tracing::warn!(account = %account.id, "refresh all: {e}");
                    result.push(account);
                }
            }
        }
        Ok(result)
    }

    /// One account's part of [`Self::refresh_everything`].
    async fn refresh_allowed(&self, user: &UserId, id: &AccountId, now: i64) -> Result<LinkedAccount, AppError> {
        let path = format!("/v1/financial_connections/accounts/{id}");
        let mut a: FcAccount = self.stripe.get(&path, &Form::new()).await?;
        let current = LinkedAccount::from(a.clone());
        let features: Vec<&str> = Refreshes::FEATURES
            .into_iter()
            .filter(|f| current.permissions.contains(&f.needs()) && current.refreshes.may_start(*f, now))
            .map(|f| f.as_str())
            .collect();
        if current.status == AccountStatus::Active && !features.is_empty() {
            let form = Form::new().list("features", features.iter().copied());
            a = self.stripe.post(&format!("{path}/refresh"), &form, None).await?;
            tracing::info!(account = %id, features = ?features, "refresh all");
        }
        Ok(self.reconciled(user, a).await?.account)
    }

    /// The export's rows: authorised like every account read.
    pub(super) async fn export(
        &self,
        user: &UserId,
        id: &AccountId,
        filter: &TransactionFilter,
    ) -> Result<Vec<Transaction>, AppError> {
        self.authorize(user, id).await?;
        Ok(self.storage.matching_transactions(id, filter).await?)
    }
}
