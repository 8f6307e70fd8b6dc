//! Anonymous browser sessions: a random token in an HttpOnly cookie, mapped to
//! a [`UserId`] that every server function sees. **This is where a real login
//! plugs in**: resolve your authenticated user here instead.

use crate::limits::ClientIp;
use app::error::AppError;
use app::service::UserId;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use sha2::{Digest, Sha256};

pub const COOKIE_NAME: &str = "fc_session";
/// Over https the cookie gets the `__Host-` prefix and `Secure`.
pub const SECURE_COOKIE_NAME: &str = "__Host-fc_session";
const TOKEN_LEN: usize = 64;

fn valid_token(t: &str) -> bool {
    t.len() == TOKEN_LEN && t.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The session token from the request's cookies, if well-formed. Over
/// https only the `__Host-` cookie counts: a plain-named one could have been
/// planted by a sibling subdomain or over http.
pub fn read_token(headers: &HeaderMap, https: bool) -> Option<String> {
    let name = if https { SECURE_COOKIE_NAME } else { COOKIE_NAME };
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && valid_token(v))
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

/// How sessions are issued: whether the public URL is https (decided by
/// configuration, `PUBLIC_URL`, never by a header a client can send), and
/// the limits on how many new ones one address may get.
#[derive(Clone)]
pub struct SessionPolicy {
    pub https: bool,
    pub limits: std::sync::Arc<crate::limits::Limits>,
}

/// Middleware: attaches the [`UserId`] to the request. A page answered
/// without a session cookie issues one (a new anonymous user), within the
/// address's hourly quota of new sessions. Server-function calls and event
/// streams without the cookie an earlier page load issued are refused
/// (`AppError::NoSession`): they would otherwise make a new user, and a
/// Customer, per request.
pub async fn attach_user(State(policy): State<SessionPolicy>, mut req: Request, next: Next) -> Response {
    let https = policy.https;
    let (token, fresh) = match read_token(req.headers(), https) {
        Some(t) => (t, false),
        None => (new_token(), true),
    };
    let path = req.uri().path();
    if fresh && (path.starts_with("/api/") || path == "/events") {
        return crate::web::app_error_response(&AppError::NoSession);
    }
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    req.extensions_mut().insert(user_id_for(&token));
    let mut resp = next.run(req).await;
    let is_page = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if fresh && is_page {
        if let Some(wait) = ip.and_then(|ip| policy.limits.new_session(ip)) {
            tracing::info!(?ip, "refused a new session: too many from this address");
            return crate::limits::too_many("/", wait);
        }
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
        assert_eq!(read_token(&h, false), Some(t.clone()));
        let mut bad = HeaderMap::new();
        bad.insert(COOKIE, HeaderValue::from_static("fc_session=../../etc/passwd"));
        assert_eq!(read_token(&bad, false), None);
    }

    #[test]
    fn over_https_only_the_host_prefixed_cookie_counts() {
        let t = new_token();
        let mut planted = HeaderMap::new();
        planted.insert(COOKIE, HeaderValue::from_str(&format!("{COOKIE_NAME}={t}")).unwrap());
        assert_eq!(read_token(&planted, true), None, "a plain cookie is ignored over https");
        let mut secure = HeaderMap::new();
        secure.insert(COOKIE, HeaderValue::from_str(&format!("{SECURE_COOKIE_NAME}={t}")).unwrap());
        assert_eq!(read_token(&secure, true), Some(t.clone()));
        assert_eq!(read_token(&secure, false), None, "over http the secure name is not ours");
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
