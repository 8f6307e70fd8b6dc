//! The built-in sandbox: an offline, stateful, Stripe-compatible Financial
//! Connections API ([`api`]) plus a Stripe.js stand-in with a modal
//! ([`connect`]). Mounted at `/sandbox` when no Stripe keys are set;
//! `server sandbox --addr …` serves it alone.

pub mod api;
pub mod catalog;
pub mod connect;
pub mod data;
pub mod error;
pub mod form;
pub mod refresh;
pub mod store;

pub use store::Sandbox;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::Router;
use std::sync::Arc;

/// Largest request body the sandbox reads.
pub const MAX_BODY: usize = 64 * 1024;

/// The whole sandbox, to be nested (at `/sandbox`) or served alone.
/// Every response carries a `Request-Id`, as Stripe's do.
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    api::router(sandbox.clone())
        .merge(connect::router(sandbox))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(|mut resp: axum::response::Response| async move {
            if let Ok(v) = HeaderValue::from_str(&store::new_id("req_")) {
                resp.headers_mut().insert("Request-Id", v);
            }
            resp
        }))
}
