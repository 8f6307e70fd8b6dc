//! Webhook signatures as Stripe computes them: `Stripe-Signature: t=…,v1=…`
//! where each `v1` is hex HMAC-SHA256 of `"{t}.{body}"` keyed with the whole
//! `whsec_…` secret. The sandbox signs with it; the app's receiver verifies
//! with [`signed`].

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `"{t}.{body}"` keyed with the whole secret, not yet finalised
/// (a verifier compares it with `verify_slice`, in constant time).
pub fn signed(secret: &str, t: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Hex HMAC-SHA256 of `"{t}.{body}"`.
pub fn signature(secret: &str, t: i64, body: &[u8]) -> String {
    hex::encode(signed(secret, t, body).finalize().into_bytes())
}

/// The header value Stripe would send.
pub fn header(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", signature(secret, t, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_reference_vector() {
        let body = br#"{"id":"evt_test_webhook","object":"event"}"#;
        assert_eq!(
            signature("whsec_test_secret", 1_492_774_577, body),
            "88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a"
        );
        assert_eq!(
            header("whsec_test_secret", 1_492_774_577, body),
            "t=1492774577,v1=88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a"
        );
    }
}
