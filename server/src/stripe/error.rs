//! What can go wrong talking to Stripe ([`StripeError`]), Stripe's error
//! body, and what the user is shown of it.

use app::error::AppError;
use serde::Deserialize;

/// What went wrong talking to Stripe.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error body.
    #[error("Stripe {status} {kind}: {message}")]
    Api {
        status: u16,
        kind: String,
        code: Option<String>,
        message: String,
        param: Option<String>,
        request_id: Option<String>,
    },
    /// No usable answer: connection refused or dropped, timeout.
    #[error("could not reach Stripe: {0}")]
    Network(String),
    /// An answer we could not read.
    #[error("unexpected response from Stripe: {0}")]
    Decode(String),
}

impl StripeError {
    pub fn status(&self) -> Option<u16> {
        match self {
            StripeError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// What the user sees of a Stripe failure: our own sentence by Stripe's
/// code, never Stripe's text (which can quote ids and parameters). Every
/// failure is logged here with Stripe's message and `Request-Id`;
/// authentication failures become `Internal`, because Stripe's message for
/// them quotes part of the secret key.
impl From<StripeError> for AppError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Api {
                status,
                code,
                message,
                request_id,
                kind,
                param,
            } => {
                tracing::warn!(status, %kind, ?code, ?param, ?request_id, "Stripe API error: {message}");
                match status {
                    401 | 403 => AppError::Internal,
                    s if s >= 500 => AppError::Unavailable,
                    _ => {
                        let code = code.or(Some(kind));
                        AppError::Stripe {
                            status,
                            message: AppError::stripe_message(code.as_deref(), status),
                            code,
                        }
                    }
                }
            }
            StripeError::Network(msg) => {
                tracing::warn!("Stripe unreachable: {msg}");
                AppError::Unavailable
            }
            StripeError::Decode(msg) => {
                tracing::error!("unreadable Stripe response: {msg}");
                AppError::Internal
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct ErrorBody {
    pub(super) error: ErrorDetail,
}

#[derive(Deserialize)]
pub(super) struct ErrorDetail {
    #[serde(rename = "type", default)]
    pub(super) kind: String,
    pub(super) code: Option<String>,
    pub(super) message: Option<String>,
    pub(super) param: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_errors_map_to_app_errors() {
        let api = |status| StripeError::Api {
            status,
            kind: "invalid_request_error".into(),
            code: Some("resource_missing".into()),
            message: "No such customer".into(),
            param: None,
            request_id: Some("req_1".into()),
        };
        match AppError::from(api(404)) {
            AppError::Stripe {
                status: 404,
                code,
                message,
            } => {
                assert_eq!(code.as_deref(), Some("resource_missing"));
                assert!(
                    !message.contains("No such customer"),
                    "Stripe's text stays in the log: {message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(AppError::from(api(500)), AppError::Unavailable);
        assert_eq!(AppError::from(StripeError::Network("x".into())), AppError::Unavailable);
    }

    #[test]
    fn authentication_errors_never_reach_the_user() {
        let e = StripeError::Api {
            status: 401,
            kind: "invalid_request_error".into(),
            code: None,
            message: "Invalid API Key provided: sk_test_****abcd".into(),
            param: None,
            request_id: None,
        };
        let shown = AppError::from(e);
        assert_eq!(shown, AppError::Internal);
        assert!(!shown.to_string().contains("sk_"));
    }
}
