//! [`LinkService`] on top of the Stripe client and storage: the flow's
//! server-side rules (one Customer per user, one confirmable session per
//! click, ownership checks on everything Stripe returns). Payments
//! ([`app::service::PaymentService`]) are in [`payments`].

mod data;

use crate::locks::LockKey;
use crate::storage::{Held, Observed, Storage, TransactionSync};
use crate::stripe::types::{Customer, FcAccount, FcOwner, FcSession, FcTransaction, List};
use crate::stripe::{Form, StripeClient};
use app::error::AppError;
use app::model::{
    AccountDetail, AccountId, ClientConfig, CustomerDetails, CustomerId, DataFeature, Day, LinkOptions, LinkSession,
    LinkedAccount, Owner, Permission, SessionId, Transaction, TransactionFilter, TransactionsView,
};
use app::service::{LinkService, UserId};
use async_trait::async_trait;
use sha2::{Digest, Sha256};
use std::sync::Arc;

mod payments;
pub use payments::DEFAULT_BUSINESS_NAME;

/// How often a user's accounts are compared with Stripe's list, at most.
pub const RECHECK_ACCOUNTS_SECS: i64 = 300;

pub struct StripeService {
    stripe: StripeClient,
    storage: Arc<Storage>,
    client: ClientConfig,
    live: Arc<crate::live::Live>,
    /// The business the ACH mandate names (`BUSINESS_NAME`).
    business_name: String,
}

impl StripeService {
    pub fn new(stripe: StripeClient, storage: Arc<Storage>, client: ClientConfig, live: Arc<crate::live::Live>) -> Self {
        StripeService {
            stripe,
            storage,
            client,
            live,
            business_name: DEFAULT_BUSINESS_NAME.to_owned(),
        }
    }

    /// Names `name` as the business in the ACH mandate text.
    pub fn with_business_name(mut self, name: impl Into<String>) -> Self {
        self.business_name = name.into();
        self
    }

    /// The user's Customer, created on first use. Concurrent calls for one
    /// user, on this instance or any other, take turns on the user's lock
    /// (see `Storage::lock`), so only the first creates one; and the
    /// idempotency key depends on the user alone, so a retry after a lost
    /// response (or after a crash before the id was stored) gets the same
    /// Customer back from Stripe instead of a second one.
    async fn customer_for(&self, user: &UserId, details: &CustomerDetails) -> Result<CustomerId, AppError> {
        let mut held = self.storage.lock(LockKey::Customer(user.clone())).await?;
        let record = held.user(user).await?;
        // Blank means "not given": what was saved before stays.
        let details = CustomerDetails {
            name: details.name.clone().or(record.details.name.clone()),
            email: details.email.clone().or(record.details.email.clone()),
        };
        let (id, changed) = match record.customer {
            Some(id) => (id, record.details != details),
            None => {
                // Only what depends on the user alone: the same key with
                // other parameters would be refused.
                let key = format!("customer-{}", hex::encode(&Sha256::digest(user.as_str().as_bytes())[..16]));
                let form = Form::new().field("metadata[app_user]", user.as_str());
                let customer: Customer = self.stripe.post("/v1/customers", &form, Some(&key)).await?;
                let kept = held.set_customer(user, &customer.id).await?;
                tracing::info!(customer = %kept, "created Stripe customer");
                (kept, details != CustomerDetails::default())
            }
        };
        if changed {
            let form = Form::new()
                .opt("name", details.name.clone())
                .opt("email", details.email.clone());
            let _: Customer = self.stripe.post(&format!("/v1/customers/{id}"), &form, None).await?;
            held.set_details(user, &details).await?;
        }
        held.release().await?;
        Ok(id)
    }
}

#[async_trait]
impl LinkService for StripeService {
    fn client_config(&self) -> ClientConfig {
        self.client.clone()
    }

    async fn start_link(&self, user: &UserId, details: CustomerDetails, options: LinkOptions) -> Result<LinkSession, AppError> {
        let customer = self.customer_for(user, &details).await?;
        let form = Form::new()
            .field("account_holder[type]", "customer")
            .field("account_holder[customer]", customer.as_str())
            .list("permissions", options.permissions.iter().map(|p| p.as_str()))
            .list("prefetch", options.prefetch.iter().map(|f| f.prefetch_name()))
            .list(
                "filters[account_subcategories]",
                options.account_types.iter().map(|t| t.wire()),
            )
            .list("filters[countries]", ["US"]);
        self.new_session(user, &customer, form).await
    }

    async fn start_bank_token(&self, user: &UserId) -> Result<LinkSession, AppError> {
        let customer = self.customer_for(user, &CustomerDetails::default()).await?;
        let form = Form::new()
            .field("account_holder[type]", "customer")
            .field("account_holder[customer]", customer.as_str())
            .list("permissions", [Permission::PaymentMethod.as_str()])
            .field("limits[accounts]", "1")
            .list("filters[countries]", ["US"]);
        self.new_session(user, &customer, form).await
    }

    async fn confirm_link(&self, user: &UserId, session: &SessionId) -> Result<Vec<LinkedAccount>, AppError> {
        if !self.storage.is_pending(user, session).await? {
            return Err(AppError::SessionMismatch);
        }
        let customer = self.storage.user(user).await?.customer.ok_or(AppError::SessionMismatch)?;
        let s: FcSession = self
            .stripe
            .get(&format!("/v1/financial_connections/sessions/{session}"), &Form::new())
            .await?;
        let read_at_ms = crate::clock::unix_now_ms();
        let holder = s.account_holder.as_ref().and_then(|h| h.customer.as_deref());
        if holder != Some(customer.as_str()) {
            tracing::warn!(session = %session, "session's account holder is not this user's customer");
            return Err(AppError::SessionMismatch);
        }
        let mut accounts = s.accounts.data.clone();
        if s.accounts.has_more {
            accounts = self.list_accounts("session", session.as_str()).await?;
        }
        let linked: Vec<LinkedAccount> = accounts
            .into_iter()
            .filter(|a| a.holder_customer() == Some(customer.as_str()))
            .map(LinkedAccount::from)
            .collect();
        if !self.storage.confirm(user, session, &customer, &linked).await? {
            return Err(AppError::SessionMismatch); // confirmed concurrently
        }
        tracing::info!(session = %session, linked = linked.len(), "confirmed link");
        self.after_link(user, &s, read_at_ms, linked).await
    }

    async fn linked_accounts(&self, user: &UserId) -> Result<Vec<LinkedAccount>, AppError> {
        self.find_unconfirmed_accounts(user).await?;
        Ok(self.storage.accounts(user).await?)
    }

    async fn account(&self, user: &UserId, id: &AccountId) -> Result<AccountDetail, AppError> {
        self.authorize(user, id).await?;
        match self
            .stripe
            .get(&format!("/v1/financial_connections/accounts/{id}"), &Form::new())
            .await
        {
            Ok(a) => self.reconciled(user, a).await,
            Err(e) => match (AppError::from(e), self.storage.snapshot(id).await?) {
                // Stripe is down or unreachable: show what was stored, saying so.
                (AppError::Unavailable, Some(stored)) => {
                    tracing::warn!(account = %id, "Stripe unavailable; showing the stored copy");
                    Ok(stored)
                }
                (e, _) => Err(e),
            },
        }
    }

    async fn refresh(&self, user: &UserId, id: &AccountId, feature: DataFeature) -> Result<AccountDetail, AppError> {
        self.authorize(user, id).await?;
        let form = Form::new().list("features", [feature.as_str()]);
        let a = self
            .stripe
            .post(&format!("/v1/financial_connections/accounts/{id}/refresh"), &form, None)
            .await?;
        self.reconciled(user, a).await
    }

    async fn refresh_all(&self, user: &UserId) -> Result<Vec<LinkedAccount>, AppError> {
        self.refresh_everything(user).await
    }

    async fn disconnect(&self, user: &UserId, id: &AccountId) -> Result<AccountDetail, AppError> {
        self.authorize(user, id).await?;
        let a = self
            .stripe
            .post(
                &format!("/v1/financial_connections/accounts/{id}/disconnect"),
                &Form::new(),
                None,
            )
            .await?;
        tracing::info!(account = %id, "disconnected");
        self.reconciled(user, a).await
    }

    async fn details(&self, user: &UserId) -> Result<CustomerDetails, AppError> {
        Ok(self.storage.user(user).await?.details)
    }

    async fn save_details(&self, user: &UserId, details: CustomerDetails) -> Result<CustomerDetails, AppError> {
        // The same lock as Customer creation: a save racing a first link
        // cannot be lost between "no Customer yet" and "Customer created".
        let mut held = self.storage.lock(LockKey::Customer(user.clone())).await?;
        if let Some(id) = held.user(user).await?.customer {
            let form = Form::new()
                .field("name", details.name.clone().unwrap_or_default())
                .field("email", details.email.clone().unwrap_or_default());
            let _: Customer = self.stripe.post(&format!("/v1/customers/{id}"), &form, None).await?;
            tracing::info!(customer = %id, "updated customer details");
        }
        held.set_details(user, &details).await?;
        held.release().await?;
        Ok(details)
    }

    async fn set_subscription(&self, user: &UserId, id: &AccountId, subscribed: bool) -> Result<AccountDetail, AppError> {
        self.authorize(user, id).await?;
        let action = if subscribed { "subscribe" } else { "unsubscribe" };
        let form = Form::new().list("features", [DataFeature::Transactions.as_str()]);
        let a = self
            .stripe
            .post(&format!("/v1/financial_connections/accounts/{id}/{action}"), &form, None)
            .await?;
        tracing::info!(account = %id, action, "transactions subscription");
        self.reconciled(user, a).await
    }

    async fn transactions(&self, user: &UserId, id: &AccountId, filter: TransactionFilter) -> Result<TransactionsView, AppError> {
        self.authorize(user, id).await?;
        let today = Day::of(crate::clock::unix_now());
        Ok(self.storage.transactions(id, &filter, today).await?)
    }

    async fn export_transactions(
        &self,
        user: &UserId,
        id: &AccountId,
        filter: TransactionFilter,
    ) -> Result<Vec<Transaction>, AppError> {
        self.export(user, id, &filter).await
    }
}

impl StripeService {
    /// Creates a Financial Connections session and remembers it as this
    /// user's to confirm.
    async fn new_session(&self, user: &UserId, customer: &CustomerId, form: Form) -> Result<LinkSession, AppError> {
        let session: FcSession = self.stripe.post("/v1/financial_connections/sessions", &form, None).await?;
        let client_secret = session.client_secret.ok_or_else(|| {
            tracing::error!(session = %session.id, "Stripe returned a session without client_secret");
            AppError::Internal
        })?;
        self.storage.add_pending_session(user, &session.id).await?;
        tracing::info!(session = %session.id, customer = %customer, "created Financial Connections session");
        Ok(LinkSession {
            session_id: session.id,
            client_secret,
            client: self.client.clone(),
        })
    }

    /// Every read or action on an account starts here: not this user's → 404,
    /// before any Stripe call is made with the id.
    async fn authorize(&self, user: &UserId, id: &AccountId) -> Result<(), AppError> {
        if self.storage.owns(user, id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }

    /// Stores Stripe's answer about an account and returns it for the page,
    /// with its owners (when fetched) compared to the name the user gave.
    async fn reconciled(&self, user: &UserId, a: FcAccount) -> Result<AccountDetail, AppError> {
        let owners = match a.ownership_id() {
            Some(ownership) => {
                let q = Form::new().field("ownership", ownership).field("limit", "100");
                let list: List<FcOwner> = self
                    .stripe
                    .get(&format!("/v1/financial_connections/accounts/{}/owners", a.id), &q)
                    .await?;
                Some(list.data.into_iter().map(Owner::from).collect())
            }
            None => None,
        };
        let given = self.storage.user(user).await?.details.name;
        let mut held = self.storage.lock(LockKey::TransactionSync(a.id.clone())).await?;
        // The account's own state is stored even when its transactions
        // cannot be fetched now; the next load tries again from the cursor.
        let sync = self.transaction_sync(&mut held, &a).await.unwrap_or_else(|e| {
            tracing::warn!(account = %a.id, "transaction sync failed: {e}");
            None
        });
        let detail = a.into_detail(owners, given.as_deref());
        held.reconcile(&detail, sync.as_ref()).await?;
        held.release().await?;
        Ok(detail)
    }

    /// Applies a verified webhook event. The account it names is re-fetched
    /// from Stripe (arrival order does not matter): for an account this app
    /// knows, its current state is stored together with the event id; for one
    /// it does not, but whose Customer is a user's here (linked, then the tab
    /// closed or the confirmation failed), it is first recorded as that user's.
    /// Anything else is only recorded. Redeliveries change nothing.
    pub async fn apply_event(&self, event_id: &str, kind: &str, account: Option<&AccountId>) -> Result<(), AppError> {
        let known_owner = match account {
            Some(id) => self.storage.owner_of(id).await?,
            None => None,
        };
        let fetched = match account {
            Some(id) => {
                match self
                    .stripe
                    .get::<FcAccount>(&format!("/v1/financial_connections/accounts/{id}"), &Form::new())
                    .await
                {
                    Ok(a) => Some((a, crate::clock::unix_now_ms())),
                    Err(e) if e.status() == Some(404) => None,
                    Err(e) => return Err(e.into()),
                }
            }
            None => None,
        };
        // An account nobody here has: is its holder one of our users' Customers?
        let adopt = match (&known_owner, &fetched) {
            (None, Some((a, _))) => match a.holder_customer().and_then(|c| CustomerId::parse(c).ok()) {
                Some(customer) => self.storage.user_with_customer(&customer).await?.map(|u| (u, customer)),
                None => None,
            },
            _ => None,
        };
        let owner = known_owner.or_else(|| adopt.as_ref().map(|(u, _)| u.clone()));
        crate::developer::attribute(owner.as_ref());
        // Accounts of other apps on the same Stripe account are only recorded.
        let fetched = fetched.filter(|_| owner.is_some());
        let fresh = fetched.as_ref().map(|(a, at_ms)| (LinkedAccount::from(a.clone()), *at_ms));
        let observed = fresh.as_ref().map(|(account, at_ms)| Observed { account, at_ms: *at_ms });
        let applied = match &fetched {
            None => self.storage.apply_event(event_id, kind, None, None, None).await?,
            Some((a, _)) => {
                let mut held = self.storage.lock(LockKey::TransactionSync(a.id.clone())).await?;
                // New transactions are fetched before anything is recorded. If
                // Stripe is unavailable or limiting us, the event is not marked
                // handled and Stripe delivers it again; any other failure must
                // not block the account's own update (the next page load syncs
                // from the cursor).
                let sync = match self.transaction_sync(&mut held, a).await {
                    Ok(sync) => sync,
                    Err(e @ (AppError::Unavailable | AppError::Stripe { status: 429, .. })) => return Err(e),
                    Err(e) => {
                        tracing::warn!(account = %a.id, "transaction sync failed: {e}");
                        None
                    }
                };
                let adopting = adopt.as_ref().map(|(u, c)| (u, c));
                let applied = held.apply_event(event_id, kind, observed, sync.as_ref(), adopting).await?;
                held.release().await?;
                applied
            }
        };
        crate::developer::applied(applied);
        tracing::info!(event = event_id, kind, applied, adopted = adopt.is_some(), "webhook event");
        if let (true, Some((a, _)), Some(owner)) = (applied, fresh, owner) {
            self.live.account_changed(owner, a.id);
        }
        Ok(())
    }

    /// Finds accounts the user linked at Stripe that the app never recorded
    /// (the tab closed right after the modal, or confirming failed): at most
    /// every [`RECHECK_ACCOUNTS_SECS`], Stripe's list of the Customer's
    /// accounts is compared with storage. Best effort: a failure is logged and
    /// the stored list still shown.
    async fn find_unconfirmed_accounts(&self, user: &UserId) -> Result<(), AppError> {
        let Some(customer) = self.storage.user(user).await?.customer else {
            return Ok(());
        };
        let checked = self.storage.accounts_checked_at(user).await?;
        if checked.is_some_and(|t| crate::clock::unix_now() - t < RECHECK_ACCOUNTS_SECS) {
            return Ok(());
        }
        let listed = match self.list_accounts("account_holder[customer]", customer.as_str()).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(customer = %customer, "could not list the customer's accounts: {e}");
                return Ok(());
            }
        };
        let mine: Vec<LinkedAccount> = listed
            .into_iter()
            .filter(|a| a.holder_customer() == Some(customer.as_str()))
            .map(LinkedAccount::from)
            .collect();
        let added = self.storage.adopt_accounts(user, &customer, &mine).await?;
        if added > 0 {
            tracing::info!(customer = %customer, added, "recorded accounts linked but never confirmed");
        }
        Ok(())
    }

    /// When the account's newest transaction refresh has settled and is not
    /// stored yet, fetches only what changed since the stored one
    /// (`transaction_refresh[after]`); the first sync fetches everything.
    /// Runs under the account's lock (`held`), which the caller keeps until
    /// the sync is stored: no other sync of it, anywhere, reads the same cursor.
    async fn transaction_sync(&self, held: &mut Held, a: &FcAccount) -> Result<Option<TransactionSync>, AppError> {
        if !a.permissions.contains(&Permission::Transactions) {
            return Ok(None);
        }
        let Some((refresh_id, refreshed_at)) = a
            .settled_transaction_refresh()
            .and_then(|r| Some((r.id.clone()?, r.last_attempted_at)))
        else {
            return Ok(None);
        };
        let cursor = held.transactions_cursor(&a.id).await?;
        if cursor.as_deref() == Some(refresh_id.as_str()) {
            return Ok(None);
        }
        let transactions = match self.list_transactions(&a.id, cursor.as_deref()).await {
            // Stripe no longer knows the stored refresh: start over.
            Err(AppError::Stripe { status, code, .. })
                if cursor.is_some() && (status == 404 || code.as_deref() == Some("resource_missing")) =>
            {
                tracing::warn!(account = %a.id, "transaction cursor unknown to Stripe; syncing everything");
                self.list_transactions(&a.id, None).await?
            }
            other => other?,
        };
        tracing::info!(account = %a.id, refresh = %refresh_id, fetched = transactions.len(), "synced transactions");
        Ok(Some(TransactionSync {
            refresh_id,
            refreshed_at,
            transactions,
        }))
    }

    /// Every transaction that refreshes after `after` touched (all of them
    /// without it), following Stripe's pagination.
    async fn list_transactions(&self, account: &AccountId, after: Option<&str>) -> Result<Vec<Transaction>, AppError> {
        const MAX_PAGES: usize = 200;
        let mut all = Vec::new();
        let mut starting_after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let q = Form::new()
                .field("account", account.as_str())
                .field("limit", "100")
                .opt("transaction_refresh[after]", after.map(str::to_owned))
                .opt("starting_after", starting_after.clone());
            let page: List<FcTransaction> = self.stripe.get("/v1/financial_connections/transactions", &q).await?;
            starting_after = page.data.last().map(|t| t.id.clone());
            let more = page.has_more && starting_after.is_some();
            all.extend(page.data.iter().filter_map(FcTransaction::to_model));
            if !more {
                return Ok(all);
            }
        }
        // Nothing is stored (and the cursor stays) rather than a partial copy.
        tracing::error!(account = %account, "more than {} transactions in one sync", MAX_PAGES * 100);
        Err(AppError::Internal)
    }

    /// Every account Stripe lists for `filter=value` (a session, a
    /// Customer), following pagination up to 1,000.
    async fn list_accounts(&self, filter: &str, value: &str) -> Result<Vec<FcAccount>, AppError> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let q = Form::new()
                .field(filter, value)
                .field("limit", "100")
                .opt("starting_after", after.clone());
            let page: List<FcAccount> = self.stripe.get("/v1/financial_connections/accounts", &q).await?;
            after = page.data.last().map(|a| a.id.to_string());
            let more = page.has_more && after.is_some();
            all.extend(page.data);
            if !more || all.len() >= 1000 {
                return Ok(all);
            }
        }
    }
}
