//! Every Financial Connections event type Stripe lists is emitted when its
//! cause happens in the sandbox, including the announcements that need a
//! control call (an upcoming deactivation, its date changing, supported
//! payment method types changing).

mod common;

use axum::http::StatusCode;
use axum::Router;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// Event types, oldest first, as the newest API version lists them (the
/// account-number events exist from 2026-09-30).
async fn event_types(app: &Router, key: &str) -> Vec<String> {
    let mut req = get("/v1/events?limit=100", key);
    req.headers_mut()
        .insert("Stripe-Version", "2026-10-28.endive".parse().unwrap());
    let (_, _, events) = send(app, req).await;
    let mut types: Vec<String> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    types.reverse(); // oldest first
    types
}

async fn control(app: &Router, path: &str, form: &str) -> (StatusCode, Value) {
    let (s, _, v) = send(app, post(path, KEY, form)).await;
    (s, v)
}

#[tokio::test]
async fn an_announced_deactivation_reaches_every_account_of_the_authorization() {
    let app = fast_sandbox();
    let ids = linked_accounts(&app, KEY, "", &["success", "savings"]).await;
    let path = format!("/_sandbox/accounts/{}/deactivation", ids[0]);
    let before = event_types(&app, KEY).await.len();

    let (s, a) = control(
        &app,
        &path,
        "expected_deactivation_date=2000000000&cause=institution_requirement",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    let active = &a["status_details"]["active"];
    assert_eq!(active["expected_deactivation_date"], 2_000_000_000);
    assert_eq!(
        (active["action"].as_str(), active["cause"].as_str()),
        (Some("relink_required"), Some("institution_requirement"))
    );
    let (_, _, other) = send(&app, get(&format!("/v1/financial_connections/accounts/{}", ids[1]), KEY)).await;
    assert_eq!(other["status_details"], a["status_details"], "the same authorization");
    let types = event_types(&app, KEY).await;
    assert_eq!(
        &types[before..],
        [
            "financial_connections.account.upcoming_deactivation",
            "financial_connections.account.upcoming_deactivation",
            "financial_connections.authorization.upcoming_deactivation",
        ]
    );
    let (_, _, events) = send(
        &app,
        get(
            "/v1/events?type=financial_connections.authorization.upcoming_deactivation",
            KEY,
        ),
    )
    .await;
    let authorization = &events["data"][0]["data"]["object"];
    assert_eq!(authorization["object"], "financial_connections.authorization");
    assert_eq!(authorization["institution_name"], "Test Institution");
    assert_eq!(
        authorization["status_details"]["active"]["expected_deactivation_date"],
        2_000_000_000
    );

    // The same date again changes nothing; a new one is an update.
    control(
        &app,
        &path,
        "expected_deactivation_date=2000000000&cause=institution_requirement",
    )
    .await;
    assert_eq!(event_types(&app, KEY).await.len(), before + 3);
    control(&app, &path, "expected_deactivation_date=2100000000").await;
    let types = event_types(&app, KEY).await;
    assert_eq!(
        &types[before + 3..],
        [
            "financial_connections.account.expected_deactivation_date_updated",
            "financial_connections.account.expected_deactivation_date_updated",
            "financial_connections.authorization.expected_deactivation_date_updated",
        ]
    );

    // It happens: the account is inactive and the notice is gone.
    let (s, a) = control(&app, &format!("/_sandbox/accounts/{}/status", ids[0]), "status=inactive").await;
    assert_eq!((s, &a["status_details"]), (StatusCode::OK, &serde_json::json!({})));
    let (s, err) = control(&app, &path, "").await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "an inactive account has nothing to announce: {err}"
    );
}

#[tokio::test]
async fn announcements_refuse_bad_input() {
    let app = fast_sandbox();
    let ids = linked_accounts(&app, KEY, "", &["success"]).await;
    let deactivation = format!("/_sandbox/accounts/{}/deactivation", ids[0]);
    let methods = format!("/_sandbox/accounts/{}/supported_payment_method_types", ids[0]);
    for (path, form, param) in [
        (&deactivation, "expected_deactivation_date=soon", "expected_deactivation_date"),
        (&deactivation, "expected_deactivation_date=-5", "expected_deactivation_date"),
        (&deactivation, "cause=boredom", "cause"),
        (&deactivation, "bogus=1", "bogus"),
        (&methods, "types[]=card", "types"),
        (&methods, "types=link", "types"),
    ] {
        let (s, err) = control(&app, path, form).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{form}: {err}");
        assert_eq!(err["error"]["param"], param, "{form}: {err}");
    }
    let (s, _) = control(&app, "/_sandbox/accounts/fca_missing/deactivation", "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Withdrawing a notice there is none of announces nothing.
    let before = event_types(&app, KEY).await.len();
    let (s, _) = control(&app, &deactivation, "expected_deactivation_date=").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(event_types(&app, KEY).await.len(), before);
}

#[tokio::test]
async fn supported_payment_method_types_changing_is_announced_once() {
    let app = fast_sandbox();
    let ids = linked_accounts(&app, KEY, "", &["success"]).await;
    let path = format!("/_sandbox/accounts/{}/supported_payment_method_types", ids[0]);
    let before = event_types(&app, KEY).await.len();
    let (s, a) = control(&app, &path, "types[]=us_bank_account").await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["supported_payment_method_types"], serde_json::json!(["us_bank_account"]));
    control(&app, &path, "types[]=us_bank_account").await;
    let types = event_types(&app, KEY).await;
    assert_eq!(
        &types[before..],
        ["financial_connections.account.supported_payment_method_types_updated"]
    );
}

/// Every `financial_connections.*` type `enabled_events` accepts (Stripe's
/// list) is emitted once its cause has happened.
#[tokio::test]
async fn every_financial_connections_event_type_has_a_cause() {
    let app = fast_sandbox();
    let ids = linked_accounts(&app, KEY, "&permissions[]=ownership&permissions[]=transactions", &["success"]).await;
    let id = &ids[0];
    let account = format!("/v1/financial_connections/accounts/{id}");
    let (s, v) = control(
        &app,
        &format!("{account}/refresh"),
        "features[]=balance&features[]=ownership&features[]=transactions",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for field in ["balance_refresh", "ownership_refresh", "transaction_refresh"] {
        settled(&app, KEY, id, field).await;
    }
    for (path, form) in [
        (format!("/_sandbox/accounts/{id}/account_numbers"), "event=upcoming_expiry"),
        (format!("/_sandbox/accounts/{id}/account_numbers"), "event=updated"),
        (
            format!("/_sandbox/accounts/{id}/supported_payment_method_types"),
            "types[]=link",
        ),
        (format!("/_sandbox/accounts/{id}/deactivation"), ""),
        (
            format!("/_sandbox/accounts/{id}/deactivation"),
            "expected_deactivation_date=2000000000",
        ),
        (format!("/_sandbox/accounts/{id}/status"), "status=inactive"),
        (format!("/_sandbox/accounts/{id}/status"), "status=active"),
        (format!("{account}/disconnect"), ""),
    ] {
        let (s, v) = control(&app, &path, form).await;
        assert_eq!(s, StatusCode::OK, "{path} {form}: {v}");
    }
    let seen: BTreeSet<String> = event_types(&app, KEY).await.into_iter().collect();
    let listed: BTreeSet<String> = server::sandbox::event_types::ENABLED_EVENTS
        .iter()
        .filter(|t| t.starts_with("financial_connections."))
        .map(|t| t.to_string())
        .collect();
    let missing: Vec<&String> = listed.difference(&seen).collect();
    assert!(missing.is_empty(), "never emitted: {missing:?}");
}
