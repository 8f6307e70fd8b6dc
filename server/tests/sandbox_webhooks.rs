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
    let delivery = wait_for(|| sb.deliveries().into_iter().find(|d| d.status != "pending")).await;
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
    let delivery = wait_for(|| sb.deliveries().into_iter().find(|d| d.status != "pending")).await;
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
    let got = wait_for(|| sb.deliveries().into_iter().find(|d| d.status == "succeeded")).await;
    assert_eq!(got.event_type, "financial_connections.account.disconnected");
    assert_eq!(sb.deliveries().len(), 1, "account.created was not enabled");

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

/// URLs the sandbox must refuse: read with the URL parser only, never connected to.
const NOT_LOOPBACK: &[&str] = &[
    "http://10.0.0.1/x",
    "http://example.com/",
    "https://hooks.example.test/x",
    "http://[::ffff:10.0.0.1]/",
    "http://127.0.0.1@evil.com/",
    "http://user:pw@127.0.0.1/",
    "http://167772161/",
    "http://0x0a.0.0.1/",
    "http://012.0.0.1/",
    "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0:3000/",
    "http://localhost.evil.com/",
    "file:///etc/passwd",
];

fn form_url(url: &str) -> String {
    format!("url={}&enabled_events[]=*", urlencode(url))
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn only_loopback_urls_are_registered_and_others_get_a_400_on_url() {
    let (app, _) = sandbox_with_fast_retries();
    for url in NOT_LOOPBACK {
        let (s, _, v) = send(&app, post("/v1/webhook_endpoints", KEY, &form_url(url))).await;
        assert_eq!(
            (s, v["error"]["param"].as_str()),
            (StatusCode::BAD_REQUEST, Some("url")),
            "{url}: {v}"
        );
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://[::1]:9/x",
        "http://2130706433:9/x",
    ] {
        let (s, _, v) = send(&app, post("/v1/webhook_endpoints", KEY, &form_url(url))).await;
        assert_eq!(s, StatusCode::OK, "{url}: {v}");
    }
    // An update is held to the same rule, and a refused one changes nothing.
    let (_, _, e) = send(&app, post("/v1/webhook_endpoints", KEY, &form_url("http://127.0.0.1:9/a"))).await;
    let path = format!("/v1/webhook_endpoints/{}", e["id"].as_str().unwrap());
    for url in NOT_LOOPBACK {
        let (s, _, v) = send(&app, post(&path, KEY, &format!("url={}", urlencode(url)))).await;
        assert_eq!(
            (s, v["error"]["param"].as_str()),
            (StatusCode::BAD_REQUEST, Some("url")),
            "{url}: {v}"
        );
    }
    let (_, _, kept) = send(&app, get(&path, KEY)).await;
    assert_eq!(kept["url"], "http://127.0.0.1:9/a");
    let (s, _, moved) = send(&app, post(&path, KEY, "url=http%3A%2F%2F127.0.0.1%3A10%2Fb")).await;
    assert_eq!((s, &moved["url"]), (StatusCode::OK, &json!("http://127.0.0.1:10/b")));
    assert_eq!(sb_deliveries(&app).await, 0, "nothing was sent to test a URL");
}

async fn sb_deliveries(app: &axum::Router) -> usize {
    let (_, _, v) = send(app, get("/_sandbox/webhook_deliveries", KEY)).await;
    v["data"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_standalone_sandbox_also_accepts_its_allow_listed_hosts() {
    let sb = Arc::new(Sandbox::new().with_webhook_hosts(vec!["hooks.example.test".into()]));
    let app = server::sandbox::router(sb);
    // Registration only: this key emits no event, so nothing is ever sent.
    let (s, _, v) = send(
        &app,
        post("/v1/webhook_endpoints", KEY, &form_url("https://hooks.example.test/x")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for url in [
        "https://other.example.test/x",
        "https://evil.hooks.example.test/",
        "http://10.0.0.1/",
    ] {
        let (s, _, _) = send(&app, post("/v1/webhook_endpoints", KEY, &form_url(url))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{url}");
    }
}

/// A receiver on loopback answering `/hook` with a redirect to `/other`,
/// counting hits on each.
async fn redirecting_receiver() -> (
    String,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    use axum::routing::{any, post};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (hook, other) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (h, o) = (hook.clone(), other.clone());
    let app = axum::Router::new()
        .route(
            "/hook",
            post(move || {
                h.fetch_add(1, Ordering::SeqCst);
                async { (StatusCode::FOUND, [("Location", "/other")]) }
            }),
        )
        .route(
            "/other",
            any(move || {
                o.fetch_add(1, Ordering::SeqCst);
                async { StatusCode::OK }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, hook, other)
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    use std::sync::atomic::Ordering;
    let (app, sb) = sandbox_with_fast_retries();
    let (url, hook, other) = redirecting_receiver().await;
    register(&app, &url, &["financial_connections.account.created"]).await;
    linked_accounts(&app, KEY, "", &["success"]).await;
    let d = wait_for(|| sb.deliveries().into_iter().find(|d| d.status != "pending")).await;
    assert_eq!((d.status, d.last_http_status, d.attempts), ("failed", Some(302), 4));
    assert_eq!(hook.load(Ordering::SeqCst), 4);
    assert_eq!(other.load(Ordering::SeqCst), 0, "the redirect was followed");
}

#[tokio::test]
async fn deliveries_to_a_deleted_endpoint_stop() {
    let policy = RetryPolicy {
        attempts: 50,
        first_backoff: Duration::from_millis(30),
        max_backoff: Duration::from_millis(30),
    };
    let sb = Arc::new(Sandbox::new().with_webhook_policy(policy));
    let app = server::sandbox::router(sb.clone());
    let rx = receiver(usize::MAX).await;
    let endpoint = register(&app, &rx.url, &["*"]).await;
    linked_accounts(&app, KEY, "", &["success"]).await;
    wait_for(|| sb.deliveries().into_iter().find(|d| d.attempts >= 2)).await;
    let del = axum::http::Request::delete(format!("/v1/webhook_endpoints/{}", endpoint["id"].as_str().unwrap()))
        .header("Authorization", format!("Bearer {KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(send(&app, del).await.0, StatusCode::OK);
    let d = wait_for(|| sb.deliveries().into_iter().find(|d| d.status != "pending")).await;
    assert_eq!(d.status, "abandoned");
    assert!(d.attempts < 10, "{} attempts", d.attempts);
    let hits = rx.received.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        rx.received.lock().unwrap().len(),
        hits,
        "no attempt after the endpoint was deleted"
    );
    assert_eq!(sb.jobs_waiting(), 0);
}

/// A receiver that holds every request until released, recording how many
/// it held at once.
struct Gate {
    url: String,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    most: Arc<std::sync::atomic::AtomicUsize>,
    open: tokio::sync::watch::Sender<bool>,
}

async fn gate() -> Gate {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (in_flight, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (open, _) = tokio::sync::watch::channel(false);
    let (n, m, o) = (in_flight.clone(), most.clone(), open.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let (n, m, mut rx) = (n.clone(), m.clone(), o.subscribe());
            async move {
                let now = n.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                while !*rx.borrow_and_update() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
                n.fetch_sub(1, Ordering::SeqCst);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Gate {
        url,
        in_flight,
        most,
        open,
    }
}

async fn held_at_once(per_key: usize, in_all: usize, keys: &[&str]) -> usize {
    use std::sync::atomic::Ordering;
    let sb = Arc::new(Sandbox::new().with_limits(server::sandbox::Limits {
        max_deliveries_per_key: per_key,
        max_deliveries_in_flight: in_all,
        ..server::sandbox::Limits::default()
    }));
    let app = server::sandbox::router(sb.clone());
    let g = gate().await;
    for key in keys {
        let form = format!("url={}&enabled_events[]=financial_connections.account.created", g.url);
        assert_eq!(send(&app, post("/v1/webhook_endpoints", key, &form)).await.0, StatusCode::OK);
        linked_accounts(&app, key, "", &["success", "savings", "high_balance", "insufficient_funds"]).await;
    }
    let expected = in_all.min(per_key * keys.len());
    wait_for(|| (g.in_flight.load(Ordering::SeqCst) >= expected).then_some(())).await;
    // Give any delivery over the limits the time to show up.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let most = g.most.load(Ordering::SeqCst);
    g.open.send_replace(true);
    let total = 4 * keys.len();
    wait_for(|| (sb.deliveries().iter().filter(|d| d.status == "succeeded").count() == total).then_some(())).await;
    most
}

#[tokio::test]
async fn deliveries_in_flight_are_capped_per_key() {
    assert_eq!(held_at_once(2, 32, &["sk_test_gate_a"]).await, 2);
}

#[tokio::test]
async fn deliveries_in_flight_are_capped_in_all() {
    assert_eq!(held_at_once(2, 3, &["sk_test_gate_b", "sk_test_gate_c"]).await, 3);
}

#[tokio::test]
async fn a_disabled_endpoint_gets_nothing_until_enabled_again() {
    let (app, sb) = sandbox_with_fast_retries();
    let rx = receiver(0).await;
    let endpoint = register(&app, &rx.url, &["*"]).await;
    let path = format!("/v1/webhook_endpoints/{}", endpoint["id"].as_str().unwrap());
    let (s, _, v) = send(&app, post(&path, KEY, "disabled=true")).await;
    assert_eq!((s, &v["status"]), (StatusCode::OK, &json!("disabled")));
    assert!(v.get("secret").is_none());
    let id = &linked_accounts(&app, KEY, "", &["success"]).await[0];
    assert!(sb.deliveries().is_empty());
    send(&app, post(&path, KEY, "disabled=false")).await;
    send(
        &app,
        post(&format!("/v1/financial_connections/accounts/{id}/disconnect"), KEY, ""),
    )
    .await;
    let d = wait_for(|| sb.deliveries().into_iter().find(|d| d.status == "succeeded")).await;
    assert_eq!(d.event_type, "financial_connections.account.disconnected");
    assert_eq!(
        send(&app, post(&path, KEY, "disabled=maybe")).await.0,
        StatusCode::BAD_REQUEST
    );
}
