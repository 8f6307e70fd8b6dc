//! The browser half of the sandbox: the Stripe.js stand-in script, the modal
//! page it opens in an iframe, and the JSON endpoints the modal calls
//! (`/connect/api/*`, authenticated by publishable key + client secret, the
//! way Stripe.js's own calls are).

use super::catalog;
use super::catalog::INSTITUTIONS;
use super::error::ApiError;
use super::refresh;
use super::store::{bank_token, cancel_session, complete_session, resolve_choice, Feature, ModalError, Sandbox, SessionState};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

const STRIPE_JS: &str = include_str!("assets/stripe.js");
const MODAL_HTML: &str = include_str!("assets/modal.html");
const MODAL_JS: &str = include_str!("assets/modal.js");
const MODAL_CSS: &str = include_str!("assets/modal.css");
const OAUTH_HTML: &str = include_str!("assets/oauth.html");

/// The routing number the sandbox's bank tokens carry (Stripe's test one).
pub const TEST_ROUTING_NUMBER: &str = "110000000";

pub fn router(sandbox: Arc<Sandbox>) -> Router {
    Router::new()
        .route(
            "/js/stripe.js",
            get(|| asset("application/javascript; charset=utf-8", STRIPE_JS)),
        )
        .route("/v3/", get(|| asset("application/javascript; charset=utf-8", STRIPE_JS)))
        .route("/connect/modal", get(|| asset("text/html; charset=utf-8", MODAL_HTML)))
        .route(
            "/connect/modal.js",
            get(|| asset("application/javascript; charset=utf-8", MODAL_JS)),
        )
        .route("/connect/modal.css", get(|| asset("text/css; charset=utf-8", MODAL_CSS)))
        .route("/connect/oauth", get(|| asset("text/html; charset=utf-8", OAUTH_HTML)))
        .route("/connect/api/fail", post(fail))
        .route("/connect/api/session", post(session))
        .route("/connect/api/complete", post(complete))
        .route("/connect/api/cancel", post(cancel))
        .with_state(sandbox)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

#[derive(Deserialize)]
struct ModalRequest {
    client_secret: String,
    publishable_key: String,
    #[serde(default)]
    institution: String,
    #[serde(default)]
    accounts: Vec<String>,
    /// `accounts` (collectFinancialConnectionsAccounts) or `token` (collectBankAccountToken).
    #[serde(default)]
    flow: String,
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

fn check_key(req: &ModalRequest) -> Result<(), ApiError> {
    let k = &req.publishable_key;
    if k.starts_with("pk_test_") && k.len() > 8 && k.len() <= 255 {
        Ok(())
    } else {
        Err(ApiError::unauthorized("Invalid publishable key."))
    }
}

fn reply(r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// What the modal shows: the session's permissions and the institutions and
/// accounts it may offer under the session's filters.
async fn session(State(sb): State<Arc<Sandbox>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| {
        sb.with_open_session(&req.client_secret, |_, s, _| {
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
                "session": { "id": s.id, "permissions": s.permissions, "limit": s.limit_accounts },
                "institutions": institutions,
            })
        })
        .map_err(modal_error)
    }))
}

async fn complete(State(sb): State<Arc<Sandbox>>, Json(req): Json<ModalRequest>) -> Response {
    let done = check_key(&req).and_then(|_| {
        sb.with_open_session(&req.client_secret, |key, s, space| {
            let (inst, chosen) = resolve_choice(s, &req.institution, &req.accounts)?;
            if chosen.is_empty() {
                return Err(ApiError::invalid("accounts", "Select at least one account."));
            }
            let token_flow = req.flow == "token";
            if token_flow {
                if chosen.len() != 1 {
                    return Err(ApiError::invalid(
                        "accounts",
                        "Select exactly one account to receive payouts.",
                    ));
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
            let mut result = json!({ "financialConnectionsSession": complete_session(s, space, inst, &chosen) });
            if token_flow {
                let linked = s.linked.last().cloned().unwrap_or_default();
                result["token"] = bank_token(space, &linked, TEST_ROUTING_NUMBER).unwrap_or_default();
            }
            // `prefetch[]` starts refreshes at link time.
            let mut started = Vec::new();
            for feature in s.prefetch.iter().filter_map(|p| Feature::from_prefetch(p)) {
                for id in &s.linked {
                    if refresh::start(space, id, feature).unwrap_or(false) {
                        started.push((id.clone(), feature));
                    }
                }
            }
            Ok((key.to_owned(), started, result))
        })
        .map_err(modal_error)?
    });
    reply(done.map(|(key, started, body)| {
        for (id, feature) in started {
            refresh::schedule(&sb, &key, &id, feature);
        }
        body
    }))
}

async fn cancel(State(sb): State<Arc<Sandbox>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| {
        sb.with_open_session(
            &req.client_secret,
            |_, s, _| json!({ "financialConnectionsSession": cancel_session(s) }),
        )
        .map_err(modal_error)
    }))
}

/// The user picked an institution that is down and gave up: the flow ends
/// with that institution's error code, and the client secret is spent.
async fn fail(State(sb): State<Arc<Sandbox>>, Json(req): Json<ModalRequest>) -> Response {
    let result = check_key(&req).and_then(|_| {
        let (code, message) = catalog::institution(&req.institution)
            .and_then(|i| i.down)
            .ok_or_else(|| ApiError::invalid("institution", "That institution is not down."))?;
        sb.with_open_session(&req.client_secret, |_, s, _| s.state = SessionState::Used)
            .map_err(modal_error)?;
        Err::<Value, _>(ApiError {
            code: Some(code),
            kind: "api_error",
            ..ApiError::invalid("institution", message)
        })
    });
    reply(result)
}
