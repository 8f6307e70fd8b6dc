//! Operations beyond the basics: customers list and delete, the events
//! list's filters, `enabled_events` checked against Stripe's list, queries
//! parsed on every GET with `expand[]`, and linking without a browser.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{json, Value};

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn customers_list_and_delete() {
    let app = sandbox();
    let mut made = vec![];
    for form in ["name=A", "name=B&email=b%40example.com", "name=C"] {
        let (_, _, c) = send(&app, post("/v1/customers", KEY, form)).await;
        made.push(c["id"].as_str().unwrap().to_owned());
    }
    let (s, _, list) = send(&app, get("/v1/customers", KEY)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        ids(&list),
        [made[2].clone(), made[1].clone(), made[0].clone()],
        "newest first"
    );
    assert_eq!(list["url"], "/v1/customers");
    let (_, _, page) = send(&app, get(&format!("/v1/customers?limit=1&starting_after={}", made[2]), KEY)).await;
    assert_eq!((ids(&page), page["has_more"].as_bool()), (vec![made[1].clone()], Some(true)));
    let (_, _, by_email) = send(&app, get("/v1/customers?email=b%40example.com", KEY)).await;
    assert_eq!(ids(&by_email), [made[1].clone()]);
    let (_, _, none) = send(&app, get("/v1/customers?created[lt]=1", KEY)).await;
    assert!(ids(&none).is_empty());
    let (s, _, bad) = send(&app, get("/v1/customers?created[since]=1", KEY)).await;
    assert_eq!(
        (s, bad["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("created[since]"))
    );

    let path = format!("/v1/customers/{}", made[0]);
    let del = |p: &str| {
        axum::http::Request::delete(p)
            .header("Authorization", format!("Bearer {KEY}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (s, _, gone) = send(&app, del(&path)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(gone, json!({ "id": made[0], "object": "customer", "deleted": true }));
    let (s, _, stub) = send(&app, get(&path, KEY)).await;
    assert_eq!((s, stub["deleted"].as_bool()), (StatusCode::OK, Some(true)));
    let (s, _, _) = send(&app, del(&path)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = send(&app, post(&path, KEY, "name=Z")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, _, list) = send(&app, get("/v1/customers", KEY)).await;
    assert_eq!(ids(&list).len(), 2);
    let form = format!(
        "account_holder[type]=customer&account_holder[customer]={}&permissions[]=balances",
        made[0]
    );
    let (s, _, _) = send(&app, post("/v1/financial_connections/sessions", KEY, &form)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no session for a deleted customer");
}

#[tokio::test]
async fn customers_have_every_field_with_stripes_defaults() {
    let app = sandbox();
    let (_, _, c) = send(&app, post("/v1/customers", KEY, "name=A")).await;
    for (field, want) in [
        ("balance", json!(0)),
        ("delinquent", json!(false)),
        ("currency", Value::Null),
        ("default_source", Value::Null),
        ("preferred_locales", json!([])),
        ("tax_exempt", json!("none")),
        ("next_invoice_sequence", json!(1)),
        ("livemode", json!(false)),
    ] {
        assert_eq!(c[field], want, "{field}");
    }
    assert_eq!(c["invoice_prefix"].as_str().unwrap().len(), 8);
    assert_eq!(c["invoice_settings"]["default_payment_method"], Value::Null);
}

#[tokio::test]
async fn events_list_filters_by_type_wildcard_time_and_delivery() {
    let app = sandbox();
    let accounts = linked_accounts(&app, KEY, "", &["success", "savings"]).await;
    let (s, _, _) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{}/disconnect", accounts[0]),
            KEY,
            "",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let types = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let count = |q: &str| {
        let app = app.clone();
        let q = q.to_owned();
        async move {
            let (s, _, v) = send(&app, get(&format!("/v1/events{q}"), KEY)).await;
            assert_eq!(s, StatusCode::OK, "{q}: {v}");
            types(&v)
        }
    };
    assert_eq!(count("").await.len(), 3);
    assert_eq!(count("?type=financial_connections.account.created").await.len(), 2);
    assert_eq!(count("?type=financial_connections.account.*").await.len(), 3);
    assert_eq!(count("?type=customer.*").await.len(), 0);
    assert_eq!(
        count("?types[]=financial_connections.account.disconnected&types[]=customer.created").await,
        ["financial_connections.account.disconnected"]
    );
    assert_eq!(count("?created[gte]=0").await.len(), 3);
    assert_eq!(count("?created[lt]=0").await.len(), 0);
    // No endpoint: nothing is left to deliver.
    assert_eq!(count("?delivery_success=true").await.len(), 3);
    assert_eq!(count("?delivery_success=false").await.len(), 0);
    let (s, _, v) = send(&app, get("/v1/events?type=a&types[]=b", KEY)).await;
    assert_eq!((s, v["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("types")));
    let (s, _, v) = send(&app, get("/v1/events?delivery_success=maybe", KEY)).await;
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("delivery_success"))
    );
    let (s, _, v) = send(&app, get("/v1/events?colour=red", KEY)).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("parameter_unknown"))
    );
}

#[tokio::test]
async fn enabled_events_are_checked_against_stripes_list() {
    let app = sandbox();
    let url = "http://127.0.0.1:9/hook";
    for ok in [
        "*",
        "customer.created",
        "financial_connections.account.refreshed_ownership",
        "financial_connections.account.upcoming_account_number_expiry",
    ] {
        let (s, _, v) = send(
            &app,
            post("/v1/webhook_endpoints", KEY, &format!("url={url}&enabled_events[]={ok}")),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{ok}: {v}");
        let id = v["id"].as_str().unwrap();
        let del = axum::http::Request::delete(format!("/v1/webhook_endpoints/{id}"))
            .header("Authorization", format!("Bearer {KEY}"))
            .body(axum::body::Body::empty())
            .unwrap();
        send(&app, del).await;
    }
    let form = format!("url={url}&enabled_events[]=*&enabled_events[]=financial_connections.account.exploded");
    let (s, _, v) = send(&app, post("/v1/webhook_endpoints", KEY, &form)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["param"], "enabled_events[1]");
    let form = format!("url={url}&enabled_events[]=financial_connections.account.*");
    let (s, _, _) = send(&app, post("/v1/webhook_endpoints", KEY, &form)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "no partial wildcards");
}

#[tokio::test]
async fn every_get_parses_its_query_and_expands_what_the_spec_allows() {
    let app = fast_sandbox();
    let (cus, session) = customer_and_session(&app, KEY, "&permissions[]=ownership").await;
    let ids = linked_accounts(&app, KEY, "&permissions[]=ownership", &["success"]).await;
    let id = &ids[0];
    for path in [
        format!("/v1/customers/{cus}?bogus=1"),
        format!(
            "/v1/financial_connections/sessions/{}?bogus=1",
            session["id"].as_str().unwrap()
        ),
        "/v1/webhook_endpoints?bogus=1".to_owned(),
        "/v1/events/evt_x?bogus=1".to_owned(),
        "/v1/tokens/btok_x?bogus=1".to_owned(),
        "/v1/financial_connections/transactions/fctxn_x?bogus=1".to_owned(),
    ] {
        let (s, _, v) = send(&app, get(&path, KEY)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["error"]["param"], "bogus", "{path}");
    }
    let (s, _, _) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/refresh"),
            KEY,
            "features[]=ownership",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    settled(&app, KEY, id, "ownership_refresh").await;
    let one = format!("/v1/financial_connections/accounts/{id}");
    let (_, _, a) = send(
        &app,
        get(&format!("{one}?expand[]=ownership&expand[]=account_holder.customer"), KEY),
    )
    .await;
    assert_eq!(a["ownership"]["object"], "financial_connections.account_ownership", "{a}");
    assert_eq!(a["account_holder"]["customer"]["object"], "customer");
    let list = "/v1/financial_connections/accounts";
    let (_, _, l) = send(&app, get(&format!("{list}?expand[]=data.ownership"), KEY)).await;
    assert_eq!(l["data"][0]["ownership"]["object"], "financial_connections.account_ownership");
    let (s, _, e) = send(&app, get(&format!("{list}?expand[]=ownership"), KEY)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["error"]["message"].as_str().unwrap().contains("data.ownership"), "{e}");
    let (s, _, e) = send(&app, get(&format!("{one}?expand[]=institution_name"), KEY)).await;
    assert_eq!((s, e["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("expand")));
    // POSTs expand too, and a refused expansion stops the request before it runs.
    let (s, _, d) = send(&app, post(&format!("{one}/disconnect"), KEY, "expand[]=ownership")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["ownership"]["object"], "financial_connections.account_ownership");
}

#[tokio::test]
async fn a_session_completes_without_a_browser() {
    let app = sandbox();
    let (_, session) = customer_and_session(&app, KEY, "").await;
    let id = session["id"].as_str().unwrap();
    let complete = format!("/_sandbox/sessions/{id}/complete");
    let (s, _, v) = send(
        &app,
        post(
            &complete,
            KEY,
            "institution=test_institution&accounts[]=success&accounts[]=savings",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["financialConnectionsSession"]["accounts"].as_array().unwrap().len(), 2);
    let (_, _, got) = send(&app, get(&format!("/v1/financial_connections/sessions/{id}"), KEY)).await;
    assert_eq!(got["accounts"]["data"].as_array().unwrap().len(), 2);
    let (s, _, again) = send(&app, post(&complete, KEY, "")).await;
    assert_eq!(
        (s, again["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("session_already_used"))
    );
    // Defaults: the test institution's preselected account.
    let (_, fresh) = customer_and_session(&app, KEY, "").await;
    let path = format!("/_sandbox/sessions/{}/complete", fresh["id"].as_str().unwrap());
    let (s, _, v) = send(&app, post(&path, KEY, "")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["financialConnectionsSession"]["accounts"][0]["display_name"], "Success");
    // The token flow makes the bank token.
    let (_, tok) = customer_and_session(&app, KEY, "").await;
    let path = format!("/_sandbox/sessions/{}/complete", tok["id"].as_str().unwrap());
    let (s, _, v) = send(&app, post(&path, KEY, "flow=token")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["token"]["id"].as_str().unwrap().starts_with("btok_"));
    // Another key's session is not the caller's.
    let (s, _, v) = send(&app, post(&complete, "sk_test_mallory", "")).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("resource_missing"))
    );
}
