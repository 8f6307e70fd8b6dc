//! What the modal does for `stripe.collectBankAccountForPayment`, reached
//! by the PaymentIntent's client secret: it opens a Financial Connections
//! session of the intent's key (`payment_method` permission, the intent's
//! customer as account holder), and when the person links one ACH-capable
//! account (or types in account numbers, which then need microdeposits)
//! makes a `us_bank_account` PaymentMethod of it and attaches it to the
//! intent (`requires_confirmation`). Closing the modal leaves the intent as
//! it was. Each answer has Stripe.js's shape: `{paymentIntent}` or an error.

use super::modal::{self, Choice};
use super::payment_methods::{from_account, from_numbers};
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use crate::sandbox::state::{
    AccountHolder, BillingDetails, IntentStatus, PaymentIntent, PaymentMethod, Sandbox, Session, SessionState, Space,
};
use axum::http::StatusCode;
use serde_json::{json, Value};

/// What a collect-for-payment call carries besides the client secrets.
pub struct Collected<'a> {
    pub billing: BillingDetails,
    pub institution: &'a str,
    pub accounts: &'a [String],
}

/// Typed-in bank details (the modal's manual entry).
pub struct Typed {
    pub routing_number: String,
    pub account_number: String,
    pub account_type: String,
}

fn no_intent() -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: Some("resource_missing"),
        ..ApiError::invalid("client_secret", "The client secret does not match a PaymentIntent.")
    }
}

/// The intent's key and the intent, if a payment method may be collected for it.
fn collectable(sb: &Sandbox, pi_secret: &str) -> Result<(String, PaymentIntent), ApiError> {
    let id = pi_secret.split("_secret_").next().unwrap_or_default();
    let key = sb.key_of_intent(id, Some(pi_secret)).ok_or_else(no_intent)?;
    let pi = sb.read(&key, |s| s.payments.intents.get(id).cloned()).ok_or_else(no_intent)?;
    if !matches!(
        pi.status,
        IntentStatus::RequiresPaymentMethod | IntentStatus::RequiresConfirmation
    ) {
        return Err(ApiError {
            code: Some("payment_intent_unexpected_state"),
            ..ApiError::invalid(
                "client_secret",
                format!(
                    "A payment method cannot be collected for this PaymentIntent: it has a status of {}.",
                    pi.status.as_str()
                ),
            )
        });
    }
    Ok((key, pi))
}

/// Opens the modal's session for the intent: what the modal shows, plus
/// the session's own client secret (`session_secret`) for the calls after.
pub fn start(sb: &Sandbox, pi_secret: &str) -> Result<Value, ApiError> {
    let (key, pi) = collectable(sb, pi_secret)?;
    let id = new_id("fcsess_");
    let session = Session {
        client_secret: format!("{id}_secret_{}", new_id("")),
        id,
        account_holder: AccountHolder {
            kind: "customer".to_owned(),
            customer: pi.customer.clone(),
            account: None,
        },
        permissions: vec!["payment_method".to_owned()],
        prefetch: vec![],
        countries: vec!["US".to_owned()],
        subcategories: vec!["checking".to_owned(), "savings".to_owned()],
        limit_accounts: 1,
        manual_entry_mode: "automatic".to_owned(),
        return_url: None,
        created: now(),
        state: SessionState::Open,
        linked: vec![],
    };
    let secret = session.client_secret.clone();
    sb.insert_session(&key, session)?;
    let mut view = modal::view(sb, &secret)?;
    view["session_secret"] = json!(secret);
    Ok(view)
}

/// Attaches `method` to the intent and answers as Stripe.js resolves.
fn attach(space: &mut Space, pi_id: &str, mut method: PaymentMethod) -> Result<Value, ApiError> {
    method.seq = space.payments.next_seq();
    let pm = method.id.clone();
    space.payments.methods.insert(pm.clone(), method);
    let pi = space.payments.intents.get_mut(pi_id).ok_or_else(no_intent)?;
    pi.payment_method = Some(pm);
    pi.status = IntentStatus::RequiresConfirmation;
    pi.last_payment_error = None;
    Ok(json!({ "paymentIntent": pi.to_client_json() }))
}

/// The person linked an account: it becomes the intent's payment method.
pub fn complete(sb: &Sandbox, pi_secret: &str, session_secret: &str, c: Collected) -> Result<Value, ApiError> {
    let (key, pi) = collectable(sb, pi_secret)?;
    if c.billing.name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::missing("payment_method_data[billing_details][name]"));
    }
    let choice = Choice {
        institution: c.institution,
        accounts: c.accounts,
        token_flow: false,
        payment_flow: true,
    };
    let linked = modal::complete(sb, session_secret, choice)?;
    let fca = linked["financialConnectionsSession"]["accounts"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut answer = sb
        .with_existing_space(&key, |s| {
            s.room_for_payments()?;
            let version = s.default_version();
            let method = from_account(s, &fca, c.billing, &version)?;
            attach(s, &pi.id, method)
        })
        .ok_or_else(no_intent)??;
    answer["financialConnectionsSession"] = linked["financialConnectionsSession"].clone();
    Ok(answer)
}

/// The person typed in routing and account numbers instead of linking.
pub fn manual(
    sb: &Sandbox,
    pi_secret: &str,
    session_secret: &str,
    billing: BillingDetails,
    typed: Typed,
) -> Result<Value, ApiError> {
    let (key, pi) = collectable(sb, pi_secret)?;
    if billing.name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::missing("payment_method_data[billing_details][name]"));
    }
    let method = from_numbers(&typed.account_number, &typed.routing_number, &typed.account_type, billing)?;
    modal::cancel(sb, session_secret)?;
    sb.with_existing_space(&key, |s| {
        s.room_for_payments()?;
        attach(s, &pi.id, method)
    })
    .ok_or_else(no_intent)?
}

/// The person closed the modal: the intent stays as it was.
pub fn cancel(sb: &Sandbox, pi_secret: &str, session_secret: &str) -> Result<Value, ApiError> {
    let (_, pi) = collectable(sb, pi_secret)?;
    modal::cancel(sb, session_secret)?;
    Ok(json!({ "paymentIntent": pi.to_client_json() }))
}
