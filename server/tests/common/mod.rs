//! Helpers shared by the server tests.
#![allow(dead_code)]

pub mod app;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub const KEY: &str = "sk_test_alice";

/// The sandbox alone, as `server sandbox` serves it.
pub fn sandbox() -> Router {
    server::sandbox::router(Arc::new(server::sandbox::Sandbox::new()))
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Response<Body>, Value) {
    let resp = app.clone().oneshot(req).await.expect("router never fails");
    let status = resp.status();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, Response::from_parts(parts, Body::empty()), json)
}

pub fn post(path: &str, key: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header("Authorization", format!("Bearer {key}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .unwrap()
}

pub fn get(path: &str, key: &str) -> Request<Body> {
    Request::get(path)
        .header("Authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap()
}

pub fn json_post(path: &str, body: Value) -> Request<Body> {
    Request::post(path)
        .header("Content-Type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Creates a customer and a session for it; returns (customer id, session json).
pub async fn customer_and_session(app: &Router, key: &str, extra: &str) -> (String, Value) {
    let (s, _, c) = send(app, post("/v1/customers", key, "name=Jenny+Rosen&email=jenny%40example.com")).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    let cus = c["id"].as_str().unwrap().to_owned();
    let form = format!(
        "account_holder[type]=customer&account_holder[customer]={cus}&permissions[]=balances&permissions[]=payment_method{extra}"
    );
    let (s, _, session) = send(app, post("/v1/financial_connections/sessions", key, &form)).await;
    assert_eq!(s, StatusCode::OK, "{session}");
    (cus, session)
}

/// Completes the modal for a session as the browser would.
pub async fn complete_modal(app: &Router, client_secret: &str, accounts: &[&str]) -> (StatusCode, Value) {
    let body = serde_json::json!({
        "client_secret": client_secret,
        "publishable_key": "pk_test_x",
        "institution": "test_institution",
        "accounts": accounts,
    });
    let (s, _, v) = send(app, json_post("/connect/api/complete", body)).await;
    (s, v)
}

/// Refreshes settle after 20 ms and may rerun at once; subscriptions refresh
/// every 150 ms; payments settle after 20 ms.
pub fn fast_timing() -> server::sandbox::Timing {
    server::sandbox::Timing {
        refresh_delay: std::time::Duration::from_millis(20),
        refresh_cooldown_secs: 0,
        subscription_interval: std::time::Duration::from_millis(150),
        payment_delay: std::time::Duration::from_millis(20),
    }
}

/// A sandbox with [`fast_timing`].
pub fn fast_sandbox() -> Router {
    server::sandbox::router(Arc::new(server::sandbox::Sandbox::with_timing(fast_timing())))
}

/// Links the given template accounts for a new customer; returns their ids.
pub async fn linked_accounts(app: &Router, key: &str, session_extra: &str, accounts: &[&str]) -> Vec<String> {
    let (_, s) = customer_and_session(app, key, session_extra).await;
    let (st, v) = complete_modal(app, s["client_secret"].as_str().unwrap(), accounts).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["financialConnectionsSession"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls the account until `field`'s refresh is no longer pending.
pub async fn settled(app: &Router, key: &str, id: &str, field: &str) -> Value {
    for _ in 0..100 {
        let (_, _, a) = send(app, get(&format!("/v1/financial_connections/accounts/{id}"), key)).await;
        if a[field]["status"] != "pending" {
            return a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{field} of {id} stayed pending");
}

/// A webhook receiver on a real port: records (signature header, body) and
/// answers 500 to the first `fail_first` deliveries.
pub struct Receiver {
    pub url: String,
    pub received: Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

pub async fn receiver(fail_first: usize) -> Receiver {
    use axum::routing::post;
    let received: Arc<std::sync::Mutex<Vec<(String, String)>>> = Arc::default();
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = received.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let (r, calls) = (r.clone(), calls.clone());
            async move {
                let sig = headers
                    .get("stripe-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                r.lock().unwrap().push((sig, body));
                if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { url, received }
}

/// Polls `f` every 20 ms until it gives a value (at most 6 s).
pub async fn until<T>(mut f: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out");
}
