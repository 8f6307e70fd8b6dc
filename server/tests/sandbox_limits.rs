//! The sandbox is bounded: keys (least recently used forgotten, never a
//! pinned one), memory, objects per key, idempotent responses, fault rules,
//! webhook endpoints, Stripe's string limits, one background job per
//! subscribed account, and a reset key's waiting work. Each bound is driven
//! through the router with low limits.

mod common;

use axum::http::StatusCode;
use axum::Router;
use common::*;
use serde_json::Value;
use server::sandbox::{Limits, Sandbox, Timing};
use std::sync::Arc;
use std::time::Duration;

fn limited(limits: Limits) -> (Router, Arc<Sandbox>) {
    let sb = Arc::new(Sandbox::with_timing(fast_timing()).with_limits(limits));
    (server::sandbox::router(sb.clone()), sb)
}

fn few(max_keys: usize, max_objects: usize) -> Limits {
    Limits {
        max_keys,
        max_objects,
        ..Limits::default()
    }
}

async fn customer(app: &Router, key: &str, form: &str) -> (StatusCode, Value) {
    let (s, _, v) = send(app, post("/v1/customers", key, form)).await;
    (s, v)
}

async fn found(app: &Router, key: &str, id: &str) -> bool {
    let (s, _, _) = send(app, get(&format!("/v1/customers/{id}"), key)).await;
    s == StatusCode::OK
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

fn assert_limit(s: StatusCode, v: &Value, words: &str) {
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(words), "{message}");
}

#[tokio::test]
async fn past_the_key_limit_the_least_recently_used_key_is_forgotten() {
    let (app, sb) = limited(few(3, 100));
    let mut ids = Vec::new();
    for k in ["sk_test_k1", "sk_test_k2", "sk_test_k3"] {
        ids.push(id(&customer(&app, k, "name=A").await.1));
    }
    // k1 is used again, so k2 is now the least recently used.
    assert!(found(&app, "sk_test_k1", &ids[0]).await);
    let k4 = id(&customer(&app, "sk_test_k4", "name=A").await.1);
    assert_eq!(sb.key_count(), 3);
    assert!(!found(&app, "sk_test_k2", &ids[1]).await, "k2 was forgotten");
    assert!(found(&app, "sk_test_k1", &ids[0]).await);
    assert!(found(&app, "sk_test_k3", &ids[2]).await);
    assert!(found(&app, "sk_test_k4", &k4).await);
}

#[tokio::test]
async fn reads_with_unknown_keys_forget_nobody() {
    let (app, sb) = limited(few(2, 100));
    let a = id(&customer(&app, "sk_test_a1", "name=A").await.1);
    let b = id(&customer(&app, "sk_test_b1", "name=B").await.1);
    for i in 0..10 {
        let key = format!("sk_test_reader{i}");
        let (s, _, _) = send(&app, get("/v1/financial_connections/accounts", &key)).await;
        assert_eq!(s, StatusCode::OK);
        assert!(!found(&app, &key, &a).await);
    }
    assert_eq!(sb.key_count(), 2);
    assert!(found(&app, "sk_test_a1", &a).await && found(&app, "sk_test_b1", &b).await);
}

#[tokio::test]
async fn a_pinned_key_is_never_forgotten() {
    let (app, sb) = limited(few(2, 100));
    sb.pin_key("sk_test_embedded_app");
    let mine = id(&customer(&app, "sk_test_embedded_app", "name=App").await.1);
    for i in 0..6 {
        customer(&app, &format!("sk_test_flood{i}"), "name=F").await;
    }
    assert!(found(&app, "sk_test_embedded_app", &mine).await);
    assert!(sb.key_count() <= 3, "{}", sb.key_count());
}

#[tokio::test]
async fn past_the_memory_budget_the_least_recently_used_keys_are_forgotten() {
    let budget = 256 * 1024;
    let (app, sb) = limited(Limits {
        max_bytes: budget,
        ..Limits::default()
    });
    let form = format!("name=A&description={}", "d".repeat(4000));
    let mut first = None;
    let mut last = None;
    for i in 0..60 {
        let key = format!("sk_test_mem{i}");
        for _ in 0..2 {
            let (s, v) = customer(&app, &key, &form).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            if i == 0 {
                first.get_or_insert(id(&v));
            }
            last = Some((key.clone(), id(&v)));
        }
    }
    assert!(sb.approx_bytes() <= budget, "{} > {budget}", sb.approx_bytes());
    assert!(sb.key_count() < 60, "{} keys kept", sb.key_count());
    assert!(
        !found(&app, "sk_test_mem0", &first.unwrap()).await,
        "the oldest key was forgotten"
    );
    let (key, newest) = last.unwrap();
    assert!(found(&app, &key, &newest).await);
}

#[tokio::test]
async fn one_key_may_hold_at_most_half_the_memory() {
    let (app, _) = limited(Limits {
        max_bytes: 64 * 1024,
        ..Limits::default()
    });
    let form = format!("description={}", "d".repeat(4000));
    let mut made = 0;
    let refused = loop {
        let (s, v) = customer(&app, "sk_test_greedy", &form).await;
        if s != StatusCode::OK {
            break (s, v);
        }
        made += 1;
        assert!(made < 50, "never refused");
    };
    assert!((4..10).contains(&made), "{made}");
    assert_limit(refused.0, &refused.1, "more data than the sandbox allows one key");
    let (s, _) = customer(&app, "sk_test_modest", &form).await;
    assert_eq!(s, StatusCode::OK, "another key still has room");
}

#[tokio::test]
async fn customers_per_key_are_limited() {
    let (app, _) = limited(few(100, 3));
    for _ in 0..3 {
        assert_eq!(customer(&app, KEY, "name=A").await.0, StatusCode::OK);
    }
    let (s, v) = customer(&app, KEY, "name=A").await;
    assert_limit(s, &v, "limit of 3 customers");
    assert_eq!(customer(&app, "sk_test_other", "name=A").await.0, StatusCode::OK);
    send(&app, post("/_sandbox/reset", KEY, "")).await;
    assert_eq!(customer(&app, KEY, "name=A").await.0, StatusCode::OK, "a reset makes room");
}

async fn session(app: &Router, key: &str, cus: &str) -> (StatusCode, Value) {
    let form = format!("account_holder[type]=customer&account_holder[customer]={cus}&permissions[]=balances");
    let (s, _, v) = send(app, post("/v1/financial_connections/sessions", key, &form)).await;
    (s, v)
}

#[tokio::test]
async fn open_sessions_are_limited_and_finished_ones_make_room() {
    let (app, _) = limited(few(100, 3));
    let cus = id(&customer(&app, KEY, "name=A").await.1);
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let (s, v) = session(&app, KEY, &cus).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        sessions.push(v);
    }
    let (s, v) = session(&app, KEY, &cus).await;
    assert_limit(s, &v, "limit of 3 open sessions");

    // Finishing the second makes room: it is the one forgotten.
    let (s, v) = complete_modal(&app, sessions[1]["client_secret"].as_str().unwrap(), &["success"]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = session(&app, KEY, &cus).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let gone = format!("/v1/financial_connections/sessions/{}", id(&sessions[1]));
    assert_eq!(send(&app, get(&gone, KEY)).await.0, StatusCode::NOT_FOUND);
    let kept = format!("/v1/financial_connections/sessions/{}", id(&sessions[0]));
    assert_eq!(send(&app, get(&kept, KEY)).await.0, StatusCode::OK);
    let (s, v) = complete_modal(&app, sessions[1]["client_secret"].as_str().unwrap(), &["success"]).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("resource_missing"))
    );
}

#[tokio::test]
async fn linked_accounts_per_key_are_limited() {
    let (app, _) = limited(few(100, 3));
    let cus = id(&customer(&app, KEY, "name=A").await.1);
    let (_, first) = session(&app, KEY, &cus).await;
    let (s, v) = complete_modal(&app, first["client_secret"].as_str().unwrap(), &["success", "savings"]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, second) = session(&app, KEY, &cus).await;
    let secret = second["client_secret"].as_str().unwrap();
    let (s, v) = complete_modal(&app, secret, &["success", "savings"]).await;
    assert_limit(s, &v, "limit of 3 accounts");
    assert_eq!(v["error"]["param"], "accounts");
    let (s, v) = complete_modal(&app, secret, &["success"]).await;
    assert_eq!(s, StatusCode::OK, "the refused attempt left the session open: {v}");
}

#[tokio::test]
async fn events_keep_the_newest() {
    let (app, _) = limited(few(100, 3));
    let ids = linked_accounts(&app, KEY, "", &["success", "savings"]).await;
    for a in &ids {
        send(
            &app,
            post(&format!("/v1/financial_connections/accounts/{a}/disconnect"), KEY, ""),
        )
        .await;
    }
    let (_, _, events) = send(&app, get("/v1/events", KEY)).await;
    let types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 3, "{types:?}");
    assert_eq!(types[0], "financial_connections.account.disconnected", "newest first");
}

#[tokio::test]
async fn idempotent_responses_per_key_are_limited_oldest_first() {
    let (app, _) = limited(few(100, 3));
    let cus = id(&customer(&app, KEY, "name=A").await.1);
    let path = format!("/v1/customers/{cus}");
    let update = |idem: &str| {
        let mut req = post(&path, KEY, "name=B");
        req.headers_mut().insert("Idempotency-Key", idem.parse().unwrap());
        req
    };
    for i in 0..4 {
        assert_eq!(send(&app, update(&format!("idem-{i}"))).await.0, StatusCode::OK);
    }
    let (_, newest, _) = send(&app, update("idem-3")).await;
    assert_eq!(
        newest.headers().get("Idempotent-Replayed").map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let (s, oldest, _) = send(&app, update("idem-0")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(oldest.headers().get("Idempotent-Replayed").is_none(), "idem-0 was forgotten");
}

#[tokio::test]
async fn fault_rules_per_key_are_limited() {
    let (app, _) = limited(Limits {
        max_faults: 2,
        ..Limits::default()
    });
    let fault = "path=/v1/customers&kind=server_error&count=5";
    for _ in 0..2 {
        assert_eq!(send(&app, post("/_sandbox/faults", KEY, fault)).await.0, StatusCode::OK);
    }
    let (s, _, v) = send(&app, post("/_sandbox/faults", KEY, fault)).await;
    assert_limit(s, &v, "limit of 2 fault rules");
    assert_eq!(v["error"]["param"], "path");
}

#[tokio::test]
async fn webhook_endpoints_per_key_are_limited() {
    let (app, _) = limited(Limits {
        max_webhook_endpoints: 2,
        ..Limits::default()
    });
    let form = "url=http://127.0.0.1:9/hook&enabled_events[]=*";
    for _ in 0..2 {
        assert_eq!(send(&app, post("/v1/webhook_endpoints", KEY, form)).await.0, StatusCode::OK);
    }
    let (s, _, v) = send(&app, post("/v1/webhook_endpoints", KEY, form)).await;
    assert_limit(s, &v, "limit of 2 webhook endpoints");
    assert_eq!(v["error"]["param"], "url");
}

#[tokio::test]
async fn strings_are_bounded_as_stripe_bounds_them() {
    let app = sandbox();
    let ok = |form: String| {
        let app = app.clone();
        async move { customer(&app, KEY, &form).await }
    };
    // Stripe counts characters, not bytes.
    let (s, v) = ok(format!("description={}", "é".repeat(5000))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = ok(format!("description={}", "é".repeat(5001))).await;
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("description"))
    );
    for (form, param) in [
        (format!("name={}", "n".repeat(257)), "name".to_owned()),
        (format!("phone={}", "1".repeat(21)), "phone".to_owned()),
        (format!("email={}%40example.com", "e".repeat(510)), "email".to_owned()),
        (
            format!("metadata[{}]=v", "k".repeat(41)),
            format!("metadata[{}]", "k".repeat(41)),
        ),
        (format!("metadata[k]={}", "v".repeat(501)), "metadata[k]".to_owned()),
        (
            (0..51).map(|i| format!("metadata[k{i}]=v")).collect::<Vec<_>>().join("&"),
            "metadata".to_owned(),
        ),
    ] {
        let (s, v) = ok(form.clone()).await;
        assert_eq!(
            (s, v["error"]["param"].as_str()),
            (StatusCode::BAD_REQUEST, Some(param.as_str())),
            "{form:.60}"
        );
    }
    let (s, v) = ok(format!("phone={}&metadata[k]={}", "1".repeat(20), "v".repeat(500))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, _, cleared) = send(&app, post(&format!("/v1/customers/{}", id(&v)), KEY, "metadata=")).await;
    assert_eq!(cleared["metadata"], serde_json::json!({}), "metadata= unsets every key");
}

fn slow_subscriptions() -> Timing {
    Timing {
        subscription_interval: Duration::from_secs(3600),
        ..fast_timing()
    }
}

async fn scheduled(app: &Router, key: &str) -> Vec<Value> {
    let (s, _, v) = send(app, get("/_sandbox/scheduled", key)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_subscribed_account_has_one_background_job_however_often_it_subscribes() {
    let sb = Arc::new(Sandbox::with_timing(slow_subscriptions()));
    let app = server::sandbox::router(sb.clone());
    let id = &linked_accounts(&app, KEY, "&permissions[]=transactions", &["success"]).await[0];
    let action = |what: &str| {
        post(
            &format!("/v1/financial_connections/accounts/{id}/{what}"),
            KEY,
            "features[]=transactions",
        )
    };
    for what in ["subscribe", "subscribe", "unsubscribe", "subscribe", "subscribe"] {
        let (s, _, v) = send(&app, action(what)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let subscriptions: Vec<Value> = scheduled(&app, KEY)
        .await
        .into_iter()
        .filter(|j| j["kind"] == "subscription")
        .collect();
    assert_eq!(subscriptions.len(), 1, "{subscriptions:?}");
    assert_eq!(subscriptions[0]["account"], id.as_str());
}

#[tokio::test]
async fn a_reset_key_stops_its_waiting_work_and_stays_forgotten() {
    let sb = Arc::new(Sandbox::with_timing(Timing {
        refresh_delay: Duration::from_millis(300),
        ..slow_subscriptions()
    }));
    let app = server::sandbox::router(sb.clone());
    let id = &linked_accounts(&app, KEY, "&permissions[]=transactions", &["success"]).await[0];
    let (s, _, _) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/subscribe"),
            KEY,
            "features[]=transactions",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<String> = scheduled(&app, KEY).await.iter().map(|j| j["kind"].to_string()).collect();
    assert_eq!(kinds.len(), 2, "a refresh settling and the subscription: {kinds:?}");
    assert_eq!(sb.jobs_waiting(), 2);

    send(&app, post("/_sandbox/reset", KEY, "")).await;
    assert_eq!(sb.jobs_waiting(), 0);
    assert!(scheduled(&app, KEY).await.is_empty());
    // Past the refresh delay nothing ran for the key: no space was made again.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sb.key_count(), 0);
}

#[tokio::test]
async fn a_forgotten_key_stops_its_waiting_work() {
    let sb = Arc::new(Sandbox::with_timing(slow_subscriptions()).with_limits(few(1, 100)));
    let app = server::sandbox::router(sb.clone());
    let id = &linked_accounts(&app, KEY, "&permissions[]=transactions", &["success"]).await[0];
    send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/subscribe"),
            KEY,
            "features[]=transactions",
        ),
    )
    .await;
    assert!(sb.jobs_waiting() >= 1);
    customer(&app, "sk_test_newcomer", "name=N").await;
    assert_eq!(sb.jobs_waiting(), 0, "the forgotten key's subscription went with it");
}

#[tokio::test]
async fn old_transaction_refreshes_are_forgotten_and_say_so() {
    let (app, _) = limited(few(100, 2));
    let id = &linked_accounts(&app, KEY, "&permissions[]=transactions", &["success"]).await[0];
    let mut refreshes = Vec::new();
    for _ in 0..3 {
        let (s, _, v) = send(
            &app,
            post(
                &format!("/v1/financial_connections/accounts/{id}/refresh"),
                KEY,
                "features[]=transactions",
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let a = settled(&app, KEY, id, "transaction_refresh").await;
        refreshes.push(a["transaction_refresh"]["id"].as_str().unwrap().to_owned());
    }
    let list = |after: &str| {
        get(
            &format!("/v1/financial_connections/transactions?account={id}&transaction_refresh[after]={after}"),
            KEY,
        )
    };
    let (s, _, v) = send(&app, list(&refreshes[0])).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("resource_missing"))
    );
    let (s, _, v) = send(&app, list(&refreshes[1])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn a_key_over_its_share_gets_no_more_transactions() {
    let (app, _) = limited(Limits {
        max_bytes: 256 * 1024,
        ..Limits::default()
    });
    let id = &linked_accounts(&app, KEY, "&permissions[]=transactions", &["success"]).await[0];
    let refresh = || {
        post(
            &format!("/v1/financial_connections/accounts/{id}/refresh"),
            KEY,
            "features[]=transactions",
        )
    };
    send(&app, refresh()).await;
    let first = settled(&app, KEY, id, "transaction_refresh").await;
    assert_eq!(first["transaction_refresh"]["status"], "succeeded");
    send(&app, refresh()).await;
    let second = settled(&app, KEY, id, "transaction_refresh").await;
    assert_eq!(
        second["transaction_refresh"]["status"], "failed",
        "the key holds its share already"
    );
    let (s, v) = customer(&app, KEY, "name=A").await;
    assert_limit(s, &v, "more data than the sandbox allows one key");
}

#[tokio::test]
async fn an_account_keeps_only_its_current_ownership() {
    let sb = Arc::new(Sandbox::with_timing(fast_timing()));
    let app = server::sandbox::router(sb.clone());
    let id = &linked_accounts(&app, KEY, "&permissions[]=ownership", &["savings"]).await[0];
    let mut seen = Vec::new();
    for _ in 0..3 {
        send(
            &app,
            post(
                &format!("/v1/financial_connections/accounts/{id}/refresh"),
                KEY,
                "features[]=ownership",
            ),
        )
        .await;
        let a = settled(&app, KEY, id, "ownership_refresh").await;
        seen.push(a["ownership"].as_str().unwrap().to_owned());
    }
    assert_eq!(sb.read(KEY, |s| s.ownerships.len()), 1, "earlier ownerships are dropped");
    let owners = |o: &str| get(&format!("/v1/financial_connections/accounts/{id}/owners?ownership={o}"), KEY);
    assert_eq!(send(&app, owners(&seen[2])).await.0, StatusCode::OK);
    assert_eq!(send(&app, owners(&seen[0])).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_delivery_log_keeps_the_newest_and_drops_the_others_work() {
    let sb = Arc::new(
        Sandbox::new()
            .with_limits(few(100, 2))
            .with_webhook_policy(server::sandbox::RetryPolicy {
                attempts: 5,
                first_backoff: Duration::from_secs(3600),
                max_backoff: Duration::from_secs(3600),
            }),
    );
    let app = server::sandbox::router(sb.clone());
    let rx = receiver(usize::MAX).await;
    let form = format!("url={}&enabled_events[]=*", rx.url);
    assert_eq!(send(&app, post("/v1/webhook_endpoints", KEY, &form)).await.0, StatusCode::OK);
    // Three events: account.created for two accounts, then a disconnect.
    let ids = linked_accounts(&app, KEY, "", &["success", "savings"]).await;
    send(
        &app,
        post(&format!("/v1/financial_connections/accounts/{}/disconnect", ids[0]), KEY, ""),
    )
    .await;
    let (_, _, log) = send(&app, get("/_sandbox/webhook_deliveries", KEY)).await;
    let log = log["data"].as_array().unwrap().clone();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1]["event_type"], "financial_connections.account.disconnected");
    // The two kept each fail once, then wait an hour to retry; the one pushed
    // out of the log has no work left.
    for _ in 0..300 {
        if sb.jobs_waiting() == 2 && sb.deliveries().iter().all(|d| d.attempts == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(sb.jobs_waiting(), 2, "{:?}", sb.deliveries());
    assert!(sb.deliveries().iter().all(|d| d.attempts == 1), "{:?}", sb.deliveries());
}
