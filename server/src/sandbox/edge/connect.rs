//! The browser half of the sandbox: the Stripe.js stand-in script, the modal
//! page it opens in an iframe, and the JSON endpoints the modal calls
//! (`/connect/api/*`, authenticated by publishable key + client secret, the
//! way Stripe.js's own calls are). What those calls do is
//! [`crate::sandbox::resources::modal`].

use super::{reply, Edge};
use crate::sandbox::error::ApiError;
use crate::sandbox::resources::collect_for_payment::{self, Collected, Typed};
use crate::sandbox::resources::modal::{self, Choice};
use crate::sandbox::state::BillingDetails;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

const STRIPE_JS: &str = include_str!("../assets/stripe.js");
const MODAL_HTML: &str = include_str!("../assets/modal.html");
const MODAL_JS: &str = include_str!("../assets/modal.js");
const MODAL_CSS: &str = include_str!("../assets/modal.css");
const OAUTH_HTML: &str = include_str!("../assets/oauth.html");

pub fn router(edge: Arc<Edge>) -> Router {
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
        .route("/connect/api/payment_session", post(payment_session))
        .route("/connect/api/manual", post(manual))
        .with_state(edge)
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
    /// `accounts` (collectFinancialConnectionsAccounts), `token`
    /// (collectBankAccountToken) or `payment` (collectBankAccountForPayment).
    #[serde(default)]
    flow: String,
    /// The PaymentIntent's client secret (`payment` flow; `client_secret`
    /// is then the modal's session's).
    #[serde(default)]
    payment_intent_secret: String,
    #[serde(default)]
    billing_details: Billing,
    #[serde(default)]
    routing_number: String,
    #[serde(default)]
    account_number: String,
    #[serde(default)]
    account_type: String,
}

/// `billing_details` as Stripe.js takes them.
#[derive(Deserialize, Default)]
struct Billing {
    name: Option<String>,
    email: Option<String>,
}

impl Billing {
    fn details(&self) -> BillingDetails {
        let clean = |s: &Option<String>| {
            s.as_ref()
                .map(|x| x.chars().take(512).collect::<String>())
                .filter(|x| !x.is_empty())
        };
        BillingDetails {
            name: clean(&self.name),
            email: clean(&self.email),
            phone: None,
        }
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

async fn session(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| modal::view(&edge.sandbox, &req.client_secret)))
}

async fn complete(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| {
        if req.flow == "payment" {
            let collected = Collected {
                billing: req.billing_details.details(),
                institution: &req.institution,
                accounts: &req.accounts,
            };
            return collect_for_payment::complete(&edge.sandbox, &req.payment_intent_secret, &req.client_secret, collected);
        }
        let choice = Choice {
            institution: &req.institution,
            accounts: &req.accounts,
            token_flow: req.flow == "token",
            payment_flow: false,
        };
        modal::complete(&edge.sandbox, &req.client_secret, choice)
    }))
}

async fn cancel(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| {
        if req.flow == "payment" {
            collect_for_payment::cancel(&edge.sandbox, &req.payment_intent_secret, &req.client_secret)
        } else {
            modal::cancel(&edge.sandbox, &req.client_secret)
        }
    }))
}

/// `collectBankAccountForPayment`: the modal's session for a PaymentIntent.
async fn payment_session(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| collect_for_payment::start(&edge.sandbox, &req.payment_intent_secret)))
}

/// `collectBankAccountForPayment`: bank details typed in instead of linked.
async fn manual(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| {
        let typed = Typed {
            routing_number: req.routing_number.clone(),
            account_number: req.account_number.clone(),
            account_type: if req.account_type.is_empty() {
                "checking".to_owned()
            } else {
                req.account_type.clone()
            },
        };
        let billing = req.billing_details.details();
        collect_for_payment::manual(&edge.sandbox, &req.payment_intent_secret, &req.client_secret, billing, typed)
    }))
}

async fn fail(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| Err(modal::fail(&edge.sandbox, &req.client_secret, &req.institution))))
}
