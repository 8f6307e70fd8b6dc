//! The sandbox's account data: asynchronous refreshes, balances, ownership,
//! transactions, lifecycle, events and the control surface.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

const ALL: &str = "&permissions[]=ownership&permissions[]=transactions";

async fn refresh(app: &axum::Router, id: &str, feature: &str) -> (StatusCode, Value) {
    let (s, _, v) = send(
        app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/refresh"),
            KEY,
            &format!("features[]={feature}"),
        ),
    )
    .await;
    (s, v)
}

fn sandbox_with_cooldown() -> axum::Router {
    let timing = server::sandbox::Timing {
        refresh_delay: std::time::Duration::from_millis(20),
        refresh_cooldown_secs: 60,
        ..Default::default()
    };
    server::sandbox::router(std::sync::Arc::new(server::sandbox::Sandbox::with_timing(timing)))
}

#[tokio::test]
async fn a_balance_refresh_is_pending_then_succeeds_and_respects_the_cooldown() {
    let app = sandbox_with_cooldown();
    let id = &linked_accounts(&app, KEY, ALL, &["success"]).await[0];
    let (s, a) = refresh(&app, id, "balance").await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["balance_refresh"]["status"], "pending");
    assert_eq!(a["balance_refresh"]["next_refresh_available_at"], Value::Null);
    assert_eq!(a["balance"], Value::Null);
    let attempted = a["balance_refresh"]["last_attempted_at"].clone();

    let a = settled(&app, KEY, id, "balance_refresh").await;
    assert_eq!(a["balance_refresh"]["status"], "succeeded");
    assert_eq!(a["balance"]["type"], "cash");
    let current = a["balance"]["current"]["usd"].as_i64().expect("integer cents");
    let available = a["balance"]["cash"]["available"]["usd"].as_i64().unwrap();
    assert!(available <= current);
    let next = a["balance_refresh"]["next_refresh_available_at"].as_i64().unwrap();
    assert!(next >= attempted.as_i64().unwrap() + 60);

    // Too early: not started, nothing changes.
    let (s, again) = refresh(&app, id, "balance").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["balance_refresh"]["status"], "succeeded");
    assert_eq!(again["balance_refresh"]["last_attempted_at"], attempted);
}

#[tokio::test]
async fn permissions_gate_the_data() {
    let app = fast_sandbox();
    // customer_and_session asks for balances + payment_method only.
    let id = &linked_accounts(&app, KEY, "", &["success"]).await[0];
    for feature in ["ownership", "transactions"] {
        let (s, v) = refresh(&app, id, feature).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{feature}: {v}");
        assert_eq!(v["error"]["param"], "features");
    }
    let (s, _, v) = send(
        &app,
        get(&format!("/v1/financial_connections/transactions?account={id}"), KEY),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // All or nothing: a permitted feature does not start when another is refused.
    let (s, v) = refresh(&app, id, "balance&features[]=ownership").await;
    assert_eq!((s, v["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("features")));
    let (_, _, a) = send(&app, get(&format!("/v1/financial_connections/accounts/{id}"), KEY)).await;
    assert_eq!(a["balance_refresh"], Value::Null, "balance was not left pending");
    let (s, v) = refresh(&app, id, "everything").await;
    assert_eq!((s, v["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("features")));
    let (s, _, v) = send(
        &app,
        post(&format!("/v1/financial_connections/accounts/{id}/refresh"), KEY, ""),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("parameter_missing"))
    );
}

#[tokio::test]
async fn ownership_lists_the_owners() {
    let app = fast_sandbox();
    let id = &linked_accounts(&app, KEY, ALL, &["savings"]).await[0];
    refresh(&app, id, "ownership").await;
    let a = settled(&app, KEY, id, "ownership_refresh").await;
    let ownership = a["ownership"].as_str().unwrap();
    assert!(ownership.starts_with("fcaowns_"));
    let (s, _, owners) = send(
        &app,
        get(
            &format!("/v1/financial_connections/accounts/{id}/owners?ownership={ownership}"),
            KEY,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{owners}");
    let names: Vec<&str> = owners["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Jenny Rosen", "Jane Smith"]);
    assert_eq!(owners["data"][0]["object"], "financial_connections.account_owner");
    assert_eq!(owners["data"][0]["ownership"], ownership);

    let (_, _, expanded) = send(
        &app,
        get(&format!("/v1/financial_connections/accounts/{id}?expand[]=ownership"), KEY),
    )
    .await;
    assert_eq!(expanded["ownership"]["object"], "financial_connections.account_ownership");
    assert_eq!(expanded["ownership"]["owners"]["data"].as_array().unwrap().len(), 2);

    let (s, _, _) = send(
        &app,
        get(
            &format!("/v1/financial_connections/accounts/{id}/owners?ownership=fcaowns_other"),
            KEY,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, v) = send(&app, get(&format!("/v1/financial_connections/accounts/{id}/owners"), KEY)).await;
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ownership"))
    );
}

#[tokio::test]
async fn transactions_page_filter_and_sync_incrementally() {
    let app = fast_sandbox();
    let id = &linked_accounts(&app, KEY, ALL, &["success"]).await[0];
    let list = |q: String| {
        let app = app.clone();
        async move {
            send(&app, get(&format!("/v1/financial_connections/transactions?{q}"), KEY))
                .await
                .2
        }
    };
    assert_eq!(
        list(format!("account={id}")).await["data"],
        json!([]),
        "nothing before the first refresh"
    );

    refresh(&app, id, "transactions").await;
    let a = settled(&app, KEY, id, "transaction_refresh").await;
    let refresh_id = a["transaction_refresh"]["id"].as_str().unwrap();
    assert!(refresh_id.starts_with("fctxnref_"));

    let page = list(format!("account={id}&limit=100")).await;
    assert_eq!(page["has_more"], true);
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 100);
    let t = &data[0];
    assert_eq!(t["object"], "financial_connections.transaction");
    assert_eq!(t["currency"], "usd");
    assert_eq!(t["account"], id.as_str());
    assert_eq!(t["transaction_refresh"], refresh_id);
    assert!(t["amount"].is_i64());
    assert!(data
        .windows(2)
        .all(|w| w[0]["transacted_at"].as_i64() >= w[1]["transacted_at"].as_i64()));

    // Paging reaches every transaction exactly once.
    let mut seen = std::collections::HashSet::new();
    let mut after = String::new();
    loop {
        let q = if after.is_empty() {
            format!("account={id}&limit=100")
        } else {
            format!("account={id}&limit=100&starting_after={after}")
        };
        let p = list(q).await;
        for t in p["data"].as_array().unwrap() {
            assert!(seen.insert(t["id"].as_str().unwrap().to_owned()));
        }
        if p["has_more"] != true {
            break;
        }
        after = p["data"].as_array().unwrap().last().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    assert!(seen.len() > 150, "{}", seen.len());

    let newest = t["transacted_at"].as_i64().unwrap();
    let recent = list(format!("account={id}&limit=100&transacted_at[gte]={}", newest - 7 * 86_400)).await;
    let recent = recent["data"].as_array().unwrap();
    assert!(!recent.is_empty() && recent.len() < 100, "{} recent", recent.len());
    assert!(recent
        .iter()
        .all(|t| t["transacted_at"].as_i64().unwrap() >= newest - 7 * 86_400));
    assert_eq!(
        list(format!("account={id}&transaction_refresh[after]={refresh_id}")).await["data"],
        json!([])
    );

    let tid = t["id"].as_str().unwrap();
    let (s, _, one) = send(&app, get(&format!("/v1/financial_connections/transactions/{tid}"), KEY)).await;
    assert_eq!((s, &one["id"]), (StatusCode::OK, &t["id"]));

    for q in [
        String::new(),
        format!("account={id}&transacted_at[gte]=soon"),
        format!("account={id}&transaction_refresh[after]=fctxnref_nope"),
    ] {
        let (s, _, v) = send(&app, get(&format!("/v1/financial_connections/transactions?{q}"), KEY)).await;
        assert!(s.is_client_error(), "{q}: {v}");
    }
}

#[tokio::test]
async fn subscribe_starts_a_transactions_refresh() {
    let app = fast_sandbox();
    let id = &linked_accounts(&app, KEY, ALL, &["success"]).await[0];
    let (s, _, a) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/subscribe"),
            KEY,
            "features[]=transactions",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["subscriptions"], json!(["transactions"]));
    assert_eq!(a["transaction_refresh"]["status"], "pending");
    // Subscribed accounts refresh again on their own (every 150 ms here, daily at Stripe).
    let first = settled(&app, KEY, id, "transaction_refresh").await["transaction_refresh"]["id"].clone();
    let mut refreshed_again = false;
    for _ in 0..100 {
        let (_, _, a) = send(&app, get(&format!("/v1/financial_connections/accounts/{id}"), KEY)).await;
        if a["transaction_refresh"]["id"] != first {
            refreshed_again = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refreshed_again, "no periodic refresh");
    let (_, _, a) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/unsubscribe"),
            KEY,
            "features[]=transactions",
        ),
    )
    .await;
    assert_eq!(a["subscriptions"], json!([]));
    let (s, _, _) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/subscribe"),
            KEY,
            "features[]=balance",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn prefetch_starts_refreshes_at_link_time() {
    let app = fast_sandbox();
    let id = &linked_accounts(&app, KEY, "&prefetch[]=balances", &["credit_card"]).await[0];
    let a = settled(&app, KEY, id, "balance_refresh").await;
    assert_eq!(a["balance_refresh"]["status"], "succeeded");
    assert_eq!(a["balance"]["type"], "credit");
    assert!(a["balance"]["credit"]["used"]["usd"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn disconnected_and_inactive_accounts_refuse_refresh() {
    let app = fast_sandbox();
    let ids = linked_accounts(&app, KEY, ALL, &["success", "savings", "closed"]).await;
    let closed = &ids[2];
    let (s, v) = refresh(&app, closed, "balance").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("financial_connections_account_inactive")),
        "{v}"
    );

    let (s, _, a) = send(
        &app,
        post(&format!("/v1/financial_connections/accounts/{}/disconnect", ids[0]), KEY, ""),
    )
    .await;
    assert_eq!((s, a["status"].as_str()), (StatusCode::OK, Some("disconnected")));
    let (s, _) = refresh(&app, &ids[0], "balance").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Control surface: deactivate, then reactivate.
    let status = |id: &str, st: &str| post(&format!("/_sandbox/accounts/{id}/status"), KEY, &format!("status={st}"));
    let (_, _, a) = send(&app, status(&ids[1], "inactive")).await;
    assert_eq!(a["status"], "inactive");
    assert_eq!(refresh(&app, &ids[1], "balance").await.0, StatusCode::BAD_REQUEST);
    let (_, _, a) = send(&app, status(&ids[1], "active")).await;
    assert_eq!(a["status"], "active");
    assert_eq!(refresh(&app, &ids[1], "balance").await.0, StatusCode::OK);
    assert_eq!(
        send(&app, status(&ids[0], "active")).await.0,
        StatusCode::BAD_REQUEST,
        "disconnected is final"
    );

    let (_, _, events) = send(&app, get("/v1/events?limit=100", KEY)).await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for k in ["created", "disconnected", "deactivated", "reactivated"] {
        assert!(
            kinds.contains(&format!("financial_connections.account.{k}").as_str()),
            "{k} in {kinds:?}"
        );
    }
    let first = &events["data"][0];
    assert!(first["id"].as_str().unwrap().starts_with("evt_"));
    let (s, _, e) = send(&app, get(&format!("/v1/events/{}", first["id"].as_str().unwrap()), KEY)).await;
    assert_eq!((s, &e["type"]), (StatusCode::OK, &first["type"]));
}

#[tokio::test]
async fn the_control_surface_can_fail_the_next_refresh_and_reset() {
    let app = fast_sandbox();
    let id = &linked_accounts(&app, KEY, ALL, &["success"]).await[0];
    let (s, _, _) = send(&app, post("/_sandbox/refresh_failures", KEY, "count=1")).await;
    assert_eq!(s, StatusCode::OK);
    refresh(&app, id, "ownership").await;
    let a = settled(&app, KEY, id, "ownership_refresh").await;
    assert_eq!(a["ownership_refresh"]["status"], "failed");
    assert_eq!(a["ownership"], Value::Null);
    let (_, _, events) = send(
        &app,
        get("/v1/events?type=financial_connections.account.refreshed_ownership", KEY),
    )
    .await;
    assert_eq!(
        events["data"].as_array().unwrap().len(),
        1,
        "a failed refresh still sends its event"
    );
    assert_eq!(events["data"][0]["data"]["object"]["ownership_refresh"]["status"], "failed");
    refresh(&app, id, "balance").await;
    assert_eq!(
        settled(&app, KEY, id, "balance_refresh").await["balance_refresh"]["status"],
        "succeeded"
    );

    let other = &linked_accounts(&app, "sk_test_other", ALL, &["success"]).await[0];
    let (s, _, _) = send(&app, post("/_sandbox/reset", KEY, "")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = send(&app, get(&format!("/v1/financial_connections/accounts/{id}"), KEY)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = send(
        &app,
        get(&format!("/v1/financial_connections/accounts/{other}"), "sk_test_other"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "reset forgets only the caller's data");
    let (s, _, _) = send(&app, post("/_sandbox/reset", "nope", "")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the control surface needs a key too");
}

#[tokio::test]
async fn ownership_accounts_report_matching_differing_and_missing_owners() {
    let app = fast_sandbox();
    let (_, s) = customer_and_session(&app, KEY, ALL).await;
    let body = json!({
        "client_secret": s["client_secret"], "publishable_key": "pk_test_x",
        "institution": "ownership_accounts", "accounts": ["owner_matches", "owner_differs", "owner_missing"],
    });
    let (st, _, v) = send(&app, json_post("/connect/api/complete", body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut names = Vec::new();
    for a in v["financialConnectionsSession"]["accounts"].as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        refresh(&app, id, "ownership").await;
        let a = settled(&app, KEY, id, "ownership_refresh").await;
        let o = a["ownership"].as_str().unwrap();
        let (_, _, owners) = send(
            &app,
            get(&format!("/v1/financial_connections/accounts/{id}/owners?ownership={o}"), KEY),
        )
        .await;
        names.push(
            owners["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        names,
        vec![vec!["Jenny Rosen".to_owned()], vec!["Jane Smith".to_owned()], vec![]]
    );
}
