//! Anonymous browser sessions: a random token in an HttpOnly cookie, mapped to
//! a [`UserId`] that every server function sees. **This is where a real login
//! plugs in**: resolve your authenticated user here instead.

use app::service::UserId;
use axum::extract::Request;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "fc_session";
/// Over https the cookie gets the `__Host-` prefix and `Secure`.
pub const SECURE_COOKIE_NAME: &str = "__Host-fc_session";
const TOKEN_LEN: usize = 64;

fn is_https(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

fn valid_token(t: &str) -> bool {
    t.len() == TOKEN_LEN && t.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The session token from the request's cookies, if well-formed.
pub fn read_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| (*k == COOKIE_NAME || *k == SECURE_COOKIE_NAME) && valid_token(v))
        .map(|(_, v)| v.to_owned())
}

pub fn new_token() -> String {
    let bytes: [u8; TOKEN_LEN / 2] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// The token is a credential; the user id stored server-side is its hash.
pub fn user_id_for(token: &str) -> UserId {
    UserId::new(hex::encode(&Sha256::digest(token.as_bytes())[..16]))
}

pub fn set_cookie_value(token: &str, https: bool) -> String {
    if https {
        format!("{SECURE_COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=31536000")
    } else {
        format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000")
    }
}

/// Middleware: attaches the [`UserId`] to the request, issuing a cookie on first visit.
pub async fn attach_user(mut req: Request, next: Next) -> Response {
    let https = is_https(req.headers());
    let (token, fresh) = match read_token(req.headers()) {
        Some(t) => (t, false),
        None => (new_token(), true),
    };
    req.extensions_mut().insert(user_id_for(&token));
    let mut resp = next.run(req).await;
    if fresh {
        if let Ok(v) = HeaderValue::from_str(&set_cookie_value(&token, https)) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_only_well_formed_tokens() {
        let t = new_token();
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(&format!("a=b; {COOKIE_NAME}={t}")).unwrap());
        assert_eq!(read_token(&h), Some(t.clone()));
        let mut bad = HeaderMap::new();
        bad.insert(COOKIE, HeaderValue::from_static("fc_session=../../etc/passwd"));
        assert_eq!(read_token(&bad), None);
    }

    #[test]
    fn cookie_attributes() {
        let c = set_cookie_value("x", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        let s = set_cookie_value("x", true);
        assert!(s.starts_with("__Host-") && s.contains("Secure") && s.contains("Path=/"));
    }

    #[test]
    fn user_ids_are_stable_hashes() {
        assert_eq!(user_id_for("abc"), user_id_for("abc"));
        assert_ne!(user_id_for("abc"), user_id_for("abd"));
        assert!(!user_id_for("abc").as_str().contains("abc"));
    }
}
