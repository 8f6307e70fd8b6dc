//! Financial Connections sessions: `POST /v1/financial_connections/sessions`
//! (account holder, permissions, prefetch, filters, limits, manual entry,
//! return URL) and `GET …/sessions/{id}`. What the modal does with a
//! session is in [`super::modal`].

use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use crate::sandbox::params::{expect_keys, list_at, str_at, Params};
use crate::sandbox::state::{Account, AccountHolder, Sandbox, Session, SessionState, Space};
use crate::sandbox::version::ApiVersion;
use serde_json::{json, Value};

pub const PERMISSIONS: &[&str] = &["balances", "ownership", "payment_method", "transactions"];
pub const PREFETCH: &[&str] = &["balances", "ownership", "transactions"];
pub const SUBCATEGORIES: &[&str] = &["checking", "savings", "mortgage", "line_of_credit", "credit_card"];

fn parse_account_holder(p: &Params, space: &Space) -> Result<AccountHolder, ApiError> {
    let holder = p.obj("account_holder")?.ok_or_else(|| ApiError::missing("account_holder"))?;
    expect_keys(holder, "account_holder", &["type", "customer", "account"])?;
    let kind = str_at(holder.get("type"), "account_holder[type]")?.ok_or_else(|| ApiError::missing("account_holder[type]"))?;
    match kind.as_str() {
        "customer" => {
            let cus = str_at(holder.get("customer"), "account_holder[customer]")?
                .ok_or_else(|| ApiError::missing("account_holder[customer]"))?;
            if space.live_customer(&cus).is_none() {
                return Err(ApiError::not_found("customer", &cus, "account_holder[customer]"));
            }
            Ok(AccountHolder {
                kind,
                customer: Some(cus),
                account: None,
            })
        }
        "account" => {
            let acct = str_at(holder.get("account"), "account_holder[account]")?
                .ok_or_else(|| ApiError::missing("account_holder[account]"))?;
            if !acct.starts_with("acct_") || acct.len() < 6 {
                return Err(ApiError::invalid("account_holder[account]", "Invalid account id."));
            }
            Ok(AccountHolder {
                kind,
                customer: None,
                account: Some(acct),
            })
        }
        _ => Err(ApiError::invalid(
            "account_holder[type]",
            "Invalid account_holder[type]: must be one of customer, account",
        )),
    }
}

/// `filters`: `countries[]` before 2026-10-28, one `country` from then on
/// (each version refuses the other's name as unknown).
fn parse_filters(p: &Params, version: &ApiVersion) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let (mut countries, mut subcategories) = (vec!["US".to_owned()], vec![]);
    let Some(f) = p.obj("filters")? else {
        return Ok((countries, subcategories));
    };
    if version.country_filter() {
        expect_keys(f, "filters", &["country", "account_subcategories"])?;
        if let Some(c) = str_at(f.get("country"), "filters[country]")? {
            countries = vec![c];
        }
    } else {
        expect_keys(f, "filters", &["countries", "account_subcategories"])?;
        let c = list_at(f.get("countries"), "filters[countries]", &[])?;
        if !c.is_empty() {
            countries = c;
        }
    }
    if let Some(bad) = countries
        .iter()
        .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()))
    {
        let param = if version.country_filter() {
            "filters[country]"
        } else {
            "filters[countries]"
        };
        return Err(ApiError::invalid(
            param,
            format!("Invalid country: {bad}. Use a two-letter country code (US)."),
        ));
    }
    subcategories = list_at(
        f.get("account_subcategories"),
        "filters[account_subcategories]",
        SUBCATEGORIES,
    )?;
    Ok((countries, subcategories))
}

fn parse_session(p: &Params, space: &Space, version: &ApiVersion) -> Result<Session, ApiError> {
    p.only(&[
        "account_holder",
        "permissions",
        "prefetch",
        "filters",
        "limits",
        "manual_entry",
        "return_url",
        "expand",
    ])?;
    let account_holder = parse_account_holder(p, space)?;
    let permissions = p.list("permissions", PERMISSIONS)?;
    if permissions.is_empty() {
        return Err(ApiError::missing("permissions"));
    }
    let prefetch = p.list("prefetch", PREFETCH)?;
    let (countries, subcategories) = parse_filters(p, version)?;
    let mut limit_accounts = 100;
    if let Some(l) = p.obj("limits")? {
        expect_keys(l, "limits", &["accounts"])?;
        if let Some(n) = str_at(l.get("accounts"), "limits[accounts]")? {
            limit_accounts = n
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| ApiError::invalid("limits[accounts]", "limits[accounts] must be an integer from 1 to 100."))?;
        }
    }
    let mut manual_entry_mode = "automatic".to_owned();
    if let Some(m) = p.obj("manual_entry")? {
        expect_keys(m, "manual_entry", &["mode"])?;
        if let Some(mode) = str_at(m.get("mode"), "manual_entry[mode]")? {
            if mode != "automatic" && mode != "disabled" {
                return Err(ApiError::invalid(
                    "manual_entry[mode]",
                    "manual_entry[mode] must be one of automatic, disabled",
                ));
            }
            manual_entry_mode = mode;
        }
    }
    let return_url = p.str("return_url")?;
    if let Some(u) = &return_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(ApiError::invalid("return_url", "return_url must be an http(s) URL."));
        }
    }
    let id = new_id("fcsess_");
    let client_secret = format!("{id}_secret_{}", new_id(""));
    Ok(Session {
        id,
        client_secret,
        account_holder,
        permissions,
        prefetch,
        countries,
        subcategories,
        limit_accounts,
        manual_entry_mode,
        return_url,
        created: now(),
        state: SessionState::Open,
        linked: vec![],
    })
}

/// `POST /v1/financial_connections/sessions`, its `filters` as `version` names them.
pub fn create(sb: &Sandbox, key: &str, version: &ApiVersion, p: &Params) -> Result<Value, ApiError> {
    let session = sb.read(key, |s| parse_session(p, s, version))?;
    sb.insert_session(key, session)
}

/// `GET /v1/financial_connections/sessions/{id}`, with the accounts it linked.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| {
        let session = s
            .sessions
            .get(id)
            .ok_or_else(|| ApiError::not_found("financial_connections.session", id, "session"))?;
        let linked: Vec<&Account> = s.accounts.iter().filter(|a| a.session == session.id).collect();
        Ok(json!(session.to_json(&linked)))
    })
}
