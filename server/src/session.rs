//! Anonymous browser sessions: a random token in an HttpOnly cookie, mapped
//! through the `browser_sessions` table ([`Storage::session_user`]) to a
//! [`UserId`] that every server function sees. Sessions end when idle or old
//! (`SESSION_IDLE_SECS`, `SESSION_MAX_SECS`) or revoked (`server sessions
//! revoke …`). **This is where a real login plugs in**: resolve your
//! authenticated user here instead.

use crate::clock::unix_now;
use crate::config::SessionConfig;
use crate::limits::ClientIp;
use crate::storage::Storage;
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

/// What the database keys a session by: the token's SHA-256, so a copy of
/// the table cannot be replayed as cookies.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Before sessions were stored, a cookie named its user directly: the user
/// id was this hash of the token. Such users are adopted once
/// ([`Storage::adopt_legacy_session`]).
pub fn legacy_user_id(token: &str) -> UserId {
    UserId::new(hex::encode(&Sha256::digest(token.as_bytes())[..16]))
}

/// A fresh user id, unrelated to any token (so an ended session cannot be
/// revived by presenting its cookie again).
fn new_user_id() -> UserId {
    UserId::new(new_token()[..32].to_owned())
}

pub fn set_cookie_value(token: &str, https: bool, max_age: std::time::Duration) -> String {
    let max_age = max_age.as_secs();
    if https {
        format!("{SECURE_COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age={max_age}")
    } else {
        format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}")
    }
}

/// How sessions are issued and checked: whether the public URL is https
/// (decided by configuration, `PUBLIC_URL`, never by a header a client can
/// send), the limits on how many new ones one address may get, where they
/// are stored and how long they last.
#[derive(Clone)]
pub struct SessionPolicy {
    pub https: bool,
    pub limits: std::sync::Arc<crate::limits::Limits>,
    pub storage: std::sync::Arc<Storage>,
    pub rules: SessionConfig,
}

impl SessionPolicy {
    /// The user of the session the request's cookie names, if it is live.
    async fn user(&self, headers: &HeaderMap, now: i64) -> Result<Option<UserId>, AppError> {
        let Some(token) = read_token(headers, self.https) else {
            return Ok(None);
        };
        let hash = token_hash(&token);
        if let Some(user) = self.storage.session_user(&hash, &self.rules, now).await? {
            return Ok(Some(user));
        }
        let legacy = legacy_user_id(&token);
        Ok(self
            .storage
            .adopt_legacy_session(&hash, &legacy, now)
            .await?
            .then_some(legacy))
    }
}

/// Middleware: attaches the [`UserId`] of the request's live session. A
/// page answered without one (no cookie, or a session that is idle too long,
/// too old or revoked) starts a new session for a new anonymous user, within
/// the address's hourly quota of new sessions. Server-function calls and
/// event streams without a live session are refused (`AppError::NoSession`,
/// "reload the page"): they would otherwise make a new user, and a Customer,
/// per request.
pub async fn attach_user(State(policy): State<SessionPolicy>, mut req: Request, next: Next) -> Response {
    let now = unix_now();
    let user = match policy.user(req.headers(), now).await {
        Ok(user) => user,
        Err(e) => return crate::health::error_response(req.uri().path(), &e),
    };
    if let Some(user) = user {
        req.extensions_mut().insert(user.clone());
        let mut resp = next.run(req).await;
        // For the access log line.
        resp.extensions_mut().insert(user);
        return resp;
    }
    let path = req.uri().path();
    if path.starts_with("/api/") || path == "/events" {
        return crate::web::app_error_response(&AppError::NoSession);
    }
    let (token, user) = (new_token(), new_user_id());
    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    req.extensions_mut().insert(user.clone());
    let mut resp = next.run(req).await;
    // For the access log line (the user's id, never the token).
    resp.extensions_mut().insert(user.clone());
    let is_page = resp
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_page {
        if let Some(wait) = ip.and_then(|ip| policy.limits.new_session(ip)) {
            tracing::info!(?ip, "refused a new session: too many from this address");
            return crate::limits::too_many("/", wait);
        }
        if let Err(e) = policy.storage.start_session(&token_hash(&token), &user, now).await {
            return crate::health::error_response("/", &AppError::from(e));
        }
        if let Ok(v) = HeaderValue::from_str(&set_cookie_value(&token, policy.https, policy.rules.max_age)) {
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
        let c = set_cookie_value("x", false, std::time::Duration::from_secs(600));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(c.contains("Max-Age=600"));
        let s = set_cookie_value("x", true, std::time::Duration::from_secs(600));
        assert!(s.starts_with("__Host-") && s.contains("Secure") && s.contains("Path=/"));
    }

    #[test]
    fn hashes_are_stable_and_new_users_unrelated_to_tokens() {
        assert_eq!(legacy_user_id("abc"), legacy_user_id("abc"));
        assert_ne!(legacy_user_id("abc"), legacy_user_id("abd"));
        assert!(!legacy_user_id("abc").as_str().contains("abc"));
        assert_eq!(token_hash("abc").len(), 64);
        assert_ne!(new_user_id(), new_user_id());
    }
}
