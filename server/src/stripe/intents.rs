//! Stripe's PaymentIntent, the parts this app reads (unknown fields are
//! ignored), and what the app stores of one.

use crate::storage::PaymentSeen;
use app::model::{PaymentFailure, PaymentIntentId, PaymentStatus};
use serde::Deserialize;

/// No `Debug`: it carries the client secret.
#[derive(Clone, Deserialize)]
pub struct PaymentIntent {
    pub id: PaymentIntentId,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Stripe's status; one this app does not know is refused by
    /// [`PaymentIntent::seen`] rather than guessed.
    pub status: String,
    #[serde(default)]
    pub created: i64,
    /// Only for the page that runs Stripe.js; never logged or stored.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// `cus_…`, or the object when expanded.
    #[serde(default)]
    pub customer: Option<serde_json::Value>,
    /// `pm_…`, or the object when expanded.
    #[serde(default)]
    pub payment_method: Option<serde_json::Value>,
    #[serde(default)]
    pub last_payment_error: Option<LastPaymentError>,
    #[serde(default)]
    pub next_action: Option<NextAction>,
    /// `ch_…` or the Charge; its `payment_method_details.us_bank_account.mandate`
    /// names the mandate when expanded.
    #[serde(default)]
    pub latest_charge: Option<serde_json::Value>,
    /// `mandate_…` where the API version shows it on the PaymentIntent.
    #[serde(default)]
    pub mandate: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LastPaymentError {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct NextAction {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub verify_with_microdeposits: Option<VerifyWithMicrodeposits>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct VerifyWithMicrodeposits {
    #[serde(default)]
    pub hosted_verification_url: Option<String>,
}

/// A `pm_…`/`cus_…` field: the id, or the id of the expanded object.
fn id_of(v: &Option<serde_json::Value>) -> Option<String> {
    match v.as_ref()? {
        serde_json::Value::String(id) => Some(id.clone()),
        other => other["id"].as_str().map(str::to_owned),
    }
}

impl PaymentIntent {
    pub fn customer_id(&self) -> Option<String> {
        id_of(&self.customer)
    }

    pub fn payment_method_id(&self) -> Option<String> {
        id_of(&self.payment_method)
    }

    /// `Bank ••6789` when the PaymentMethod is expanded.
    pub fn bank_label(&self) -> Option<String> {
        let bank = self.payment_method.as_ref()?.get("us_bank_account")?;
        let last4 = bank["last4"].as_str()?;
        let name = bank["bank_name"].as_str().unwrap_or("Bank");
        Some(format!("{name} ••{last4}"))
    }

    /// What the app stores of it, as of `at` (Unix seconds). `None` for a
    /// status this app does not know.
    pub fn seen(&self, at: i64) -> Option<PaymentSeen> {
        let status = PaymentStatus::parse(&self.status)?;
        // Stripe keeps `last_payment_error` until the next attempt; it
        // explains only a PaymentIntent that is back to needing a method.
        let failure = self
            .last_payment_error
            .as_ref()
            .filter(|_| status == PaymentStatus::RequiresPaymentMethod)
            .map(|e| PaymentFailure {
                code: e.code.clone().or(e.decline_code.clone()),
                message: e.message.clone(),
            });
        let verification_url = self
            .next_action
            .as_ref()
            .filter(|_| status == PaymentStatus::RequiresAction)
            .and_then(|n| n.verify_with_microdeposits.as_ref())
            .and_then(|v| v.hosted_verification_url.clone())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
        let mandate = id_of(&self.mandate).or_else(|| {
            self.latest_charge
                .as_ref()
                .and_then(|c| c.pointer("/payment_method_details/us_bank_account/mandate"))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        });
        Some(PaymentSeen {
            id: self.id.clone(),
            status,
            failure,
            verification_url,
            payment_method: self.payment_method_id(),
            mandate,
            at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn intent(v: serde_json::Value) -> PaymentIntent {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_failed_debit_keeps_stripes_code_and_message() {
        let pi = intent(json!({
            "id": "pi_1", "object": "payment_intent", "amount": 1250, "currency": "usd",
            "status": "requires_payment_method", "created": 1, "customer": "cus_1", "payment_method": null,
            "last_payment_error": {"type": "card_error", "code": "insufficient_funds",
                "message": "The customer's account has insufficient funds to cover this payment."}
        }));
        let seen = pi.seen(5).unwrap();
        assert_eq!(seen.status, PaymentStatus::RequiresPaymentMethod);
        assert_eq!(seen.failure.unwrap().code.as_deref(), Some("insufficient_funds"));
        assert_eq!(seen.at, 5);
        assert_eq!(pi.customer_id().as_deref(), Some("cus_1"));
    }

    #[test]
    fn microdeposits_carry_the_hosted_verification_link() {
        let pi = intent(json!({
            "id": "pi_2", "amount": 100, "currency": "usd", "status": "requires_action",
            "payment_method": {"id": "pm_1", "us_bank_account": {"bank_name": "STRIPE TEST BANK", "last4": "6789"}},
            "next_action": {"type": "verify_with_microdeposits", "verify_with_microdeposits": {
                "arrival_date": 1, "hosted_verification_url": "https://payments.stripe.com/microdeposit/pacs_test_x",
                "microdeposit_type": "descriptor_code"}}
        }));
        let seen = pi.seen(1).unwrap();
        assert_eq!(
            seen.verification_url.as_deref(),
            Some("https://payments.stripe.com/microdeposit/pacs_test_x")
        );
        assert_eq!(seen.payment_method.as_deref(), Some("pm_1"));
        assert_eq!(pi.bank_label().as_deref(), Some("STRIPE TEST BANK ••6789"));
        // A scheme other than http(s) is never shown as a link.
        let mut hostile = pi.clone();
        hostile.next_action = Some(NextAction {
            kind: Some("verify_with_microdeposits".into()),
            verify_with_microdeposits: Some(VerifyWithMicrodeposits {
                hosted_verification_url: Some("javascript:alert(1)".into()),
            }),
        });
        assert_eq!(hostile.seen(1).unwrap().verification_url, None);
    }

    #[test]
    fn unknown_statuses_are_not_guessed() {
        let pi = intent(json!({"id": "pi_3", "amount": 100, "currency": "usd", "status": "teleported"}));
        assert!(pi.seen(1).is_none());
    }
}
