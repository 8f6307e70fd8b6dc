//! The built-in sandbox: an offline, stateful, Stripe-compatible Financial
//! Connections API ([`api`]) plus a Stripe.js stand-in with a modal
//! ([`connect`]). Mounted at `/sandbox` when no Stripe keys are set;
//! `server sandbox --addr …` serves it alone.

pub mod api;
pub mod catalog;
pub mod connect;
pub mod data;
pub mod error;
pub mod faults;
pub mod form;
pub mod refresh;
pub mod store;
pub mod webhooks;

pub use store::Sandbox;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;

/// Largest request body the sandbox reads.
pub const MAX_BODY: usize = 64 * 1024;

/// The whole sandbox, to be nested (at `/sandbox`) or served alone.
/// Every response carries a `Request-Id`, as Stripe's do, and a body over
/// [`MAX_BODY`] gets a Stripe-shaped 413.
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    api::router(sandbox.clone())
        .merge(connect::router(sandbox.clone()))
        .layer(axum::middleware::from_fn_with_state(sandbox, faults::inject))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .layer(axum::middleware::map_response(stripe_shaped))
}

async fn stripe_shaped(resp: Response) -> Response {
    let mut resp = if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&resp) {
        error::ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..error::ApiError::invalid("", format!("Request bodies are limited to {MAX_BODY} bytes."))
        }
        .into_response()
    } else {
        resp
    };
    if let Ok(v) = HeaderValue::from_str(&store::new_id("req_")) {
        resp.headers_mut().insert("Request-Id", v);
    }
    resp
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
