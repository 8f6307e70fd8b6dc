//! Property tests for the parsers that read untrusted bytes on the server:
//! the `Stripe-Signature` header and the sandbox's bracket-form decoder.
//! Never a panic, bounded work, and what is signed verifies. `PROPTEST_CASES`
//! sets the number of cases (`make fuzz` runs 10⁶).

use proptest::prelude::*;
use secrecy::SecretString;
use server::webhooks::{header, verify, SignatureError, SignatureHeader, TOLERANCE_SECS};

/// Headers built from plausible and hostile pieces.
fn signature_header() -> impl Strategy<Value = String> {
    let element = prop_oneof![
        "t=[0-9]{0,14}",
        "v1=[0-9a-f]{0,70}",
        "v0=[ -~]{0,20}",
        "[a-z0-9]{0,3}=[ -~]{0,10}",
        "[ -~]{0,12}",
    ];
    prop_oneof![
        proptest::collection::vec(element, 0..40).prop_map(|v| v.join(",")),
        ".{0,2000}"
    ]
}

proptest! {
    #[test]
    fn signature_headers_never_panic(h in signature_header(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let secrets = [SecretString::from("whsec_a".to_owned())];
        if let Ok(p) = SignatureHeader::parse(&h) {
            prop_assert!(!p.v1.is_empty() && p.v1.len() <= server::webhooks::MAX_SIGNATURES);
        }
        let _ = verify(&h, &body, &secrets, 1_700_000_000, TOLERANCE_SECS);
    }

    #[test]
    fn what_is_signed_verifies_and_nothing_else(
        t in 1_000_000_000i64..4_000_000_000,
        secret in "whsec_[A-Za-z0-9]{1,40}",
        body in proptest::collection::vec(any::<u8>(), 0..256),
        flip in any::<usize>(),
    ) {
        let secrets = [SecretString::from(secret.clone())];
        let h = header(&secret, t, &body);
        prop_assert_eq!(verify(&h, &body, &secrets, t, TOLERANCE_SECS), Ok(()));
        let mut tampered = body.clone();
        if tampered.is_empty() { tampered.push(0) } else { let i = flip % tampered.len(); tampered[i] ^= 1; }
        prop_assert_eq!(verify(&h, &tampered, &secrets, t, TOLERANCE_SECS), Err(SignatureError::NoMatch));
    }

    #[test]
    fn bracket_forms_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..512), keys in "([a-z\\[\\]]{0,12}=[a-z%0-9]{0,6}&){0,30}") {
        let _ = server::sandbox::form::decode(&raw);
        let _ = server::sandbox::form::decode(keys.as_bytes());
    }
}
