//! Two app instances on one PostgreSQL database, as behind a load balancer,
//! with one standalone sandbox as their Stripe (keys set as in Stripe mode)
//! whose webhooks reach instance B only: one Customer however the clicks are
//! spread, live updates from B's webhooks on pages open on A, a webhook
//! delivered to both applied once, and pages told to resync when their
//! instance may have missed updates. PostgreSQL only (SQLite is one process).

mod common;

use common::app::*;
use common::until;
use reqwest::StatusCode;
use serde_json::Value;
use server::storage::Backend;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "sk_test_two_instances";

struct TwoInstances {
    a: String,
    b: String,
    sandbox: Arc<server::sandbox::Sandbox>,
    sandbox_base: String,
    /// The webhook secret the sandbox signs B's deliveries with.
    secret: String,
    http: reqwest::Client,
    /// How many times Stripe was asked to create a Customer.
    creations: Arc<AtomicUsize>,
}

async fn two_instances(db: &TestDb) -> TwoInstances {
    let sandbox = Arc::new(server::sandbox::Sandbox::with_timing(common::fast_timing()));
    // Customer creations are counted, and slow: a second instance creating
    // one at the same time would have every chance to.
    let creations = Arc::new(AtomicUsize::new(0));
    let counting = creations.clone();
    let router = server::sandbox::router(sandbox.clone()).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let counting = counting.clone();
            async move {
                if req.method() == axum::http::Method::POST && req.uri().path() == "/v1/customers" {
                    counting.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                next.run(req).await
            }
        },
    ));
    let sandbox_base = serve_sandbox(router).await;
    let http = reqwest::Client::new();
    let (listener_a, listener_b) = (
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    );
    // B's endpoint is registered with Stripe, as one would in the Dashboard.
    let endpoint: Value = http
        .post(format!("{sandbox_base}/v1/webhook_endpoints"))
        .bearer_auth(KEY)
        .form(&[
            (
                "url",
                format!("http://{}/webhooks/stripe", listener_b.local_addr().unwrap()).as_str(),
            ),
            ("enabled_events[]", "*"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = endpoint["secret"].as_str().expect("a whsec_ secret").to_owned();
    let env = stripe_mode_env(&sandbox_base, KEY, &secret, &db.url);
    let a = serve_app(listener_a, &env).await.base;
    let b = serve_app(listener_b, &env).await.base;
    TwoInstances {
        a,
        b,
        sandbox,
        sandbox_base,
        secret,
        http,
        creations,
    }
}

impl TwoInstances {
    /// A new browser's session cookie, from a page served by A.
    async fn cookie(&self) -> String {
        let page = self.http.get(format!("{}/", self.a)).send().await.unwrap();
        let cookie = page.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        page.text().await.unwrap(); // the page's own server-side calls are over
        cookie
    }

    async fn call(&self, base: &str, cookie: &str, func: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        call_server_fn(&self.http, base, cookie, func, form).await
    }

    /// Links the "Success" account: started on A, confirmed on B.
    async fn link(&self, cookie: &str) -> String {
        let (s, session) = self
            .call(
                &self.a,
                cookie,
                "start_link",
                &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{session}");
        let secret = session["client_secret"].as_str().unwrap();
        complete_modal(&self.http, &self.sandbox_base, "pk_test_stripe_mode", secret, &["success"]).await;
        let sid = session["session_id"].as_str().unwrap();
        let (s, accounts) = self.call(&self.b, cookie, "confirm_link", &[("session_id", sid)]).await;
        assert_eq!(s, StatusCode::OK, "{accounts}");
        accounts[0]["id"].as_str().unwrap().to_owned()
    }

    /// Waits until the sandbox has no webhook delivery in flight.
    async fn deliveries_settled(&self) {
        until(async || {
            let list: Value = self
                .http
                .get(format!("{}/_sandbox/webhook_deliveries", self.sandbox_base))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let data = list["data"].as_array().cloned().unwrap_or_default();
            data.iter().all(|d| d["status"] != "pending").then_some(())
        })
        .await;
    }

    async fn deliver(&self, base: &str, body: &str) -> StatusCode {
        let signature = server::webhooks::header(&self.secret, server::clock::unix_now(), body.as_bytes());
        let resp = self
            .http
            .post(format!("{base}/webhooks/stripe"))
            .header("Stripe-Signature", signature)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        resp.status()
    }

    async fn display_name(&self, cookie: &str) -> Value {
        let (_, accounts) = self.call(&self.a, cookie, "linked_accounts", &[]).await;
        accounts[0]["display_name"].clone()
    }

    async fn events_on_a(&self, cookie: &str) -> reqwest::Response {
        let resp = self
            .http
            .get(format!("{}/events", self.a))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        resp
    }
}

fn account_event(id: &str, account: &str) -> String {
    serde_json::json!({"id": id, "object": "event", "type": "financial_connections.account.refreshed_balance",
        "data": {"object": {"id": account, "object": "financial_connections.account"}}})
    .to_string()
}

async fn postgres() -> Option<TestDb> {
    TestDb::new(Backend::Postgres).await
}

#[tokio::test]
async fn fifty_link_starts_over_two_instances_make_one_customer() {
    let Some(db) = postgres().await else { return };
    let two = two_instances(&db).await;
    let cookie = two.cookie().await;
    // One browser, 50 clicks, each with another name typed, spread over both.
    let names: Vec<String> = (0..50).map(|i| format!("Jenny {i}")).collect();
    let calls = names.iter().enumerate().map(|(i, name)| {
        let (two, cookie) = (&two, &cookie);
        let base = if i % 2 == 0 { &two.a } else { &two.b };
        async move {
            let form = [("name", name.as_str()), ("email", ""), ("permissions", ALL_PERMISSIONS)];
            two.call(base, cookie, "start_link", &form).await
        }
    });
    for (s, v) in futures::future::join_all(calls).await {
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    assert_eq!(two.sandbox.customer_count(), 1);
    assert_eq!(two.creations.load(Ordering::SeqCst), 1, "only one instance asked Stripe");
    // Stripe and the database agree on the last name saved: each change was
    // made at Stripe and stored under the same lock.
    let at_stripe = two
        .sandbox
        .with_space(KEY, |s| s.customers.values().map(|c| c.name.clone()).collect::<Vec<_>>());
    let (_, stored) = two.call(&two.b, &cookie, "load_details", &[]).await;
    assert_eq!(at_stripe, vec![stored["name"].as_str().map(str::to_owned)]);
    assert!(names.iter().any(|n| Some(n.as_str()) == stored["name"].as_str()), "{stored}");
}

#[tokio::test]
async fn a_page_open_on_one_instance_hears_a_webhook_another_received() {
    let Some(db) = postgres().await else { return };
    let two = two_instances(&db).await;
    let cookie = two.cookie().await;
    let id = two.link(&cookie).await;
    two.deliveries_settled().await;
    let mut on_a = two.events_on_a(&cookie).await;

    let (s, d) = two
        .call(&two.a, &cookie, "refresh_account", &[("id", &id), ("feature", "balance")])
        .await;
    assert_eq!(
        (s, &d["balance_refresh"]["status"]),
        (StatusCode::OK, &serde_json::json!("pending")),
        "{d}"
    );
    // The sandbox settles it and tells B, and only B; A's page hears of it.
    let expected = format!("event: account\ndata: {id}");
    assert!(
        sse_contains(&mut on_a, &expected, Duration::from_secs(10)).await,
        "no live update on A"
    );
}

#[tokio::test]
async fn a_webhook_delivered_to_both_instances_is_applied_once() {
    let Some(db) = postgres().await else { return };
    let two = two_instances(&db).await;
    let cookie = two.cookie().await;
    let id = two.link(&cookie).await;
    two.deliveries_settled().await;
    assert_eq!(two.display_name(&cookie).await, "Success");

    let event = account_event("evt_both_1", &id);
    assert_eq!(two.deliver(&two.a, &event).await, StatusCode::OK);
    // Stripe's copy changes without an event; the same event then reaches B.
    two.sandbox.with_space(KEY, |s| {
        if let Some(a) = s.accounts.iter_mut().find(|a| a.id == id) {
            a.display_name = "Renamed at Stripe".into();
        }
    });
    assert_eq!(two.deliver(&two.b, &event).await, StatusCode::OK);
    assert_eq!(two.display_name(&cookie).await, "Success", "applied twice");
    // A new event does apply on B (so the one before was skipped as seen).
    let next = account_event("evt_both_2", &id);
    assert_eq!(two.deliver(&two.b, &next).await, StatusCode::OK);
    assert_eq!(two.display_name(&cookie).await, "Renamed at Stripe");

    // Both at the same moment: both acknowledged, one row.
    let at_once = account_event("evt_both_3", &id);
    let (to_a, to_b) = tokio::join!(two.deliver(&two.a, &at_once), two.deliver(&two.b, &at_once));
    assert_eq!((to_a, to_b), (StatusCode::OK, StatusCode::OK));
    let rows = db
        .query_i64("SELECT COUNT(*) FROM webhook_events WHERE id LIKE 'evt_both_%'", &[])
        .await;
    assert_eq!(rows, 3);
}

#[tokio::test]
async fn pages_resync_when_their_instance_may_have_missed_updates() {
    let Some(db) = postgres().await else { return };
    let two = two_instances(&db).await;
    let cookie = two.cookie().await;
    let mut on_a = two.events_on_a(&cookie).await;
    // The database drops the instances' listening connections (a restart,
    // a network blip): notifications sent meanwhile are lost.
    let listening = "FROM pg_stat_activity WHERE application_name = 'bank-link-listener' \
                     AND query LIKE '%' || current_schema() || '%'";
    let count = format!("SELECT COUNT(*) {listening}");
    until(async || (db.query_i64(&count, &[]).await == 2).then_some(())).await;
    let terminate = format!("SELECT COUNT(pg_terminate_backend(pid)) {listening}");
    assert_eq!(db.query_i64(&terminate, &[]).await, 2, "one listener per instance");
    assert!(
        sse_contains(&mut on_a, "event: resync\ndata: all", Duration::from_secs(10)).await,
        "no resync"
    );
}
