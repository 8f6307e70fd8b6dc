//! Stripe webhook signatures: signing (the sandbox sends events) and
//! verification (the app receives them). `Stripe-Signature: t=…,v1=…[,v1=…]`
//! where each `v1` is hex HMAC-SHA256 of `"{t}.{body}"` keyed with the whole
//! `whsec_…` secret; any `v1` matching any configured secret is accepted.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// How old a signature may be, as Stripe's libraries default.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing or malformed Stripe-Signature header")]
    Malformed,
    #[error("no v1 signature matches")]
    NoMatch,
    #[error("signature timestamp is outside the tolerance")]
    Expired,
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length")
}

/// Hex HMAC-SHA256 of `"{t}.{body}"`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    let mut m = mac(secret);
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// The header value Stripe would send.
pub fn header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", signature(secret, t, body))
}

/// Checks a `Stripe-Signature` header against every secret (rotation) and
/// every `v1` in it, in constant time, within `tolerance` seconds of `now`.
pub fn verify(header: &str, body: &[u8], secrets: &[SecretString], now: i64, tolerance: i64) -> Result<(), SignatureError> {
    let mut t: Option<i64> = None;
    let mut v1: Vec<Vec<u8>> = Vec::new();
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match k {
            "t" => t = Some(v.parse().map_err(|_| SignatureError::Malformed)?),
            "v1" => v1.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {} // v0 and future schemes are ignored
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if v1.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let matched = secrets.iter().any(|secret| {
        v1.iter().any(|sig| {
            let mut m = mac(secret.expose_secret());
            m.update(t.to_string().as_bytes());
            m.update(b".");
            m.update(body);
            m.verify_slice(sig).is_ok() // constant-time comparison
        })
    });
    if !matched {
        return Err(SignatureError::NoMatch);
    }
    if (now - t).abs() > tolerance {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_test_webhook","object":"event"}"#;
    const T: i64 = 1_492_774_577;
    const V1: &str = "88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a";

    fn secrets(s: &[&str]) -> Vec<SecretString> {
        s.iter().map(|x| SecretString::from(x.to_string())).collect()
    }

    #[test]
    fn the_reference_vector() {
        assert_eq!(signature("whsec_test_secret", T, BODY), V1);
        let h = format!("t={T},v1={V1}");
        assert_eq!(verify(&h, BODY, &secrets(&["whsec_test_secret"]), T + 10, TOLERANCE_SECS), Ok(()));
    }

    #[test]
    fn wrong_secret_tampered_body_and_old_timestamps_fail() {
        let h = format!("t={T},v1={V1}");
        assert_eq!(verify(&h, BODY, &secrets(&["whsec_other"]), T, TOLERANCE_SECS), Err(SignatureError::NoMatch));
        assert_eq!(verify(&h, b"{\"id\":\"evt_x\"}", &secrets(&["whsec_test_secret"]), T, TOLERANCE_SECS), Err(SignatureError::NoMatch));
        assert_eq!(verify(&h, BODY, &secrets(&["whsec_test_secret"]), T + 301, TOLERANCE_SECS), Err(SignatureError::Expired));
        for bad in ["", "t=abc,v1=00", "v1=00", &format!("t={T}"), &format!("t={T},v1=zz")] {
            assert_eq!(verify(bad, BODY, &secrets(&["whsec_test_secret"]), T, TOLERANCE_SECS), Err(SignatureError::Malformed), "{bad}");
        }
    }

    #[test]
    fn any_v1_and_any_secret_during_rotation() {
        let h = format!("t={T},v1={},v1={V1},v0=ignored", "00".repeat(32));
        assert_eq!(verify(&h, BODY, &secrets(&["whsec_test_secret"]), T, TOLERANCE_SECS), Ok(()));
        let new = header("whsec_new", T, BODY);
        assert_eq!(verify(&new, BODY, &secrets(&["whsec_old", "whsec_new"]), T, TOLERANCE_SECS), Ok(()));
    }
}
