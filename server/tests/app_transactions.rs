//! Transactions through the app: subscribing, the local copy synced as
//! refreshes settle (by webhook or on page load), incrementally with
//! `transaction_refresh[after]`, and the paged, filtered view of it. Each
//! test runs on SQLite and on PostgreSQL.

mod common;

use common::app::*;
use common::until;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

server::backend_tests!(
    subscribing_syncs_transactions_by_webhook_and_they_page_and_filter,
    later_syncs_ask_only_for_what_changed_and_pick_it_up,
    a_failed_sync_does_not_block_the_account_and_is_retried,
);

fn page(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

async fn subscribing_syncs_transactions_by_webhook_and_they_page_and_filter(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let alice = app.browser().await;
    let id = alice.link().await[0]["id"].as_str().unwrap().to_owned();
    let list = async |form: &[(&str, &str)]| {
        let mut f = vec![("id", id.as_str())];
        f.extend_from_slice(form);
        alice.call("load_transactions", &f).await
    };

    let (s, empty) = list(&[("page", "1")]).await;
    assert_eq!(s, StatusCode::OK, "{empty}");
    assert_eq!((empty["stored"].clone(), empty["synced_at"].clone()), (json!(0), json!(null)));

    let (s, d) = alice.call("set_subscription", &[("id", &id), ("subscribed", "true")]).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["subscribed"], true);
    assert_eq!(d["transaction_refresh"]["status"], "pending");

    // The refreshed_transactions webhook brings them in: no page load needed.
    let all = until(async || {
        let (_, v) = list(&[("page", "1")]).await;
        (v["stored"].as_u64() > Some(0)).then_some(v)
    })
    .await;
    let stored = all["stored"].as_u64().unwrap();
    assert!(stored > 100, "180 days of transactions, got {stored}");
    assert_eq!(all["matching"], stored);
    assert_eq!(page(&all).len(), 20);
    let times: Vec<i64> = page(&all).iter().map(|t| t["transacted_at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(all["synced_at"].is_i64());

    let (_, second) = list(&[("page", "2")]).await;
    assert_eq!(page(&second).len(), 20);
    assert!(page(&second)[0]["transacted_at"].as_i64() <= times.last().copied());
    assert_ne!(page(&second)[0]["id"], page(&all)[0]["id"]);

    // The chart: 90 days in dollars, net = in + out.
    let flow = &all["flows"][0];
    assert_eq!(flow["currency"], "usd");
    let net: Vec<i64> = flow["net"].as_array().unwrap().iter().map(|n| n.as_i64().unwrap()).collect();
    assert_eq!(net.len(), 90);
    assert_eq!(
        net.iter().sum::<i64>(),
        flow["money_in"].as_i64().unwrap() + flow["money_out"].as_i64().unwrap()
    );
    assert!(flow["money_out"].as_i64().unwrap() < 0);

    let (_, pending) = list(&[("page", "1"), ("status", "pending")]).await;
    let matching = pending["matching"].as_u64().unwrap();
    assert!(matching > 0 && matching < stored, "{matching} of {stored}");
    assert!(page(&pending).iter().all(|t| t["status"] == "pending"));

    let newest = times[0];
    let day = app::model::Day::of(newest).to_string();
    let (_, one_day) = list(&[("page", "1"), ("from", &day), ("to", &day)]).await;
    assert!(one_day["matching"].as_u64().unwrap() >= 1);
    let start = app::model::Day::of(newest).start();
    assert!(page(&one_day)
        .iter()
        .all(|t| (start..start + 86_400).contains(&t["transacted_at"].as_i64().unwrap())));

    // A far page is empty but fine; bad filters name their field.
    let (s, far) = list(&[("page", "999")]).await;
    assert_eq!((s, page(&far).len()), (StatusCode::OK, 0));
    for (field, form) in [
        ("from", &[("page", "1"), ("from", "2026-02-30")]),
        ("to", &[("page", "1"), ("from", "2026-11-24"), ("to", "2026-11-01")]),
        ("status", &[("page", "1"), ("status", "'; DROP TABLE transactions; --")]),
        ("page", &[("page", "0")]),
    ] as [(&str, &[(&str, &str)]); 4]
    {
        let (s, err) = list(form).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}: {err}");
        assert_eq!(err["InvalidInput"]["field"], field);
    }
    let (s, err) = list(&[("page", "many")]).await;
    assert_eq!((s, &err["InvalidInput"]["field"]), (StatusCode::BAD_REQUEST, &json!("page")));
    let (s, err) = alice.call("set_subscription", &[("id", &id), ("subscribed", "maybe")]).await;
    assert_eq!(
        (s, &err["InvalidInput"]["field"]),
        (StatusCode::BAD_REQUEST, &json!("subscribed"))
    );
    let long = format!("2026-11-24{}", "9".repeat(70_000));
    let (s, _) = list(&[("from", &long)]).await;
    assert!(s == StatusCode::BAD_REQUEST || s == StatusCode::PAYLOAD_TOO_LARGE, "{s}");
    let (_, still) = list(&[("page", "1")]).await;
    assert_eq!(still["stored"], stored, "bad input loses nothing");

    // Someone else cannot list, subscribe or unsubscribe it.
    let mallory = app.browser().await;
    for (f, form) in [
        ("load_transactions", vec![("id", id.as_str()), ("page", "1")]),
        ("set_subscription", vec![("id", id.as_str()), ("subscribed", "false")]),
    ] {
        let (s, err) = mallory.call(f, &form).await;
        assert_eq!((s, err), (StatusCode::NOT_FOUND, json!("NotFound")), "{f}");
    }

    let (s, d) = alice.call("set_subscription", &[("id", &id), ("subscribed", "false")]).await;
    assert_eq!((s, d["subscribed"].clone()), (StatusCode::OK, json!(false)));
}

/// A fast sandbox (kept, to change its data) behind a layer that records
/// every transactions list query, and the app in Stripe mode against it.
async fn recorded(db: &TestDb) -> (StripeModeApp, Arc<server::sandbox::Sandbox>, Arc<Mutex<Vec<String>>>) {
    let sandbox = Arc::new(server::sandbox::Sandbox::with_timing(common::fast_timing()));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let router = server::sandbox::router(sandbox.clone()).layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let log = log.clone();
            async move {
                if req.uri().path() == "/v1/financial_connections/transactions" {
                    log.lock().unwrap().push(req.uri().query().unwrap_or_default().to_owned());
                }
                next.run(req).await
            }
        },
    ));
    let app = spawn_stripe_mode_on(db, router, KEY, "whsec_incremental").await;
    (app, sandbox, seen)
}

const KEY: &str = "sk_test_incremental";

/// Starts a transactions refresh and loads the account until it has settled
/// (no webhook endpoint here: the page load is what syncs).
async fn refresh_and_settle(app: &StripeModeApp, cookie: &str, id: &str) -> Value {
    let (s, d) = app
        .call(cookie, "refresh_account", &[("id", id), ("feature", "transactions")])
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    until(async || {
        let (s, d) = app.call(cookie, "load_account", &[("id", id)]).await;
        assert_eq!(s, StatusCode::OK, "{d}");
        (d["transaction_refresh"]["status"] == "succeeded").then_some(d)
    })
    .await
}

async fn later_syncs_ask_only_for_what_changed_and_pick_it_up(db: TestDb) {
    let (app, sandbox, seen) = recorded(&db).await;
    let (cookie, id) = app.link().await;

    refresh_and_settle(&app, &cookie, &id).await;
    let (_, first) = app.call(&cookie, "load_transactions", &[("id", &id)]).await;
    let stored = first["stored"].as_u64().unwrap();
    assert!(stored > 100, "{first}");
    let first_sync = seen.lock().unwrap().clone();
    assert!(first_sync.len() >= 2, "paged through everything: {first_sync:?}");
    assert!(
        first_sync
            .iter()
            .all(|q| q.contains("account=fca_") && !q.contains("transaction_refresh")),
        "{first_sync:?}"
    );

    // The newest transaction "was not reported yet": gone from Stripe's copy
    // and from ours, so the next refresh brings it as new.
    let newest = page(&first)[0]["id"].as_str().unwrap().to_owned();
    sandbox.with_space(KEY, |s| s.transactions.get_mut(&id).unwrap().retain(|t| t.id != newest));
    let deleted = db.execute("DELETE FROM transactions WHERE id = $1", &[&newest]).await;
    assert_eq!(deleted.unwrap(), 1);
    seen.lock().unwrap().clear();

    refresh_and_settle(&app, &cookie, &id).await;
    let (_, second) = app.call(&cookie, "load_transactions", &[("id", &id)]).await;
    assert_eq!(page(&second)[0]["id"], newest.as_str(), "the new one was picked up");
    assert!(second["stored"].as_u64().unwrap() >= stored);
    let incremental = seen.lock().unwrap().clone();
    assert_eq!(incremental.len(), 1, "one short page: {incremental:?}");
    assert!(
        incremental[0].contains("transaction_refresh") && incremental[0].contains("=fctxnref_"),
        "{incremental:?}"
    );
}

async fn a_failed_sync_does_not_block_the_account_and_is_retried(db: TestDb) {
    let (app, _, _) = recorded(&db).await;
    let (cookie, id) = app.link().await;
    // Every try of the first sync fails (the client retries a 500 twice).
    app.fail_next("/v1/financial_connections/transactions", 3).await;
    let d = refresh_and_settle(&app, &cookie, &id).await;
    assert_eq!(d["account"]["status"], "active");
    let (_, none) = app.call(&cookie, "load_transactions", &[("id", &id)]).await;
    assert_eq!(none["stored"], 0, "nothing half-stored");
    // The next load syncs from the same (empty) cursor.
    let (s, _) = app.call(&cookie, "load_account", &[("id", &id)]).await;
    assert_eq!(s, StatusCode::OK);
    let (_, all) = app.call(&cookie, "load_transactions", &[("id", &id)]).await;
    assert!(all["stored"].as_u64().unwrap() > 100, "{all}");
}
