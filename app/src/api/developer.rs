//! The developer panel's server functions: the current user's log, and the
//! page's report of what a Stripe.js call resolved with.

use crate::error::AppError;
use crate::model::developer::LogPage;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn log() -> Result<crate::service::developer::SharedDeveloperLog, AppError> {
    use_context::<crate::service::developer::SharedDeveloperLog>().ok_or_else(|| {
        leptos::logging::error!("DeveloperLog missing from context");
        AppError::Internal
    })
}

/// One page of the current user's developer log, newest first. `kind` is
/// `stripe_request`, `webhook`, `stripe_js` or empty (all); `before` an
/// entry id or empty (the newest).
#[server(endpoint = "developer_log")]
pub async fn developer_log(#[server(default)] kind: String, #[server(default)] before: String) -> Result<LogPage, AppError> {
    super::ssr::respond(
        async {
            let query = crate::model::developer::LogQuery::parse(&kind, &before)?;
            let user = super::ssr::current_user()?;
            log()?.log_page(&user, query).await
        }
        .await,
    )
}

/// Records what a Stripe.js function (`call`, its Stripe.js name) resolved
/// with on this page: `result` is its JSON (an object, at most
/// [`crate::model::developer::MAX_STRIPE_JS_RESULT`] bytes). The server
/// redacts client secrets and keys before storing it.
#[server(endpoint = "report_stripe_js")]
pub async fn report_stripe_js(call: String, result: String) -> Result<(), AppError> {
    super::ssr::respond(
        async {
            let call = crate::model::developer::StripeJsCall::parse(&call)?;
            if result.len() > crate::model::developer::MAX_STRIPE_JS_RESULT {
                return Err(AppError::invalid("result", "Too long."));
            }
            let user = super::ssr::current_user()?;
            log()?.record_stripe_js(&user, call, &result).await
        }
        .await,
    )
}
