//! The server-side boundary (SSR only). Server functions reach the server
//! through [`LinkService`]; the `server` crate implements it with the Stripe
//! client and storage. The app itself never speaks HTTP to Stripe.

use crate::error::AppError;
use crate::model::{
    AccountDetail, AccountId, ClientConfig, CustomerDetails, DataFeature, LinkOptions, LinkSession, LinkedAccount, SessionId,
    TransactionFilter, TransactionsView,
};
use async_trait::async_trait;
use std::sync::Arc;

/// The app user behind the browser's session cookie: anonymous, one per
/// browser. **This is the login seam**: a product with its own accounts puts
/// its user id here (the server's session middleware is the one place to change).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserId(String);

impl UserId {
    pub fn new(id: impl Into<String>) -> Self {
        UserId(id.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the server functions need from the server.
#[async_trait]
pub trait LinkService: Send + Sync + 'static {
    /// Publishable key, Stripe.js URL and mode; nothing secret.
    fn client_config(&self) -> ClientConfig;

    /// Creates the user's Customer if it has none yet (once, even under
    /// concurrent calls), then a fresh Financial Connections Session.
    async fn start_link(&self, user: &UserId, details: CustomerDetails, options: LinkOptions) -> Result<LinkSession, AppError>;

    /// A session for `collectBankAccountToken`: account and routing numbers
    /// only, one account, for payouts.
    async fn start_bank_token(&self, user: &UserId) -> Result<LinkSession, AppError>;

    /// Retrieves the session from Stripe (never trusting the browser's
    /// account list) and records the accounts it linked. `session` must be
    /// the one this user's last `start_link` created.
    async fn confirm_link(&self, user: &UserId, session: &SessionId) -> Result<Vec<LinkedAccount>, AppError>;

    /// The accounts this user has linked so far.
    async fn linked_accounts(&self, user: &UserId) -> Result<Vec<LinkedAccount>, AppError>;

    /// One of the user's accounts, as Stripe has it now. Another user's
    /// account is `NotFound`, and Stripe is not asked about it.
    async fn account(&self, user: &UserId, id: &AccountId) -> Result<AccountDetail, AppError>;

    /// Asks Stripe to refresh one kind of data (asynchronous: it comes back
    /// pending, or unchanged when a refresh is not available yet).
    async fn refresh(&self, user: &UserId, id: &AccountId, feature: DataFeature) -> Result<AccountDetail, AppError>;

    /// Disconnects the account at Stripe; its last data stays readable.
    async fn disconnect(&self, user: &UserId, id: &AccountId) -> Result<AccountDetail, AppError>;

    /// The name and email the user gave (kept on their Customer).
    async fn details(&self, user: &UserId) -> Result<CustomerDetails, AppError>;

    /// Replaces the name and email: on the Customer at Stripe if there is
    /// one (a blank field clears it), and in storage for the next link.
    async fn save_details(&self, user: &UserId, details: CustomerDetails) -> Result<CustomerDetails, AppError>;

    /// Starts (or stops) Stripe's daily transaction refreshes for the account.
    async fn set_subscription(&self, user: &UserId, id: &AccountId, subscribed: bool) -> Result<AccountDetail, AppError>;

    /// A page of the account's transactions from the app's own copy (kept in
    /// sync as refreshes settle), with the daily net flow for the chart.
    async fn transactions(&self, user: &UserId, id: &AccountId, filter: TransactionFilter) -> Result<TransactionsView, AppError>;
}

/// How the service travels in Leptos context.
pub type SharedService = Arc<dyn LinkService>;

/// The pages' Content-Security-Policy, with `{nonce}` where each response's
/// own nonce goes. The server puts it in context; the shell sets the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CspTemplate(pub Arc<str>);

impl CspTemplate {
    pub const NONCE: &'static str = "{nonce}";

    pub fn render(&self, nonce: &str) -> String {
        self.0.replace(Self::NONCE, nonce)
    }
}
