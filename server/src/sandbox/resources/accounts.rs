//! Financial Connections accounts: list and retrieve,
//! the actions (refresh, disconnect, subscribe, unsubscribe), owners, and
//! the control surface's status changes and refresh failures.

use super::list::paginate;
use crate::sandbox::clock::now;
use crate::sandbox::error::ApiError;
use crate::sandbox::kinds::AccountStatus;
use crate::sandbox::params::{expect_keys, str_at, Params};
use crate::sandbox::state::{Account, Feature, Sandbox};
use crate::sandbox::work::refresh;
use serde_json::{json, Value};

/// `GET /v1/financial_connections/accounts`.
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&[
        "account_holder",
        "session",
        "limit",
        "starting_after",
        "ending_before",
        "expand",
    ])?;
    let (mut customer, mut account) = (None, None);
    if let Some(h) = q.obj("account_holder")? {
        expect_keys(h, "account_holder", &["customer", "account"])?;
        customer = str_at(h.get("customer"), "account_holder[customer]")?;
        account = str_at(h.get("account"), "account_holder[account]")?;
        if customer.is_some() && account.is_some() {
            return Err(ApiError::invalid(
                "account_holder",
                "You may only specify one of account_holder[customer] and account_holder[account].",
            ));
        }
    }
    let session = q.str("session")?;
    sb.read(key, |s| {
        let items: Vec<&Account> = s
            .accounts
            .iter()
            .rev()
            .filter(|a| {
                customer
                    .as_ref()
                    .is_none_or(|c| a.account_holder.customer.as_ref() == Some(c))
            })
            .filter(|a| account.as_ref().is_none_or(|c| a.account_holder.account.as_ref() == Some(c)))
            .filter(|a| session.as_ref().is_none_or(|sid| &a.session == sid))
            .collect();
        paginate(items, |a| &a.id, q, "/v1/financial_connections/accounts")
    })
}

/// `GET /v1/financial_connections/accounts/{id}` (`expand[]` is the edge's).
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| s.account_json(id))
}

/// `features[]` of a refresh, subscribe or unsubscribe call.
fn features(p: &Params, allowed: &[&str]) -> Result<Vec<Feature>, ApiError> {
    let raw = p.list("features", allowed)?;
    if raw.is_empty() {
        return Err(ApiError::missing("features"));
    }
    Ok(raw.iter().filter_map(|f| Feature::parse(f)).collect())
}

/// `POST …/accounts/{id}/refresh`: all or nothing, one feature the account
/// cannot refresh refuses the call; one already running or too recent is
/// left as it is.
pub fn refresh(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["features", "expand"])?;
    let wanted = features(p, &["balance", "ownership", "transactions"])?;
    let timing = sb.timing;
    sb.with_space(key, |s| {
        for f in &wanted {
            refresh::check(s, id, *f)?;
        }
        for f in wanted {
            refresh::start(s, id, f, &timing)?;
        }
        s.account_json(id)
    })
}

/// `POST …/accounts/{id}/disconnect`.
pub fn disconnect(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["expand"])?;
    sb.with_space(key, |s| {
        let a = s.account_or_404(id)?;
        if a.status != AccountStatus::Disconnected {
            a.status = AccountStatus::Disconnected;
            a.subscriptions.clear();
            s.emit("financial_connections.account.disconnected", id);
        }
        s.account_json(id)
    })
}

/// `POST …/accounts/{id}/subscribe`: refreshes transactions now and then daily.
pub fn subscribe(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["features", "expand"])?;
    features(p, &["transactions"])?;
    let timing = sb.timing;
    sb.with_space(key, |s| {
        refresh::subscribe(s, id, &timing)?;
        s.account_json(id)
    })
}

/// `POST …/accounts/{id}/unsubscribe`.
pub fn unsubscribe(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["features", "expand"])?;
    features(p, &["transactions"])?;
    sb.with_space(key, |s| {
        s.account_or_404(id)?.subscriptions.retain(|x| x != "transactions");
        s.account_json(id)
    })
}

/// `GET …/accounts/{id}/owners?ownership=…`.
pub fn owners(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["ownership", "limit", "starting_after", "ending_before", "expand"])?;
    let ownership = q.str("ownership")?.ok_or_else(|| ApiError::missing("ownership"))?;
    sb.read(key, |s| {
        let a = s
            .account(id)
            .ok_or_else(|| ApiError::not_found("financial_connections.account", id, "account"))?;
        if a.ownership.as_deref() != Some(ownership.as_str()) {
            return Err(ApiError::not_found(
                "financial_connections.account_ownership",
                &ownership,
                "ownership",
            ));
        }
        let o = s
            .ownerships
            .get(&ownership)
            .ok_or_else(|| ApiError::not_found("ownership", &ownership, "ownership"))?;
        let url = format!("/v1/financial_connections/accounts/{id}/owners");
        paginate(o.owners.iter().collect(), |x| &x.id, q, &url)
    })
}

/// Control surface, `status=inactive|active`: what an institution does when
/// access lapses or returns (emits `.deactivated` / `.reactivated`).
pub fn set_status(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["status"])?;
    let status = match p.str("status")?.as_deref() {
        Some("inactive") => AccountStatus::Inactive,
        Some("active") => AccountStatus::Active,
        _ => return Err(ApiError::invalid("status", "status must be inactive or active.")),
    };
    sb.with_space(key, |s| {
        let a = s.account_or_404(id)?;
        if a.status == AccountStatus::Disconnected {
            return Err(ApiError::invalid("status", "A disconnected account cannot change status."));
        }
        let changed = a.status != status;
        a.status = status;
        if status == AccountStatus::Inactive {
            // What was announced has happened.
            a.status_details = json!({});
        }
        if changed {
            let kind = if status == AccountStatus::Inactive {
                "deactivated"
            } else {
                "reactivated"
            };
            s.emit(&format!("financial_connections.account.{kind}"), id);
        }
        s.account_json(id)
    })
}

/// Control surface, `count=N`: the key's next N refreshes fail.
pub fn fail_next_refreshes(sb: &Sandbox, key: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["count"])?;
    let n = p
        .str("count")?
        .and_then(|c| c.parse::<u32>().ok())
        .filter(|n| *n <= 1000)
        .ok_or_else(|| ApiError::invalid("count", "count must be an integer from 0 to 1000."))?;
    sb.with_space(key, |s| s.fail_next_refreshes = n);
    Ok(json!({ "fail_next_refreshes": n }))
}

/// Control surface, what happens to an account's numbers at the bank:
/// `event=upcoming_expiry[&expires_at=unix]` (default 30 days on) sets their
/// `expected_expiry_date` and emits `.upcoming_account_number_expiry`;
/// `event=updated` gives them new numbers (no expiry) and emits
/// `.account_numbers_updated`. Both events exist from API version 2026-09-30.
pub fn account_numbers(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["event", "expires_at"])?;
    let expires_at = match p.str("expires_at")? {
        None => now() + 30 * 86_400,
        Some(t) => t
            .parse::<i64>()
            .map_err(|_| ApiError::invalid("expires_at", "expires_at must be a Unix time in seconds."))?,
    };
    let event = match p.str("event")?.as_deref() {
        Some("upcoming_expiry") => "financial_connections.account.upcoming_account_number_expiry",
        Some("updated") => "financial_connections.account.account_numbers_updated",
        _ => return Err(ApiError::invalid("event", "event must be upcoming_expiry or updated.")),
    };
    let updated = event.ends_with("account_numbers_updated");
    sb.with_space(key, |s| {
        let a = s.account_or_404(id)?;
        if a.account_numbers.is_empty() {
            return Err(ApiError::invalid(
                "account",
                "The account has no account numbers (it was not linked for us_bank_account payments).",
            ));
        }
        for n in &mut a.account_numbers {
            n.expected_expiry_date = if updated { None } else { Some(expires_at) };
        }
        s.emit(event, id);
        s.account_json(id)
    })
}
