//! A key's payments: PaymentIntents, the `us_bank_account` PaymentMethods
//! they are paid with and the Mandates that authorise them, each serialised
//! in Stripe's shape by its `to_json`. Plain data (derives `Serialize`,
//! `Deserialize` so the state can be persisted); what confirming does is in
//! [`crate::sandbox::resources`], how a payment settles in
//! [`crate::sandbox::work`].

use super::objects::{approx_json, metadata_bytes};
use super::{Sandbox, Space};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// `status` of a PaymentIntent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    Succeeded,
    Canceled,
}

impl IntentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IntentStatus::RequiresPaymentMethod => "requires_payment_method",
            IntentStatus::RequiresConfirmation => "requires_confirmation",
            IntentStatus::RequiresAction => "requires_action",
            IntentStatus::Processing => "processing",
            IntentStatus::Succeeded => "succeeded",
            IntentStatus::Canceled => "canceled",
        }
    }

    /// Whether the intent may still be updated, confirmed or canceled.
    pub fn open(self) -> bool {
        matches!(
            self,
            IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresConfirmation | IntentStatus::RequiresAction
        )
    }
}

/// How a payment from a bank account ends, as Stripe's test accounts behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeds,
    InsufficientFunds,
    AccountClosed,
}

impl Outcome {
    /// `last_payment_error.code` and `message` of a failed payment.
    pub fn failure(self) -> Option<(&'static str, &'static str)> {
        match self {
            Outcome::Succeeds => None,
            Outcome::InsufficientFunds => Some((
                "insufficient_funds",
                "The customer's account has insufficient funds to cover this payment.",
            )),
            Outcome::AccountClosed => Some(("account_closed", "The customer's bank account has been closed.")),
        }
    }
}

/// A PaymentIntent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub client_secret: String,
    pub amount: i64,
    pub currency: String,
    pub customer: Option<String>,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub payment_method: Option<String>,
    pub payment_method_types: Vec<String>,
    pub receipt_email: Option<String>,
    pub setup_future_usage: Option<String>,
    pub statement_descriptor: Option<String>,
    pub status: IntentStatus,
    pub created: i64,
    pub canceled_at: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub last_payment_error: Option<Value>,
    pub next_action: Option<Value>,
    pub amount_received: i64,
    /// The mandate of the last confirmation.
    pub mandate: Option<String>,
    /// Creation order in its key's space (lists are newest first).
    pub seq: u64,
}

impl PaymentIntent {
    /// As Stripe shows it to a secret key.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_details": { "tip": {} },
            "amount_received": self.amount_received,
            "application": null,
            "application_fee_amount": null,
            "automatic_payment_methods": null,
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": "automatic",
            "client_secret": self.client_secret,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "invoice": null,
            "last_payment_error": self.last_payment_error,
            "latest_charge": null,
            "livemode": false,
            "metadata": self.metadata,
            "next_action": self.next_action,
            "on_behalf_of": null,
            "payment_method": self.payment_method,
            "payment_method_options": {
                "us_bank_account": { "verification_method": "automatic" }
            },
            "payment_method_types": self.payment_method_types,
            "processing": null,
            "receipt_email": self.receipt_email,
            "review": null,
            "setup_future_usage": self.setup_future_usage,
            "shipping": null,
            "statement_descriptor": self.statement_descriptor,
            "statement_descriptor_suffix": null,
            "status": self.status.as_str(),
            "transfer_data": null,
            "transfer_group": null,
        })
    }

    /// As Stripe.js sees it with a publishable key and the client secret:
    /// no customer, metadata or other server-side fields.
    pub fn to_client_json(&self) -> Value {
        let full = self.to_json();
        let keep = [
            "id",
            "object",
            "amount",
            "canceled_at",
            "cancellation_reason",
            "capture_method",
            "client_secret",
            "confirmation_method",
            "created",
            "currency",
            "description",
            "last_payment_error",
            "livemode",
            "next_action",
            "payment_method",
            "payment_method_types",
            "processing",
            "receipt_email",
            "setup_future_usage",
            "shipping",
            "status",
        ];
        Value::Object(keep.iter().map(|k| ((*k).to_owned(), full[*k].clone())).collect())
    }

    pub fn approx_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        768 + self.id.len()
            + self.client_secret.len()
            + opt(&self.customer)
            + opt(&self.description)
            + opt(&self.payment_method)
            + opt(&self.receipt_email)
            + metadata_bytes(&self.metadata)
            + self.last_payment_error.as_ref().map_or(0, approx_json)
            + self.next_action.as_ref().map_or(0, approx_json)
    }
}

/// `billing_details` of a PaymentMethod.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BillingDetails {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// `us_bank_account` of a PaymentMethod.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BankAccount {
    pub account_holder_type: String,
    pub account_type: String,
    pub bank_name: String,
    pub financial_connections_account: Option<String>,
    pub fingerprint: String,
    pub last4: String,
    pub routing_number: String,
}

/// A `us_bank_account` PaymentMethod.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PaymentMethod {
    pub id: String,
    pub created: i64,
    pub customer: Option<String>,
    pub billing_details: BillingDetails,
    pub metadata: Map<String, Value>,
    pub us_bank_account: BankAccount,
    /// How payments from it end.
    pub outcome: Outcome,
    /// Entered by hand (not linked): payments wait for microdeposits.
    pub needs_microdeposits: bool,
    pub seq: u64,
}

impl PaymentMethod {
    pub fn to_json(&self) -> Value {
        let b = &self.us_bank_account;
        json!({
            "id": self.id,
            "object": "payment_method",
            "billing_details": {
                "address": {
                    "city": null, "country": null, "line1": null,
                    "line2": null, "postal_code": null, "state": null,
                },
                "email": self.billing_details.email,
                "name": self.billing_details.name,
                "phone": self.billing_details.phone,
            },
            "created": self.created,
            "customer": self.customer,
            "livemode": false,
            "metadata": self.metadata,
            "type": "us_bank_account",
            "us_bank_account": {
                "account_holder_type": b.account_holder_type,
                "account_type": b.account_type,
                "bank_name": b.bank_name,
                "financial_connections_account": b.financial_connections_account,
                "fingerprint": b.fingerprint,
                "last4": b.last4,
                "networks": { "preferred": "ach", "supported": ["ach"] },
                "routing_number": b.routing_number,
                "status_details": {},
            },
        })
    }
}

/// How the customer accepted a mandate (`customer_acceptance`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Acceptance {
    /// `online` or `offline`.
    pub kind: String,
    pub accepted_at: i64,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// A Mandate: the customer's authorisation to debit a PaymentMethod.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mandate {
    pub id: String,
    pub payment_method: String,
    pub acceptance: Acceptance,
    /// `multi_use` (the intent saves the method) or `single_use` (this amount once).
    pub multi_use: bool,
    pub amount: i64,
    pub currency: String,
    /// `active`, `pending` (microdeposits not verified yet) or `inactive`.
    pub status: String,
}

impl Mandate {
    pub fn to_json(&self) -> Value {
        let a = &self.acceptance;
        let mut acceptance = json!({ "accepted_at": a.accepted_at, "type": a.kind });
        if a.kind == "online" {
            acceptance["online"] = json!({ "ip_address": a.ip_address, "user_agent": a.user_agent });
        } else {
            acceptance["offline"] = json!({});
        }
        let mut v = json!({
            "id": self.id,
            "object": "mandate",
            "customer_acceptance": acceptance,
            "livemode": false,
            "payment_method": self.payment_method,
            "payment_method_details": { "type": "us_bank_account", "us_bank_account": {} },
            "status": self.status,
            "type": if self.multi_use { "multi_use" } else { "single_use" },
        });
        if self.multi_use {
            v["multi_use"] = json!({});
        } else {
            v["single_use"] = json!({ "amount": self.amount, "currency": self.currency });
        }
        v
    }
}

/// A key's PaymentIntents, PaymentMethods and Mandates.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Payments {
    pub intents: HashMap<String, PaymentIntent>,
    pub methods: HashMap<String, PaymentMethod>,
    pub mandates: HashMap<String, Mandate>,
    /// The `seq` the next intent or method gets.
    pub next_seq: u64,
}

impl Payments {
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Roughly the heap it holds.
    pub fn approx_bytes(&self) -> usize {
        self.intents.values().map(PaymentIntent::approx_bytes).sum::<usize>()
            + self.methods.len() * 1024
            + self.mandates.len() * 512
    }
}

impl Space {
    /// Whether one more PaymentIntent (or PaymentMethod, or Mandate) may be made.
    pub fn room_for_payments(&self) -> Result<(), crate::sandbox::error::ApiError> {
        let p = &self.payments;
        let have = p.intents.len().max(p.methods.len()).max(p.mandates.len());
        self.room("payment objects", have, 1, self.limits().max_objects, None)
    }
}

impl Sandbox {
    /// Runs `f` on the space holding the PaymentIntent a client secret
    /// (`pi_…_secret_…`) belongs to, as Stripe.js reaches an intent with a
    /// publishable key; `None` when no key has it.
    pub fn with_intent_secret<R>(&self, client_secret: &str, f: impl FnOnce(&str, &mut Space) -> R) -> Option<R> {
        let id = client_secret.split("_secret_").next().filter(|id| id.starts_with("pi_"))?;
        let key = self.key_of_intent(id, Some(client_secret))?;
        self.with_existing_space(&key, |s| f(&key, s))
    }

    /// The key whose space holds the intent `id` (with that client secret, if given).
    pub fn key_of_intent(&self, id: &str, client_secret: Option<&str>) -> Option<String> {
        let st = self.lock();
        st.spaces
            .iter()
            .find(|(_, s)| {
                s.payments
                    .intents
                    .get(id)
                    .is_some_and(|pi| client_secret.is_none_or(|c| pi.client_secret == c))
            })
            .map(|(k, _)| k.clone())
    }
}
