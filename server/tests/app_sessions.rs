//! Browser sessions through the whole app: they are stored (so every
//! instance on one database agrees), they end when idle, too old or revoked,
//! an ended cookie never reaches its old user again, a cookie from before
//! sessions were stored is adopted once, and pruning forgets what nobody can
//! reach. Each test runs on SQLite and on PostgreSQL.

mod common;

use common::app::*;
use reqwest::StatusCode;
use serde_json::json;

server::backend_tests!(
    a_session_is_stored_and_shared_by_every_instance,
    an_idle_session_ends_and_the_page_starts_a_new_user,
    a_session_past_its_lifetime_ends_however_busy,
    revoked_sessions_end_at_once,
    a_cookie_from_before_stored_sessions_is_adopted_once,
    an_unknown_cookie_gets_no_user,
);

/// The token inside a `fc_session=…` cookie.
fn token(cookie: &str) -> &str {
    cookie.split_once('=').unwrap().1
}

fn hash(cookie: &str) -> String {
    server::session::token_hash(token(cookie))
}

async fn a_session_is_stored_and_shared_by_every_instance(db: TestDb) {
    let a = spawn_on(&db).await;
    let b = spawn_on(&db).await;
    let browser = a.browser().await;
    let stored = db
        .query_i64(
            "SELECT COUNT(*) FROM browser_sessions WHERE token_hash = $1",
            &[&hash(&browser.cookie)],
        )
        .await;
    assert_eq!(stored, 1, "the session is a row, keyed by the token's hash");
    let raw = db
        .query_i64(
            "SELECT COUNT(*) FROM browser_sessions WHERE token_hash = $1",
            &[token(&browser.cookie)],
        )
        .await;
    assert_eq!(raw, 0, "the token itself is not stored");
    let (s, saved) = browser
        .call("save_details", &[("name", "Jenny Rosen"), ("email", "jenny@example.com")])
        .await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    // The other instance knows the session, and so the user.
    let (s, details) = call_server_fn(&b.http, &b.base, &browser.cookie, "load_details", &[]).await;
    assert_eq!(s, StatusCode::OK, "{details}");
    assert_eq!(details["name"], json!("Jenny Rosen"));
}

/// Moves every stored time of the session back by `secs`.
async fn age(db: &TestDb, cookie: &str, created: i64, last_seen: i64) {
    db.execute(
        "UPDATE browser_sessions SET created_at = created_at - CAST($1 AS BIGINT), \
         last_seen_at = last_seen_at - CAST($2 AS BIGINT) WHERE token_hash = $3",
        &[&created.to_string(), &last_seen.to_string(), &hash(cookie)],
    )
    .await
    .unwrap();
}

async fn an_idle_session_ends_and_the_page_starts_a_new_user(db: TestDb) {
    let app = spawn_on(&db).await; // defaults: 30 days idle
    let browser = app.browser().await;
    let (s, _) = browser.call("save_details", &[("name", "Jenny Rosen"), ("email", "")]).await;
    assert_eq!(s, StatusCode::OK);
    // Used 29 days ago: still alive.
    age(&db, &browser.cookie, 29 * 86_400, 29 * 86_400).await;
    let (s, details) = browser.call("load_details", &[]).await;
    assert_eq!((s, &details["name"]), (StatusCode::OK, &json!("Jenny Rosen")));
    // Not used for 31 days: ended. Server functions refuse it…
    age(&db, &browser.cookie, 31 * 86_400, 31 * 86_400).await;
    let (s, body) = browser.call("load_details", &[]).await;
    assert_eq!((s, body), (StatusCode::FORBIDDEN, json!("NoSession")));
    // …and the page starts a new session, for a new user who sees nothing of the old one.
    let resp = app
        .http
        .get(format!("{}/", app.base))
        .header("Cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    let fresh = set.split(';').next().unwrap().to_owned();
    assert_ne!(fresh, browser.cookie);
    let (s, details) = call_server_fn(&app.http, &app.base, &fresh, "load_details", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(details["name"], json!(null), "the new user is blank: {details}");
}

async fn a_session_past_its_lifetime_ends_however_busy(db: TestDb) {
    let app = spawn_with_env(&[("DATABASE_URL", db.url.as_str()), ("SESSION_MAX_SECS", "3600")]).await;
    let browser = app.browser().await;
    assert!(
        browser.cookie.starts_with("fc_session="),
        "over plain http the plain name: {}",
        browser.cookie
    );
    // Made 2 hours ago, used a second ago.
    age(&db, &browser.cookie, 7200, 1).await;
    let (s, body) = browser.call("linked_accounts", &[]).await;
    assert_eq!((s, body), (StatusCode::FORBIDDEN, json!("NoSession")));
}

async fn revoked_sessions_end_at_once(db: TestDb) {
    let app = spawn_on(&db).await;
    let alice = app.browser().await;
    let bob = app.browser().await;
    alice.link().await;
    let (s, listed) = alice.call("linked_accounts", &[]).await;
    assert_eq!((s, listed.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let storage = db.open().await;
    let user: String = {
        let n = db
            .query_i64("SELECT COUNT(DISTINCT user_id) FROM browser_sessions", &[])
            .await;
        assert_eq!(n, 2);
        // Alice's user: the one with the account.
        let id = db
            .query_i64(
                "SELECT COUNT(*) FROM browser_sessions s JOIN accounts a ON a.user_id = s.user_id WHERE s.token_hash = $1",
                &[&hash(&alice.cookie)],
            )
            .await;
        assert_eq!(id, 1);
        db.query_string(
            "SELECT user_id FROM browser_sessions WHERE token_hash = $1",
            &[&hash(&alice.cookie)],
        )
        .await
    };
    let revoked = storage
        .revoke_sessions(&app::service::UserId::new(user), server::clock::unix_now())
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    let (s, body) = alice.call("linked_accounts", &[]).await;
    assert_eq!((s, body), (StatusCode::FORBIDDEN, json!("NoSession")));
    let (s, _) = bob.call("linked_accounts", &[]).await;
    assert_eq!(s, StatusCode::OK, "other sessions are untouched");
    // The account is still stored (it is linked and billable at Stripe).
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM accounts", &[]).await, 1);
}

async fn a_cookie_from_before_stored_sessions_is_adopted_once(db: TestDb) {
    let app = spawn_on(&db).await;
    // A user from the previous release: named by its token's hash, with details saved.
    let token = server::session::new_token();
    let user = server::session::legacy_user_id(&token);
    db.execute(
        "INSERT INTO users (id, name, created_at, legacy_session) VALUES ($1, 'Old Timer', 0, TRUE)",
        &[user.as_str()],
    )
    .await
    .unwrap();
    let cookie = format!("fc_session={token}");
    let (s, details) = call_server_fn(&app.http, &app.base, &cookie, "load_details", &[]).await;
    assert_eq!((s, &details["name"]), (StatusCode::OK, &json!("Old Timer")), "{details}");
    // It is an ordinary session now: it can be revoked, and stays revoked.
    let storage = db.open().await;
    storage.revoke_sessions(&user, server::clock::unix_now()).await.unwrap();
    let (s, body) = call_server_fn(&app.http, &app.base, &cookie, "load_details", &[]).await;
    assert_eq!((s, body), (StatusCode::FORBIDDEN, json!("NoSession")));
}

async fn an_unknown_cookie_gets_no_user(db: TestDb) {
    let app = spawn_on(&db).await;
    // Well-formed, but no session has it (guessed, or pruned): no user, and none made.
    let cookie = format!("fc_session={}", server::session::new_token());
    let (s, body) = call_server_fn(
        &app.http,
        &app.base,
        &cookie,
        "start_link",
        &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)],
    )
    .await;
    assert_eq!((s, body), (StatusCode::FORBIDDEN, json!("NoSession")));
    assert_eq!(db.query_i64("SELECT COUNT(*) FROM users", &[]).await, 0);
    assert_eq!(app.sandbox.customer_count(), 0);
}
