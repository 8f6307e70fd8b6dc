//! The developer panel's side of the server boundary (SSR only): reading a
//! user's log and recording what their pages' Stripe.js calls resolved with.
//! The server implements it beside [`super::LinkService`].

use crate::error::AppError;
use crate::model::developer::{LogPage, LogQuery, StripeJsCall};
use crate::service::UserId;
use async_trait::async_trait;
use std::sync::Arc;

#[async_trait]
pub trait DeveloperLog: Send + Sync + 'static {
    /// The user's entries, newest first: one page of [`crate::model::developer::PAGE_SIZE`].
    async fn log_page(&self, user: &UserId, query: LogQuery) -> Result<LogPage, AppError>;

    /// Records what a Stripe.js call resolved with on the user's page.
    /// `result` is the JSON the page received; it is redacted before it is
    /// stored, and refused when it is not a JSON object.
    async fn record_stripe_js(&self, user: &UserId, call: StripeJsCall, result: &str) -> Result<(), AppError>;
}

/// How the developer log travels in Leptos context.
pub type SharedDeveloperLog = Arc<dyn DeveloperLog>;
