//! Confirming a PaymentIntent, as Stripe does for `us_bank_account`: it
//! needs a payment method (`payment_method_data`, `payment_method`, or the
//! one already attached) and a mandate (`mandate_data[customer_acceptance]`,
//! an existing `mandate`, or, from Stripe.js, the browser's own IP address
//! and user agent). A linked account's payment then goes `processing`
//! ([`crate::sandbox::work::payments`]); typed-in account numbers first need
//! microdeposits (`requires_action`, `next_action.verify_with_microdeposits`,
//! `POST …/verify_microdeposits`). The Stripe.js (publishable key +
//! client secret) retrieve and confirm are here too.

use super::payment_intents::unexpected_state;
use super::payment_methods::{mandate_data, method_data};
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::{Acceptance, IntentStatus, Mandate, PaymentIntent, PaymentMethod, Sandbox, Space};
use crate::sandbox::version::ApiVersion;
use crate::sandbox::work::payments;
use axum::http::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

pub const CONFIRM_PARAMS: &[&str] = &[
    "client_secret",
    "error_on_requires_action",
    "expand",
    "mandate",
    "mandate_data",
    "off_session",
    "payment_method",
    "payment_method_data",
    "payment_method_options",
    "return_url",
    "use_stripe_sdk",
];

/// Stripe's test microdeposit amounts (cents) and descriptor code.
pub const MICRODEPOSIT_AMOUNTS: [i64; 2] = [32, 45];
pub const MICRODEPOSIT_CODE: &str = "SM11AA";

/// The payment method a request names: a new one from
/// `payment_method_data`, or an existing `payment_method`.
pub fn method_param(
    s: &Space,
    p: &Params,
    customer: Option<&str>,
    version: &ApiVersion,
) -> Result<Option<PaymentMethod>, ApiError> {
    match (p.0.get("payment_method_data"), p.str("payment_method")?) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "payment_method_data",
            "You may only specify one of these parameters: payment_method, payment_method_data.",
        )),
        (Some(data), None) => method_data(s, data, customer, version).map(Some),
        (None, Some(id)) => s
            .payments
            .methods
            .get(&id)
            .cloned()
            .map(Some)
            .ok_or_else(|| ApiError::not_found("PaymentMethod", &id, "payment_method")),
        (None, None) => Ok(None),
    }
}

/// Stores a payment method (a new one gets its place in the key's order).
pub fn store_method(s: &mut Space, mut m: PaymentMethod) {
    if !s.payments.methods.contains_key(&m.id) {
        m.seq = s.payments.next_seq();
        s.payments.methods.insert(m.id.clone(), m);
    }
}

/// A confirmation, checked before anything changes.
pub struct Confirmation {
    method: String,
    acceptance: Option<Acceptance>,
    mandate: Option<String>,
}

impl Confirmation {
    /// Checks that `pi` may be confirmed with `method` (or the one it has)
    /// and reads its mandate; `inferred` is Stripe.js's acceptance (the
    /// browser's IP address and user agent).
    pub fn read(
        s: &Space,
        p: &Params,
        pi: &PaymentIntent,
        method: Option<&PaymentMethod>,
        inferred: Option<Acceptance>,
    ) -> Result<Self, ApiError> {
        match pi.status {
            IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresConfirmation => {}
            IntentStatus::Succeeded => {
                return Err(unexpected_state(
                    "You cannot confirm this PaymentIntent because it has already succeeded after being previously \
                     confirmed."
                        .into(),
                ))
            }
            other => {
                return Err(unexpected_state(format!(
                    "You cannot confirm this PaymentIntent because it has a status of {}. Only a PaymentIntent with \
                     one of the following statuses may be confirmed: requires_payment_method, requires_confirmation.",
                    other.as_str()
                )))
            }
        }
        let method = method
            .map(|m| m.id.clone())
            .or_else(|| pi.payment_method.clone())
            .ok_or_else(|| {
                unexpected_state(
                    "You cannot confirm this PaymentIntent because it's missing a payment method. You can either \
                     update the PaymentIntent with a payment method and then confirm it again, or confirm it again \
                     directly with a payment method."
                        .into(),
                )
            })?;
        let (acceptance, mandate) = match (p.0.get("mandate_data"), p.str("mandate")?, inferred) {
            (_, _, Some(a)) => (Some(a), None),
            (Some(_), Some(_), None) => {
                return Err(ApiError::invalid(
                    "mandate",
                    "You may only specify one of these parameters: mandate, mandate_data.",
                ))
            }
            (Some(v), None, None) => (Some(mandate_data(v)?), None),
            (None, Some(m), None) => (None, Some(m)),
            (None, None, None) => {
                return Err(ApiError {
                    code: Some("parameter_missing"),
                    ..ApiError::invalid(
                        "mandate_data",
                        "A mandate is required to confirm a PaymentIntent with a us_bank_account PaymentMethod: \
                         pass mandate_data[customer_acceptance] (type, and for online acceptance the customer's \
                         ip_address and user_agent), or an existing mandate.",
                    )
                })
            }
        };
        if let Some(m) = &mandate {
            if s.payments.mandates.get(m).is_none_or(|x| x.payment_method != method) {
                return Err(ApiError::invalid(
                    "mandate",
                    format!("The mandate {m} does not exist or is not for this PaymentIntent's payment method."),
                ));
            }
        }
        Ok(Confirmation {
            method,
            acceptance,
            mandate,
        })
    }
}

/// Confirms intent `id` of the space with the request's parameters.
pub fn run(
    s: &mut Space,
    id: &str,
    p: &Params,
    version: &ApiVersion,
    inferred: Option<Acceptance>,
    delay: Duration,
) -> Result<(), ApiError> {
    let pi = s
        .payments
        .intents
        .get(id)
        .cloned()
        .ok_or_else(|| ApiError::not_found("payment_intent", id, "intent"))?;
    let method = method_param(s, p, pi.customer.as_deref(), version)?;
    let c = Confirmation::read(s, p, &pi, method.as_ref(), inferred)?;
    s.room_for_payments()?;
    if let Some(m) = method {
        store_method(s, m);
    }
    apply(s, id, c, delay);
    Ok(())
}

/// Applies a checked confirmation: the mandate, then `processing` (a linked
/// account) or `requires_action` (microdeposits to verify).
pub fn apply(s: &mut Space, id: &str, c: Confirmation, delay: Duration) {
    let Some(pi) = s.payments.intents.get(id) else {
        return;
    };
    let (amount, currency, customer, reuse) = (
        pi.amount,
        pi.currency.clone(),
        pi.customer.clone(),
        pi.setup_future_usage.is_some(),
    );
    let microdeposits = s.payments.methods.get(&c.method).is_some_and(|m| m.needs_microdeposits);
    if reuse {
        if let Some(m) = s.payments.methods.get_mut(&c.method) {
            m.customer = m.customer.take().or(customer);
        }
    }
    let mandate = match (c.mandate, c.acceptance) {
        (Some(m), _) => Some(m),
        (None, Some(acceptance)) => {
            let m = Mandate {
                id: new_id("mandate_"),
                payment_method: c.method.clone(),
                acceptance,
                multi_use: reuse,
                amount,
                currency,
                status: if microdeposits { "pending" } else { "active" }.to_owned(),
            };
            let mid = m.id.clone();
            s.payments.mandates.insert(mid.clone(), m);
            Some(mid)
        }
        (None, None) => None,
    };
    let Some(pi) = s.payments.intents.get_mut(id) else {
        return;
    };
    pi.payment_method = Some(c.method);
    pi.mandate = mandate;
    pi.last_payment_error = None;
    if microdeposits {
        pi.status = IntentStatus::RequiresAction;
        pi.next_action = Some(json!({
            "type": "verify_with_microdeposits",
            "verify_with_microdeposits": {
                "arrival_date": now() + 2 * 86_400,
                "hosted_verification_url": format!(
                    "https://payments.stripe.com/microdeposit/pacs_test_{}", new_id("")
                ),
                "microdeposit_type": "amounts",
            },
        }));
        let object = pi.to_json();
        s.emit_object("payment_intent.requires_action", object);
    } else {
        payments::start(s, id, delay);
    }
}

/// `POST /v1/payment_intents/{id}/verify_microdeposits`: `amounts[]=32&amounts[]=45`
/// or `descriptor_code=SM11AA` (Stripe's test values) verify the account,
/// activate the mandate and send the payment (`processing`).
pub fn verify_microdeposits(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["amounts", "descriptor_code", "client_secret", "expand"])?;
    let amounts = p.list("amounts", &[])?;
    let code = p.str("descriptor_code")?;
    let matches = match (amounts.is_empty(), &code) {
        (false, None) => {
            let given: Vec<Option<i64>> = amounts.iter().map(|a| a.parse().ok()).collect();
            if given.len() != 2 || given.iter().any(Option::is_none) {
                return Err(ApiError::invalid("amounts", "Provide two amounts, in cents."));
            }
            given == MICRODEPOSIT_AMOUNTS.map(Some)
        }
        (true, Some(c)) => c == MICRODEPOSIT_CODE,
        _ => {
            return Err(ApiError::invalid(
                "amounts",
                "Provide exactly one of amounts[] and descriptor_code.",
            ))
        }
    };
    let delay = sb.timing.payment_delay;
    sb.with_space(key, |s| {
        let pi = s
            .payments
            .intents
            .get(id)
            .ok_or_else(|| ApiError::not_found("payment_intent", id, "intent"))?;
        if pi.status != IntentStatus::RequiresAction {
            return Err(unexpected_state(format!(
                "This PaymentIntent has a status of {} and has no microdeposits to verify.",
                pi.status.as_str()
            )));
        }
        if !matches {
            return Err(ApiError {
                code: Some("payment_method_microdeposit_verification_amounts_mismatch"),
                ..ApiError::invalid(
                    "amounts",
                    "The amounts provided do not match the amounts that were sent to the bank account.",
                )
            });
        }
        let (method, mandate) = (pi.payment_method.clone(), pi.mandate.clone());
        if let Some(m) = method.and_then(|m| s.payments.methods.get_mut(&m)) {
            m.needs_microdeposits = false;
        }
        if let Some(m) = mandate.and_then(|m| s.payments.mandates.get_mut(&m)) {
            m.status = "active".to_owned();
        }
        payments::start(s, id, delay);
        super::payment_intents::intent_json(s, id)
    })
}

/// Stripe.js's error for a client secret that names no intent.
fn no_such_intent() -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        kind: "invalid_request_error",
        code: Some("resource_missing"),
        message: "No such payment_intent: the client secret does not match a PaymentIntent.".into(),
        param: Some("client_secret".into()),
    }
}

/// `GET /v1/payment_intents/{id}?client_secret=…` with a publishable key:
/// the intent as Stripe.js sees it.
pub fn retrieve_client(sb: &Sandbox, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["client_secret", "expand", "key", "_stripe_version"])?;
    let secret = q.str("client_secret")?.ok_or_else(|| ApiError::missing("client_secret"))?;
    if !secret.starts_with(&format!("{id}_secret_")) {
        return Err(no_such_intent());
    }
    sb.with_intent_secret(&secret, |_, s| s.payments.intents.get(id).map(PaymentIntent::to_client_json))
        .flatten()
        .ok_or_else(no_such_intent)
}

/// `POST /v1/payment_intents/{id}/confirm` with a publishable key and the
/// client secret, as `confirmUsBankAccountPayment` sends it: the mandate is
/// accepted online from the browser's IP address and user agent.
pub fn confirm_client(sb: &Sandbox, id: &str, p: &Params, ip: Option<String>, user_agent: &str) -> Result<Value, ApiError> {
    p.only(CONFIRM_PARAMS)?;
    let secret = p.str("client_secret")?.ok_or_else(|| ApiError::missing("client_secret"))?;
    if !secret.starts_with(&format!("{id}_secret_")) {
        return Err(no_such_intent());
    }
    let inferred = Acceptance {
        kind: "online".into(),
        accepted_at: now(),
        ip_address: ip,
        user_agent: Some(user_agent.chars().take(512).collect()),
    };
    let delay = sb.timing.payment_delay;
    sb.with_intent_secret(&secret, |_, s| {
        if !s.payments.intents.contains_key(id) {
            return Err(no_such_intent());
        }
        let version = s.default_version();
        run(s, id, p, &version, Some(inferred), delay)?;
        s.payments
            .intents
            .get(id)
            .map(PaymentIntent::to_client_json)
            .ok_or_else(no_such_intent)
    })
    .unwrap_or_else(|| Err(no_such_intent()))
}
