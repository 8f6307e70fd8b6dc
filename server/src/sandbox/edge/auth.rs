//! Authentication as Stripe does it: a secret test key (Bearer, or Basic
//! with the key as user) names the data space a request works in; a missing
//! or malformed one gets 401, with the key redacted in the message. A
//! [`Caller`] adds the API version the request speaks (`Stripe-Version`, else
//! the key's default).

use super::Edge;
use crate::sandbox::error::ApiError;
use crate::sandbox::version::ApiVersion;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::sync::Arc;

/// A `/v1` request's key and API version.
pub struct Caller {
    pub key: String,
    pub version: ApiVersion,
}

impl FromRequestParts<Arc<Edge>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, edge: &Arc<Edge>) -> Result<Self, ApiError> {
        let SecretKey(key) = SecretKey::from_request_parts(parts, edge).await?;
        let version = match parts.headers.get("stripe-version") {
            None => edge.sandbox.read(&key, |s| s.default_version()),
            Some(v) => {
                let given = String::from_utf8_lossy(v.as_bytes());
                ApiVersion::parse(given.trim()).ok_or_else(|| ApiError::bad_version(&given))?
            }
        };
        Ok(Caller { key, version })
    }
}

/// Who a request that Stripe.js may also make comes from: a secret key,
/// or a publishable key (`pk_test_…`) that must name its object by client
/// secret (as `stripe.retrievePaymentIntent` and
/// `stripe.confirmUsBankAccountPayment` do).
pub enum Who {
    Secret(Caller),
    Publishable,
}

/// Whether the request is authenticated with a well-formed publishable test key.
pub fn publishable(headers: &HeaderMap) -> bool {
    let raw = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    raw.strip_prefix("Bearer ").map(str::trim).is_some_and(|k| {
        k.len() > 8 && k.len() <= 255 && k.starts_with("pk_test_") && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

impl FromRequestParts<Arc<Edge>> for Who {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, edge: &Arc<Edge>) -> Result<Self, ApiError> {
        if publishable(&parts.headers) {
            return Ok(Who::Publishable);
        }
        Caller::from_request_parts(parts, edge).await.map(Who::Secret)
    }
}

/// The secret key a request authenticated with: its data space.
pub struct SecretKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if parts.headers.get("authorization").is_none() {
            return Err(ApiError::unauthorized(
                "You did not provide an API key. You need to provide your API key in the Authorization header, \
                 using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            ));
        }
        match bearer_key(&parts.headers) {
            Ok(key) => Ok(SecretKey(key)),
            Err(given) => Err(ApiError::unauthorized(format!(
                "Invalid API Key provided: {}",
                redact(&given)
            ))),
        }
    }
}

/// The test secret key of a request (Bearer or Basic auth); `Err` carries
/// what was given instead, for the error message.
pub fn bearer_key(headers: &HeaderMap) -> Result<String, String> {
    let raw = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = if let Some(k) = raw.strip_prefix("Bearer ") {
        k.trim().to_owned()
    } else if let Some(b64) = raw.strip_prefix("Basic ") {
        basic_user(b64.trim()).unwrap_or_default()
    } else {
        String::new()
    };
    let valid = key.len() > 8
        && key.len() <= 255
        && (key.starts_with("sk_test_") || key.starts_with("rk_test_"))
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(key)
    } else {
        Err(key)
    }
}

/// `sk_test_****wxyz`, as Stripe echoes a bad key.
fn redact(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    let head: String = key.chars().take(8).collect();
    if key.chars().count() <= 12 {
        "****".to_owned()
    } else {
        format!("{head}****{tail}")
    }
}

/// The user part of `Basic base64(user:)`.
fn basic_user(b64: &str) -> Option<String> {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in b64.bytes().take(1024) {
        if c == b'=' {
            break;
        }
        let v = TABLE.iter().position(|&t| t == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    Some(s.split(':').next().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_keys_like_stripe() {
        assert_eq!(redact("sk_test_abcdefghijkl"), "sk_test_****ijkl");
        assert_eq!(redact("short"), "****");
    }

    #[test]
    fn basic_auth_user() {
        // base64("sk_test_123:")
        assert_eq!(basic_user("c2tfdGVzdF8xMjM6").as_deref(), Some("sk_test_123"));
        assert_eq!(basic_user("!!!"), None);
    }
}
