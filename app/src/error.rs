//! The one error enum of the server-function boundary: every server fn returns
//! `Result<_, AppError>`, each variant has a user-facing message and an HTTP
//! status, and the page renders them all the same way.

use http::StatusCode;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// A field the user sent is malformed; `field` names it.
    #[error("{message}")]
    InvalidInput { field: String, message: String },
    /// The thing does not exist, or is not this user's (the two look alike on purpose).
    #[error("That was not found.")]
    NotFound,
    /// The browser asked to confirm a session this server did not start for it.
    #[error("That link session is not yours or has already been used. Start a new one.")]
    SessionMismatch,
    /// Stripe answered with an error. `message` is ours (see
    /// [`AppError::stripe_message`]); Stripe's own text and request id stay
    /// in the server log.
    #[error("{message}")]
    Stripe {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// Too many requests from this browser or address; try again after the wait.
    #[error("Too many requests. Try again in {}.", seconds(*retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    /// A server function called without the session cookie a page load issues
    /// (cookies blocked, the session expired or was revoked).
    #[error("Your session has expired or cookies are blocked. Reload the page and try again.")]
    NoSession,
    /// A state-changing request that did not come from this site's pages.
    #[error("This request did not come from this site. Reload the page and try again.")]
    CrossSite,
    /// The request took longer than the server allows.
    #[error("That took too long. Try again in a moment.")]
    TimedOut,
    /// Stripe could not be reached (network, timeout, 5xx after retries).
    #[error("Stripe could not be reached. Try again in a moment.")]
    Unavailable,
    /// The app's database cannot be reached (down, restarting, out of
    /// connections). Nothing was half-written; the same request works again
    /// once it is back, without a restart.
    #[error("Our database cannot be reached right now, so nothing was changed. Try again in a moment.")]
    DatabaseUnavailable,
    /// Anything else; details are in the server log, not here.
    #[error("Something went wrong on our side. Try again.")]
    Internal,
    /// The server function call itself failed (transport, decoding).
    #[error("The request failed: {0}")]
    ServerFn(String),
}

impl AppError {
    /// Our sentence for a Stripe refusal, by Stripe's error code (never
    /// Stripe's own text, which can quote ids and parameters).
    pub fn stripe_message(code: Option<&str>, status: u16) -> String {
        let m = match (code, status) {
            (Some("resource_missing"), _) | (_, 404) => {
                "Stripe no longer has that. Reload the page; relink the account if it persists."
            }
            (Some("account_inactive" | "financial_connections_account_inactive"), _) => {
                "The bank no longer shares this account's data. Relink it to continue."
            }
            (Some("rate_limit"), _) | (_, 429) => "Stripe is busy right now. Try again in a minute.",
            (Some("idempotency_key_in_use"), _) | (_, 409) => "Stripe is still handling the same request. Try again in a moment.",
            (Some("idempotency_error"), _) => {
                "This payment was already submitted with other details. Reload the page and try again."
            }
            (Some("payment_intent_unexpected_state"), _) => "That payment can no longer be changed. Reload the page.",
            (Some("amount_too_small" | "amount_too_large"), _) => "Stripe did not accept that amount.",
            (Some("payment_method_unactivated" | "payment_method_not_available" | "payment_method_invalid_parameter"), _) => {
                "This bank account cannot be debited. Relink it sharing account and routing numbers."
            }
            (Some("parameter_invalid" | "parameter_missing" | "parameter_unknown"), _) => {
                "Stripe did not accept that request. Check what you entered and try again."
            }
            _ => "Stripe refused the request. Try again, or relink the account if it keeps failing.",
        };
        m.to_owned()
    }

    pub fn invalid(field: &str, message: &str) -> Self {
        AppError::InvalidInput {
            field: field.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Stripe's or our own machine-readable code, for display beside the message.
    pub fn code(&self) -> Option<&str> {
        match self {
            AppError::InvalidInput { .. } => Some("invalid_input"),
            AppError::NotFound => Some("not_found"),
            AppError::SessionMismatch => Some("session_mismatch"),
            AppError::Stripe { code, .. } => code.as_deref(),
            AppError::RateLimited { .. } => Some("rate_limited"),
            AppError::NoSession => Some("no_session"),
            AppError::CrossSite => Some("cross_site"),
            AppError::TimedOut => Some("timed_out"),
            AppError::Unavailable => Some("stripe_unavailable"),
            AppError::DatabaseUnavailable => Some("database_unavailable"),
            AppError::Internal => None,
            AppError::ServerFn(_) => Some("request_failed"),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SessionMismatch => StatusCode::CONFLICT,
            // Stripe's 4xx is about what we asked for; to our caller it is a bad gateway
            // unless it was the user's input (400/402).
            AppError::Stripe { status, .. } => match *status {
                400 | 402 => StatusCode::BAD_REQUEST,
                404 => StatusCode::NOT_FOUND,
                429 => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::BAD_GATEWAY,
            },
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::NoSession | AppError::CrossSite => StatusCode::FORBIDDEN,
            AppError::TimedOut | AppError::Unavailable | AppError::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::ServerFn(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The server could not read the call's arguments: the caller's fault (400), not ours.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::MissingArg(detail) => AppError::InvalidInput {
                field: String::new(),
                message: format!("The request is missing a field or has a malformed one ({}).", short(&detail)),
            },
            other => AppError::ServerFn(other.to_string()),
        }
    }
}

/// "1 second", "5 seconds".
fn seconds(n: u64) -> String {
    if n == 1 {
        "1 second".to_owned()
    } else {
        format!("{n} seconds")
    }
}

/// At most 120 characters of a decoder's complaint.
fn short(detail: &str) -> String {
    detail.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        assert_eq!(AppError::invalid("email", "bad").status(), StatusCode::BAD_REQUEST);
        assert_eq!(AppError::NotFound.status(), StatusCode::NOT_FOUND);
        let stripe = AppError::Stripe {
            status: 401,
            code: Some("api_key_invalid".into()),
            message: "Invalid API Key".into(),
        };
        assert_eq!(stripe.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(stripe.code(), Some("api_key_invalid"));
        assert_eq!(AppError::Unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(AppError::DatabaseUnavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(AppError::DatabaseUnavailable.code(), Some("database_unavailable"));
    }

    #[test]
    fn new_edge_errors() {
        let limited = AppError::RateLimited { retry_after_secs: 1 };
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.to_string(), "Too many requests. Try again in 1 second.");
        assert_eq!(
            AppError::RateLimited { retry_after_secs: 30 }.to_string(),
            "Too many requests. Try again in 30 seconds."
        );
        assert_eq!(AppError::NoSession.status(), StatusCode::FORBIDDEN);
        assert_eq!(AppError::CrossSite.status(), StatusCode::FORBIDDEN);
        let args = AppError::from_server_fn_error(ServerFnErrorErr::Args("missing field `name`".into()));
        assert_eq!(args.status(), StatusCode::BAD_REQUEST);
        assert!(args.to_string().contains("missing field `name`"));
    }

    #[test]
    fn stripe_refusals_get_our_words() {
        for (code, status) in [(Some("resource_missing"), 404), (None, 400), (Some("rate_limit"), 429)] {
            let m = AppError::stripe_message(code, status);
            assert!(!m.is_empty() && !m.contains("No such"), "{m}");
        }
    }

    #[test]
    fn internal_errors_say_nothing_specific() {
        assert!(!AppError::Internal.to_string().contains("sk_"));
    }
}
