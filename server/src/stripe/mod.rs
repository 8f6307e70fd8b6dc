//! The Stripe API client: form-encoded requests in Stripe's bracket notation,
//! a pinned `Stripe-Version`, an `Idempotency-Key` on every POST (reused on
//! retries), timeouts, retries the way Stripe's own libraries retry, and
//! Stripe's error body mapped to [`StripeError`]. The same client talks to
//! api.stripe.com and to the built-in sandbox; only the base URL differs.

mod form;
pub mod types;

pub use form::Form;

use app::error::AppError;
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::time::Duration;

/// The API version every request pins (defined in the neutral wire module).
pub use crate::wire::STRIPE_VERSION;

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
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type", default)]
    kind: String,
    code: Option<String>,
    message: Option<String>,
    param: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub timeout: Duration,
    pub max_retries: u32,
    /// First retry delay; doubles per retry up to `max_backoff`, with jitter.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
        }
    }
}

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    key: SecretString,
    opts: ClientOptions,
}

enum Method {
    Get,
    Post,
}

impl StripeClient {
    pub fn new(base: &str, key: SecretString, opts: ClientOptions) -> Result<Self, StripeError> {
        let http = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("fc-app/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StripeError::Network(e.to_string()))?;
        Ok(StripeClient {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            opts,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &Form) -> Result<T, StripeError> {
        self.request(Method::Get, path, query, None).await
    }

    /// POSTs `form`. `idempotency_key` makes the call safe to repeat across
    /// requests (derive it from what must happen once); without one, a random
    /// key still protects this call's own retries.
    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &Form,
        idempotency_key: Option<&str>,
    ) -> Result<T, StripeError> {
        let key = idempotency_key.map(str::to_owned).unwrap_or_else(random_idempotency_key);
        self.request(Method::Post, path, form, Some(&key)).await
    }

    async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        form: &Form,
        idempotency_key: Option<&str>,
    ) -> Result<T, StripeError> {
        let url = format!("{}{}", self.base, path);
        let body = form.encode();
        let mut attempt = 0;
        loop {
            let mut headers = HeaderMap::new();
            let auth = HeaderValue::from_str(&format!("Bearer {}", self.key.expose_secret()))
                .map_err(|_| StripeError::Decode("secret key is not a valid header value".into()))?;
            headers.insert(AUTHORIZATION, mark_sensitive(auth));
            headers.insert("Stripe-Version", HeaderValue::from_static(STRIPE_VERSION));
            let builder = match method {
                Method::Get => {
                    let sep = if body.is_empty() { "" } else { "?" };
                    self.http.get(format!("{url}{sep}{body}"))
                }
                Method::Post => {
                    if let Some(k) = idempotency_key {
                        let v = HeaderValue::from_str(k)
                            .map_err(|_| StripeError::Decode("idempotency key is not a valid header value".into()))?;
                        headers.insert("Idempotency-Key", v);
                    }
                    headers.insert(
                        reqwest::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    );
                    self.http.post(&url).body(body.clone())
                }
            };
            let result = builder.headers(headers).send().await;
            let retry = match &result {
                Err(e) => e.is_connect() || e.is_timeout() || e.is_request() || e.is_body(),
                Ok(resp) => should_retry(resp.status(), resp.headers()),
            };
            if retry && attempt < self.opts.max_retries {
                attempt += 1;
                let delay = self.backoff(attempt);
                tracing::warn!(path, attempt, ?delay, "retrying Stripe request");
                tokio::time::sleep(delay).await;
                continue;
            }
            let resp = result.map_err(|e| StripeError::Network(without_url(e)))?;
            return read_response(resp).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.opts.initial_backoff.saturating_mul(1 << (attempt - 1).min(16));
        let capped = exp.min(self.opts.max_backoff);
        // Jitter: between 50 % and 100 % of the capped delay.
        let factor = rand::thread_rng().gen_range(0.5..=1.0);
        capped.mul_f64(factor)
    }
}

fn mark_sensitive(mut v: HeaderValue) -> HeaderValue {
    v.set_sensitive(true);
    v
}

/// reqwest errors print the URL; ours carry no secret, but keep messages short.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// Stripe's rule: obey `Stripe-Should-Retry` when present; otherwise retry
/// conflicts (409) and server errors, never other 4xx (a plain 429 included).
pub fn should_retry(status: StatusCode, headers: &HeaderMap) -> bool {
    match headers.get("Stripe-Should-Retry").and_then(|v| v.to_str().ok()) {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    status == StatusCode::CONFLICT || status.is_server_error()
}

async fn read_response<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T, StripeError> {
    let status = resp.status();
    let request_id = resp
        .headers()
        .get("Request-Id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.bytes().await.map_err(|e| StripeError::Network(without_url(e)))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| StripeError::Decode(e.to_string()));
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(ErrorBody { error }) => Err(StripeError::Api {
            status: status.as_u16(),
            kind: if error.kind.is_empty() {
                "api_error".into()
            } else {
                error.kind
            },
            code: error.code,
            message: error.message.unwrap_or_else(|| format!("Stripe returned HTTP {status}")),
            param: error.param,
            request_id,
        }),
        Err(_) => Err(StripeError::Api {
            status: status.as_u16(),
            kind: "api_error".into(),
            code: None,
            message: format!("Stripe returned HTTP {status}"),
            param: None,
            request_id,
        }),
    }
}

fn random_idempotency_key() -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_rules_follow_stripe() {
        let none = HeaderMap::new();
        assert!(should_retry(StatusCode::INTERNAL_SERVER_ERROR, &none));
        assert!(should_retry(StatusCode::CONFLICT, &none));
        assert!(!should_retry(StatusCode::TOO_MANY_REQUESTS, &none));
        assert!(!should_retry(StatusCode::BAD_REQUEST, &none));
        let mut yes = HeaderMap::new();
        yes.insert("Stripe-Should-Retry", HeaderValue::from_static("true"));
        assert!(should_retry(StatusCode::TOO_MANY_REQUESTS, &yes));
        let mut no = HeaderMap::new();
        no.insert("Stripe-Should-Retry", HeaderValue::from_static("false"));
        assert!(!should_retry(StatusCode::SERVICE_UNAVAILABLE, &no));
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let c = StripeClient::new(
            "http://x",
            SecretString::from("sk_test_1".to_owned()),
            ClientOptions::default(),
        )
        .unwrap();
        for attempt in 1..10 {
            let d = c.backoff(attempt);
            assert!(d <= Duration::from_secs(5), "{d:?}");
            assert!(d >= Duration::from_millis(250), "{d:?}");
        }
    }

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
