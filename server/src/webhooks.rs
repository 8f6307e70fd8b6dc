//! Stripe webhooks: signature verification (signing is in [`crate::wire`],
//! shared with the sandbox) and the app's receiving endpoint,
//! `POST /webhooks/stripe`.
//!
//! `Stripe-Signature: t=…,v1=…[,v1=…]` where each `v1` is hex HMAC-SHA256 of
//! `"{t}.{body}"` keyed with the whole `whsec_…` secret; any `v1` matching any
//! configured secret is accepted. A verified event is recorded and applied in
//! one transaction (redeliveries are no-ops), and the account it names is
//! re-fetched from Stripe rather than taken from the payload, so arrival
//! order does not matter. `payment_intent.*` events carry the PaymentIntent,
//! which is stored unless a later state is (ordered by the event's `created`
//! and the status's progress; a final status stays).
//! An event that touched a user's data is recorded in their developer log,
//! with the Stripe requests its processing made.

use crate::developer::DevLog;
use crate::service::StripeService;
use crate::wire::signature::signed;
/// Signing lives in the neutral [`crate::wire`] module (the sandbox signs with it too).
pub use crate::wire::signature::{header, signature};
use app::model::developer::{LogDetail, WebhookLog, WebhookOutcome};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::Mac;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::{Arc, RwLock};
use subtle::ConstantTimeEq;

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

/// Longest `Stripe-Signature` header accepted. Stripe sends `t`, one `v1`
/// per active secret (two during rotation) and sometimes a `v0`: a few
/// hundred bytes. Anything far longer is refused before it is parsed.
pub const MAX_HEADER_LEN: usize = 1024;
/// Most `v1` signatures compared; a header with more is refused.
pub const MAX_SIGNATURES: usize = 8;
/// Most comma-separated elements read from the header.
const MAX_ELEMENTS: usize = 16;

/// A parsed `Stripe-Signature`: its timestamp and its well-formed `v1`
/// signatures (32 bytes each). Parsing is linear in the (bounded) header.
#[derive(Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    pub t: i64,
    pub v1: Vec<[u8; 32]>,
}

impl SignatureHeader {
    /// Parses `t=…,v1=…[,v1=…][,v0=…]`. Refuses an oversized header, too
    /// many elements or signatures, a missing or repeated `t`, and any `v1`
    /// that is not 64 hex digits. Unknown schemes (`v0`, future ones) are skipped.
    pub fn parse(header: &str) -> Result<Self, SignatureError> {
        if header.is_empty() || header.len() > MAX_HEADER_LEN {
            return Err(SignatureError::Malformed);
        }
        let mut t = None;
        let mut v1 = Vec::new();
        for (i, part) in header.split(',').enumerate() {
            if i >= MAX_ELEMENTS {
                return Err(SignatureError::Malformed);
            }
            let (k, v) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
            match k {
                "t" if t.is_none() => {
                    let ok = !v.is_empty() && v.len() <= 12 && v.bytes().all(|b| b.is_ascii_digit());
                    t = Some(v.parse::<i64>().ok().filter(|_| ok).ok_or(SignatureError::Malformed)?);
                }
                "t" => return Err(SignatureError::Malformed),
                "v1" => {
                    if v1.len() >= MAX_SIGNATURES {
                        return Err(SignatureError::Malformed);
                    }
                    let mut sig = [0u8; 32];
                    hex::decode_to_slice(v, &mut sig).map_err(|_| SignatureError::Malformed)?;
                    v1.push(sig);
                }
                _ => {} // v0 and future schemes are ignored
            }
        }
        let t = t.ok_or(SignatureError::Malformed)?;
        if v1.is_empty() {
            return Err(SignatureError::Malformed);
        }
        Ok(SignatureHeader { t, v1 })
    }
}

/// Checks a `Stripe-Signature` header: parsed once, the timestamp checked
/// first (within `tolerance` seconds of `now`), then **one** HMAC per
/// configured secret (several during rotation), each compared in constant
/// time with the header's few `v1` signatures. The work is bounded by
/// `secrets.len()` MACs whatever the header holds.
pub fn verify(header: &str, body: &[u8], secrets: &[SecretString], now: i64, tolerance: i64) -> Result<(), SignatureError> {
    let parsed = SignatureHeader::parse(header)?;
    if now.abs_diff(parsed.t) > tolerance.unsigned_abs() {
        return Err(SignatureError::Expired);
    }
    let matched = secrets.iter().any(|secret| {
        let mac = signed(secret.expose_secret(), parsed.t, body).finalize().into_bytes();
        // Every candidate is compared (no early exit on a match position).
        parsed
            .v1
            .iter()
            .fold(subtle::Choice::from(0), |found, sig| {
                found | mac.as_slice().ct_eq(sig.as_slice())
            })
            .into()
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

/// The receiving side: accepted secrets (several during rotation) and the
/// service that applies events.
pub struct Receiver {
    secrets: RwLock<Vec<SecretString>>,
    service: Arc<StripeService>,
    developer: Arc<DevLog>,
}

impl Receiver {
    pub fn new(secrets: Vec<SecretString>, service: Arc<StripeService>, developer: Arc<DevLog>) -> Self {
        Receiver {
            secrets: RwLock::new(secrets),
            service,
            developer,
        }
    }

    /// Replaces the accepted secrets (sandbox mode learns its secret at start).
    pub fn set_secrets(&self, secrets: Vec<SecretString>) {
        *self.secrets.write().unwrap_or_else(|e| e.into_inner()) = secrets;
    }

    pub fn is_configured(&self) -> bool {
        !self.secrets.read().unwrap_or_else(|e| e.into_inner()).is_empty()
    }
}

pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new().route("/webhooks/stripe", post(receive)).with_state(receiver)
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    /// Unix seconds: orders a PaymentIntent's events (they arrive in any order).
    #[serde(default)]
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    let secrets = r.secrets.read().unwrap_or_else(|e| e.into_inner()).clone();
    if secrets.is_empty() {
        tracing::warn!("webhook received but STRIPE_WEBHOOK_SECRET is not set");
        return (StatusCode::SERVICE_UNAVAILABLE, "webhooks are not configured");
    }
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Err(e) = verify(signature, &body, &secrets, crate::clock::unix_now(), TOLERANCE_SECS) {
        tracing::warn!("rejected webhook: {e}");
        let why = match e {
            SignatureError::Malformed => "malformed Stripe-Signature header",
            SignatureError::Expired => "signature timestamp outside the tolerance",
            SignatureError::NoMatch => "invalid signature",
        };
        return (StatusCode::BAD_REQUEST, why);
    }
    let Ok(event) = serde_json::from_slice::<Event>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Stripe event");
    };
    let id_ok =
        event.id.starts_with("evt_") && event.id.len() <= 255 && event.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !id_ok {
        return (StatusCode::BAD_REQUEST, "not a Stripe event id");
    }
    let (received_ms, started) = (crate::clock::unix_now_ms(), std::time::Instant::now());
    let service = &r.service;
    let applying = async {
        if event.kind.starts_with("payment_intent.") {
            // The signed payload's PaymentIntent, ordered by the event's time.
            return service
                .apply_payment_event(&event.id, &event.kind, event.created, &event.data.object)
                .await;
        }
        let account = event
            .kind
            .starts_with("financial_connections.account.")
            .then(|| {
                event.data.object["id"]
                    .as_str()
                    .and_then(|id| app::model::AccountId::parse(id).ok())
            })
            .flatten();
        service.apply_event(&event.id, &event.kind, account.as_ref()).await
    };
    // Recorded in the developer log of the user whose data it touched.
    let (result, touched) = crate::developer::webhook(&r.developer, applying).await;
    if let Some(user) = touched.user {
        let outcome = match (&result, touched.applied) {
            (Err(_), _) => WebhookOutcome::Failed,
            (Ok(()), Some(false)) => WebhookOutcome::Duplicate,
            (Ok(()), _) => WebhookOutcome::Applied,
        };
        let entry = WebhookLog {
            event_id: event.id.clone(),
            event_type: event.kind.chars().take(255).collect(),
            outcome,
            processing_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        r.developer.record(user, received_ms, LogDetail::Webhook(entry));
    }
    answer(result)
}

/// 2xx once applied (or recorded); anything else and Stripe delivers it again later.
fn answer(applied: Result<(), app::error::AppError>) -> (StatusCode, &'static str) {
    match applied {
        Ok(()) => (StatusCode::OK, "ok"),
        // Not 2xx: Stripe will deliver it again later.
        Err(app::error::AppError::DatabaseUnavailable) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "not processed"),
    }
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
        assert_eq!(
            verify(&h, BODY, &secrets(&["whsec_test_secret"]), T + 10, TOLERANCE_SECS),
            Ok(())
        );
    }

    #[test]
    fn wrong_secret_tampered_body_and_old_timestamps_fail() {
        let h = format!("t={T},v1={V1}");
        assert_eq!(
            verify(&h, BODY, &secrets(&["whsec_other"]), T, TOLERANCE_SECS),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&h, b"{\"id\":\"evt_x\"}", &secrets(&["whsec_test_secret"]), T, TOLERANCE_SECS),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(&h, BODY, &secrets(&["whsec_test_secret"]), T + 301, TOLERANCE_SECS),
            Err(SignatureError::Expired)
        );
        for bad in ["", "t=abc,v1=00", "v1=00", &format!("t={T}"), &format!("t={T},v1=zz")] {
            assert_eq!(
                verify(bad, BODY, &secrets(&["whsec_test_secret"]), T, TOLERANCE_SECS),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn hostile_headers_are_refused_before_any_mac() {
        let s = secrets(&["whsec_test_secret"]);
        // Tens of thousands of entries: refused as malformed, never hashed.
        let flood = format!("t={T}{}", ",v1=".repeat(90_000));
        assert_eq!(verify(&flood, BODY, &s, T, TOLERANCE_SECS), Err(SignatureError::Malformed));
        let many_valid = format!("t={T}{}", format!(",v1={V1}").repeat(MAX_SIGNATURES + 1));
        assert_eq!(
            verify(&many_valid, BODY, &s, T, TOLERANCE_SECS),
            Err(SignatureError::Malformed)
        );
        let padded = format!("t={T},v1={V1},{}", "v0=x,".repeat(20));
        assert_eq!(verify(&padded, BODY, &s, T, TOLERANCE_SECS), Err(SignatureError::Malformed));
        let twice_t = format!("t={T},t={T},v1={V1}");
        assert_eq!(verify(&twice_t, BODY, &s, T, TOLERANCE_SECS), Err(SignatureError::Malformed));
        let short_sig = format!("t={T},v1={}", &V1[..62]);
        assert_eq!(
            verify(&short_sig, BODY, &s, T, TOLERANCE_SECS),
            Err(SignatureError::Malformed)
        );
        let huge_t = format!("t={},v1={V1}", "9".repeat(40));
        assert_eq!(verify(&huge_t, BODY, &s, T, TOLERANCE_SECS), Err(SignatureError::Malformed));
        // The most a real header carries is still accepted.
        let rotation = format!("t={T},v1={},v1={V1},v0={}", "ab".repeat(32), "cd".repeat(32));
        assert_eq!(verify(&rotation, BODY, &s, T, TOLERANCE_SECS), Ok(()));
    }

    #[test]
    fn the_timestamp_is_checked_before_the_signature() {
        // A stale header fails as expired even with a wrong signature: no MAC is needed to refuse it.
        let stale = format!("t={},v1={}", T - 1000, "00".repeat(32));
        assert_eq!(
            verify(&stale, BODY, &secrets(&["whsec_test_secret"]), T, TOLERANCE_SECS),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn any_v1_and_any_secret_during_rotation() {
        let h = format!("t={T},v1={},v1={V1},v0=ignored", "00".repeat(32));
        assert_eq!(verify(&h, BODY, &secrets(&["whsec_test_secret"]), T, TOLERANCE_SECS), Ok(()));
        let new = header("whsec_new", T, BODY);
        assert_eq!(
            verify(&new, BODY, &secrets(&["whsec_old", "whsec_new"]), T, TOLERANCE_SECS),
            Ok(())
        );
    }
}
