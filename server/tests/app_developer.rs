//! The developer panel through the router: a link flow records the Stripe
//! requests it made (session creation, account retrieval) with secrets
//! redacted, webhooks and Stripe.js results are recorded for their user,
//! another user sees none of it, each user's log is trimmed to its limit,
//! a stalled writer never holds up requests, and open pages hear of new
//! entries. Each test runs on SQLite and on PostgreSQL.

mod common;

use common::app::*;
use common::until;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

server::backend_tests!(
    a_link_records_its_stripe_requests_with_secrets_redacted,
    webhooks_and_stripe_js_results_are_recorded_for_their_user,
    another_users_log_is_not_visible,
    each_users_log_is_trimmed_to_its_limit,
    a_stalled_writer_drops_entries_and_never_blocks_requests,
    open_pages_hear_of_new_entries,
    bad_input_is_refused,
    a_payment_is_recorded,
);

/// The browser's log (`kind` may be empty) once `ready` holds for it.
async fn log_until(browser: &Browser<'_>, kind: &str, ready: impl Fn(&[Value]) -> bool) -> Value {
    until(async || {
        let (s, page) = browser.call("developer_log", &[("kind", kind), ("before", "")]).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        ready(page["entries"].as_array().unwrap()).then_some(page)
    })
    .await
}

fn stripe_request<'a>(entries: &'a [Value], method: &str, path: &str) -> Option<&'a Value> {
    entries.iter().find(|e| {
        let d = &e["detail"];
        d["kind"] == "stripe_request" && d["method"] == method && d["path"].as_str().is_some_and(|p| p.starts_with(path))
    })
}

fn assert_no_secrets(text: &str) {
    for secret in ["sk_test_", "sk_live_", "rk_test_", "whsec_", "_secret_"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

async fn a_link_records_its_stripe_requests_with_secrets_redacted(db: TestDb) {
    let app = spawn_on(&db).await;
    let browser = app.browser().await;
    let id = browser.link().await[0]["id"].as_str().unwrap().to_owned();
    let (s, _) = browser.call("load_account", &[("id", &id)]).await;
    assert_eq!(s, StatusCode::OK);
    let account_path = format!("/v1/financial_connections/accounts/{id}");
    // Entries are written off the request path, each when its call ends: wait for all of them.
    let page = log_until(&browser, "", |e| {
        stripe_request(e, "GET", &account_path).is_some()
            && stripe_request(e, "GET", "/v1/financial_connections/sessions/fcsess_").is_some()
    })
    .await;
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(page["mode"], "Sandbox");

    let created = stripe_request(entries, "POST", "/v1/financial_connections/sessions").expect("the session creation");
    let d = &created["detail"];
    assert_eq!(d["status"], 200);
    assert!(d["request_id"].as_str().unwrap().starts_with("req_"), "{d}");
    assert!(!d["idempotency_key"].as_str().unwrap().is_empty(), "every POST has one");
    assert_eq!(d["attempts"], 1);
    let params: Value = serde_json::from_str(d["params"].as_str().unwrap()).unwrap();
    assert_eq!(params["account_holder[type]"], "customer");
    assert_eq!(
        params["permissions[]"],
        serde_json::json!(["balances", "ownership", "payment_method", "transactions"])
    );
    let response: Value = serde_json::from_str(d["response"].as_str().unwrap()).unwrap();
    assert!(response["id"].as_str().unwrap().starts_with("fcsess_"));
    assert_eq!(response["client_secret"], "[redacted]", "the client secret is never stored");

    let retrieved = stripe_request(entries, "GET", &account_path).unwrap();
    let response: Value = serde_json::from_str(retrieved["detail"]["response"].as_str().unwrap()).unwrap();
    assert_eq!(response["id"], id.as_str());
    assert_eq!(retrieved["detail"]["idempotency_key"], Value::Null, "GETs have none");
    assert!(stripe_request(entries, "POST", "/v1/customers").is_some());
    assert!(stripe_request(entries, "GET", "/v1/financial_connections/sessions/fcsess_").is_some());

    // Newest first.
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert_no_secrets(&page.to_string());
    // The page itself, rendered on the server.
    let html = browser.page("/developer").await;
    assert!(html.contains("/v1/financial_connections/sessions"), "the log is rendered");
    assert!(!html.contains("dashboard.stripe.com"), "no Dashboard links in sandbox mode");
    assert_no_secrets(&html);
}

async fn webhooks_and_stripe_js_results_are_recorded_for_their_user(db: TestDb) {
    let app = spawn_with_env(&[("DATABASE_URL", &db.url), ("SANDBOX_REFRESH_DELAY_MS", "10")]).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let browser = app.browser().await;
    let id = browser.link().await[0]["id"].as_str().unwrap().to_owned();
    let (s, _) = browser.call("refresh_account", &[("id", &id), ("feature", "balance")]).await;
    assert_eq!(s, StatusCode::OK);
    let page = log_until(&browser, "webhook", |e| {
        e.iter()
            .any(|e| e["detail"]["event_type"] == "financial_connections.account.refreshed_balance")
    })
    .await;
    let hook = &page["entries"].as_array().unwrap()[0]["detail"];
    assert_eq!(hook["kind"], "webhook");
    assert!(hook["event_id"].as_str().unwrap().starts_with("evt_"));
    assert!(
        ["applied", "duplicate"].contains(&hook["outcome"].as_str().unwrap()),
        "{hook}"
    );
    // The account the webhook re-fetched is in the user's log too.
    let all = log_until(&browser, "stripe_request", |e| e.len() >= 2).await;
    assert!(all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["detail"]["kind"] == "stripe_request"));

    // What Stripe.js resolved with, as the page reports it: redacted.
    let result = serde_json::json!({
        "financialConnectionsSession": {"id": "fcsess_1", "client_secret": "fcsess_1_secret_abc", "accounts": []},
        "note": "sk_test_leaked",
    })
    .to_string();
    let (s, body) = browser
        .call(
            "report_stripe_js",
            &[("call", "collectFinancialConnectionsAccounts"), ("result", &result)],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let page = log_until(&browser, "stripe_js", |e| !e.is_empty()).await;
    let entry = &page["entries"][0]["detail"];
    assert_eq!(entry["call"], "collect_financial_connections_accounts");
    let stored: Value = serde_json::from_str(entry["result"].as_str().unwrap()).unwrap();
    assert_eq!(stored["financialConnectionsSession"]["id"], "fcsess_1");
    assert_eq!(stored["financialConnectionsSession"]["client_secret"], "[redacted]");
    assert_eq!(stored["note"], "[redacted]");
}

async fn another_users_log_is_not_visible(db: TestDb) {
    let app = spawn_on(&db).await;
    let alice = app.browser().await;
    alice.link().await;
    log_until(&alice, "", |e| {
        stripe_request(e, "GET", "/v1/financial_connections/sessions/").is_some()
    })
    .await;
    let mallory = app.browser().await;
    let (s, page) = mallory.call("developer_log", &[("kind", ""), ("before", "")]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["entries"], serde_json::json!([]));
    // Not by paging either.
    let (_, page) = mallory.call("developer_log", &[("kind", ""), ("before", "999999999")]).await;
    assert_eq!(page["entries"], serde_json::json!([]));
    let html = mallory.page("/developer").await;
    assert!(!html.contains("/v1/financial_connections"), "another user's log rendered");
}

async fn each_users_log_is_trimmed_to_its_limit(db: TestDb) {
    let app = spawn_with_env(&[("DATABASE_URL", &db.url), ("DEVELOPER_LOG_MAX_PER_USER", "2")]).await;
    let browser = app.browser().await;
    // Customer creation and update, session creation and retrieval, and the
    // webhooks' reads: far more than two entries.
    browser.link().await;
    let is_creation = |e: &Value| e["detail"]["method"] == "POST" && e["detail"]["path"] == "/v1/customers";
    // Entries are written in order: once two newer ones are stored, the
    // Customer's creation (the first of all) was written and trimmed.
    let page = log_until(&browser, "", |e| {
        assert!(e.len() <= 2, "over the limit: {e:?}");
        e.len() == 2 && !e.iter().any(is_creation)
    })
    .await;
    assert_eq!(page["more"], false);
}

async fn a_stalled_writer_drops_entries_and_never_blocks_requests(db: TestDb) {
    let app = spawn_with_env(&[("DATABASE_URL", &db.url), ("DEVELOPER_LOG_QUEUE", "1")]).await;
    let held = app.developer.hold_writer().await;
    let browser = app.browser().await;
    // A whole link, several Stripe requests, while nothing is written.
    let linked = tokio::time::timeout(Duration::from_secs(60), browser.link())
        .await
        .expect("requests do not wait for the developer log");
    assert_eq!(linked.as_array().unwrap().len(), 1);
    assert!(app.developer.dropped() > 0, "a full queue drops");
    drop(held);
    // What fitted in the queue is written once the writer runs again.
    log_until(&browser, "", |e| !e.is_empty()).await;
}

async fn open_pages_hear_of_new_entries(db: TestDb) {
    let app = spawn_on(&db).await;
    let browser = app.browser().await;
    let other = app.browser().await;
    let open = |cookie: &str| {
        let req = app.http.get(format!("{}/events", app.base)).header("Cookie", cookie);
        async move { req.send().await.unwrap() }
    };
    let mut mine = open(&browser.cookie).await;
    let mut theirs = open(&other.cookie).await;
    let (s, _) = browser
        .call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        sse_contains(&mut mine, "event: developer\ndata: log", Duration::from_secs(10)).await,
        "no live update"
    );
    assert!(
        !sse_contains(&mut theirs, "developer", Duration::from_millis(300)).await,
        "another user heard of it"
    );
}

async fn bad_input_is_refused(db: TestDb) {
    let app = spawn_on(&db).await;
    let browser = app.browser().await;
    for (kind, before) in [("everything", ""), ("", "-5"), ("", "abc"), ("webhook'; --", "")] {
        let (s, body) = browser.call("developer_log", &[("kind", kind), ("before", before)]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{kind} {before}: {body}");
    }
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(50_000));
    for (call, result) in [
        ("eval", "{}"),
        ("collectBankAccountToken", "not json"),
        ("collectBankAccountToken", "[1, 2]"),
        ("collectBankAccountToken", big.as_str()),
    ] {
        let (s, _) = browser.call("report_stripe_js", &[("call", call), ("result", result)]).await;
        assert!(
            s == StatusCode::BAD_REQUEST || s == StatusCode::PAYLOAD_TOO_LARGE,
            "{call}: {s}"
        );
    }
    let (_, page) = browser.call("developer_log", &[("kind", "stripe_js"), ("before", "")]).await;
    assert_eq!(page["entries"], serde_json::json!([]), "nothing refused was recorded");
}

async fn a_payment_is_recorded(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let browser = app.browser().await;
    let id = browser.link().await[0]["id"].as_str().unwrap().to_owned();
    let (s, paid) = browser
        .call(
            "pay_from_account",
            &[
                ("id", &id),
                ("amount", "12.50"),
                ("description", "Invoice 42"),
                ("name", "Jenny Rosen"),
                ("attempt", "attempt-0001"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{paid}");
    let pi = paid["id"].as_str().unwrap().to_owned();
    let page = log_until(&browser, "", |e| stripe_request(e, "POST", "/v1/payment_intents").is_some()).await;
    let entries = page["entries"].as_array().unwrap();
    let created = &stripe_request(entries, "POST", "/v1/payment_intents").unwrap()["detail"];
    assert_eq!(created["status"], 200);
    let params: Value = serde_json::from_str(created["params"].as_str().unwrap()).unwrap();
    assert_eq!(params["amount"], "1250");
    assert_eq!(
        params["payment_method_data[us_bank_account][financial_connections_account]"],
        id.as_str()
    );
    let response: Value = serde_json::from_str(created["response"].as_str().unwrap()).unwrap();
    assert_eq!(response["id"], pi.as_str());
    assert_eq!(response["client_secret"], "[redacted]");
    assert_no_secrets(&page.to_string());
}
