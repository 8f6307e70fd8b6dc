//! `us_bank_account` PaymentMethods and their Mandates: made from a linked
//! Financial Connections account (or typed-in account numbers) by a
//! PaymentIntent's `payment_method_data`, `GET /v1/payment_methods/{id}`,
//! `GET /v1/payment_methods?customer=&type=us_bank_account` and
//! `GET /v1/mandates/{id}`; and `mandate_data` as a confirmation reads it.

use super::list::paginate;
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::data::Seeded;
use crate::sandbox::error::ApiError;
use crate::sandbox::kinds::AccountStatus;
use crate::sandbox::params::{expect_keys, str_at, Params};
use crate::sandbox::state::{Acceptance, BankAccount, BillingDetails, Outcome, PaymentMethod, Sandbox, Space};
use crate::sandbox::version::ApiVersion;
use serde_json::{Map, Value};

/// The routing number of Stripe's test bank.
pub const TEST_ROUTING_NUMBER: &str = "110000000";
/// The first API version that names why an account cannot be paid from
/// (before it, the refusal is a plain invalid request).
pub const ACCOUNT_NUMBER_CODES_SINCE: (u16, u8, u8) = (2025, 9, 30);

const FCA_PARAM: &str = "payment_method_data[us_bank_account][financial_connections_account]";

/// Reads `payment_method_data` (type `us_bank_account`): a linked account
/// (`[us_bank_account][financial_connections_account]`) or typed-in numbers
/// (`[account_number]`, `[routing_number]`, which then need microdeposits);
/// `billing_details[name]` is required, as Stripe requires it for bank debits.
pub fn method_data(space: &Space, v: &Value, customer: Option<&str>, version: &ApiVersion) -> Result<PaymentMethod, ApiError> {
    let p = "payment_method_data";
    let data = v
        .as_object()
        .ok_or_else(|| ApiError::invalid(p, "Invalid object: payment_method_data must be a hash."))?;
    expect_keys(data, p, &["type", "us_bank_account", "billing_details", "metadata"])?;
    match str_at(data.get("type"), "payment_method_data[type]")?.as_deref() {
        Some("us_bank_account") => {}
        Some(other) => return Err(refused_type(other, "payment_method_data[type]")),
        None => return Err(ApiError::missing("payment_method_data[type]")),
    }
    let billing = billing_details(data.get("billing_details"))?;
    if billing.name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::missing("payment_method_data[billing_details][name]"));
    }
    let bank = data
        .get("us_bank_account")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::missing("payment_method_data[us_bank_account]"))?;
    expect_keys(
        bank,
        "payment_method_data[us_bank_account]",
        &[
            "financial_connections_account",
            "account_number",
            "routing_number",
            "account_holder_type",
            "account_type",
        ],
    )?;
    let mut metadata = Map::new();
    if let Some(m) = data.get("metadata") {
        let wrapped = Params(Map::from_iter([("metadata".to_owned(), m.clone())]));
        wrapped.metadata(&mut metadata)?;
    }
    let made = match str_at(bank.get("financial_connections_account"), FCA_PARAM)? {
        Some(fca) => linked_account(space, &fca, version)?,
        None => typed_in(bank)?,
    };
    let mut method = new_method(billing, made);
    method.customer = customer.map(str::to_owned);
    method.metadata = metadata;
    Ok(method)
}

fn new_method(
    billing: BillingDetails,
    (us_bank_account, outcome, needs_microdeposits): (BankAccount, Outcome, bool),
) -> PaymentMethod {
    PaymentMethod {
        id: new_id("pm_"),
        created: now(),
        customer: None,
        billing_details: billing,
        metadata: Map::new(),
        us_bank_account,
        outcome,
        needs_microdeposits,
        seq: 0,
    }
}

/// A PaymentMethod of a linked account (`collectBankAccountForPayment`).
pub fn from_account(space: &Space, fca: &str, billing: BillingDetails, version: &ApiVersion) -> Result<PaymentMethod, ApiError> {
    Ok(new_method(billing, linked_account(space, fca, version)?))
}

/// A PaymentMethod of typed-in numbers (the modal's manual entry).
pub fn from_numbers(
    account_number: &str,
    routing_number: &str,
    account_type: &str,
    billing: BillingDetails,
) -> Result<PaymentMethod, ApiError> {
    let bank = Map::from_iter([
        ("account_number".to_owned(), Value::from(account_number)),
        ("routing_number".to_owned(), Value::from(routing_number)),
        ("account_type".to_owned(), Value::from(account_type)),
    ]);
    Ok(new_method(billing, typed_in(&bank)?))
}

/// Stripe's refusal of a payment method type other than `us_bank_account`.
pub fn refused_type(kind: &str, param: &str) -> ApiError {
    let shown: String = kind.chars().take(64).collect();
    ApiError::invalid(
        param,
        format!(
            "The payment method type \"{shown}\" is invalid. Please ensure the provided type is activated in your \
             dashboard (https://dashboard.stripe.com/account/payments/settings) and your account is enabled for any \
             preview features that you are trying to use. The sandbox supports us_bank_account."
        ),
    )
}

fn billing_details(v: Option<&Value>) -> Result<BillingDetails, ApiError> {
    let param = "payment_method_data[billing_details]";
    let Some(v) = v else {
        return Ok(BillingDetails::default());
    };
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid(param, "Invalid object: billing_details must be a hash."))?;
    expect_keys(m, param, &["name", "email", "phone", "address"])?;
    let field = |k: &str, max: usize| -> Result<Option<String>, ApiError> {
        let name = format!("{param}[{k}]");
        match str_at(m.get(k), &name)? {
            Some(s) if s.chars().count() > max => Err(ApiError::invalid(&name, format!("{name} is too long."))),
            other => Ok(other.filter(|s| !s.is_empty())),
        }
    };
    let email = field("email", 800)?;
    if email.as_ref().is_some_and(|e| !e.contains('@')) {
        return Err(ApiError {
            code: Some("email_invalid"),
            ..ApiError::invalid(&format!("{param}[email]"), "Invalid email address.")
        });
    }
    Ok(BillingDetails {
        name: field("name", 5000)?,
        email,
        phone: field("phone", 20)?,
    })
}

/// A PaymentMethod's bank account from a linked account, if it may be paid from.
fn linked_account(space: &Space, fca: &str, version: &ApiVersion) -> Result<(BankAccount, Outcome, bool), ApiError> {
    let a = space
        .account(fca)
        .ok_or_else(|| ApiError::not_found("financial_connections.account", fca, FCA_PARAM))?;
    let payable = a.has_permission("payment_method") && a.supported_payment_method_types.contains(&"us_bank_account");
    if !payable {
        let why = if a.has_permission("payment_method") {
            "it does not support us_bank_account payments"
        } else {
            "it was not linked with the `payment_method` permission"
        };
        let code = version
            .at_least(ACCOUNT_NUMBER_CODES_SINCE)
            .then_some("financial_connections_account_unavailable_account_numbers");
        return Err(ApiError {
            code,
            ..ApiError::invalid(
                FCA_PARAM,
                format!(
                    "The Financial Connections account {fca} cannot be used to create a us_bank_account PaymentMethod: \
                     {why}. Link a different account, with a session that requests the `payment_method` permission."
                ),
            )
        });
    }
    if a.status != AccountStatus::Active {
        return Err(ApiError {
            code: Some("financial_connections_account_inactive"),
            ..ApiError::invalid(
                FCA_PARAM,
                format!(
                    "The Financial Connections account is {} and cannot be used for payments.",
                    a.status.as_str()
                ),
            )
        });
    }
    let outcome = match a.template {
        "insufficient_funds" => Outcome::InsufficientFunds,
        _ => Outcome::Succeeds,
    };
    let bank = BankAccount {
        account_holder_type: "individual".to_owned(),
        account_type: if a.subcategory.as_str() == "savings" {
            "savings"
        } else {
            "checking"
        }
        .to_owned(),
        bank_name: a.institution_name.to_uppercase(),
        financial_connections_account: Some(a.id.clone()),
        fingerprint: Seeded::new(&a.id).id("")[..16].to_owned(),
        last4: a.last4.clone(),
        routing_number: TEST_ROUTING_NUMBER.to_owned(),
    };
    Ok((bank, outcome, false))
}

/// A PaymentMethod's bank account from typed-in numbers: Stripe's test
/// numbers decide the outcome (`000222222227` insufficient funds,
/// `000111111113` closed, others succeed), after microdeposits.
fn typed_in(bank: &Map<String, Value>) -> Result<(BankAccount, Outcome, bool), ApiError> {
    let p = "payment_method_data[us_bank_account]";
    let number = str_at(bank.get("account_number"), &format!("{p}[account_number]"))?
        .ok_or_else(|| ApiError::missing(&format!("{p}[account_number]")))?;
    let routing = str_at(bank.get("routing_number"), &format!("{p}[routing_number]"))?
        .ok_or_else(|| ApiError::missing(&format!("{p}[routing_number]")))?;
    if !(4..=17).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(
            &format!("{p}[account_number]"),
            "Invalid account number: it must be 4 to 17 digits.",
        ));
    }
    if routing.len() != 9 || !routing.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(
            &format!("{p}[routing_number]"),
            "Invalid routing number: it must be 9 digits (test: 110000000).",
        ));
    }
    let holder =
        str_at(bank.get("account_holder_type"), &format!("{p}[account_holder_type]"))?.unwrap_or_else(|| "individual".to_owned());
    let kind = str_at(bank.get("account_type"), &format!("{p}[account_type]"))?.unwrap_or_else(|| "checking".to_owned());
    if !["individual", "company"].contains(&holder.as_str()) {
        return Err(ApiError::invalid(
            &format!("{p}[account_holder_type]"),
            "account_holder_type must be individual or company.",
        ));
    }
    if !["checking", "savings"].contains(&kind.as_str()) {
        return Err(ApiError::invalid(
            &format!("{p}[account_type]"),
            "account_type must be checking or savings.",
        ));
    }
    let outcome = match number.as_str() {
        "000222222227" => Outcome::InsufficientFunds,
        "000111111113" => Outcome::AccountClosed,
        _ => Outcome::Succeeds,
    };
    let bank = BankAccount {
        account_holder_type: holder,
        account_type: kind,
        bank_name: "STRIPE TEST BANK".to_owned(),
        financial_connections_account: None,
        fingerprint: Seeded::new(&format!("{routing}/{number}")).id("")[..16].to_owned(),
        last4: number[number.len() - 4..].to_owned(),
        routing_number: routing,
    };
    Ok((bank, outcome, true))
}

/// `mandate_data[customer_acceptance]`: `type=online` with `[online][ip_address]`
/// and `[online][user_agent]`, or `type=offline`.
pub fn mandate_data(v: &Value) -> Result<Acceptance, ApiError> {
    let p = "mandate_data";
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid(p, "Invalid object: mandate_data must be a hash."))?;
    expect_keys(m, p, &["customer_acceptance"])?;
    let ca = m
        .get("customer_acceptance")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::missing("mandate_data[customer_acceptance]"))?;
    let p = "mandate_data[customer_acceptance]";
    expect_keys(ca, p, &["type", "online", "offline", "accepted_at"])?;
    let kind = str_at(ca.get("type"), &format!("{p}[type]"))?.ok_or_else(|| ApiError::missing(&format!("{p}[type]")))?;
    let accepted_at = match str_at(ca.get("accepted_at"), &format!("{p}[accepted_at]"))? {
        None => now(),
        Some(t) => t
            .parse::<i64>()
            .map_err(|_| ApiError::invalid(&format!("{p}[accepted_at]"), "Invalid integer: accepted_at"))?,
    };
    match kind.as_str() {
        "online" => {
            let online = ca
                .get("online")
                .and_then(Value::as_object)
                .ok_or_else(|| ApiError::missing(&format!("{p}[online]")))?;
            expect_keys(online, &format!("{p}[online]"), &["ip_address", "user_agent"])?;
            let field = |k: &str| -> Result<String, ApiError> {
                let name = format!("{p}[online][{k}]");
                str_at(online.get(k), &name)?
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| ApiError::missing(&name))
            };
            Ok(Acceptance {
                kind,
                accepted_at,
                ip_address: Some(field("ip_address")?),
                user_agent: Some(field("user_agent")?),
            })
        }
        "offline" => Ok(Acceptance {
            kind,
            accepted_at,
            ip_address: None,
            user_agent: None,
        }),
        _ => Err(ApiError::invalid(
            &format!("{p}[type]"),
            "Invalid mandate_data[customer_acceptance][type]: must be one of online, offline",
        )),
    }
}

/// `GET /v1/payment_methods/{id}`.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| s.payments.methods.get(id).map(PaymentMethod::to_json))
        .ok_or_else(|| ApiError::not_found("payment_method", id, "payment_method"))
}

/// `GET /v1/payment_methods?customer=…&type=us_bank_account`: a customer's
/// methods, newest first (`customer` is required, as at Stripe).
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["customer", "type", "limit", "starting_after", "ending_before", "expand"])?;
    let customer = q.str("customer")?.ok_or_else(|| ApiError::missing("customer"))?;
    match q.str("type")?.as_deref() {
        None | Some("us_bank_account") => {}
        Some(other) => return Err(refused_type(other, "type")),
    }
    sb.read(key, |s| {
        if s.live_customer(&customer).is_none() {
            return Err(ApiError::not_found("customer", &customer, "customer"));
        }
        let mut items: Vec<&PaymentMethod> = s
            .payments
            .methods
            .values()
            .filter(|m| m.customer.as_deref() == Some(customer.as_str()))
            .collect();
        items.sort_by_key(|m| std::cmp::Reverse(m.seq));
        let rendered: Vec<Value> = items.iter().map(|m| m.to_json()).collect();
        paginate(
            rendered.iter().collect(),
            |m| m["id"].as_str().unwrap_or_default(),
            q,
            "/v1/payment_methods",
        )
    })
}

/// `GET /v1/mandates/{id}`.
pub fn retrieve_mandate(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| s.payments.mandates.get(id).map(|m| m.to_json()))
        .ok_or_else(|| ApiError::not_found("mandate", id, "mandate"))
}

/// Control surface, `GET /_sandbox/mandates`: the key's mandates, newest
/// first (Stripe names a payment's mandate on its charge, which the sandbox
/// does not make).
pub fn list_mandates(sb: &Sandbox, key: &str) -> Value {
    let mut data: Vec<(i64, Value)> = sb.read(key, |s| {
        s.payments
            .mandates
            .values()
            .map(|m| (m.acceptance.accepted_at, m.to_json()))
            .collect()
    });
    data.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    serde_json::json!({ "object": "list", "data": data.into_iter().map(|(_, m)| m).collect::<Vec<_>>() })
}
