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

/// What the panel shows for one state: the box's kind and ARIA role, its
/// test id, its words and what goes with them.
struct Shown {
    kind: &'static str,
    role: &'static str,
    testid: &'static str,
    spinner: bool,
    message: String,
    code: Option<String>,
    detail: Option<String>,
}

impl Shown {
    fn new(kind: &'static str, role: &'static str, testid: &'static str, message: String) -> Self {
        Shown {
            kind,
            role,
            testid,
            spinner: false,
            message,
            code: None,
            detail: None,
        }
    }
}

impl LinkState {
    /// The box for this state; none while idle.
    fn shown(self) -> Option<Shown> {
        Some(match self {
            LinkState::Idle => return None,
            LinkState::Working(what) => Shown {
                spinner: true,
                ..Shown::new("working", "status", "status-working", what.to_owned())
            },
            LinkState::Linked(1) => Shown::new("success", "status", "status-linked", "Linked 1 account.".to_owned()),
            LinkState::Linked(n) => Shown::new("success", "status", "status-linked", format!("Linked {n} accounts.")),
            LinkState::Cancelled => Shown::new(
                "neutral",
                "status",
                "status-cancelled",
                "No account was linked. You can try again whenever you are ready.".to_owned(),
            ),
            LinkState::Failed(err) => Shown {
                code: err.code,
                ..Shown::new("error", "alert", "status-error", err.message)
            },
            LinkState::ScriptFailed(msg) => Shown {
                detail: Some(msg),
                ..Shown::new(
                    "error",
                    "alert",
                    "status-script-failed",
                    "Stripe.js could not be loaded, so the bank linking window cannot open. \
                     Check your connection or content blockers, then try again."
                        .to_owned(),
                )
            },
        })
    }
}

/// One box for every state but idle (one view type: the wasm carries its
/// code once).
#[component]
pub fn StatusPanel(state: ReadSignal<LinkState>) -> impl IntoView {
    move || {
        state.get().shown().map(|s| {
            view! {
                <div class=format!("status {}", s.kind) role=s.role data-testid=s.testid>
                    {s.spinner.then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                    <span class="message">{s.message}</span>
                    {s.code.map(|c| view! { <code class="code" data-testid="error-code">{c}</code> })}
                    {s.detail.map(|d| view! { <small class="detail">{d}</small> })}
                </div>
            }
        })
    }
}
