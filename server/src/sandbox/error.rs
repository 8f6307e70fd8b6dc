//! Stripe-shaped errors for the sandbox API: `{"error": {type, code, message, param}}`,
//! the one error type of every sandbox layer, rendered by the edge as Stripe
//! renders it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub param: Option<String>,
}

impl ApiError {
    pub fn invalid(param: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: Some("parameter_invalid"),
            message: message.into(),
            param: Some(param.to_owned()),
        }
    }

    pub fn missing(param: &str) -> Self {
        ApiError {
            code: Some("parameter_missing"),
            ..Self::invalid(param, format!("Missing required param: {param}."))
        }
    }

    pub fn unknown_param(param: &str) -> Self {
        ApiError {
            code: Some("parameter_unknown"),
            ..Self::invalid(param, format!("Received unknown parameter: {param}"))
        }
    }

    pub fn not_found(kind: &str, id: &str, param: &str) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            message: format!("No such {kind}: '{id}'"),
            param: Some(param.to_owned()),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            kind: "invalid_request_error",
            code: None,
            message: message.into(),
            param: None,
        }
    }

    pub fn idempotency(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "idempotency_error",
            code: None,
            message: message.into(),
            param: None,
        }
    }

    /// A sandbox limit was reached (see [`crate::sandbox::config::Limits`]):
    /// 400, as Stripe answers when an account reaches one of its limits.
    pub fn limit(param: Option<&str>, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: None,
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }

    /// A refusal by parameter validation, before the request did anything
    /// (Stripe stores no idempotent result for these: the key may be retried
    /// with corrected parameters). Other errors are results of a request
    /// that ran (`resource_missing`, an inactive account…).
    pub fn before_running(&self) -> bool {
        self.kind == "idempotency_error"
            || (self.status == StatusCode::BAD_REQUEST
                && matches!(
                    self.code,
                    None | Some(
                        "parameter_invalid"
                            | "parameter_missing"
                            | "parameter_unknown"
                            | "email_invalid"
                            | "amount_too_small"
                            | "amount_too_large"
                    )
                ))
    }

    /// `Stripe-Version` names no version.
    pub fn bad_version(given: &str) -> Self {
        let given: String = given.chars().take(64).collect();
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: None,
            message: format!(
                "Invalid Stripe API version: {given}. A version is a date, optionally with its name \
                 (2023-08-16, 2026-07-29.dahlia)."
            ),
            param: None,
        }
    }

    /// Another request with the same `Idempotency-Key` is still running.
    pub fn key_in_use(idem: &str) -> Self {
        ApiError {
            status: StatusCode::CONFLICT,
            kind: "invalid_request_error",
            code: Some("idempotency_key_in_use"),
            message: format!(
                "There is currently another in-progress request using this Idempotent Key (that probably means \
                 you submitted twice, and the other request is still going through): {idem}. Please try again later."
            ),
            param: None,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        let mut e = json!({ "type": self.kind, "message": self.message });
        if let Some(c) = self.code {
            e["code"] = json!(c);
            e["doc_url"] = json!(format!("https://stripe.com/docs/error-codes/{}", c.replace('_', "-")));
        }
        if let Some(p) = &self.param {
            e["param"] = json!(p);
        }
        json!({ "error": e })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}
