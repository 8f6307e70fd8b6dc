//! The app's webhook endpoint: signatures, dedupe, out-of-order events, and
//! the sandbox delivering to it live. Each test runs on SQLite and on
//! PostgreSQL.

mod common;
use server::clock::unix_now;

use common::app::*;
use common::until;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

server::backend_tests!(
    sandbox_events_reach_the_app_and_update_its_accounts,
    only_correctly_signed_events_are_accepted,
    events_are_applied_once_from_stripes_current_state,
    open_pages_hear_about_their_accounts_changing,
    an_account_linked_but_never_confirmed_arrives_by_its_webhook,
    without_webhooks_the_dashboard_finds_unconfirmed_accounts_at_stripe,
);

async fn sandbox_events_reach_the_app_and_update_its_accounts(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let browser = app.browser().await;
    let accounts = browser.link().await;
    let id = accounts[0]["id"].as_str().unwrap();

    let key = app.built_sandbox_key.clone().unwrap();
    let resp = app
        .http
        .post(format!("{}/sandbox/_sandbox/accounts/{id}/status", app.base))
        .bearer_auth(&key)
        .form(&[("status", "inactive")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    until(async || {
        let (_, listed) = browser.call("linked_accounts", &[]).await;
        (listed[0]["status"] == "inactive").then_some(())
    })
    .await;
}

const SECRET_KEY: &str = "sk_test_webhooks";

async fn stripe_mode(db: &TestDb) -> StripeModeApp {
    let sandbox = server::sandbox::router(std::sync::Arc::new(server::sandbox::Sandbox::new()));
    spawn_stripe_mode_on(db, sandbox, SECRET_KEY, "whsec_old,whsec_new").await
}

/// Webhook-specific helpers for the Stripe-mode app.
impl StripeModeApp {
    async fn status_of(&self, cookie: &str) -> String {
        let v: Value = self
            .http
            .post(format!("{}/api/linked_accounts", self.app))
            .header("Cookie", cookie)
            .header("Sec-Fetch-Site", "same-origin")
            .form(&[("", "")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v[0]["status"].as_str().unwrap().to_owned()
    }

    async fn set_status_at_stripe(&self, id: &str, status: &str) {
        let r = self
            .http
            .post(format!("{}/_sandbox/accounts/{id}/status", self.sandbox))
            .bearer_auth(SECRET_KEY)
            .form(&[("status", status)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }

    async fn deliver(&self, body: &str, signature: Option<String>) -> StatusCode {
        let mut req = self.http.post(format!("{}/webhooks/stripe", self.app)).body(body.to_owned());
        if let Some(s) = signature {
            req = req.header("Stripe-Signature", s);
        }
        req.send().await.unwrap().status()
    }
}

fn event(id: &str, kind: &str, account: &str, claimed_status: &str) -> String {
    json!({"id": id, "object": "event", "type": kind,
           "data": {"object": {"id": account, "object": "financial_connections.account", "status": claimed_status}}})
    .to_string()
}

async fn only_correctly_signed_events_are_accepted(db: TestDb) {
    let app = stripe_mode(&db).await;
    let body = event(
        "evt_sig",
        "financial_connections.account.reactivated",
        "fca_unknown",
        "active",
    );
    let sign = |secret: &str, t: i64| Some(server::webhooks::header(secret, t, body.as_bytes()));
    assert_eq!(app.deliver(&body, None).await, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.deliver(&body, sign("whsec_wrong", unix_now())).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.deliver(&body, sign("whsec_new", unix_now() - 301)).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.deliver(&body, Some("t=1,v1=zz".into())).await, StatusCode::BAD_REQUEST);
    let tampered = body.replace("evt_sig", "evt_other");
    let good_for_original = server::webhooks::header("whsec_new", unix_now(), body.as_bytes());
    assert_eq!(app.deliver(&tampered, Some(good_for_original)).await, StatusCode::BAD_REQUEST);
    // Both secrets work during rotation; an unknown account is acknowledged and ignored.
    assert_eq!(app.deliver(&body, sign("whsec_old", unix_now())).await, StatusCode::OK);
    let body2 = event(
        "evt_sig2",
        "financial_connections.account.reactivated",
        "fca_unknown",
        "active",
    );
    assert_eq!(
        app.deliver(
            &body2,
            Some(server::webhooks::header("whsec_new", unix_now(), body2.as_bytes()))
        )
        .await,
        StatusCode::OK
    );
    let junk = "{\"hello\":1}";
    assert_eq!(
        app.deliver(junk, Some(server::webhooks::header("whsec_new", unix_now(), junk.as_bytes())))
            .await,
        StatusCode::BAD_REQUEST
    );
    let huge = "x".repeat(100 * 1024);
    assert_eq!(
        app.deliver(
            &huge,
            Some(server::webhooks::header("whsec_new", unix_now(), huge.as_bytes()))
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

async fn events_are_applied_once_from_stripes_current_state(db: TestDb) {
    let app = stripe_mode(&db).await;
    let (cookie, id) = app.link().await;
    assert_eq!(app.status_of(&cookie).await, "active");
    let signed = |body: &str| Some(server::webhooks::header("whsec_new", unix_now(), body.as_bytes()));

    // Stripe says inactive; a late "reactivated" event claiming active arrives:
    // the app stores what Stripe says now, not what the event carried.
    app.set_status_at_stripe(&id, "inactive").await;
    let late = event("evt_late", "financial_connections.account.reactivated", &id, "active");
    assert_eq!(app.deliver(&late, signed(&late)).await, StatusCode::OK);
    assert_eq!(app.status_of(&cookie).await, "inactive");

    // The same event redelivered after Stripe changed: a no-op.
    app.set_status_at_stripe(&id, "active").await;
    assert_eq!(app.deliver(&late, signed(&late)).await, StatusCode::OK);
    assert_eq!(app.status_of(&cookie).await, "inactive");

    // A new event applies.
    let next = event("evt_next", "financial_connections.account.reactivated", &id, "active");
    assert_eq!(app.deliver(&next, signed(&next)).await, StatusCode::OK);
    assert_eq!(app.status_of(&cookie).await, "active");
}

async fn open_pages_hear_about_their_accounts_changing(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let alice = app.browser().await;
    let id = alice.link().await[0]["id"].as_str().unwrap().to_owned();
    let mallory = app.browser().await;
    let open = |cookie: String| {
        let req = app.http.get(format!("{}/events", app.base)).header("Cookie", cookie);
        async move { req.send().await.unwrap() }
    };
    let mut alices = open(alice.cookie.clone()).await;
    assert_eq!(alices.headers()["content-type"], "text/event-stream");
    let mut mallorys = open(mallory.cookie.clone()).await;

    let (s, _) = alice.call("refresh_account", &[("id", &id), ("feature", "balance")]).await;
    assert_eq!(s, StatusCode::OK);
    let expected = format!("event: account\ndata: {id}");
    assert!(
        sse_contains(&mut alices, &expected, Duration::from_secs(10)).await,
        "no live update"
    );
    assert!(
        !sse_contains(&mut mallorys, &id, Duration::from_millis(500)).await,
        "another user heard of it"
    );
}

async fn an_account_linked_but_never_confirmed_arrives_by_its_webhook(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let browser = app.browser().await;
    let mut events = app
        .http
        .get(format!("{}/events", app.base))
        .header("Cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    let (s, session) = browser
        .call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .await;
    assert_eq!(s, StatusCode::OK);
    // The person finishes Stripe's modal, then the tab closes: confirm_link never runs.
    browser.complete_modal(session["client_secret"].as_str().unwrap()).await;
    // Stripe's account.created webhook names an account the app does not know;
    // its Customer is this browser's, so it is recorded for them and their open page told.
    assert!(
        sse_contains(&mut events, "event: account\ndata: fca_", Duration::from_secs(10)).await,
        "the open page heard nothing"
    );
    let (_, listed) = browser.call("linked_accounts", &[]).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    // Confirming later (a retry) finds it already there.
    let (s, confirmed) = browser
        .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(confirmed, listed);
}

async fn without_webhooks_the_dashboard_finds_unconfirmed_accounts_at_stripe(db: TestDb) {
    // Stripe mode with no endpoint registered at the sandbox: no webhook ever arrives.
    let app = stripe_mode(&db).await;
    let cookie = app.cookie().await;
    let (_, session) = app
        .call(
            &cookie,
            "start_link",
            &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)],
        )
        .await;
    let secret = session["client_secret"].as_str().unwrap();
    app.complete_modal(secret, &["success", "savings"]).await;
    let (s, listed) = app.call(&cookie, "linked_accounts", &[]).await;
    assert_eq!(s, StatusCode::OK, "{listed}");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{listed}");
    // Another browser's Customer has none of them.
    let other = app.cookie().await;
    let (_, theirs) = app.call(&other, "linked_accounts", &[]).await;
    assert_eq!(theirs, json!([]));
}
