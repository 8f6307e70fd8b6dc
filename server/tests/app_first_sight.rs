//! Data on first sight, through the router: a link that prefetches (balances,
//! ownership, and daily transaction updates) fills the dashboard's list
//! without any Refresh; **Refresh all** starts exactly the refreshes allowed
//! now, for the caller's accounts only; and the transactions search and CSV
//! export (filtered, escaped, formula-safe, authorised). Each test runs on
//! SQLite and on PostgreSQL.

mod common;

use common::app::*;
use common::until;
use reqwest::StatusCode;
use serde_json::{json, Value};

server::backend_tests!(
    a_link_that_prefetches_fills_the_list_and_turns_on_daily_updates,
    refresh_all_starts_what_is_allowed_now_for_the_callers_accounts,
    transactions_search_and_export_the_filtered_list,
);

/// Links the "Success" account with every permission and `prefetch`.
async fn link_with(b: &Browser<'_>, prefetch: &str) -> Value {
    b.link_with(&[
        ("name", ""),
        ("email", ""),
        ("permissions", ALL_PERMISSIONS),
        ("prefetch", prefetch),
    ])
    .await
}

async fn list(b: &Browser<'_>) -> Vec<Value> {
    let (s, v) = b.call("linked_accounts", &[]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().cloned().unwrap_or_default()
}

fn state(a: &Value, feature: &str) -> Value {
    a["refreshes"][feature]["status"].clone()
}

async fn a_link_that_prefetches_fills_the_list_and_turns_on_daily_updates(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let alice = app.browser().await;
    let linked = link_with(&alice, "balance,ownership,transactions").await;
    let id = linked[0]["id"].as_str().unwrap().to_owned();
    // Confirming already says the refreshes are under way.
    for f in ["balance", "ownership", "transactions"] {
        assert!(
            state(&linked[0], f) == json!("pending") || state(&linked[0], f) == json!("succeeded"),
            "{f}: {linked}"
        );
    }
    // The list (what the dashboard shows) gets the balance and the sync time
    // by webhook: nobody opens the account or presses Refresh.
    let settled = until(async || {
        let l = list(&alice).await;
        let a = l.first()?.clone();
        let done = ["balance", "ownership", "transactions"]
            .iter()
            .all(|f| state(&a, f) == json!("succeeded"));
        (done && a["balance"]["minor"].is_i64()).then_some(a)
    })
    .await;
    assert!(settled["refreshes"]["balance"]["last_attempted_at"].is_i64());
    // Transactions: daily updates are on, and they were stored.
    let (_, d) = alice.call("load_account", &[("id", &id)]).await;
    assert_eq!(d["subscribed"], true, "{d}");
    let txns = until(async || {
        let (_, v) = alice.call("load_transactions", &[("id", &id)]).await;
        (v["stored"].as_u64() > Some(0)).then_some(v)
    })
    .await;
    assert!(txns["stored"].as_u64().unwrap() > 100);

    // Turned off: nothing is fetched, nothing subscribed.
    let bob = app.browser().await;
    let linked = link_with(&bob, "").await;
    let id = linked[0]["id"].as_str().unwrap();
    assert_eq!(
        linked[0]["refreshes"],
        json!({"balance": null, "ownership": null, "transactions": null})
    );
    let (_, d) = bob.call("load_account", &[("id", id)]).await;
    assert_eq!(
        (d["subscribed"].clone(), d["balance"].clone()),
        (json!(false), json!(null)),
        "{d}"
    );

    // Prefetch of data not shared is refused before any session is made.
    let (s, err) = bob
        .call(
            "start_link",
            &[
                ("name", ""),
                ("email", ""),
                ("permissions", "balances"),
                ("prefetch", "ownership"),
            ],
        )
        .await;
    assert_eq!(
        (s, &err["InvalidInput"]["field"]),
        (StatusCode::BAD_REQUEST, &json!("prefetch"))
    );
}

async fn refresh_all_starts_what_is_allowed_now_for_the_callers_accounts(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let alice = app.browser().await;
    let (s, none) = alice.call("refresh_all", &[]).await;
    assert_eq!((s, none), (StatusCode::OK, json!([])), "no accounts, nothing to do");

    link_with(&alice, "").await;
    let mallory = app.browser().await;
    let (s, theirs) = mallory.call("refresh_all", &[]).await;
    assert_eq!(
        (s, theirs),
        (StatusCode::OK, json!([])),
        "another user's accounts are not touched"
    );
    assert!(state(&list(&alice).await[0], "balance").is_null());

    let (s, started) = alice.call("refresh_all", &[]).await;
    assert_eq!(s, StatusCode::OK, "{started}");
    let a = &started[0];
    for f in ["balance", "ownership", "transactions"] {
        assert_eq!(state(a, f), "pending", "{f}: {a}");
    }
    // Each settles (by webhook) and the list says so.
    let done = until(async || {
        let a = list(&alice).await.remove(0);
        ["balance", "ownership", "transactions"]
            .iter()
            .all(|f| state(&a, f) == json!("succeeded"))
            .then_some(a)
    })
    .await;
    assert!(done["balance"]["minor"].is_i64(), "{done}");
    // Within the cooldown nothing may start: the same states come back.
    let (s, again) = alice.call("refresh_all", &[]).await;
    assert_eq!(s, StatusCode::OK);
    for f in ["balance", "ownership", "transactions"] {
        assert_eq!(state(&again[0], f), "succeeded", "{f}: {again}");
    }
    assert_eq!(
        again[0]["refreshes"]["balance"]["last_attempted_at"],
        done["refreshes"]["balance"]["last_attempted_at"]
    );
}

/// `GET /api/transactions.csv` as the browser with `cookie`.
async fn export(app: &TestApp, cookie: Option<&str>, query: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut req = app.http.get(format!("{}/api/transactions.csv?{query}", app.base));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.text().await.unwrap())
}

async fn transactions_search_and_export_the_filtered_list(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let alice = app.browser().await;
    let id = link_with(&alice, "transactions").await[0]["id"].as_str().unwrap().to_owned();
    let all = until(async || {
        let (_, v) = alice.call("load_transactions", &[("id", &id)]).await;
        (v["stored"].as_u64() > Some(0)).then_some(v)
    })
    .await;
    let stored = all["stored"].as_u64().unwrap();

    // Search: case-insensitive, server-side, on every page.
    let (s, metro) = alice.call("load_transactions", &[("id", &id), ("q", "  mEtRo ")]).await;
    assert_eq!(s, StatusCode::OK, "{metro}");
    let matching = metro["matching"].as_u64().unwrap();
    assert!(matching > 20 && matching < stored, "{matching} of {stored}");
    assert_eq!(metro["filter"]["search"], "mEtRo");
    let items = metro["items"].as_array().unwrap();
    assert!(items.iter().all(|t| t["description"] == "Metro Transit"), "{metro}");
    let (_, nothing) = alice.call("load_transactions", &[("id", &id), ("q", "%")]).await;
    assert_eq!(nothing["matching"], 0, "% is not a wildcard");
    let (s, err) = alice.call("load_transactions", &[("id", &id), ("q", &"x".repeat(101))]).await;
    assert_eq!((s, &err["InvalidInput"]["field"]), (StatusCode::BAD_REQUEST, &json!("q")));

    // The export: every matching row (not one page), as CSV.
    let (s, headers, csv) = export(&app, Some(&alice.cookie), &format!("id={id}&q=metro")).await;
    assert_eq!(s, StatusCode::OK, "{csv}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"transactions-{id}.csv\"").as_str()
    );
    assert_eq!(headers["cache-control"], "no-store");
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "date,description,status,amount,currency,id");
    assert_eq!(lines.len() as u64 - 1, matching);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.contains(",Metro Transit,") && l.contains(",-2.75,USD,fctxn_")),
        "{csv}"
    );
    let (_, _, everything) = export(&app, Some(&alice.cookie), &format!("id={id}")).await;
    assert_eq!(everything.split("\r\n").filter(|l| !l.is_empty()).count() as u64 - 1, stored);
    let (_, _, pending) = export(&app, Some(&alice.cookie), &format!("id={id}&status=pending&q=metro")).await;
    assert!(pending.lines().skip(1).all(|l| l.contains(",pending,")), "{pending}");

    // A description a spreadsheet would run is defused and quoted.
    db.execute(
        "INSERT INTO transactions (id, account_id, amount_minor, currency, description, status, transacted_at, updated) \
         VALUES ('fctxn_evil', $1, -100, 'usd', '=HYPERLINK(\"http://x\",\"a,b\")', 'posted', 1000, 1000)",
        &[&id],
    )
    .await
    .unwrap();
    let (_, _, evil) = export(&app, Some(&alice.cookie), &format!("id={id}&q=hyperlink")).await;
    assert_eq!(
        evil,
        "date,description,status,amount,currency,id\r\n\
         1970-01-01,\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\",posted,-1.00,USD,fctxn_evil\r\n"
    );

    // Only its user gets it; bad filters name their field.
    let mallory = app.browser().await;
    let (s, _, body) = export(&app, Some(&mallory.cookie), &format!("id={id}")).await;
    assert_eq!((s, body.as_str()), (StatusCode::NOT_FOUND, "\"NotFound\""));
    let (s, _, body) = export(&app, None, &format!("id={id}")).await;
    assert_eq!((s, body.as_str()), (StatusCode::FORBIDDEN, "\"NoSession\""));
    for (query, field) in [
        (format!("id={id}&from=2026-02-30"), "from"),
        (format!("id={id}&status=refunded"), "status"),
        (format!("id={id}&q={}", "x".repeat(101)), "q"),
        ("id=cus_1".to_owned(), "account"),
        (format!("id={id}&from=%FF%FE"), "from"),
    ] {
        let (s, _, body) = export(&app, Some(&alice.cookie), &query).await;
        let err: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        assert_eq!(
            (s, &err["InvalidInput"]["field"]),
            (StatusCode::BAD_REQUEST, &json!(field)),
            "{query}: {body}"
        );
    }
}
