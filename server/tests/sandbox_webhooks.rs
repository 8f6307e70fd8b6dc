//! The sandbox delivers events to registered endpoints, signed like Stripe
//! and retried while the endpoint fails.

mod common;

use axum::http::StatusCode;
use common::*;
use secrecy::SecretString;
use serde_json::{json, Value};
use server::sandbox::RetryPolicy;
use server::sandbox::Sandbox;
use std::sync::Arc;
use std::time::Duration;

fn sandbox_with_fast_retries() -> (axum::Router, Arc<Sandbox>) {
    let policy = RetryPolicy {
        attempts: 4,
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
    };
    let sb = Arc::new(Sandbox::new().with_webhook_policy(policy));
    (server::sandbox::router(sb.clone()), sb)
}

async fn register(app: &axum::Router, url: &str, events: &[&str]) -> Value {
    let form: String = std::iter::once(format!("url={}", url))
        .chain(events.iter().map(|e| format!("enabled_events[]={e}")))
        .collect::<Vec<_>>()
        .join("&");
    let (s, _, v) = send(app, post("/v1/webhook_endpoints", KEY, &form)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn wait_for<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out");
}

#[tokio::test]
async fn events_are_signed_with_the_endpoint_secret() {
    let (app, _) = sandbox_with_fast_retries();
    let rx = receiver(0).await;
    let endpoint = register(&app, &rx.url, &["financial_connections.account.created"]).await;
    let secret = endpoint["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    linked_accounts(&app, KEY, "", &["success", "savings"]).await;

    let got = wait_for(|| {
        let r = rx.received.lock().unwrap();
        (r.len() >= 2).then(|| r.clone())
    })
    .await;
    let now = server::sandbox::clock::now();
    let mut ids = std::collections::HashSet::new();
    for (sig, body) in &got {
        let secrets = [SecretString::from(secret.to_owned())];
        assert_eq!(
            server::webhooks::verify(sig, body.as_bytes(), &secrets, now, 300),
            Ok(()),
            "{sig}"
        );
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"], "financial_connections.account.created");
        assert_eq!(event["data"]["object"]["object"], "financial_connections.account");
        assert!(
            ids.insert(event["id"].as_str().unwrap().to_owned()),
            "each event has its own evt_ id"
        );
        let wrong = [SecretString::from("whsec_wrong".to_owned())];
        assert!(server::webhooks::verify(sig, body.as_bytes(), &wrong, now, 300).is_err());
    }
}

#[tokio::test]
async fn failing_endpoints_are_retried_with_backoff_until_they_answer() {
    let (app, sb) = sandbox_with_fast_retries();
    let rx = receiver(2).await;
    register(&app, &rx.url, &["*"]).await;
    linked_accounts(&app, KEY, "", &["success"]).await;
    let delivery = wait_for(|| sb.deliveries.all().into_iter().find(|d| d.status != "pending")).await;
    assert_eq!(delivery.status, "succeeded");
    assert_eq!(delivery.attempts, 3);
    let bodies: Vec<String> = rx.received.lock().unwrap().iter().map(|(_, b)| b.clone()).collect();
    assert_eq!(bodies.len(), 3);
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "a retry resends the same event");
}

#[tokio::test]
async fn an_endpoint_that_never_answers_is_given_up_on() {
    let (app, sb) = sandbox_with_fast_retries();
    let rx = receiver(usize::MAX).await;
    register(&app, &rx.url, &["*"]).await;
    linked_accounts(&app, KEY, "", &["success"]).await;
    let delivery = wait_for(|| sb.deliveries.all().into_iter().find(|d| d.status != "pending")).await;
    assert_eq!(
        (delivery.status, delivery.attempts, delivery.last_http_status),
        ("failed", 4, Some(500))
    );
}

#[tokio::test]
async fn only_enabled_events_are_sent_and_endpoints_can_be_managed() {
    let (app, sb) = sandbox_with_fast_retries();
    let rx = receiver(0).await;
    let endpoint = register(&app, &rx.url, &["financial_connections.account.disconnected"]).await;
    let id = &linked_accounts(&app, KEY, "", &["success"]).await[0];
    send(
        &app,
        post(&format!("/v1/financial_connections/accounts/{id}/disconnect"), KEY, ""),
    )
    .await;
    let got = wait_for(|| sb.deliveries.all().into_iter().find(|d| d.status == "succeeded")).await;
    assert_eq!(got.event_type, "financial_connections.account.disconnected");
    assert_eq!(sb.deliveries.all().len(), 1, "account.created was not enabled");

    let (_, _, list) = send(&app, get("/v1/webhook_endpoints", KEY)).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("secret").is_none(), "secrets are shown only at creation");
    let del = axum::http::Request::delete(format!("/v1/webhook_endpoints/{}", endpoint["id"].as_str().unwrap()))
        .header("Authorization", format!("Bearer {KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, _, v) = send(&app, del).await;
    assert_eq!((s, &v["deleted"]), (StatusCode::OK, &json!(true)));
    for form in ["enabled_events[]=*", "url=ftp://x&enabled_events[]=*", "url=http://x"] {
        let (s, _, _) = send(&app, post("/v1/webhook_endpoints", KEY, form)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{form}");
    }
}
