//! PaymentIntents for `us_bank_account` (ACH Direct Debit):
//! `POST /v1/payment_intents` (with `confirm=true`), `GET /v1/payment_intents`
//! (`customer`, `created`, pages), `GET|POST /v1/payment_intents/{id}`
//! and `…/{id}/cancel`. Confirming is [`super::confirm`].

use super::confirm::{self, Confirmation};
use super::list::{paginate, range_filter};
use super::payment_methods::refused_type;
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::{IntentStatus, PaymentIntent, Sandbox, Space};
use crate::sandbox::version::ApiVersion;
use axum::http::StatusCode;
use serde_json::{Map, Value};

/// Stripe's smallest USD charge and largest amount (cents).
pub const MIN_AMOUNT: i64 = 50;
pub const MAX_AMOUNT: i64 = 99_999_999;

const CREATE_PARAMS: &[&str] = &[
    "amount",
    "confirm",
    "currency",
    "customer",
    "description",
    "error_on_requires_action",
    "expand",
    "mandate",
    "mandate_data",
    "metadata",
    "off_session",
    "payment_method",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "receipt_email",
    "return_url",
    "setup_future_usage",
    "statement_descriptor",
    "use_stripe_sdk",
];

const UPDATE_PARAMS: &[&str] = &[
    "amount",
    "currency",
    "customer",
    "description",
    "expand",
    "metadata",
    "payment_method",
    "payment_method_data",
    "payment_method_options",
    "payment_method_types",
    "receipt_email",
    "setup_future_usage",
    "statement_descriptor",
];

/// Stripe's error for an intent in the wrong status for an action.
pub fn unexpected_state(message: String) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        kind: "invalid_request_error",
        code: Some("payment_intent_unexpected_state"),
        message,
        param: None,
    }
}

/// `true`/`false` parameters.
pub fn boolean(p: &Params, name: &str) -> Result<Option<bool>, ApiError> {
    match p.str(name)?.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid(
            name,
            format!("Invalid boolean: {name} must be true or false."),
        )),
    }
}

fn amount(p: &Params) -> Result<Option<i64>, ApiError> {
    let Some(raw) = p.str("amount")? else {
        return Ok(None);
    };
    let n = raw.parse::<i64>().map_err(|_| {
        ApiError::invalid(
            "amount",
            format!("Invalid integer: {}", raw.chars().take(40).collect::<String>()),
        )
    })?;
    if n < MIN_AMOUNT {
        return Err(ApiError {
            code: Some("amount_too_small"),
            ..ApiError::invalid("amount", "Amount must be at least $0.50 usd")
        });
    }
    if n > MAX_AMOUNT {
        return Err(ApiError {
            code: Some("amount_too_large"),
            ..ApiError::invalid("amount", "Amount must be no more than $999,999.99")
        });
    }
    Ok(Some(n))
}

fn currency(p: &Params) -> Result<Option<String>, ApiError> {
    let Some(c) = p.str("currency")? else {
        return Ok(None);
    };
    let c = c.to_ascii_lowercase();
    if c != "usd" {
        let shown: String = c.chars().take(16).collect();
        return Err(ApiError::invalid(
            "currency",
            format!(
                "The currency provided ({shown}) is invalid. Payments with us_bank_account support the following \
                 currencies: usd."
            ),
        ));
    }
    Ok(Some(c))
}

fn method_types(p: &Params) -> Result<Option<Vec<String>>, ApiError> {
    if !p.0.contains_key("payment_method_types") {
        return Ok(None);
    }
    let types = p.list("payment_method_types", &[])?;
    if let Some(bad) = types.iter().find(|t| *t != "us_bank_account") {
        return Err(refused_type(bad, "payment_method_types"));
    }
    if types.is_empty() {
        return Err(ApiError::missing("payment_method_types"));
    }
    Ok(Some(types))
}

/// The fields create and update share, applied to `pi`.
fn apply_fields(p: &Params, space: &Space, pi: &mut PaymentIntent) -> Result<(), ApiError> {
    if let Some(a) = amount(p)? {
        pi.amount = a;
    }
    if let Some(c) = currency(p)? {
        pi.currency = c;
    }
    if let Some(t) = method_types(p)? {
        pi.payment_method_types = t;
    }
    if let Some(c) = p.str("customer")? {
        if space.live_customer(&c).is_none() {
            return Err(ApiError::not_found("customer", &c, "customer"));
        }
        pi.customer = Some(c);
    }
    if let Some(d) = p.bounded("description", 1000)? {
        pi.description = (!d.is_empty()).then_some(d);
    }
    if let Some(e) = p.bounded("receipt_email", 800)? {
        if !e.is_empty() && !e.contains('@') {
            return Err(ApiError {
                code: Some("email_invalid"),
                ..ApiError::invalid("receipt_email", "Invalid email address.")
            });
        }
        pi.receipt_email = (!e.is_empty()).then_some(e);
    }
    if let Some(s) = p.bounded("statement_descriptor", 22)? {
        pi.statement_descriptor = (!s.is_empty()).then_some(s);
    }
    if let Some(f) = p.str("setup_future_usage")? {
        pi.setup_future_usage = match f.as_str() {
            "" => None,
            "off_session" | "on_session" => Some(f),
            _ => {
                return Err(ApiError::invalid(
                    "setup_future_usage",
                    "Invalid setup_future_usage: must be one of off_session, on_session",
                ))
            }
        };
    }
    if p.0.contains_key("payment_method_options") {
        p.obj("payment_method_options")?;
    }
    p.metadata(&mut pi.metadata)
}

/// `POST /v1/payment_intents`: `amount` and `currency` (usd) are required;
/// `confirm=true` confirms at once (see [`confirm::Confirmation`]).
pub fn create(sb: &Sandbox, key: &str, version: &ApiVersion, p: &Params) -> Result<Value, ApiError> {
    p.only(CREATE_PARAMS)?;
    if !p.0.contains_key("amount") {
        return Err(ApiError::missing("amount"));
    }
    if !p.0.contains_key("currency") {
        return Err(ApiError::missing("currency"));
    }
    let confirm_now = boolean(p, "confirm")?.unwrap_or(false);
    for name in ["off_session", "error_on_requires_action", "use_stripe_sdk"] {
        boolean(p, name)?;
    }
    if !confirm_now {
        for name in ["mandate_data", "mandate", "return_url"] {
            if p.0.contains_key(name) {
                return Err(ApiError::invalid(
                    name,
                    format!("You can only pass in {name} when confirm is true."),
                ));
            }
        }
    }
    let delay = sb.timing.payment_delay;
    sb.with_space(key, |s| {
        s.room_for_payments()?;
        let id = new_id("pi_");
        let mut pi = PaymentIntent {
            client_secret: format!("{id}_secret_{}", new_id("")),
            id,
            amount: 0,
            currency: String::new(),
            customer: None,
            description: None,
            metadata: Map::new(),
            payment_method: None,
            payment_method_types: vec!["us_bank_account".to_owned()],
            receipt_email: None,
            setup_future_usage: None,
            statement_descriptor: None,
            status: IntentStatus::RequiresPaymentMethod,
            created: now(),
            canceled_at: None,
            cancellation_reason: None,
            last_payment_error: None,
            next_action: None,
            amount_received: 0,
            mandate: None,
            seq: s.payments.next_seq(),
        };
        apply_fields(p, s, &mut pi)?;
        let method = confirm::method_param(s, p, pi.customer.as_deref(), version)?;
        let confirmation = if confirm_now {
            Some(Confirmation::read(s, p, &pi, method.as_ref(), None)?)
        } else {
            None
        };
        if let Some(m) = method {
            pi.payment_method = Some(m.id.clone());
            pi.status = IntentStatus::RequiresConfirmation;
            confirm::store_method(s, m);
        }
        let id = pi.id.clone();
        let created = pi.to_json();
        s.payments.intents.insert(id.clone(), pi);
        s.emit_object("payment_intent.created", created);
        if let Some(c) = confirmation {
            confirm::apply(s, &id, c, delay);
        }
        intent_json(s, &id)
    })
}

/// The intent as JSON, or Stripe's `resource_missing`.
pub fn intent_json(s: &Space, id: &str) -> Result<Value, ApiError> {
    s.payments
        .intents
        .get(id)
        .map(PaymentIntent::to_json)
        .ok_or_else(|| ApiError::not_found("payment_intent", id, "intent"))
}

/// `GET /v1/payment_intents/{id}` (`client_secret` is accepted, as Stripe
/// accepts it from a secret key too).
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["client_secret", "expand"])?;
    sb.read(key, |s| intent_json(s, id))
}

/// `POST /v1/payment_intents/{id}`: while it is not processing, succeeded
/// or canceled. A new payment method makes it `requires_confirmation`.
pub fn update(sb: &Sandbox, key: &str, version: &ApiVersion, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(UPDATE_PARAMS)?;
    sb.with_space(key, |s| {
        let mut pi = s
            .payments
            .intents
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("payment_intent", id, "intent"))?;
        if !pi.status.open() {
            return Err(unexpected_state(format!(
                "This PaymentIntent could not be updated because it has a status of {}. You may only update a \
                 PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, \
                 requires_action.",
                pi.status.as_str()
            )));
        }
        apply_fields(p, s, &mut pi)?;
        if let Some(m) = confirm::method_param(s, p, pi.customer.as_deref(), version)? {
            s.room_for_payments()?;
            pi.payment_method = Some(m.id.clone());
            pi.status = IntentStatus::RequiresConfirmation;
            pi.next_action = None;
            confirm::store_method(s, m);
        }
        s.payments.intents.insert(id.to_owned(), pi);
        intent_json(s, id)
    })
}

/// `POST /v1/payment_intents/{id}/confirm`.
pub fn confirm(sb: &Sandbox, key: &str, version: &ApiVersion, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(confirm::CONFIRM_PARAMS)?;
    let delay = sb.timing.payment_delay;
    sb.with_space(key, |s| {
        confirm::run(s, id, p, version, None, delay)?;
        intent_json(s, id)
    })
}

/// `POST /v1/payment_intents/{id}/cancel`: from `requires_payment_method`,
/// `requires_confirmation` or `requires_action`. A `us_bank_account`
/// payment that is processing has been sent to the bank and cannot be.
pub fn cancel(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["cancellation_reason", "expand"])?;
    let reason = match p.str("cancellation_reason")? {
        None => None,
        Some(r) if ["abandoned", "duplicate", "fraudulent", "requested_by_customer"].contains(&r.as_str()) => Some(r),
        Some(_) => {
            return Err(ApiError::invalid(
                "cancellation_reason",
                "Invalid cancellation_reason: must be one of abandoned, duplicate, fraudulent, requested_by_customer",
            ))
        }
    };
    sb.with_space(key, |s| {
        let pi = s
            .payments
            .intents
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("payment_intent", id, "intent"))?;
        if !pi.status.open() {
            let why = if pi.status == IntentStatus::Processing {
                ": a us_bank_account payment cannot be canceled once it has been sent to the bank"
            } else {
                ""
            };
            return Err(unexpected_state(format!(
                "You cannot cancel this PaymentIntent because it has a status of {}{why}. Only a PaymentIntent with \
                 one of the following statuses may be canceled: requires_payment_method, requires_capture, \
                 requires_confirmation, requires_action.",
                pi.status.as_str()
            )));
        }
        pi.status = IntentStatus::Canceled;
        pi.canceled_at = Some(now());
        pi.cancellation_reason = reason;
        pi.next_action = None;
        let object = pi.to_json();
        s.emit_object("payment_intent.canceled", object.clone());
        Ok(object)
    })
}

/// `GET /v1/payment_intents`: newest first, by `customer` and `created`.
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["created", "customer", "ending_before", "expand", "limit", "starting_after"])?;
    let customer = q.str("customer")?;
    let created = range_filter(q.0.get("created"), "created")?;
    sb.read(key, |s| {
        let mut items: Vec<&PaymentIntent> = s
            .payments
            .intents
            .values()
            .filter(|pi| customer.as_ref().is_none_or(|c| pi.customer.as_ref() == Some(c)))
            .filter(|pi| created(pi.created))
            .collect();
        items.sort_by_key(|pi| std::cmp::Reverse(pi.seq));
        let rendered: Vec<Value> = items.iter().map(|pi| pi.to_json()).collect();
        paginate(
            rendered.iter().collect(),
            |pi| pi["id"].as_str().unwrap_or_default(),
            q,
            "/v1/payment_intents",
        )
    })
}
