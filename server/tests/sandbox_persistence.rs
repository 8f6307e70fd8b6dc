//! The sandbox's state survives a restart: a second sandbox on the same
//! state file finds what the first made (customers, sessions, accounts,
//! transactions, events, webhook endpoints, idempotent responses, fault
//! rules), finishes the refreshes and deliveries the first left waiting,
//! and a state file it cannot use is refused or read around, never trusted.

mod common;

use axum::http::StatusCode;
use axum::Router;
use common::*;
use secrecy::SecretString;
use serde_json::Value;
use server::sandbox::{RetryPolicy, Sandbox, StateFile};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn temp_file() -> PathBuf {
    std::env::temp_dir().join(format!("fc-sandbox-state-{}.db", server::session::new_token()))
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 6,
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
    }
}

/// A sandbox on `file`, with fast refreshes and retries.
async fn open(file: &Path) -> Arc<Sandbox> {
    let sb = Sandbox::with_timing(fast_timing())
        .with_webhook_policy(fast_retries())
        .with_state_file(&StateFile::Sqlite(file.to_owned()))
        .await
        .expect("the state file opens");
    Arc::new(sb)
}

/// Only the HTTP edge: its background work never runs, so whatever it
/// schedules is still waiting when the sandbox stops.
fn edge_only(sb: &Arc<Sandbox>) -> Router {
    server::sandbox::edge::router(sb.clone())
}

async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..500 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out");
}

#[tokio::test]
async fn what_a_key_made_is_there_after_a_restart() {
    let file = temp_file();
    let first = open(&file).await;
    let app = server::sandbox::router(first.clone());
    let (customer, session) = customer_and_session(&app, KEY, "&permissions[]=transactions").await;
    let ids = linked_accounts(&app, KEY, "&permissions[]=transactions", &["success", "savings"]).await;
    let (s, _, _) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{}/refresh", ids[0]),
            KEY,
            "features[]=transactions",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    settled(&app, KEY, &ids[0], "transaction_refresh").await;
    let (_, _, transactions) = send(
        &app,
        get(&format!("/v1/financial_connections/transactions?account={}", ids[0]), KEY),
    )
    .await;
    assert!(!transactions["data"].as_array().unwrap().is_empty(), "{transactions}");
    let (s, _, endpoint) = send(
        &app,
        post("/v1/webhook_endpoints", KEY, "url=http://127.0.0.1:9/hook&enabled_events[]=*"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{endpoint}");
    let create = || {
        let mut req = post("/v1/customers", KEY, "name=Once");
        req.headers_mut().insert("Idempotency-Key", "persisted-1".parse().unwrap());
        req
    };
    let (_, _, once) = send(&app, create()).await;
    let (s, _, _) = send(
        &app,
        post("/_sandbox/faults", KEY, "path=/v1/tokens&kind=server_error&count=1"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = send(&app, post("/_sandbox/api_version", KEY, "version=2023-08-16")).await;
    assert_eq!(s, StatusCode::OK);
    let (_, _, events) = send(&app, get("/v1/events?limit=100", KEY)).await;
    first.close().await;
    drop(app);
    drop(first);

    let second = open(&file).await;
    let app = server::sandbox::router(second.clone());
    let (s, _, c) = send(&app, get(&format!("/v1/customers/{customer}"), KEY)).await;
    assert_eq!((s, c["name"].as_str()), (StatusCode::OK, Some("Jenny Rosen")), "{c}");
    let (s, _, sess) = send(
        &app,
        get(
            &format!("/v1/financial_connections/sessions/{}", session["id"].as_str().unwrap()),
            KEY,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{sess}");
    for id in &ids {
        let (s, _, a) = send(&app, get(&format!("/v1/financial_connections/accounts/{id}"), KEY)).await;
        assert_eq!((s, a["status"].as_str()), (StatusCode::OK, Some("active")), "{a}");
    }
    let (_, _, after) = send(
        &app,
        get(&format!("/v1/financial_connections/transactions?account={}", ids[0]), KEY),
    )
    .await;
    assert_eq!(after["data"], transactions["data"]);
    let (_, _, listed) = send(&app, get("/v1/webhook_endpoints", KEY)).await;
    assert_eq!(listed["data"][0]["id"], endpoint["id"]);
    let (_, _, events_after) = send(&app, get("/v1/events?limit=100", KEY)).await;
    let ids_of = |v: &Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids_of(&events_after), ids_of(&events));
    // The idempotent response is replayed, not made again.
    let (_, resp, again) = send(&app, create()).await;
    assert_eq!(again["id"], once["id"]);
    assert_eq!(resp.headers()["Idempotent-Replayed"], "true");
    // The fault rule still has its one use, and the key its default version.
    let (s, _, _) = send(&app, get("/v1/tokens/btok_x", KEY)).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    let (s, resp, _) = send(&app, get("/v1/tokens/btok_x", KEY)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "the rule was used up");
    assert_eq!(resp.headers()["Stripe-Version"], "2023-08-16");
    // Another key still starts empty; a reset forgets the key in the file too.
    let (_, _, other) = send(&app, get("/v1/customers", "sk_test_other")).await;
    assert_eq!(other["data"], serde_json::json!([]));
    let (s, _, _) = send(&app, post("/_sandbox/reset", KEY, "")).await;
    assert_eq!(s, StatusCode::OK);
    second.close().await;
    drop(app);
    drop(second);
    let third = open(&file).await;
    assert_eq!(third.key_count(), 0, "the reset key is gone from the file");
    third.close().await;
}

#[tokio::test]
async fn an_open_session_can_be_completed_after_a_restart() {
    let file = temp_file();
    let first = open(&file).await;
    let app = server::sandbox::router(first.clone());
    let (_, session) = customer_and_session(&app, KEY, "").await;
    first.close().await;
    drop((app, first));

    let second = open(&file).await;
    let app = server::sandbox::router(second.clone());
    let (s, v) = complete_modal(&app, session["client_secret"].as_str().unwrap(), &["success"]).await;
    assert_eq!(s, StatusCode::OK, "the modal finds the session by its client secret: {v}");
    let (_, _, sess) = send(
        &app,
        get(
            &format!("/v1/financial_connections/sessions/{}", session["id"].as_str().unwrap()),
            KEY,
        ),
    )
    .await;
    assert_eq!(sess["accounts"]["data"].as_array().unwrap().len(), 1, "{sess}");
    second.close().await;
}

#[tokio::test]
async fn a_pending_refresh_completes_after_a_restart() {
    let file = temp_file();
    let first = open(&file).await;
    let app = edge_only(&first);
    let ids = linked_accounts(&app, KEY, "", &["success"]).await;
    let path = format!("/v1/financial_connections/accounts/{}", ids[0]);
    let (_, _, started) = send(&app, post(&format!("{path}/refresh"), KEY, "features[]=balance")).await;
    assert_eq!(started["balance_refresh"]["status"], "pending");
    first.close().await;
    drop((app, first));

    let second = open(&file).await;
    assert_eq!(second.jobs_waiting(), 1, "the refresh is waiting again");
    let app = server::sandbox::router(second.clone());
    let account = settled(&app, KEY, &ids[0], "balance_refresh").await;
    assert_eq!(account["balance_refresh"]["status"], "succeeded", "{account}");
    assert!(account["balance"]["current"].is_object(), "{account}");
    let (_, _, events) = send(
        &app,
        get("/v1/events?type=financial_connections.account.refreshed_balance", KEY),
    )
    .await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
    second.close().await;
}

#[tokio::test]
async fn a_pending_delivery_is_delivered_after_a_restart() {
    let file = temp_file();
    let rx = receiver(0).await;
    let first = open(&file).await;
    let app = edge_only(&first);
    let form = format!("url={}&enabled_events[]=financial_connections.account.created", rx.url);
    let (_, _, endpoint) = send(&app, post("/v1/webhook_endpoints", KEY, &form)).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    linked_accounts(&app, KEY, "", &["success"]).await;
    let (_, _, deliveries) = send(&app, get("/_sandbox/webhook_deliveries", KEY)).await;
    assert_eq!(deliveries["data"][0]["status"], "pending", "{deliveries}");
    assert!(deliveries["data"][0].get("job").is_none(), "internal fields are not shown");
    first.close().await;
    drop((app, first));
    assert!(rx.received.lock().unwrap().is_empty());

    let second = open(&file).await;
    let app = server::sandbox::router(second.clone());
    let (sig, body) = wait_for(|| rx.received.lock().unwrap().first().cloned()).await;
    let now = server::sandbox::clock::now();
    assert_eq!(
        server::webhooks::verify(&sig, body.as_bytes(), &[SecretString::from(secret)], now, 300),
        Ok(()),
        "signed with the endpoint's secret from before the restart"
    );
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "financial_connections.account.created");
    assert!(event["data"]["object"].get("template").is_none(), "{event}");
    let delivered = wait_for(|| second.deliveries().into_iter().find(|d| d.status == "succeeded")).await;
    assert_eq!(delivered.attempts, 1);
    drop(app);
    second.close().await;
}

#[tokio::test]
async fn a_second_process_cannot_open_the_same_file() {
    let file = temp_file();
    let first = open(&file).await;
    let second = Sandbox::new().with_state_file(&StateFile::Sqlite(file.clone())).await;
    let err = second.err().expect("the file is in use");
    assert!(err.contains("another process"), "{err}");
    first.close().await;
}

#[tokio::test]
async fn an_unreadable_row_starts_that_key_empty_and_a_newer_file_is_refused() {
    let file = temp_file();
    let first = open(&file).await;
    let app = server::sandbox::router(first.clone());
    customer_and_session(&app, KEY, "").await;
    customer_and_session(&app, "sk_test_bob", "").await;
    first.close().await;
    drop((app, first));

    let url = format!("sqlite://{}", file.display());
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::query("UPDATE sandbox_spaces SET data = '{\"customers\": 7}' WHERE key = ?")
        .bind(KEY)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::Connection::close(conn).await.unwrap();
    let second = open(&file).await;
    assert_eq!(second.key_count(), 1, "bob's key is read, alice's starts empty");
    second.close().await;
    drop(second);

    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::query("UPDATE sandbox_settings SET value = '99' WHERE name = 'format'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::Connection::close(conn).await.unwrap();
    let err = Sandbox::new()
        .with_state_file(&StateFile::Sqlite(file.clone()))
        .await
        .err()
        .expect("a newer format is refused");
    assert!(err.contains("newer version"), "{err}");
}

#[tokio::test]
async fn the_limits_hold_for_what_is_read_back() {
    let file = temp_file();
    let first = open(&file).await;
    let app = server::sandbox::router(first.clone());
    for key in ["sk_test_a", "sk_test_b", "sk_test_c"] {
        customer_and_session(&app, key, "").await;
    }
    first.close().await;
    drop((app, first));

    let limits = server::sandbox::Limits {
        max_keys: 2,
        ..Default::default()
    };
    let second = Sandbox::new()
        .with_limits(limits)
        .with_state_file(&StateFile::Sqlite(file.clone()))
        .await
        .unwrap();
    assert_eq!(second.key_count(), 2, "the least recently written key is forgotten");
    let app = server::sandbox::router(Arc::new(second));
    let (_, _, a) = send(&app, get("/v1/customers", "sk_test_a")).await;
    assert_eq!(a["data"], serde_json::json!([]), "{a}");
    let (_, _, c) = send(&app, get("/v1/customers", "sk_test_c")).await;
    assert_eq!(c["data"].as_array().unwrap().len(), 1, "{c}");
}
