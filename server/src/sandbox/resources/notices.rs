//! Control surface: what Stripe announces about an account before it
//! happens, for the events no request or clock of the sandbox causes on its
//! own (documented beside the other `/_sandbox` calls in the README).
//!
//! - `POST /_sandbox/accounts/{id}/deactivation`
//!   `[expected_deactivation_date=UNIX]` (default 7 days on; empty withdraws
//!   the notice) `[cause=access_expired|institution_requirement|unspecified]`:
//!   the institution's authorization that linked the account (every active
//!   account of its session) is about to lapse. Each account gets
//!   `status_details.active` and emits `.account.upcoming_deactivation` (or,
//!   when it had a date already, `.account.expected_deactivation_date_updated`),
//!   and the authorization emits `.authorization.upcoming_deactivation` (or
//!   `.authorization.expected_deactivation_date_updated`). Deactivating the
//!   account (`/_sandbox/accounts/{id}/status`) clears the notice.
//! - `POST /_sandbox/accounts/{id}/supported_payment_method_types`
//!   `types[]=link&types[]=us_bank_account`: what the account can be used for
//!   changes; emits `.supported_payment_method_types_updated` when it did.

use crate::sandbox::clock::now;
use crate::sandbox::error::ApiError;
use crate::sandbox::kinds::AccountStatus;
use crate::sandbox::params::Params;
use crate::sandbox::state::Sandbox;
use serde_json::{json, Value};

/// How far ahead a deactivation is announced when no date is given.
const NOTICE_SECS: i64 = 7 * 86_400;

const CAUSES: [&str; 3] = ["access_expired", "institution_requirement", "unspecified"];
const METHOD_TYPES: [&str; 2] = ["link", "us_bank_account"];

/// `expected_deactivation_date` of an account's (or authorization's) notice.
fn announced(status_details: &Value) -> Option<i64> {
    status_details["active"]["expected_deactivation_date"].as_i64()
}

/// `POST /_sandbox/accounts/{id}/deactivation`.
pub fn deactivation(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["expected_deactivation_date", "cause"])?;
    let date = match p.str("expected_deactivation_date")?.as_deref() {
        None => Some(now() + NOTICE_SECS),
        Some("") => None,
        Some(t) => Some(t.parse::<i64>().ok().filter(|t| *t > 0).ok_or_else(|| {
            ApiError::invalid(
                "expected_deactivation_date",
                "expected_deactivation_date must be a Unix time in seconds (or empty to withdraw the notice).",
            )
        })?),
    };
    let cause = p.str("cause")?.unwrap_or_else(|| CAUSES[0].to_owned());
    if !CAUSES.contains(&cause.as_str()) {
        return Err(ApiError::invalid(
            "cause",
            format!("cause must be one of {}.", CAUSES.join(", ")),
        ));
    }
    let details = match date {
        Some(d) => json!({ "active": { "action": "relink_required", "cause": cause, "expected_deactivation_date": d } }),
        None => json!({}),
    };
    sb.with_space(key, |s| {
        let a = s.account_or_404(id)?;
        if a.status != AccountStatus::Active {
            return Err(ApiError::invalid(
                "account",
                format!(
                    "The account is {}: only an active account can be about to deactivate.",
                    a.status.as_str()
                ),
            ));
        }
        let (session, institution) = (a.session.clone(), a.institution_name.clone());
        let same_authorization: Vec<String> = s
            .accounts
            .iter()
            .filter(|a| a.session == session && a.status == AccountStatus::Active)
            .map(|a| a.id.clone())
            .collect();
        let mut had_notice = false;
        let mut changed = false;
        for account in &same_authorization {
            let Some(a) = s.account_mut(account) else { continue };
            let before = announced(&a.status_details);
            had_notice |= before.is_some();
            a.status_details = details.clone();
            if before == date {
                continue;
            }
            changed = true;
            let kind = if before.is_none() {
                "upcoming_deactivation"
            } else {
                "expected_deactivation_date_updated"
            };
            s.emit(&format!("financial_connections.account.{kind}"), account);
        }
        if changed {
            let kind = if had_notice {
                "expected_deactivation_date_updated"
            } else {
                "upcoming_deactivation"
            };
            let authorization = json!({
                "id": format!("fcauth_{}", session.trim_start_matches("fcsess_")),
                "object": "financial_connections.authorization",
                "institution_name": institution,
                "livemode": false,
                "status": "active",
                "status_details": details,
            });
            s.emit_object(&format!("financial_connections.authorization.{kind}"), authorization);
        }
        s.account_json(id)
    })
}

/// `POST /_sandbox/accounts/{id}/supported_payment_method_types`.
pub fn supported_payment_method_types(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["types"])?;
    let given = p.list("types", &METHOD_TYPES)?;
    // In Stripe's order, as the constants.
    let types: Vec<&'static str> = METHOD_TYPES
        .iter()
        .copied()
        .filter(|t| given.iter().any(|g| g == t))
        .collect();
    sb.with_space(key, |s| {
        let a = s.account_or_404(id)?;
        if a.supported_payment_method_types != types {
            a.supported_payment_method_types = types;
            s.emit("financial_connections.account.supported_payment_method_types_updated", id);
        }
        s.account_json(id)
    })
}
