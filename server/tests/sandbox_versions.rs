//! API versions: `Stripe-Version` (or the key's default) decides what a
//! request may send and the shape of what it gets; webhook endpoints pin the
//! version of the events they receive.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::Value;

fn with_version(mut req: Request<Body>, version: &str) -> Request<Body> {
    req.headers_mut().insert("Stripe-Version", version.parse().unwrap());
    req
}

fn version_of(resp: &axum::http::Response<Body>) -> String {
    resp.headers()
        .get("Stripe-Version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn new_session(app: &axum::Router, version: &str, filters: &str) -> (StatusCode, Value) {
    let (_, _, c) = send(app, post("/v1/customers", KEY, "")).await;
    let form = format!(
        "account_holder[type]=customer&account_holder[customer]={}&permissions[]=payment_method{filters}",
        c["id"].as_str().unwrap()
    );
    let (s, _, v) = send(
        app,
        with_version(post("/v1/financial_connections/sessions", KEY, &form), version),
    )
    .await;
    (s, v)
}

#[tokio::test]
async fn the_version_header_is_honoured_else_the_keys_default() {
    let app = sandbox();
    let (s, r, _) = send(&app, get("/v1/customers", KEY)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(version_of(&r), server::wire::STRIPE_VERSION);
    for v in ["2023-08-16", "2026-10-28.clover", "2011-01-01"] {
        let (s, r, body) = send(&app, with_version(get("/v1/customers", KEY), v)).await;
        assert_eq!(s, StatusCode::OK, "{v}: {body}");
        assert_eq!(version_of(&r), v);
    }
    for bad in ["latest", "2023-13-01", "2023-08-16.Dahlia", "16-08-2023"] {
        let (s, _, body) = send(&app, with_version(get("/v1/customers", KEY), bad)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Invalid Stripe API version"),
            "{body}"
        );
    }
    let (s, _, v) = send(&app, post("/_sandbox/api_version", KEY, "version=2023-08-16")).await;
    assert_eq!((s, v["api_version"].as_str()), (StatusCode::OK, Some("2023-08-16")));
    let (_, r, _) = send(&app, get("/v1/customers", KEY)).await;
    assert_eq!(version_of(&r), "2023-08-16", "the key's default");
    let (_, r, _) = send(&app, get("/v1/customers", "sk_test_other")).await;
    assert_eq!(version_of(&r), server::wire::STRIPE_VERSION, "only that key's");
    let (s, _, v) = send(&app, post("/_sandbox/api_version", KEY, "version=someday")).await;
    assert_eq!((s, v["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("version")));
}

#[tokio::test]
async fn sessions_take_the_country_filter_their_version_names() {
    let app = sandbox();
    // 2026-10-28 and later: one `country`; `countries` is unknown.
    let (s, new) = new_session(&app, "2026-10-28", "&filters[country]=US").await;
    assert_eq!(s, StatusCode::OK, "{new}");
    assert_eq!(new["filters"]["country"], "US");
    assert!(new["filters"].get("countries").is_none(), "{new}");
    let (s, v) = new_session(&app, "2026-10-28.clover", "&filters[countries][]=US").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "parameter_unknown");
    assert_eq!(v["error"]["param"], "filters[countries]");
    // Older versions: a list of `countries`; `country` is unknown.
    let (s, old) = new_session(&app, "2026-07-29.dahlia", "&filters[countries][]=US").await;
    assert_eq!(s, StatusCode::OK, "{old}");
    assert_eq!(old["filters"]["countries"], serde_json::json!(["US"]));
    let (s, v) = new_session(&app, "2023-08-16", "&filters[country]=US").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["param"], "filters[country]");
    let (s, v) = new_session(&app, "2026-10-28", "&filters[country]=usa").await;
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("filters[country]"))
    );
    // One session, read in either version, has that version's shape.
    let path = format!("/v1/financial_connections/sessions/{}", new["id"].as_str().unwrap());
    let (_, _, as_old) = send(&app, with_version(get(&path, KEY), "2023-08-16")).await;
    assert_eq!(as_old["filters"]["countries"], serde_json::json!(["US"]));
}

#[tokio::test]
async fn accounts_have_account_numbers_from_2026_09_30() {
    let app = sandbox();
    let (_, session) = customer_and_session(&app, KEY, "").await;
    let id = session["id"].as_str().unwrap();
    let (s, _, done) = send(&app, post(&format!("/_sandbox/sessions/{id}/complete"), KEY, "")).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let account = done["financialConnectionsSession"]["accounts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/financial_connections/accounts/{account}");
    let (_, _, new) = send(&app, with_version(get(&path, KEY), "2026-09-30.endive")).await;
    assert_eq!(new["account_numbers"][0]["supported_networks"], serde_json::json!(["ach"]));
    assert_eq!(new["account_numbers"][0]["status"], "transactable");
    let (_, _, old) = send(&app, with_version(get(&path, KEY), "2026-07-29.dahlia")).await;
    assert!(old.get("account_numbers").is_none(), "{old}");
    let (_, _, list) = send(
        &app,
        with_version(get("/v1/financial_connections/accounts", KEY), "2023-08-16"),
    )
    .await;
    assert!(list["data"][0].get("account_numbers").is_none());
}

#[tokio::test]
async fn events_carry_the_api_version_of_the_endpoint_they_go_to() {
    let app = sandbox();
    let rx = receiver(0).await;
    let mut versions = vec![];
    for pinned in ["api_version=2023-08-16&", "api_version=2026-10-28.clover&", ""] {
        let form = format!(
            "{pinned}url={}&enabled_events[]=financial_connections.account.created",
            rx.url
        );
        let (s, _, e) = send(&app, post("/v1/webhook_endpoints", KEY, &form)).await;
        assert_eq!(s, StatusCode::OK, "{e}");
        versions.push(e["api_version"].clone());
    }
    assert_eq!(
        versions,
        [serde_json::json!("2023-08-16"), "2026-10-28.clover".into(), Value::Null]
    );
    let (s, _, e) = send(
        &app,
        post(
            "/v1/webhook_endpoints",
            KEY,
            &format!("api_version=v2&url={}&enabled_events[]=*", rx.url),
        ),
    )
    .await;
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("api_version"))
    );

    linked_accounts(&app, KEY, "", &["success"]).await;
    let got = until(async || {
        let r = rx.received.lock().unwrap();
        (r.len() >= 3).then(|| r.clone())
    })
    .await;
    let mut seen: Vec<String> = got
        .iter()
        .map(|(_, body)| {
            let e: Value = serde_json::from_str(body).unwrap();
            let v = e["api_version"].as_str().unwrap().to_owned();
            let numbers = e["data"]["object"].get("account_numbers").is_some();
            assert_eq!(numbers, v != "2023-08-16" && v.as_str() >= "2026-09-30", "{v}: {e}");
            v
        })
        .collect();
    seen.sort();
    let mut want = vec!["2023-08-16", "2026-10-28.clover", server::wire::STRIPE_VERSION];
    want.sort();
    assert_eq!(seen, want);
    // The API shows the event in the version asked for.
    let (_, _, events) = send(&app, with_version(get("/v1/events", KEY), "2023-08-16")).await;
    assert_eq!(events["data"][0]["api_version"], "2023-08-16");
}

#[tokio::test]
async fn account_number_events_exist_from_2026_09_30() {
    let app = sandbox();
    let ids = linked_accounts(&app, KEY, "", &["success"]).await;
    let control = format!("/_sandbox/accounts/{}/account_numbers", ids[0]);
    let (s, _, a) = send(&app, post(&control, KEY, "event=upcoming_expiry&expires_at=1900000000")).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["account_numbers"][0]["expected_expiry_date"], 1_900_000_000);
    let (s, _, _) = send(&app, post(&control, KEY, "event=updated")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, v) = send(&app, post(&control, KEY, "event=stolen")).await;
    assert_eq!((s, v["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("event")));
    let q = "/v1/events?type=financial_connections.account.*";
    let (_, _, new) = send(&app, with_version(get(q, KEY), "2026-09-30.endive")).await;
    let types: Vec<&str> = new["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "financial_connections.account.account_numbers_updated",
            "financial_connections.account.upcoming_account_number_expiry",
            "financial_connections.account.created",
        ]
    );
    assert_eq!(
        new["data"][0]["data"]["object"]["account_numbers"][0]["expected_expiry_date"],
        Value::Null
    );
    let (_, _, old) = send(&app, with_version(get(q, KEY), "2026-07-29.dahlia")).await;
    assert_eq!(
        old["data"].as_array().unwrap().len(),
        1,
        "older versions have no such events: {old}"
    );
    // An account linked without payment_method has no numbers to expire.
    let (_, _, c) = send(&app, post("/v1/customers", KEY, "")).await;
    let form = format!(
        "account_holder[type]=customer&account_holder[customer]={}&permissions[]=balances",
        c["id"].as_str().unwrap()
    );
    let (_, _, session) = send(&app, post("/v1/financial_connections/sessions", KEY, &form)).await;
    let (_, done) = complete_modal(&app, session["client_secret"].as_str().unwrap(), &["success"]).await;
    let plain = done["financialConnectionsSession"]["accounts"][0]["id"].as_str().unwrap();
    let (s, _, _) = send(
        &app,
        post(&format!("/_sandbox/accounts/{plain}/account_numbers"), KEY, "event=updated"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}
