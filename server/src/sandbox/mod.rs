//! The built-in sandbox: an offline, stateful, Stripe-compatible Financial
//! Connections API, with ACH Direct Debit payments from linked accounts,
//! plus a Stripe.js stand-in with a modal. Mounted at
//! `/sandbox` when no Stripe keys are set; `server sandbox --addr …` serves
//! it alone. It imports nothing of the app it stands in for: only the
//! neutral [`crate::wire`] (signatures, the API version). Anyone who reaches
//! it may use it with any test key, so what it keeps and does is bounded
//! ([`Limits`]) and its webhooks go only to loopback (or, standalone, to an
//! allow-list: [`urls`]). Its state survives restarts in a SQLite file of
//! its own ([`state::persist`]), unless it is told to keep it in memory.
//!
//! Its modules import one way, top to bottom:
//!
//! ```text
//! edge/        HTTP: routes, auth, idempotency, faults, Request-Id, the request
//!              log, the modal's and Stripe.js's endpoints
//!   ↓
//! resources/   what requests do: customers, sessions (+ modal), accounts,
//!              transactions, tokens, events and webhook endpoints, payments
//!              (intents, confirming, methods, mandates, collect-for-payment),
//!              the request log
//!   ↓
//! work/        what the clock does: refreshes settling, subscriptions, payments
//!              settling, webhook delivery
//!   ↓
//! state/       per-key spaces, their objects (payments too), request logs and
//!              waiting jobs, idempotency, fault rules, and the state file they
//!              are kept in (`SANDBOX_DATABASE_URL`)
//!   ↓
//! leaves       clock, kinds, catalog, data, params + form, error, config, urls,
//!              version (API versions and the shapes they differ in), event_types
//! ```
//!
//! `tests/sandbox_layers.rs` keeps it so.

pub mod catalog;
pub mod clock;
pub mod config;
pub mod data;
pub mod edge;
pub mod error;
pub mod event_types;
pub mod form;
pub mod kinds;
pub mod params;
pub mod resources;
pub mod state;
pub mod urls;
pub mod version;
pub mod work;

pub use config::{Limits, RetryPolicy, Standalone, StateFile, Timing};
pub use edge::MAX_BODY;
pub use state::Sandbox;

use axum::Router;
use std::sync::Arc;

/// The whole sandbox, to be nested (at `/sandbox`) or served alone; starts
/// its background work on the current Tokio runtime.
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    work::start(&sandbox);
    edge::router(sandbox)
}
