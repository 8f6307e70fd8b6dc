//! [`PaymentService`] on the Stripe client and storage: ACH Direct Debit
//! PaymentIntents, created and confirmed from a linked account (server side)
//! or created for Stripe.js to collect a bank account and confirm (pay by
//! bank), their webhook events applied in any order, and cancel.
//!
//! Rules: every payment action starts with the same ownership check as
//! account actions (another user's account or payment is a 404 and Stripe
//! is never asked about it); the idempotency key of a create is derived from
//! the user, the account and the page's attempt id, so a retried submit
//! returns the first PaymentIntent instead of paying twice; the client
//! secret of a pay-by-bank PaymentIntent is returned in that one response
//! body and never logged or stored.

use super::StripeService;
use crate::storage::{NewPayment, PaymentSeen};
use crate::stripe::intents::PaymentIntent;
use crate::stripe::types::FcAccount;
use crate::stripe::Form;
use app::error::AppError;
use app::model::payments::CURRENCY;
use app::model::{AccountId, BankPaymentStart, CustomerDetails, PayTerms, Payment, PaymentIntentId, PaymentRequest};
use app::service::{CustomerAcceptance, PaymentService, UserId};
use async_trait::async_trait;
use sha2::{Digest, Sha256};

/// The business the mandate names when `BUSINESS_NAME` is not set.
pub const DEFAULT_BUSINESS_NAME: &str = "Bank Link";

/// An idempotency key from the parts that make one payment attempt.
fn attempt_key(kind: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("{kind}-{}", hex::encode(&h.finalize()[..16]))
}

/// Stripe answered with a PaymentIntent in a status this app does not know.
fn unknown_status(pi: &PaymentIntent) -> AppError {
    tracing::error!(payment = %pi.id, status = %pi.status, "PaymentIntent in an unknown status");
    AppError::Internal
}

#[async_trait]
impl PaymentService for StripeService {
    fn pay_terms(&self) -> PayTerms {
        PayTerms {
            business_name: self.business_name.clone(),
        }
    }

    async fn pay_from_account(
        &self,
        user: &UserId,
        account: &AccountId,
        request: PaymentRequest,
        acceptance: CustomerAcceptance,
    ) -> Result<Payment, AppError> {
        self.authorize(user, account).await?;
        let customer = self.storage.user(user).await?.customer.ok_or(AppError::NotFound)?;
        // Stripe's word on whether it can be debited now, not the stored copy.
        let a: FcAccount = self
            .stripe
            .get(&format!("/v1/financial_connections/accounts/{account}"), &Form::new())
            .await?;
        if !a.payable() {
            return Err(AppError::invalid(
                "account",
                "This account cannot be debited. Relink it sharing account and routing numbers to pay from it.",
            ));
        }
        let bank = a.last4.as_ref().map(|l| format!("{} ••{l}", a.institution_name));
        let form = Form::new()
            .field("amount", request.amount_cents.to_string())
            .field("currency", CURRENCY)
            .field("customer", customer.as_str())
            .opt("description", request.description.clone())
            .list("payment_method_types", ["us_bank_account"])
            .field("payment_method_data[type]", "us_bank_account")
            .field(
                "payment_method_data[us_bank_account][financial_connections_account]",
                account.as_str(),
            )
            .field("payment_method_data[billing_details][name]", request.name.clone())
            .field("mandate_data[customer_acceptance][type]", "online")
            .field(
                "mandate_data[customer_acceptance][online][ip_address]",
                acceptance.ip.to_string(),
            )
            .field(
                "mandate_data[customer_acceptance][online][user_agent]",
                acceptance.user_agent.clone(),
            )
            .field("confirm", "true");
        let key = attempt_key("payment", &[user.as_str(), account.as_str(), &request.attempt]);
        let pi: PaymentIntent = self.stripe.post("/v1/payment_intents", &form, Some(&key)).await?;
        let seen = pi.seen(crate::clock::unix_now()).ok_or_else(|| unknown_status(&pi))?;
        let amount = request.amount();
        let new = NewPayment {
            user,
            account: Some(account),
            amount: &amount,
            description: request.description.as_deref(),
            bank: bank.as_deref(),
            attempt: &request.attempt,
        };
        let payment = self.storage.record_payment(new, &seen).await?;
        tracing::info!(payment = %payment.id, account = %account, status = payment.status.as_str(), "payment created");
        self.live.payment_changed(user.clone(), payment.id.clone());
        Ok(payment)
    }

    async fn payments(&self, user: &UserId, account: Option<&AccountId>) -> Result<Vec<Payment>, AppError> {
        if let Some(a) = account {
            self.authorize(user, a).await?;
        }
        Ok(self.storage.payments(user, account).await?)
    }

    async fn cancel_payment(&self, user: &UserId, id: &PaymentIntentId) -> Result<Payment, AppError> {
        let stored = self.storage.payment(user, id).await?.ok_or(AppError::NotFound)?;
        if !stored.cancelable() {
            return Err(AppError::invalid("payment", "This payment can no longer be canceled."));
        }
        let form = Form::new().field("cancellation_reason", "requested_by_customer");
        let pi: PaymentIntent = self
            .stripe
            .post(
                &format!("/v1/payment_intents/{id}/cancel"),
                &form,
                Some(&format!("cancel-{id}")),
            )
            .await?;
        let payment = self.observe(user, &pi).await?;
        tracing::info!(payment = %id, status = payment.status.as_str(), "payment cancel");
        Ok(payment)
    }

    async fn start_bank_payment(&self, user: &UserId, request: PaymentRequest) -> Result<BankPaymentStart, AppError> {
        let customer = self.customer_for(user, &CustomerDetails::default()).await?;
        let form = Form::new()
            .field("amount", request.amount_cents.to_string())
            .field("currency", CURRENCY)
            .field("customer", customer.as_str())
            .opt("description", request.description.clone())
            .list("payment_method_types", ["us_bank_account"]);
        let key = attempt_key("bank-payment", &[user.as_str(), &request.attempt]);
        let pi: PaymentIntent = self.stripe.post("/v1/payment_intents", &form, Some(&key)).await?;
        let client_secret = pi.client_secret.clone().ok_or_else(|| {
            tracing::error!(payment = %pi.id, "Stripe returned a PaymentIntent without client_secret");
            AppError::Internal
        })?;
        let seen = pi.seen(crate::clock::unix_now()).ok_or_else(|| unknown_status(&pi))?;
        let amount = request.amount();
        let new = NewPayment {
            user,
            account: None,
            amount: &amount,
            description: request.description.as_deref(),
            bank: None,
            attempt: &request.attempt,
        };
        let payment = self.storage.record_payment(new, &seen).await?;
        tracing::info!(payment = %payment.id, "pay-by-bank payment created");
        Ok(BankPaymentStart {
            payment,
            client_secret,
            client: self.client.clone(),
            business_name: self.business_name.clone(),
        })
    }

    async fn sync_payment(&self, user: &UserId, id: &PaymentIntentId) -> Result<Payment, AppError> {
        self.storage.payment(user, id).await?.ok_or(AppError::NotFound)?;
        let pi: PaymentIntent = self.stripe.get(&format!("/v1/payment_intents/{id}"), &Form::new()).await?;
        self.observe(user, &pi).await
    }
}

impl StripeService {
    /// Stores what Stripe just answered about one of `user`'s payments (if it
    /// is newer than what is stored) and returns the stored state.
    async fn observe(&self, user: &UserId, pi: &PaymentIntent) -> Result<Payment, AppError> {
        let seen = pi.seen(crate::clock::unix_now()).ok_or_else(|| unknown_status(pi))?;
        match self.storage.observe_payment(&seen).await? {
            Some((owner, payment)) if &owner == user => {
                self.live.payment_changed(owner, payment.id.clone());
                Ok(payment)
            }
            _ => Err(AppError::NotFound),
        }
    }

    /// Applies a verified `payment_intent.*` webhook event: the PaymentIntent
    /// in its payload, as of the event's `created`, replaces the stored state
    /// unless a later one is stored (events arrive in any order). Events
    /// about PaymentIntents this app did not make are only recorded.
    pub async fn apply_payment_event(
        &self,
        event_id: &str,
        kind: &str,
        created: i64,
        object: &serde_json::Value,
    ) -> Result<(), AppError> {
        let seen: Option<PaymentSeen> = serde_json::from_value::<PaymentIntent>(object.clone())
            .ok()
            .and_then(|pi| pi.seen(created));
        let Some(seen) = seen else {
            tracing::warn!(
                event = event_id,
                kind,
                "payment event without a readable PaymentIntent; recorded only"
            );
            self.storage.apply_event(event_id, kind, None, None, None).await?;
            return Ok(());
        };
        let owner = self.storage.apply_payment_event(event_id, kind, &seen).await?;
        tracing::info!(event = event_id, kind, payment = %seen.id, applied = owner.is_some(), "webhook event");
        if let Some(owner) = owner {
            self.live.payment_changed(owner, seen.id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_keys_differ_by_user_account_and_attempt() {
        let k = |u: &str, a: &str, t: &str| attempt_key("payment", &[u, a, t]);
        assert_eq!(k("u1", "fca_1", "attempt-1"), k("u1", "fca_1", "attempt-1"));
        assert_ne!(k("u1", "fca_1", "attempt-1"), k("u2", "fca_1", "attempt-1"));
        assert_ne!(k("u1", "fca_1", "attempt-1"), k("u1", "fca_2", "attempt-1"));
        assert_ne!(k("u1", "fca_1", "attempt-1"), k("u1", "fca_1", "attempt-2"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(attempt_key("p", &["ab", "c"]), attempt_key("p", &["a", "bc"]));
        assert!(k("u1", "fca_1", "attempt-1").starts_with("payment-"));
    }
}
