//! What the sandbox's modal does with a session, reached by its client
//! secret: show the institutions and accounts the session's filters allow,
//! link the ticked accounts (and make a bank token in the token flow), end
//! with nothing linked, or fail at a bank that is down. Errors have
//! Stripe.js's shapes (`session_expired`, `institution_down_scheduled`, …).

use super::tokens::{bank_token, TEST_ROUTING_NUMBER};
use crate::sandbox::catalog::{self, AccountTemplate, Institution, INSTITUTIONS};
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::{Account, AccountNumber, Feature, ModalError, Sandbox, Session, SessionState, Space};
use crate::sandbox::work::refresh;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// What the person picked in the modal.
pub struct Choice<'a> {
    pub institution: &'a str,
    pub accounts: &'a [String],
    /// `collectBankAccountToken`'s flow: exactly one ACH-capable account.
    pub token_flow: bool,
    /// `collectBankAccountForPayment`'s flow: exactly one ACH-capable account, to pay from.
    pub payment_flow: bool,
}

fn modal_error(e: ModalError) -> ApiError {
    let (code, message) = match e {
        ModalError::Unknown => (
            "resource_missing",
            "The client secret is invalid or its session does not exist.",
        ),
        ModalError::Expired => ("session_expired", "This session has expired. Create a new one."),
        ModalError::Used => (
            "session_already_used",
            "This session was already used. Create a new one for every attempt.",
        ),
    };
    ApiError {
        code: Some(code),
        status: StatusCode::BAD_REQUEST,
        ..ApiError::invalid("client_secret", message)
    }
}

/// What the modal shows: the session's permissions and the institutions and
/// accounts it may offer under the session's filters.
pub fn view(sb: &Sandbox, client_secret: &str) -> Result<Value, ApiError> {
    sb.with_open_session(client_secret, |_, s, _| {
        let institutions: Vec<Value> = INSTITUTIONS
            .iter()
            .map(|i| {
                let accounts: Vec<Value> = i
                    .accounts
                    .iter()
                    .filter(|t| s.offers(t))
                    .map(|t| {
                        json!({
                            "key": t.key,
                            "display_name": t.display_name,
                            "subcategory": t.subcategory,
                            "subcategory_label": t.subcategory.label(),
                            "last4": t.last4,
                            "preselected": t.preselected,
                            "ach": t.ach,
                        })
                    })
                    .collect();
                json!({
                    "id": i.id,
                    "name": i.name,
                    "accounts": accounts,
                    "oauth": i.oauth,
                    "down": i.down.map(|(code, message)| json!({ "code": code, "message": message })),
                })
            })
            .collect();
        json!({
            "session": {
                "id": s.id,
                "permissions": s.permissions,
                "limit": s.limit_accounts,
                "manual_entry": s.manual_entry_mode,
            },
            "institutions": institutions,
        })
    })
    .map_err(modal_error)
}

/// Links the chosen accounts (and, in the token flow, makes the bank
/// token); `prefetch[]` starts their refreshes.
pub fn complete(sb: &Sandbox, client_secret: &str, choice: Choice) -> Result<Value, ApiError> {
    let timing = sb.timing;
    sb.with_open_session(client_secret, |_, s, space| {
        let (inst, chosen) = resolve_choice(s, choice.institution, choice.accounts)?;
        if chosen.is_empty() {
            return Err(ApiError::invalid("accounts", "Select at least one account."));
        }
        if choice.token_flow || choice.payment_flow {
            if chosen.len() != 1 {
                return Err(ApiError::invalid("accounts", "Select exactly one account."));
            }
            if !chosen[0].ach || !s.permissions.iter().any(|p| p == "payment_method") {
                return Err(ApiError {
                    code: Some("account_not_supported"),
                    ..ApiError::invalid(
                        "accounts",
                        "This account cannot be used for bank payments (no us_bank_account support).",
                    )
                });
            }
        }
        space.room_for_accounts(chosen.len())?;
        let mut result = json!({ "financialConnectionsSession": link(s, space, inst, &chosen) });
        if choice.token_flow {
            let linked = s.linked.last().cloned().unwrap_or_default();
            result["token"] = bank_token(space, &linked, TEST_ROUTING_NUMBER).unwrap_or_default();
        }
        for feature in s.prefetch.iter().filter_map(|p| Feature::from_prefetch(p)) {
            for id in &s.linked {
                let _ = refresh::start(space, id, feature, &timing);
            }
        }
        Ok(result)
    })
    .map_err(modal_error)?
}

/// `POST /_sandbox/sessions/{id}/complete`: completes a session of the
/// calling key as a person in the modal would, for tests without a browser.
/// `institution` (default `test_institution`), `accounts[]` (the catalog's
/// keys; default the institution's preselected ones the session offers) and
/// `flow=accounts|token`; answers what Stripe.js's promise resolves with.
pub fn complete_session(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["institution", "accounts", "flow"])?;
    let institution = p.str("institution")?.unwrap_or_else(|| "test_institution".to_owned());
    let token_flow = match p.str("flow")?.as_deref() {
        None | Some("accounts") => false,
        Some("token") => true,
        Some(_) => return Err(ApiError::invalid("flow", "flow must be accounts or token.")),
    };
    let mut accounts = p.list("accounts", &[])?;
    let secret = sb.read(key, |s| {
        let session = s
            .sessions
            .get(id)
            .ok_or_else(|| ApiError::not_found("financial_connections.session", id, "session"))?;
        if accounts.is_empty() {
            let inst =
                catalog::institution(&institution).ok_or_else(|| ApiError::invalid("institution", "Unknown institution."))?;
            accounts = inst
                .accounts
                .iter()
                .filter(|t| t.preselected && session.offers(t))
                .map(|t| t.key.to_owned())
                .collect();
        }
        Ok::<_, ApiError>(session.client_secret.clone())
    })?;
    let choice = Choice {
        institution: &institution,
        accounts: &accounts,
        token_flow,
        payment_flow: false,
    };
    complete(sb, &secret, choice)
}

/// Ends the flow with nothing linked: the modal's close button.
pub fn cancel(sb: &Sandbox, client_secret: &str) -> Result<Value, ApiError> {
    sb.with_open_session(client_secret, |_, s, _| {
        s.state = SessionState::Used;
        json!({
            "financialConnectionsSession": {
                "id": s.id,
                "object": "financial_connections.session",
                "accounts": [],
                "livemode": false,
                "permissions": s.permissions,
            }
        })
    })
    .map_err(modal_error)
}

/// The person picked an institution that is down and gave up: the flow ends
/// with that institution's error code, and the client secret is spent.
pub fn fail(sb: &Sandbox, client_secret: &str, institution: &str) -> ApiError {
    let Some((code, message)) = catalog::institution(institution).and_then(|i| i.down) else {
        return ApiError::invalid("institution", "That institution is not down.");
    };
    if let Err(e) = sb.with_open_session(client_secret, |_, s, _| s.state = SessionState::Used) {
        return modal_error(e);
    }
    ApiError {
        code: Some(code),
        kind: "api_error",
        ..ApiError::invalid("institution", message)
    }
}

/// Links the chosen templates of `institution` into `session`, returning the
/// client-side session object Stripe.js resolves with.
fn link(session: &mut Session, space: &mut Space, institution: &Institution, chosen: &[&'static AccountTemplate]) -> Value {
    let created = now();
    let mut linked = Vec::new();
    for t in chosen {
        let mut methods = vec!["link"];
        if t.ach && session.permissions.iter().any(|p| p == "payment_method") {
            methods.push("us_bank_account");
        }
        let account = Account {
            id: new_id("fca_"),
            object: "financial_connections.account",
            account_holder: session.account_holder.clone(),
            account_numbers: if methods.contains(&"us_bank_account") {
                vec![AccountNumber::ach()]
            } else {
                vec![]
            },
            balance: None,
            balance_refresh: None,
            category: t.category,
            created,
            display_name: t.display_name.to_owned(),
            institution_name: institution.name.to_owned(),
            last4: t.last4.to_owned(),
            livemode: false,
            ownership: None,
            ownership_refresh: None,
            permissions: session.permissions.clone(),
            status: t.status,
            status_details: json!({}),
            subcategory: t.subcategory,
            subscriptions: vec![],
            supported_payment_method_types: methods,
            transaction_refresh: None,
            session: session.id.clone(),
            template: t.key,
        };
        linked.push(account.to_json());
        session.linked.push(account.id.clone());
        let id = account.id.clone();
        space.accounts.push(account);
        space.emit("financial_connections.account.created", &id);
    }
    session.state = SessionState::Used;
    json!({
        "id": session.id,
        "object": "financial_connections.session",
        "accounts": linked,
        "livemode": false,
        "permissions": session.permissions,
        "filters": { "countries": session.countries },
    })
}

/// Looks up the institution and the ticked templates the modal sent.
fn resolve_choice(
    session: &Session,
    institution_id: &str,
    keys: &[String],
) -> Result<(&'static Institution, Vec<&'static AccountTemplate>), ApiError> {
    let inst = catalog::institution(institution_id).ok_or_else(|| ApiError::invalid("institution", "Unknown institution."))?;
    let mut chosen = Vec::new();
    for k in keys {
        let t = inst
            .accounts
            .iter()
            .find(|t| t.key == k && session.offers(t))
            .ok_or_else(|| ApiError::invalid("accounts", format!("Unknown account '{k}'.")))?;
        if !chosen.iter().any(|c: &&AccountTemplate| c.key == t.key) {
            chosen.push(t);
        }
    }
    if chosen.len() > session.limit_accounts as usize {
        return Err(ApiError::invalid(
            "accounts",
            format!("At most {} accounts can be linked in this session.", session.limit_accounts),
        ));
    }
    Ok((inst, chosen))
}
