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
    /// Stripe answered with an error.
    #[error("{message}")]
    Stripe {
        status: u16,
        code: Option<String>,
        message: String,
        request_id: Option<String>,
    },
    /// Stripe could not be reached (network, timeout, 5xx after retries).
    #[error("Stripe could not be reached. Try again in a moment.")]
    Unavailable,
    /// Anything else; details are in the server log, not here.
    #[error("Something went wrong on our side. Try again.")]
    Internal,
    /// The server function call itself failed (transport, decoding).
    #[error("The request failed: {0}")]
    ServerFn(String),
}

impl AppError {
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
            AppError::Unavailable => Some("stripe_unavailable"),
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
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal | AppError::ServerFn(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value.to_string())
    }
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
            request_id: None,
        };
        assert_eq!(stripe.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(stripe.code(), Some("api_key_invalid"));
        assert_eq!(AppError::Unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn internal_errors_say_nothing_specific() {
        assert!(!AppError::Internal.to_string().contains("sk_"));
    }
}
