//! Where a link attempt stands, in words a person reads: working, linked,
//! cancelled, failed, or Stripe.js unavailable.

use crate::error::AppError;
use crate::model::StripeJsError;
use leptos::prelude::*;

/// An error as shown: a sentence and, where there is one, a code.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorView {
    pub message: String,
    pub code: Option<String>,
}

impl From<AppError> for ErrorView {
    fn from(e: AppError) -> Self {
        ErrorView {
            code: e.code().map(str::to_owned),
            message: e.to_string(),
        }
    }
}

impl From<StripeJsError> for ErrorView {
    fn from(e: StripeJsError) -> Self {
        ErrorView {
            message: e.message.unwrap_or_else(|| "The bank linking flow failed.".to_owned()),
            code: e.code.or(Some(e.kind)),
        }
    }
}

/// An error as every page shows it: the message, with Stripe's (or our)
/// code beside it.
#[component]
pub fn ErrorNotice(error: ErrorView, #[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    view! {
        <p class="status error" role="alert" data-testid=testid>
            <span class="message">{error.message}</span>
            {error.code.map(|c| view! { <code class="code">{c}</code> })}
        </p>
    }
}

/// One link attempt's state.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkState {
    Idle,
    Working(&'static str),
    Linked(usize),
    Cancelled,
    Failed(ErrorView),
    ScriptFailed(String),
}

#[component]
pub fn StatusPanel(state: ReadSignal<LinkState>) -> impl IntoView {
    move || match state.get() {
        LinkState::Idle => ().into_any(),
        LinkState::Working(what) => view! {
            <div class="status working" role="status" data-testid="status-working">
                <span class="spinner" aria-hidden="true"></span>{what}
            </div>
        }
        .into_any(),
        LinkState::Linked(n) => {
            let text = if n == 1 {
                "Linked 1 account.".to_owned()
            } else {
                format!("Linked {n} accounts.")
            };
            view! { <div class="status success" role="status" data-testid="status-linked">{text}</div> }.into_any()
        }
        LinkState::Cancelled => view! {
            <div class="status neutral" role="status" data-testid="status-cancelled">
                "No account was linked. You can try again whenever you are ready."
            </div>
        }
        .into_any(),
        LinkState::Failed(err) => view! {
            <div class="status error" role="alert" data-testid="status-error">
                <span class="message">{err.message}</span>
                {err.code.map(|c| view! { <code class="code" data-testid="error-code">{c}</code> })}
            </div>
        }
        .into_any(),
        LinkState::ScriptFailed(msg) => view! {
            <div class="status error" role="alert" data-testid="status-script-failed">
                <span class="message">"Stripe.js could not be loaded, so the bank linking window cannot open. "
                    "Check your connection or content blockers, then try again."</span>
                <small class="detail">{msg}</small>
            </div>
        }
        .into_any(),
    }
}
