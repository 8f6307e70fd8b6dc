//! The server-side boundary (SSR only). Server functions reach the server
//! through [`LinkService`]; the `server` crate implements it with the Stripe
//! client and storage. The app itself never speaks HTTP to Stripe.

use crate::error::AppError;
use crate::model::{
    AccountDetail, AccountId, BankPaymentStart, ClientConfig, CustomerDetails, DataFeature, LinkOptions, LinkSession,
    LinkedAccount, PayTerms, Payment, PaymentIntentId, PaymentRequest, SessionId, Transaction, TransactionFilter,
    TransactionsView,
};
use async_trait::async_trait;
use std::sync::Arc;

pub mod developer;

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

/// The name and email the user saved, loaded by the server before it renders
/// the link page (a request extension): its form starts with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedDetails(pub CustomerDetails);

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

    /// Starts, on each of the user's active accounts, a refresh of every
    /// kind of data it shares that may start now (see
    /// [`crate::model::Refreshes::may_start`]); returns the accounts as
    /// they now stand.
    async fn refresh_all(&self, user: &UserId) -> Result<Vec<LinkedAccount>, AppError>;

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

    /// Every stored transaction of the account matching `filter` (its page
    /// ignored), newest first, for the CSV export; another user's account is
    /// `NotFound`.
    async fn export_transactions(
        &self,
        user: &UserId,
        id: &AccountId,
        filter: TransactionFilter,
    ) -> Result<Vec<Transaction>, AppError>;
}

/// How the service travels in Leptos context.
pub type SharedService = Arc<dyn LinkService>;

/// The client address the server's edge resolved for this request (the
/// peer, or through `TRUSTED_PROXIES` the forwarded client), in the
/// request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// How the person accepted the ACH mandate: online, from this address and
/// browser (Stripe's `mandate_data[customer_acceptance][online]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerAcceptance {
    pub ip: std::net::IpAddr,
    pub user_agent: String,
}

/// Payments (ACH Direct Debit), for the server functions.
#[async_trait]
pub trait PaymentService: Send + Sync + 'static {
    /// The business the mandate text names.
    fn pay_terms(&self) -> PayTerms;

    /// Creates and confirms a PaymentIntent debiting one of the user's linked
    /// accounts (another user's: `NotFound`, and Stripe is not asked). The
    /// same `request.attempt` again pays once.
    async fn pay_from_account(
        &self,
        user: &UserId,
        account: &AccountId,
        request: PaymentRequest,
        acceptance: CustomerAcceptance,
    ) -> Result<Payment, AppError>;

    /// The user's payments, newest first: all, or from one of their accounts.
    async fn payments(&self, user: &UserId, account: Option<&AccountId>) -> Result<Vec<Payment>, AppError>;

    /// Cancels one of the user's payments where Stripe allows it.
    async fn cancel_payment(&self, user: &UserId, id: &PaymentIntentId) -> Result<Payment, AppError>;

    /// Pay by bank without linking first: a PaymentIntent whose client
    /// secret goes to Stripe.js on the page that asked.
    async fn start_bank_payment(&self, user: &UserId, request: PaymentRequest) -> Result<BankPaymentStart, AppError>;

    /// Reads one of the user's payments from Stripe again (after Stripe.js
    /// changed it in the browser) and stores it.
    async fn sync_payment(&self, user: &UserId, id: &PaymentIntentId) -> Result<Payment, AppError>;
}

/// How the payment service travels in Leptos context.
pub type SharedPayments = Arc<dyn PaymentService>;

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
