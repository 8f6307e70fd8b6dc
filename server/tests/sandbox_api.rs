//! The sandbox's Stripe-compatible API, driven through the router.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;

#[tokio::test]
async fn requests_without_a_valid_test_key_get_401() {
    let app = sandbox();
    let req = axum::http::Request::post("/v1/customers")
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, _, v) = send(&app, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["type"], "invalid_request_error");
    for key in ["sk_live_abcdefgh", "pk_test_abcdefgh", "sk_test_", "sk_test_a b"] {
        let (s, _, v) = send(&app, post("/v1/customers", key, "")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{key}");
        assert!(!v.to_string().contains("abcdefgh"), "error echoes the key: {v}");
    }
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = sandbox();
    let (_, ok, _) = send(&app, post("/v1/customers", KEY, "")).await;
    let (_, err, _) = send(&app, get("/v1/customers/cus_missing", KEY)).await;
    for r in [ok, err] {
        let id = r.headers().get("Request-Id").expect("Request-Id").to_str().unwrap();
        assert!(id.starts_with("req_"));
    }
}

#[tokio::test]
async fn customers_create_retrieve_update() {
    let app = sandbox();
    let (s, _, c) = send(
        &app,
        post(
            "/v1/customers",
            KEY,
            "name=Jenny+Rosen&email=jenny%40example.com&metadata[app]=1",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c["object"], "customer");
    assert_eq!(c["metadata"]["app"], "1");
    let id = c["id"].as_str().unwrap();
    assert!(id.starts_with("cus_"));
    let (s, _, got) = send(&app, get(&format!("/v1/customers/{id}"), KEY)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got["name"], "Jenny Rosen");
    let (_, _, upd) = send(&app, post(&format!("/v1/customers/{id}"), KEY, "name=Jane+Smith")).await;
    assert_eq!(upd["name"], "Jane Smith");
    assert_eq!(upd["email"], "jenny@example.com");
}

#[tokio::test]
async fn data_is_isolated_per_key() {
    let app = sandbox();
    let (_, _, c) = send(&app, post("/v1/customers", KEY, "")).await;
    let id = c["id"].as_str().unwrap();
    let (s, _, v) = send(&app, get(&format!("/v1/customers/{id}"), "sk_test_bob")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "resource_missing");
}

#[tokio::test]
async fn session_parameters_are_validated_like_stripe() {
    let app = sandbox();
    let (_, _, c) = send(&app, post("/v1/customers", KEY, "")).await;
    let cus = c["id"].as_str().unwrap();
    let holder = format!("account_holder[type]=customer&account_holder[customer]={cus}");
    let cases = [
        ("permissions[]=balances".to_owned(), 400, "account_holder"),
        (holder.clone(), 400, "permissions"),
        (format!("{holder}&permissions[]=telepathy"), 400, "permissions"),
        (
            format!("{holder}&permissions[]=balances&prefetch[]=payment_method"),
            400,
            "prefetch",
        ),
        (
            format!("{holder}&permissions[]=balances&limits[accounts]=0"),
            400,
            "limits[accounts]",
        ),
        (
            format!("{holder}&permissions[]=balances&filters[account_subcategories][]=yacht"),
            400,
            "filters[account_subcategories]",
        ),
        (
            format!("{holder}&permissions[]=balances&manual_entry[mode]=sometimes"),
            400,
            "manual_entry[mode]",
        ),
        (format!("{holder}&permissions[]=balances&surprise=1"), 400, "surprise"),
        (
            "account_holder[type]=customer&account_holder[customer]=cus_nobody&permissions[]=balances".to_owned(),
            404,
            "account_holder[customer]",
        ),
        (
            "account_holder[type]=person&permissions[]=balances".to_owned(),
            400,
            "account_holder[type]",
        ),
    ];
    for (form, status, param) in cases {
        let (s, _, v) = send(&app, post("/v1/financial_connections/sessions", KEY, &form)).await;
        assert_eq!(s.as_u16(), status, "{form}: {v}");
        assert_eq!(v["error"]["param"], param, "{form}: {v}");
    }
}

#[tokio::test]
async fn a_session_has_stripes_shape() {
    let app = sandbox();
    let (cus, s) = customer_and_session(&app, KEY, "&prefetch[]=balances&filters[countries][]=US&limits[accounts]=2").await;
    assert!(s["id"].as_str().unwrap().starts_with("fcsess_"));
    let secret = s["client_secret"].as_str().unwrap();
    assert!(secret.starts_with(&format!("{}_secret_", s["id"].as_str().unwrap())));
    assert_eq!(s["object"], "financial_connections.session");
    assert_eq!(s["account_holder"], json!({"type": "customer", "customer": cus}));
    assert_eq!(s["permissions"], json!(["balances", "payment_method"]));
    assert_eq!(s["prefetch"], json!(["balances"]));
    assert_eq!(s["limits"]["accounts"], 2);
    assert_eq!(s["accounts"]["object"], "list");
    assert_eq!(s["livemode"], false);
}

#[tokio::test]
async fn idempotency_keys_replay_and_reject_changed_parameters() {
    let app = sandbox();
    let req = |form: &str| {
        let mut r = post("/v1/customers", KEY, form);
        r.headers_mut().insert("Idempotency-Key", "key-1".parse().unwrap());
        r
    };
    let (_, first_resp, first) = send(&app, req("name=A")).await;
    let (_, again_resp, again) = send(&app, req("name=A")).await;
    assert_eq!(first["id"], again["id"]);
    assert!(first_resp.headers().get("Idempotent-Replayed").is_none());
    assert_eq!(again_resp.headers().get("Idempotent-Replayed").unwrap(), "true");
    let (s, _, v) = send(&app, req("name=B")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["type"], "idempotency_error");
    // A request refused by validation does not use up its key.
    let bad = |form: &str| {
        let mut r = post("/v1/customers", KEY, form);
        r.headers_mut().insert("Idempotency-Key", "key-2".parse().unwrap());
        r
    };
    assert_eq!(send(&app, bad("surprise=1")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(send(&app, bad("name=Fixed")).await.0, StatusCode::OK);
    // Another key's space has its own idempotency keys.
    let mut other = post("/v1/customers", "sk_test_bob", "name=B");
    other.headers_mut().insert("Idempotency-Key", "key-1".parse().unwrap());
    assert_eq!(send(&app, other).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_modal_links_accounts_once_per_client_secret() {
    let app = sandbox();
    let (cus, s) = customer_and_session(&app, KEY, "").await;
    let secret = s["client_secret"].as_str().unwrap();
    let sid = s["id"].as_str().unwrap();

    let (st, _, info) = send(
        &app,
        json_post(
            "/connect/api/session",
            json!({"client_secret": secret, "publishable_key": "pk_test_x"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(info["institutions"][0]["name"], "Test Institution");

    let (st, done) = complete_modal(&app, secret, &["success", "savings"]).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    let linked = &done["financialConnectionsSession"]["accounts"];
    assert_eq!(linked.as_array().unwrap().len(), 2);
    assert_eq!(linked[0]["display_name"], "Success");
    assert_eq!(linked[0]["last4"], "6789");
    assert_eq!(linked[0]["account_holder"]["customer"], cus.as_str());
    assert_eq!(
        linked[0]["supported_payment_method_types"],
        json!(["link", "us_bank_account"])
    );

    // Used: the secret cannot run the modal again.
    let (st, again) = complete_modal(&app, secret, &["success"]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(again["error"]["code"], "session_already_used");

    // The API agrees with what the modal said.
    let (_, _, session) = send(&app, get(&format!("/v1/financial_connections/sessions/{sid}"), KEY)).await;
    assert_eq!(session["accounts"]["data"].as_array().unwrap().len(), 2);
    let (_, _, by_session) = send(&app, get(&format!("/v1/financial_connections/accounts?session={sid}"), KEY)).await;
    assert_eq!(by_session["data"].as_array().unwrap().len(), 2);
    let id = linked[0]["id"].as_str().unwrap();
    let (s, _, acct) = send(&app, get(&format!("/v1/financial_connections/accounts/{id}"), KEY)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(acct["object"], "financial_connections.account");
    assert_eq!(acct["institution_name"], "Test Institution");
}

#[tokio::test]
async fn the_modal_refuses_unknown_secrets_and_bad_choices() {
    let app = sandbox();
    let (st, v) = complete_modal(&app, "fcsess_x_secret_y", &["success"]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "resource_missing");

    let (_, s) = customer_and_session(&app, KEY, "&limits[accounts]=1").await;
    let secret = s["client_secret"].as_str().unwrap();
    let (st, v) = complete_modal(&app, secret, &["success", "savings"]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["param"], "accounts");
    let (st, _) = complete_modal(&app, secret, &["no_such_account"]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, v) = send(
        &app,
        json_post(
            "/connect/api/session",
            json!({"client_secret": secret, "publishable_key": "sk_test_x"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
}

#[tokio::test]
async fn cancelling_links_nothing_and_spends_the_secret() {
    let app = sandbox();
    let (_, s) = customer_and_session(&app, KEY, "").await;
    let secret = s["client_secret"].as_str().unwrap();
    let (st, _, v) = send(
        &app,
        json_post(
            "/connect/api/cancel",
            json!({"client_secret": secret, "publishable_key": "pk_test_x"}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["financialConnectionsSession"]["accounts"], json!([]));
    let (st, v) = complete_modal(&app, secret, &["success"]).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("session_already_used"))
    );
}

#[tokio::test]
async fn account_lists_paginate_newest_first() {
    let app = sandbox();
    let (cus, s) = customer_and_session(&app, KEY, "").await;
    let secret = s["client_secret"].as_str().unwrap();
    complete_modal(&app, secret, &["success", "savings", "high_balance"]).await;
    let list = |q: String| {
        let app = app.clone();
        async move {
            send(&app, get(&format!("/v1/financial_connections/accounts?{q}"), KEY))
                .await
                .2
        }
    };
    let page1 = list(format!("account_holder[customer]={cus}&limit=2")).await;
    assert_eq!(page1["has_more"], true);
    let data = page1["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["display_name"], "High Balance");
    let last = data[1]["id"].as_str().unwrap();
    let page2 = list(format!("account_holder[customer]={cus}&limit=2&starting_after={last}")).await;
    assert_eq!(page2["has_more"], false);
    assert_eq!(page2["data"][0]["display_name"], "Success");
    let first_of_2 = page2["data"][0]["id"].as_str().unwrap();
    let back = list(format!("account_holder[customer]={cus}&limit=1&ending_before={first_of_2}")).await;
    assert_eq!(back["data"][0]["display_name"], "Savings");
    assert_eq!(back["has_more"], true);

    for (q, param) in [
        ("limit=0".to_owned(), "limit"),
        ("limit=abc".to_owned(), "limit"),
        ("starting_after=fca_nope".to_owned(), "starting_after"),
        (
            format!("account_holder[customer]={cus}&account_holder[account]=acct_1"),
            "account_holder",
        ),
    ] {
        let (s, _, v) = send(&app, get(&format!("/v1/financial_connections/accounts?{q}"), KEY)).await;
        assert!(s.is_client_error(), "{q}");
        assert_eq!(v["error"]["param"], param, "{q}: {v}");
    }
}

#[tokio::test]
async fn unknown_urls_and_hostile_bodies_get_stripe_errors() {
    let app = sandbox();
    let wrong_method = axum::http::Request::delete("/v1/financial_connections/sessions")
        .header("Authorization", format!("Bearer {KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, _, v) = send(&app, wrong_method).await;
    assert_eq!(
        (s, v["error"]["type"].as_str()),
        (StatusCode::NOT_FOUND, Some("invalid_request_error")),
        "{v}"
    );
    let (s, _, v) = send(&app, get("/v1/charges", KEY)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["error"]["message"].as_str().unwrap().contains("Unrecognized request URL"));
    let (s, _, v) = send(&app, post("/v1/customers", KEY, "name[=x")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let huge = format!("name={}", "x".repeat(100 * 1024));
    let (s, resp, v) = send(&app, post("/v1/customers", KEY, &huge)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    assert!(resp.headers().contains_key("Request-Id"));
    let (s, _, _) = send(&app, get("/v1/financial_connections/accounts/fca_missing", KEY)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_stripe_js_stand_in_is_served() {
    let app = sandbox();
    let req = axum::http::Request::get("/js/stripe.js")
        .body(axum::body::Body::empty())
        .unwrap();
    let (s, resp, _) = send(&app, req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/javascript"));
}

async fn complete_at(
    app: &axum::Router,
    secret: &str,
    institution: &str,
    accounts: &[&str],
    flow: &str,
) -> (StatusCode, serde_json::Value) {
    let body = json!({
        "client_secret": secret,
        "publishable_key": "pk_test_x",
        "institution": institution,
        "accounts": accounts,
        "flow": flow,
    });
    let (s, _, v) = send(app, json_post("/connect/api/complete", body)).await;
    (s, v)
}

#[tokio::test]
async fn bank_account_tokens_for_one_ach_account() {
    let app = sandbox();
    let (_, s) = customer_and_session(&app, KEY, "").await;
    let secret = s["client_secret"].as_str().unwrap();
    let (st, v) = complete_at(&app, secret, "test_institution", &["success", "savings"], "token").await;
    assert_eq!(
        (st, v["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("accounts")),
        "one account only"
    );
    let (st, v) = complete_at(&app, secret, "test_institution", &["success"], "token").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let token = &v["token"];
    assert!(token["id"].as_str().unwrap().starts_with("btok_"));
    assert_eq!(token["type"], "bank_account");
    assert_eq!(token["bank_account"]["last4"], "6789");
    assert_eq!(token["bank_account"]["routing_number"], "110000000");
    assert_eq!(token["bank_account"]["account_holder_name"], "Jenny Rosen");
    assert_eq!(v["financialConnectionsSession"]["accounts"].as_array().unwrap().len(), 1);
    let (st, _, got) = send(&app, get(&format!("/v1/tokens/{}", token["id"].as_str().unwrap()), KEY)).await;
    assert_eq!((st, &got["id"]), (StatusCode::OK, &token["id"]));
    assert_eq!(send(&app, get("/v1/tokens/btok_nope", KEY)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_payment_accounts_cannot_make_tokens() {
    let app = sandbox();
    let (_, s) = customer_and_session(&app, KEY, "").await;
    let secret = s["client_secret"].as_str().unwrap();
    let (st, v) = complete_at(&app, secret, "invalid_payment_accounts", &["no_ach_checking"], "token").await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("account_not_supported"))
    );
    // Linked as data accounts, they lack us_bank_account.
    let (st, v) = complete_at(&app, secret, "invalid_payment_accounts", &["no_ach_checking"], "accounts").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["financialConnectionsSession"]["accounts"][0]["supported_payment_method_types"],
        json!(["link"])
    );
}

#[tokio::test]
async fn down_banks_end_the_flow_with_their_code() {
    let app = sandbox();
    for (inst, code) in [
        ("down_bank_scheduled", "institution_down_scheduled"),
        ("down_bank_unscheduled", "institution_down_unscheduled"),
        ("down_bank_error", "institution_error"),
    ] {
        let (_, s) = customer_and_session(&app, KEY, "").await;
        let secret = s["client_secret"].as_str().unwrap();
        let body = json!({"client_secret": secret, "publishable_key": "pk_test_x", "institution": inst});
        let (st, _, v) = send(&app, json_post("/connect/api/fail", body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["code"], code);
        let (st, v) = complete_modal(&app, secret, &["success"]).await;
        assert_eq!(
            (st, v["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("session_already_used"))
        );
    }
    let (_, s) = customer_and_session(&app, KEY, "").await;
    let body = json!({"client_secret": s["client_secret"], "publishable_key": "pk_test_x", "institution": "test_institution"});
    let (st, _, _) = send(&app, json_post("/connect/api/fail", body)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "a working bank cannot be failed");
    let (st, _) = complete_modal(&app, s["client_secret"].as_str().unwrap(), &["success"]).await;
    assert_eq!(st, StatusCode::OK, "and the session is still usable");
}

#[tokio::test]
async fn the_modal_lists_every_test_institution_and_honours_filters() {
    let app = sandbox();
    let (_, s) = customer_and_session(&app, KEY, "&filters[account_subcategories][]=savings").await;
    let (_, _, info) = send(
        &app,
        json_post(
            "/connect/api/session",
            json!({"client_secret": s["client_secret"], "publishable_key": "pk_test_x"}),
        ),
    )
    .await;
    let names: Vec<&str> = info["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    for n in [
        "Test Institution",
        "Test OAuth Institution",
        "Ownership Accounts",
        "Invalid Payment Accounts",
        "Down Bank (Scheduled)",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let test = &info["institutions"][0]["accounts"];
    let subcats: Vec<&str> = test
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subcategory"].as_str().unwrap())
        .collect();
    assert_eq!(subcats, ["savings"], "filters shape what is offered");
    assert_eq!(info["institutions"][1]["oauth"], true);
    assert_eq!(info["institutions"][4]["down"]["code"], "institution_down_scheduled");
    let (st, v) = complete_modal(&app, s["client_secret"].as_str().unwrap(), &["success"]).await;
    assert_eq!(
        (st, v["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("accounts")),
        "filtered-out accounts cannot be linked"
    );
}
