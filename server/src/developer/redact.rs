//! What the developer log never keeps: secret and restricted keys
//! (`sk_…`, `rk_…`), webhook secrets (`whsec_…`), client secrets
//! (`…_secret_…`), and the values of fields named like secrets, passwords or
//! account numbers. Applied to request parameters, Stripe's answers and
//! Stripe.js results before they are queued for storage; the JSON is then
//! pretty-printed and capped in size.

use serde_json::{Map, Value};

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";
/// Longest pretty-printed JSON kept per field; longer is cut, saying so.
pub const MAX_JSON_CHARS: usize = 32 * 1024;

/// Token prefixes that are secrets wherever they appear.
const SECRET_PREFIXES: [&str; 5] = ["sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_"];

/// Whether a field of this name holds something never kept. `key` may be a
/// form key in bracket notation (`payment_method_data[us_bank_account][account_number]`).
pub fn sensitive_key(key: &str) -> bool {
    let last = key
        .trim_end_matches("[]")
        .trim_end_matches(']')
        .rsplit('[')
        .next()
        .unwrap_or(key)
        .to_ascii_lowercase();
    last.contains("secret")
        || last.contains("password")
        || last.starts_with("account_number")
        || last == "authorization"
        || last == "api_key"
}

/// `s` with every secret token replaced by [`REDACTED`]. A token is a run
/// of ASCII letters, digits and underscores.
pub fn redact_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut token_start: Option<usize> = None;
    let flush = |out: &mut String, token: &str| {
        if is_secret_token(token) {
            out.push_str(REDACTED);
        } else {
            out.push_str(token);
        }
    };
    for (i, c) in s.char_indices() {
        let in_token = c.is_ascii_alphanumeric() || c == '_';
        match (in_token, token_start) {
            (true, None) => token_start = Some(i),
            (false, Some(start)) => {
                flush(&mut out, &s[start..i]);
                token_start = None;
                out.push(c);
            }
            (false, None) => out.push(c),
            (true, Some(_)) => {}
        }
    }
    if let Some(start) = token_start {
        flush(&mut out, &s[start..]);
    }
    out
}

fn is_secret_token(token: &str) -> bool {
    SECRET_PREFIXES.iter().any(|p| token.starts_with(p)) || token.contains("_secret_")
}

/// Redacts `value` in place: sensitive fields' values and secret tokens in
/// every string, keys included.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            let clean = redact_str(s);
            if clean != *s {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::Object(map) => {
            let taken = std::mem::take(map);
            *map = taken
                .into_iter()
                .map(|(k, mut v)| {
                    if sensitive_key(&k) && !v.is_null() {
                        v = Value::String(REDACTED.to_owned());
                    } else {
                        redact_json(&mut v);
                    }
                    (redact_str(&k), v)
                })
                .collect();
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Form fields (in order, keys may repeat) as a redacted JSON object: a
/// repeated key (`permissions[]`) becomes a list of its values.
pub fn form_json(pairs: &[(String, String)]) -> Value {
    let mut map = Map::new();
    for (k, v) in pairs {
        let v = if sensitive_key(k) {
            REDACTED.to_owned()
        } else {
            redact_str(v)
        };
        let k = redact_str(k);
        match map.get_mut(&k) {
            Some(Value::Array(list)) => list.push(Value::String(v)),
            Some(first) => {
                let first = first.take();
                map.insert(k, Value::Array(vec![first, Value::String(v)]));
            }
            None => {
                let v = if k.ends_with("[]") {
                    Value::Array(vec![Value::String(v)])
                } else {
                    Value::String(v)
                };
                map.insert(k, v);
            }
        }
    }
    Value::Object(map)
}

/// A body as redacted, pretty JSON (a body that is not JSON is kept as a
/// redacted string), cut to [`MAX_JSON_CHARS`].
pub fn body_text(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => pretty(&mut v),
        Err(_) => capped(redact_str(&String::from_utf8_lossy(bytes))),
    }
}

/// Redacts `value` and pretty-prints it, cut to [`MAX_JSON_CHARS`].
pub fn pretty(value: &mut Value) -> String {
    redact_json(value);
    capped(serde_json::to_string_pretty(value).unwrap_or_default())
}

fn capped(mut s: String) -> String {
    if s.len() <= MAX_JSON_CHARS {
        return s;
    }
    let total = s.len();
    let mut cut = MAX_JSON_CHARS;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(&format!("\n… (cut: {total} bytes in all)"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_tokens_are_redacted_wherever_they_appear() {
        assert_eq!(
            redact_str("Invalid API Key provided: sk_test_****abcd"),
            "Invalid API Key provided: [redacted]****abcd"
        );
        assert_eq!(redact_str("key rk_live_abc, whsec_xyz."), "key [redacted], [redacted].");
        assert_eq!(
            redact_str("fcsess_123_secret_abc and pi_1_secret_2"),
            "[redacted] and [redacted]"
        );
        // Ordinary ids and words are kept.
        let plain = "fca_123 cus_9 task_test_1 desk_live";
        assert_eq!(redact_str(plain), plain);
        assert_eq!(redact_str("Zoë"), "Zoë");
    }

    #[test]
    fn sensitive_fields_are_redacted_in_json_and_forms() {
        let mut v = json!({
            "id": "fcsess_1",
            "client_secret": "fcsess_1_secret_abc",
            "secret": "whsec_1",
            "nested": [{"account_number": "000123456789", "last4": "6789", "note": "uses sk_live_zzz"}],
            "account_numbers": [{"account_number": "1"}],
            "empty_secret": null
        });
        redact_json(&mut v);
        assert_eq!(v["client_secret"], REDACTED);
        assert_eq!(v["secret"], REDACTED);
        assert_eq!(v["nested"][0]["account_number"], REDACTED);
        assert_eq!(v["nested"][0]["last4"], "6789");
        assert_eq!(v["nested"][0]["note"], "uses [redacted]");
        assert_eq!(v["account_numbers"], REDACTED);
        assert_eq!(v["empty_secret"], Value::Null);
        assert_eq!(v["id"], "fcsess_1");

        let form = form_json(&[
            ("account_holder[customer]".into(), "cus_1".into()),
            ("permissions[]".into(), "balances".into()),
            ("permissions[]".into(), "ownership".into()),
            ("payment_method_data[us_bank_account][account_number]".into(), "000123".into()),
            ("note".into(), "sk_test_123".into()),
        ]);
        assert_eq!(
            form,
            json!({
                "account_holder[customer]": "cus_1",
                "permissions[]": ["balances", "ownership"],
                "payment_method_data[us_bank_account][account_number]": REDACTED,
                "note": REDACTED,
            })
        );
    }

    #[test]
    fn bodies_are_pretty_redacted_and_capped() {
        let text = body_text(br#"{"client_secret":"x_secret_y","id":"a"}"#);
        assert!(text.contains("\"id\": \"a\"") && !text.contains("x_secret_y"), "{text}");
        assert_eq!(body_text(b"not json sk_test_1"), "not json [redacted]");
        let huge = format!("\"{}\"", "é".repeat(MAX_JSON_CHARS));
        let cut = body_text(huge.as_bytes());
        assert!(cut.len() < MAX_JSON_CHARS + 100 && cut.contains("(cut: "), "{}", cut.len());
    }
}
