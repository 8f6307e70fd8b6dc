//! Errors as Stripe writes them (`type`, `code`, `param`, `message`,
//! `doc_url`, `request_log_url`) and idempotency as Stripe runs it.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::Value;

fn idempotent(mut req: Request<Body>, idem: &str) -> Request<Body> {
    req.headers_mut().insert("Idempotency-Key", idem.parse().unwrap());
    req
}

fn header(resp: &axum::http::Response<Body>, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[tokio::test]
async fn errors_have_stripes_codes_params_and_links() {
    let app = sandbox();
    let cases: Vec<(Request<Body>, u16, &str, Option<&str>)> = vec![
        (
            post("/v1/customers", KEY, "nickname=x"),
            400,
            "parameter_unknown",
            Some("nickname"),
        ),
        (
            get("/v1/customers/cus_x?color=red", KEY),
            400,
            "parameter_unknown",
            Some("color"),
        ),
        (
            post("/v1/financial_connections/sessions", KEY, "permissions[]=balances"),
            400,
            "parameter_missing",
            Some("account_holder"),
        ),
        (get("/v1/customers/cus_nobody", KEY), 404, "resource_missing", Some("id")),
        (
            get("/v1/financial_connections/accounts/fca_nobody", KEY),
            404,
            "resource_missing",
            Some("account"),
        ),
    ];
    for (req, status, code, param) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (s, r, v) = send(&app, req).await;
        assert_eq!(s.as_u16(), status, "{what}: {v}");
        let e = &v["error"];
        assert_eq!(e["type"], "invalid_request_error", "{what}");
        assert_eq!(e["code"], code, "{what}");
        assert_eq!(e["param"].as_str(), param, "{what}");
        assert_eq!(
            e["doc_url"],
            format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-"))
        );
        let request_id = header(&r, "Request-Id").unwrap();
        assert_eq!(
            e["request_log_url"],
            format!("https://dashboard.stripe.com/test/logs/{request_id}"),
            "{what}"
        );
    }
    let (_, _, unknown) = send(&app, post("/v1/customers", KEY, "nickname=x")).await;
    assert_eq!(unknown["error"]["message"], "Received unknown parameter: nickname");
    let (_, _, missing) = send(&app, post("/v1/financial_connections/sessions", KEY, "")).await;
    assert_eq!(missing["error"]["message"], "Missing required param: account_holder.");
    // No account, no log: a 401 has no log link.
    let (_, _, unauth) = send(&app, post("/v1/customers", "sk_live_nope", "")).await;
    assert!(unauth["error"].get("request_log_url").is_none());
}

#[tokio::test]
async fn an_inactive_account_refuses_refreshes_with_stripes_code() {
    let app = sandbox();
    let ids = linked_accounts(&app, KEY, "&permissions[]=ownership", &["success"]).await;
    let id = &ids[0];
    let (s, _, _) = send(&app, post(&format!("/_sandbox/accounts/{id}/status"), KEY, "status=inactive")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, v) = send(
        &app,
        post(
            &format!("/v1/financial_connections/accounts/{id}/refresh"),
            KEY,
            "features[]=balance",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "financial_connections_account_inactive");
    assert_eq!(
        v["error"]["doc_url"],
        "https://stripe.com/docs/error-codes/financial-connections-account-inactive"
    );
}

#[tokio::test]
async fn idempotency_stores_what_ran_and_not_what_validation_refused() {
    let app = sandbox();
    // A success is replayed, marked as such.
    let (s1, r1, c1) = send(&app, idempotent(post("/v1/customers", KEY, "name=A"), "k-ok")).await;
    let (s2, r2, c2) = send(&app, idempotent(post("/v1/customers", KEY, "name=A"), "k-ok")).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(c1["id"], c2["id"]);
    assert_eq!(header(&r1, "Idempotent-Replayed"), None);
    assert_eq!(header(&r2, "Idempotent-Replayed").as_deref(), Some("true"));
    // Other parameters with the key: Stripe's idempotency_error.
    let (s, _, v) = send(&app, idempotent(post("/v1/customers", KEY, "name=B"), "k-ok")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["type"], "idempotency_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("k-ok"));
    // A 4xx from a request that ran (the account is missing) is stored and replayed.
    let refresh = "/v1/financial_connections/accounts/fca_nobody/refresh";
    let (s1, _, e1) = send(&app, idempotent(post(refresh, KEY, "features[]=balance"), "k-404")).await;
    let (s2, r2, e2) = send(&app, idempotent(post(refresh, KEY, "features[]=balance"), "k-404")).await;
    assert_eq!((s1, s2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(e1["error"]["code"], e2["error"]["code"]);
    assert_eq!(header(&r2, "Idempotent-Replayed").as_deref(), Some("true"));
    // A validation 400 stores nothing: the key works with corrected parameters.
    let (s, _, _) = send(&app, idempotent(post("/v1/customers", KEY, "nickname=x"), "k-400")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, r, v) = send(&app, idempotent(post("/v1/customers", KEY, "name=C"), "k-400")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(header(&r, "Idempotent-Replayed"), None);
}

#[tokio::test]
async fn a_key_in_use_by_a_running_request_gets_409() {
    let app = sandbox();
    // The first request is held (an injected delay) while the second arrives.
    let (s, _, _) = send(
        &app,
        post("/_sandbox/faults", KEY, "path=/v1/customers&kind=delay&delay_ms=1500&count=1"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let first = tokio::spawn({
        let app = app.clone();
        async move { send(&app, idempotent(post("/v1/customers", KEY, "name=Slow"), "k-busy")).await }
    });
    // On this single-threaded runtime, yielding lets the first request run
    // up to its delay: it holds the key from then on.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let (s, r, v) = send(&app, idempotent(post("/v1/customers", KEY, "name=Slow"), "k-busy")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "idempotency_key_in_use");
    assert_eq!(header(&r, "Stripe-Should-Retry").as_deref(), Some("true"));
    let (s, _, created) = first.await.unwrap();
    assert_eq!(s, StatusCode::OK);
    // Once it has finished, the key replays its result.
    let (s, r, again) = send(&app, idempotent(post("/v1/customers", KEY, "name=Slow"), "k-busy")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["id"], created["id"]);
    assert_eq!(header(&r, "Idempotent-Replayed").as_deref(), Some("true"));
    // Another key was never blocked.
    let (s, _, _): (StatusCode, _, Value) = send(&app, idempotent(post("/v1/customers", KEY, "name=Other"), "k-free")).await;
    assert_eq!(s, StatusCode::OK);
}
