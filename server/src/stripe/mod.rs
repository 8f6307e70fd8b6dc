//! The Stripe API client: form-encoded requests in Stripe's bracket notation,
//! a pinned `Stripe-Version`, an `Idempotency-Key` on every POST (reused on
//! retries), timeouts, retries the way Stripe's own libraries retry, and
//! Stripe's error body mapped to [`StripeError`]. The same client talks to
//! api.stripe.com and to the built-in sandbox; only the base URL differs.
//! Each finished call is handed to the developer log
//! ([`crate::developer::record_stripe`]), which keeps it when the call was
//! made on a user's behalf.

mod error;
mod form;
pub mod intents;
pub mod types;

use error::ErrorBody;
pub use error::StripeError;

pub use form::Form;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use std::time::{Duration, Instant};

/// The API version every request pins (defined in the neutral wire module).
pub use crate::wire::STRIPE_VERSION;

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

impl Method {
    fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
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
        let started = Instant::now();
        let mut retries = Vec::new();
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
                if crate::developer::recording() {
                    retries.push(app::model::developer::RetryNote {
                        attempt,
                        outcome: match &result {
                            Ok(resp) => format!("HTTP {}", resp.status().as_u16()),
                            Err(e) => without_url_ref(e),
                        },
                        delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    });
                }
                tokio::time::sleep(delay).await;
                continue;
            }
            let mut record = |status: Option<u16>, request_id: Option<String>, body: Option<&[u8]>, error: Option<String>| {
                crate::developer::record_stripe(crate::developer::StripeExchange {
                    method: method.as_str(),
                    path,
                    params: form.pairs(),
                    idempotency_key,
                    attempts: attempt + 1,
                    retries: std::mem::take(&mut retries),
                    started,
                    status,
                    request_id,
                    body,
                    error,
                })
            };
            let resp = match result {
                Ok(resp) => resp,
                Err(e) => {
                    let e = without_url(e);
                    record(None, None, None, Some(e.clone()));
                    return Err(StripeError::Network(e));
                }
            };
            let status = resp.status();
            let request_id = resp
                .headers()
                .get("Request-Id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = match resp.bytes().await {
                Ok(bytes) => bytes,
                Err(e) => {
                    let e = without_url(e);
                    record(Some(status.as_u16()), request_id, None, Some(e.clone()));
                    return Err(StripeError::Network(e));
                }
            };
            record(Some(status.as_u16()), request_id.clone(), Some(&bytes[..]), None);
            return decode(status, request_id, &bytes);
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

fn without_url_ref(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "");
    }
    s
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

/// The answer's body as `T`, or Stripe's error body as [`StripeError::Api`].
fn decode<T: DeserializeOwned>(status: StatusCode, request_id: Option<String>, bytes: &[u8]) -> Result<T, StripeError> {
    if status.is_success() {
        return serde_json::from_slice(bytes).map_err(|e| StripeError::Decode(e.to_string()));
    }
    match serde_json::from_slice::<ErrorBody>(bytes) {
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
}
