//! The HTTP edge under hostile traffic, on a real port: slow and idle
//! clients, connection and stream caps, shutdown with open streams, rate
//! limits, cross-site calls, calls without a session, malformed arguments,
//! the Content-Security-Policy and caching headers, and webhook signature floods.

mod common;

use common::app::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; `None` if it is still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<()> {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await
    .ok()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let app = spawn_with_env(&[("HTTP_HEADER_TIMEOUT_SECS", "1")]).await;
    let mut slow = TcpStream::connect(addr(&app)).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    // Far beyond the 1 s header timeout; without a timer hyper waits forever.
    assert!(
        closed_within(&mut slow, Duration::from_secs(8)).await.is_some(),
        "the slow client was not disconnected"
    );
    // Ordinary clients are unaffected.
    let ok = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn open_connections_are_capped() {
    let app = spawn_with_env(&[("HTTP_MAX_CONNECTIONS", "2"), ("HTTP_HEADER_TIMEOUT_SECS", "60")]).await;
    let idle_a = TcpStream::connect(addr(&app)).await.unwrap();
    let idle_b = TcpStream::connect(addr(&app)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fresh = || {
        reqwest::Client::builder()
            .timeout(Duration::from_millis(1500))
            .build()
            .unwrap()
    };
    let refused = fresh().get(format!("{}/healthz", app.base)).send().await;
    assert!(refused.is_err(), "a third connection was served: {refused:?}");
    drop(idle_a);
    drop(idle_b);
    let served = common::until(async || {
        let r = fresh().get(format!("{}/healthz", app.base)).send().await.ok()?;
        (r.status() == StatusCode::OK).then_some(())
    })
    .await;
    assert_eq!(served, ());
}

/// Opens `/events` as the browser with `cookie`; the response with its body still streaming.
async fn open_stream(app: &TestApp, cookie: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/events", app.base))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn event_streams_are_capped_per_user_and_in_all() {
    let app = spawn_with_env(&[("EVENTS_MAX_PER_USER", "2"), ("EVENTS_MAX_TOTAL", "3")]).await;
    let alice = app.browser().await;
    let bob = app.browser().await;
    let a1 = open_stream(&app, &alice.cookie).await;
    let a2 = open_stream(&app, &alice.cookie).await;
    assert_eq!((a1.status(), a2.status()), (StatusCode::OK, StatusCode::OK));
    let a3 = open_stream(&app, &alice.cookie).await;
    assert_eq!(a3.status(), StatusCode::TOO_MANY_REQUESTS, "a third stream for one user");
    assert!(a3.headers().contains_key("retry-after"));
    let b1 = open_stream(&app, &bob.cookie).await;
    assert_eq!(b1.status(), StatusCode::OK);
    let b2 = open_stream(&app, &bob.cookie).await;
    assert_eq!(b2.status(), StatusCode::TOO_MANY_REQUESTS, "over the instance's total");
    assert_eq!(app.live.open_streams(), 3);
}

#[tokio::test]
async fn shutdown_ends_every_open_stream_and_the_server() {
    let app = spawn_with_env(&[("EVENTS_MAX_PER_USER", "100")]).await;
    let browser = app.browser().await;
    let mut streams = Vec::new();
    for _ in 0..50 {
        let s = open_stream(&app, &browser.cookie).await;
        assert_eq!(s.status(), StatusCode::OK);
        streams.push(s);
    }
    assert_eq!(app.live.open_streams(), 50);
    app.shutdown.cancel();
    // Every stream's body ends (instead of waiting for the next event forever)…
    let ends = futures::future::join_all(streams.into_iter().map(|s| s.bytes()));
    let bodies = tokio::time::timeout(Duration::from_secs(10), ends)
        .await
        .expect("streams still open after shutdown");
    assert_eq!(bodies.len(), 50);
    // …and the server stops.
    let server = app.server.lock().unwrap().take().unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server did not stop")
        .unwrap();
}

#[tokio::test]
async fn server_functions_need_the_cookie_a_page_load_issued() {
    let app = spawn().await;
    let resp = app
        .http
        .post(format!("{}/api/start_link", app.base))
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.headers().get("set-cookie").is_none(), "no session is made for it");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, serde_json::json!("NoSession"));
    assert_eq!(app.sandbox.customer_count(), 0, "no Customer was created");
}

async fn call_from(app: &TestApp, cookie: &str, headers: &[(&str, &str)]) -> StatusCode {
    let mut req = app
        .http
        .post(format!("{}/api/linked_accounts", app.base))
        .header("Cookie", cookie)
        .form(&[("", "")]);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn state_changing_calls_must_come_from_our_own_pages() {
    let app = spawn().await;
    let b = app.browser().await;
    let own = format!("http://{}", addr(&app));
    assert_eq!(
        call_from(&app, &b.cookie, &[("Sec-Fetch-Site", "same-origin")]).await,
        StatusCode::OK
    );
    assert_eq!(
        call_from(&app, &b.cookie, &[("Origin", &own)]).await,
        StatusCode::OK,
        "older browsers"
    );
    for refused in [
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site")],
        vec![("Sec-Fetch-Site", "cross-site"), ("Origin", own.as_str())],
        vec![("Origin", "http://evil.example")],
        vec![("Origin", "null")],
        vec![],
    ] {
        assert_eq!(
            call_from(&app, &b.cookie, &refused).await,
            StatusCode::FORBIDDEN,
            "{refused:?}"
        );
    }
    // With PUBLIC_URL set, only that origin counts.
    let public = spawn_with_env(&[("PUBLIC_URL", "http://bank.example")]).await;
    let b = public.browser().await;
    let own = format!("http://{}", addr(&public));
    assert_eq!(
        call_from(&public, &b.cookie, &[("Origin", &own)]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call_from(&public, &b.cookie, &[("Origin", "http://bank.example")]).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn too_many_calls_get_429_with_retry_after_and_a_sentence() {
    let app = spawn_with_env(&[("RATE_LIMIT_USER_PER_SECOND", "1"), ("RATE_LIMIT_USER_BURST", "3")]).await;
    let b = app.browser().await;
    for _ in 0..3 {
        assert_eq!(b.call("linked_accounts", &[]).await.0, StatusCode::OK);
    }
    let resp = app
        .http
        .post(format!("{}/api/linked_accounts", app.base))
        .header("Cookie", &b.cookie)
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    let body: Value = resp.json().await.unwrap();
    assert!(body["RateLimited"]["retry_after_secs"].as_u64().is_some(), "{body}");
    // Another browser is not slowed down by this one.
    let other = app.browser().await;
    assert_eq!(other.call("linked_accounts", &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn each_address_is_limited_and_forwarded_for_counts_only_through_a_trusted_proxy() {
    let get = |app: &TestApp, xff: &'static str| {
        let req = app.http.get(format!("{}/", app.base)).header("X-Forwarded-For", xff);
        async move { req.send().await.unwrap().status() }
    };
    let direct = spawn_with_env(&[("RATE_LIMIT_IP_PER_SECOND", "1"), ("RATE_LIMIT_IP_BURST", "2")]).await;
    assert_eq!(get(&direct, "198.51.100.1").await, StatusCode::OK);
    assert_eq!(get(&direct, "198.51.100.2").await, StatusCode::OK);
    // A spoofed header does not buy a fresh bucket.
    assert_eq!(get(&direct, "198.51.100.3").await, StatusCode::TOO_MANY_REQUESTS);

    let proxied = spawn_with_env(&[
        ("RATE_LIMIT_IP_PER_SECOND", "1"),
        ("RATE_LIMIT_IP_BURST", "2"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    for _ in 0..2 {
        assert_eq!(get(&proxied, "198.51.100.1").await, StatusCode::OK);
    }
    assert_eq!(get(&proxied, "198.51.100.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        get(&proxied, "198.51.100.2").await,
        StatusCode::OK,
        "another client behind the proxy"
    );
    // Health checks and Stripe's webhooks are never limited.
    assert_eq!(
        proxied
            .http
            .get(format!("{}/healthz", proxied.base))
            .header("X-Forwarded-For", "198.51.100.1")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn one_address_gets_a_bounded_number_of_new_users_and_stripe_writes() {
    let app = spawn_with_env(&[("RATE_LIMIT_NEW_SESSIONS_PER_HOUR", "3"), ("RATE_LIMIT_LINKS_PER_HOUR", "2")]).await;
    // Assets and events issue no session; pages do, three times an hour from one address.
    for _ in 0..5 {
        let css = app.http.get(format!("{}/favicon.svg", app.base)).send().await.unwrap();
        assert!(css.headers().get("set-cookie").is_none());
    }
    let mut browsers = Vec::new();
    for _ in 0..3 {
        browsers.push(app.browser().await);
    }
    let fourth = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(fourth.headers().get("set-cookie").is_none());
    assert!(fourth.headers().contains_key("retry-after"));
    // A returning browser (with its cookie) is not affected.
    let again = app
        .http
        .get(format!("{}/", app.base))
        .header("Cookie", &browsers[0].cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    // Calls that create Stripe objects: two an hour from this address, whichever browser.
    let start = async |b: &Browser<'_>| {
        b.call("start_link", &[("name", ""), ("email", ""), ("permissions", "balances")])
            .await
    };
    assert_eq!(start(&browsers[0]).await.0, StatusCode::OK);
    assert_eq!(start(&browsers[1]).await.0, StatusCode::OK);
    let (s, body) = start(&browsers[2]).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["RateLimited"]["retry_after_secs"].as_u64().unwrap() > 60);
    assert_eq!(app.sandbox.customer_count(), 2, "no third Customer");
    // Reading is not a write.
    assert_eq!(browsers[2].call("linked_accounts", &[]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn malformed_arguments_are_the_callers_fault_not_ours() {
    let app = spawn().await;
    let b = app.browser().await;
    let raw = |func: &'static str, body: &'static str| {
        let req = app
            .http
            .post(format!("{}/api/{func}", app.base))
            .header("Cookie", &b.cookie)
            .header("Sec-Fetch-Site", "same-origin")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for (func, body) in [
        ("save_details", ""),
        ("start_link", "name=x"),
        ("confirm_link", "session_id[]=1&session_id[x]=2"),
        ("load_transactions", "%%%"),
        ("refresh_account", "id=fca_1"),
    ] {
        let (status, error) = raw(func, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{func} with {body:?}: {error}");
        assert!(error["InvalidInput"]["message"].as_str().is_some(), "{func}: {error}");
    }
}

#[tokio::test]
async fn pages_carry_a_per_response_nonce_policy_and_are_never_cached() {
    let app = spawn().await;
    let page = |path: &'static str| {
        let req = app.http.get(format!("{}{path}", app.base));
        async move { req.send().await.unwrap() }
    };
    let first = page("/").await;
    let csp = first.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(first.headers()["cache-control"], "no-store");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce in script-src")
        .to_owned();
    for directive in [
        "script-src 'nonce-",
        "'strict-dynamic'",
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "frame-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    let html = first.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts carry the nonce"
    );
    let second = page("/").await;
    assert_ne!(
        second.headers()["content-security-policy"].to_str().unwrap(),
        csp,
        "a fresh nonce per response"
    );
    for path in ["/accounts", "/no/such/page"] {
        let r = page(path).await;
        assert!(r.headers().contains_key("content-security-policy"), "{path}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{path}");
    }
    let b = app.browser().await;
    let (_, _) = b.call("linked_accounts", &[]).await;
    let api = app
        .http
        .post(format!("{}/api/load_client_config", app.base))
        .header("Cookie", &b.cookie)
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert!(first_is_plain_http_without_hsts(&app).await);
}

async fn first_is_plain_http_without_hsts(app: &TestApp) -> bool {
    let r = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    !r.headers().contains_key("strict-transport-security")
}

#[tokio::test]
async fn over_https_cookies_are_host_prefixed_and_hsts_is_sent() {
    let app = spawn_with_env(&[("PUBLIC_URL", "https://bank.example")]).await;
    let r = app
        .http
        .get(format!("{}/", app.base))
        .header("X-Forwarded-Proto", "http")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-fc_session=") && cookie.contains("Secure"),
        "{cookie}"
    );
    // A plain-named cookie (planted over http or by a sibling domain) is not a session here.
    let token = cookie.split(';').next().unwrap().trim_start_matches("__Host-fc_session=");
    let planted = app
        .http
        .post(format!("{}/api/linked_accounts", app.base))
        .header("Cookie", format!("fc_session={token}"))
        .header("Origin", "https://bank.example")
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), StatusCode::FORBIDDEN);

    // Over plain http, a client's X-Forwarded-Proto does not make it https.
    let plain = spawn().await;
    let r = plain
        .http
        .get(format!("{}/", plain.base))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["set-cookie"].to_str().unwrap().starts_with("fc_session="));
}

#[tokio::test]
async fn a_flood_of_signatures_is_refused_at_once() {
    let app = spawn().await;
    let flood = format!("t={},{}", server::clock::unix_now(), "v1=,".repeat(90_000));
    let resp = app
        .http
        .post(format!("{}/webhooks/stripe", app.base))
        .header("Stripe-Signature", flood.trim_end_matches(','))
        .body(vec![b'x'; 64 * 1024 - 1])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Refused by the parser, before any signature is computed.
    assert_eq!(resp.text().await.unwrap(), "malformed Stripe-Signature header");
}
