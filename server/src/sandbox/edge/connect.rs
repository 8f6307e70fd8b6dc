//! The browser half of the sandbox: the Stripe.js stand-in script, the modal
//! page it opens in an iframe, and the JSON endpoints the modal calls
//! (`/connect/api/*`, authenticated by publishable key + client secret, the
//! way Stripe.js's own calls are). What those calls do is
//! [`crate::sandbox::resources::modal`].

use super::{reply, Edge};
use crate::sandbox::error::ApiError;
use crate::sandbox::resources::modal::{self, Choice};
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
    /// `accounts` (collectFinancialConnectionsAccounts) or `token` (collectBankAccountToken).
    #[serde(default)]
    flow: String,
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
        let choice = Choice {
            institution: &req.institution,
            accounts: &req.accounts,
            token_flow: req.flow == "token",
        };
        modal::complete(&edge.sandbox, &req.client_secret, choice)
    }))
}

async fn cancel(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| modal::cancel(&edge.sandbox, &req.client_secret)))
}

async fn fail(State(edge): State<Arc<Edge>>, Json(req): Json<ModalRequest>) -> Response {
    reply(check_key(&req).and_then(|_| Err(modal::fail(&edge.sandbox, &req.client_secret, &req.institution))))
}
