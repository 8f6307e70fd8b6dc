//! The boundary's two faces of the developer log: [`Attributed`] wraps the
//! link and payment services so every Stripe request a page's call makes is
//! recorded as that user's (call sites stay as they are), and [`Panel`] implements
//! `app::service::developer::DeveloperLog` for the `/developer` page.

use super::{on_behalf_of, redact, DevLog};
use crate::storage::Storage;
use app::error::AppError;
use app::model::developer::{LogDetail, LogPage, LogQuery, StripeJsCall, StripeJsLog, PAGE_SIZE};
use app::model::{
    AccountDetail, AccountId, BankPaymentStart, ClientConfig, CustomerDetails, DataFeature, LinkOptions, LinkSession,
    LinkedAccount, Mode, PayTerms, Payment, PaymentIntentId, PaymentRequest, SessionId, Transaction, TransactionFilter,
    TransactionsView,
};
use app::service::developer::DeveloperLog;
use app::service::{CustomerAcceptance, LinkService, PaymentService, UserId};
use async_trait::async_trait;
use std::sync::Arc;

/// A [`LinkService`] and [`PaymentService`] whose every call runs
/// [`on_behalf_of`] its user.
pub struct Attributed<S> {
    inner: Arc<S>,
    log: Arc<DevLog>,
}

impl<S> Attributed<S> {
    pub fn new(inner: Arc<S>, log: Arc<DevLog>) -> Self {
        Attributed { inner, log }
    }
}

#[async_trait]
impl<S: LinkService> LinkService for Attributed<S> {
    fn client_config(&self) -> ClientConfig {
        self.inner.client_config()
    }

    async fn start_link(&self, user: &UserId, details: CustomerDetails, options: LinkOptions) -> Result<LinkSession, AppError> {
        on_behalf_of(&self.log, user, self.inner.start_link(user, details, options)).await
    }

    async fn start_bank_token(&self, user: &UserId) -> Result<LinkSession, AppError> {
        on_behalf_of(&self.log, user, self.inner.start_bank_token(user)).await
    }

    async fn confirm_link(&self, user: &UserId, session: &SessionId) -> Result<Vec<LinkedAccount>, AppError> {
        on_behalf_of(&self.log, user, self.inner.confirm_link(user, session)).await
    }

    async fn linked_accounts(&self, user: &UserId) -> Result<Vec<LinkedAccount>, AppError> {
        on_behalf_of(&self.log, user, self.inner.linked_accounts(user)).await
    }

    async fn account(&self, user: &UserId, id: &AccountId) -> Result<AccountDetail, AppError> {
        on_behalf_of(&self.log, user, self.inner.account(user, id)).await
    }

    async fn refresh(&self, user: &UserId, id: &AccountId, feature: DataFeature) -> Result<AccountDetail, AppError> {
        on_behalf_of(&self.log, user, self.inner.refresh(user, id, feature)).await
    }

    async fn refresh_all(&self, user: &UserId) -> Result<Vec<LinkedAccount>, AppError> {
        on_behalf_of(&self.log, user, self.inner.refresh_all(user)).await
    }

    async fn disconnect(&self, user: &UserId, id: &AccountId) -> Result<AccountDetail, AppError> {
        on_behalf_of(&self.log, user, self.inner.disconnect(user, id)).await
    }

    async fn details(&self, user: &UserId) -> Result<CustomerDetails, AppError> {
        on_behalf_of(&self.log, user, self.inner.details(user)).await
    }

    async fn save_details(&self, user: &UserId, details: CustomerDetails) -> Result<CustomerDetails, AppError> {
        on_behalf_of(&self.log, user, self.inner.save_details(user, details)).await
    }

    async fn set_subscription(&self, user: &UserId, id: &AccountId, subscribed: bool) -> Result<AccountDetail, AppError> {
        on_behalf_of(&self.log, user, self.inner.set_subscription(user, id, subscribed)).await
    }

    async fn transactions(&self, user: &UserId, id: &AccountId, filter: TransactionFilter) -> Result<TransactionsView, AppError> {
        on_behalf_of(&self.log, user, self.inner.transactions(user, id, filter)).await
    }

    async fn export_transactions(
        &self,
        user: &UserId,
        id: &AccountId,
        filter: TransactionFilter,
    ) -> Result<Vec<Transaction>, AppError> {
        on_behalf_of(&self.log, user, self.inner.export_transactions(user, id, filter)).await
    }
}

#[async_trait]
impl<S: PaymentService> PaymentService for Attributed<S> {
    fn pay_terms(&self) -> PayTerms {
        self.inner.pay_terms()
    }

    async fn pay_from_account(
        &self,
        user: &UserId,
        account: &AccountId,
        request: PaymentRequest,
        acceptance: CustomerAcceptance,
    ) -> Result<Payment, AppError> {
        let paying = self.inner.pay_from_account(user, account, request, acceptance);
        on_behalf_of(&self.log, user, paying).await
    }

    async fn payments(&self, user: &UserId, account: Option<&AccountId>) -> Result<Vec<Payment>, AppError> {
        on_behalf_of(&self.log, user, self.inner.payments(user, account)).await
    }

    async fn cancel_payment(&self, user: &UserId, id: &PaymentIntentId) -> Result<Payment, AppError> {
        on_behalf_of(&self.log, user, self.inner.cancel_payment(user, id)).await
    }

    async fn start_bank_payment(&self, user: &UserId, request: PaymentRequest) -> Result<BankPaymentStart, AppError> {
        on_behalf_of(&self.log, user, self.inner.start_bank_payment(user, request)).await
    }

    async fn sync_payment(&self, user: &UserId, id: &PaymentIntentId) -> Result<Payment, AppError> {
        on_behalf_of(&self.log, user, self.inner.sync_payment(user, id)).await
    }
}

/// What the `/developer` page reads and reports.
pub struct Panel {
    storage: Arc<Storage>,
    log: Arc<DevLog>,
    mode: Mode,
}

impl Panel {
    pub fn new(storage: Arc<Storage>, log: Arc<DevLog>, mode: Mode) -> Self {
        Panel { storage, log, mode }
    }
}

#[async_trait]
impl DeveloperLog for Panel {
    async fn log_page(&self, user: &UserId, query: LogQuery) -> Result<LogPage, AppError> {
        let (entries, more) = self.storage.log_page(user, &query, PAGE_SIZE).await?;
        Ok(LogPage {
            entries,
            more,
            mode: self.mode,
        })
    }

    async fn record_stripe_js(&self, user: &UserId, call: StripeJsCall, result: &str) -> Result<(), AppError> {
        let mut value: serde_json::Value =
            serde_json::from_str(result).map_err(|_| AppError::invalid("result", "Expected the JSON of a Stripe.js result."))?;
        if !value.is_object() {
            return Err(AppError::invalid("result", "Expected a JSON object."));
        }
        let detail = LogDetail::StripeJs(StripeJsLog {
            call,
            result: redact::pretty(&mut value),
        });
        self.log.record(user.clone(), crate::clock::unix_now_ms(), detail);
        Ok(())
    }
}
