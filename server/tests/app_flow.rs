//! The whole server on a real port (the service reaches the embedded sandbox
//! over HTTP, as it would reach Stripe): SSR page, server functions, cookies,
//! and the rules around confirming a link. Each test runs on SQLite and on
//! PostgreSQL.

mod common;

use common::app::*;
use reqwest::StatusCode;
use serde_json::json;

server::backend_tests!(
    the_page_renders_on_the_server_in_sandbox_mode,
    link_then_confirm_lists_the_accounts,
    a_cancelled_modal_confirms_to_no_accounts,
    only_the_session_this_browser_started_can_be_confirmed,
    bad_input_is_refused_with_the_field_named,
    one_customer_per_browser_even_under_concurrent_clicks,
    a_link_start_that_failed_after_stripe_made_the_customer_reuses_it,
    linked_accounts_survive_a_restart,
    another_users_account_is_not_found_and_untouched,
    refresh_then_disconnect_an_account,
    ownership_is_compared_with_the_name_given,
    link_options_are_validated_and_applied,
    details_are_saved_on_the_customer_and_used_for_the_owner_check,
    when_stripe_is_down_an_account_shows_its_stored_copy,
);

async fn the_page_renders_on_the_server_in_sandbox_mode(db: TestDb) {
    let app = spawn_on(&db).await;
    let html = app
        .http
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Link your bank account"));
    assert!(
        html.contains(r#"data-testid="mode-badge""#) && html.contains(r#"mode-sandbox">Sandbox</span>"#),
        "the badge is rendered on the server"
    );
    assert!(html.contains("/pkg/fc_app"), "hydration scripts are linked");
    assert!(!html.contains("sk_test_"), "secret key in the page");
    let resp = app.http.get(format!("{}/no/such/page", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let health = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

async fn link_then_confirm_lists_the_accounts(db: TestDb) {
    let app = spawn_on(&db).await;
    let browser = app.browser().await;
    let (s, session) = browser
        .call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .await;
    assert_eq!(s, StatusCode::OK, "{session}");
    assert_eq!(session["client"]["mode"], "Sandbox");
    assert_eq!(session["client"]["publishable_key"], "pk_test_sandbox");
    assert_eq!(session["client"]["stripe_js_url"], "/sandbox/js/stripe.js");
    assert!(!session.to_string().contains("sk_test_"));
    browser.complete_modal(session["client_secret"].as_str().unwrap()).await;
    let (s, accounts) = browser
        .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
        .await;
    assert_eq!(s, StatusCode::OK, "{accounts}");
    assert_eq!(accounts.as_array().unwrap().len(), 1);
    assert_eq!(accounts[0]["institution_name"], "Test Institution");
    assert_eq!(accounts[0]["last4"], "6789");
    assert_eq!(accounts[0]["subcategory"], "checking");
    let (_, listed) = browser.call("linked_accounts", &[]).await;
    assert_eq!(listed, accounts);
}

async fn a_cancelled_modal_confirms_to_no_accounts(db: TestDb) {
    let app = spawn_on(&db).await;
    let browser = app.browser().await;
    let (_, session) = browser
        .call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .await;
    let resp = app
        .http
        .post(format!("{}/sandbox/connect/api/cancel", app.base))
        .json(&json!({"client_secret": session["client_secret"], "publishable_key": "pk_test_sandbox"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (s, accounts) = browser
        .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(accounts, json!([]));
}

async fn only_the_session_this_browser_started_can_be_confirmed(db: TestDb) {
    let app = spawn_on(&db).await;
    let alice = app.browser().await;
    let mallory = app.browser().await;
    let (_, session) = alice
        .call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .await;
    let sid = session["session_id"].as_str().unwrap();
    alice.complete_modal(session["client_secret"].as_str().unwrap()).await;

    let (s, err) = mallory.call("confirm_link", &[("session_id", sid)]).await;
    assert_eq!(s, StatusCode::CONFLICT, "{err}");
    assert_eq!(err, json!("SessionMismatch"));
    let (_, theirs) = mallory.call("linked_accounts", &[]).await;
    assert_eq!(theirs, json!([]));

    let (s, _) = alice.call("confirm_link", &[("session_id", "fcsess_notmine")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = alice.call("confirm_link", &[("session_id", "../../v1/customers")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = alice.call("confirm_link", &[("session_id", sid)]).await;
    assert_eq!(s, StatusCode::OK);
    // A session confirms once.
    let (s, _) = alice.call("confirm_link", &[("session_id", sid)]).await;
    assert_eq!(s, StatusCode::CONFLICT);
}

async fn bad_input_is_refused_with_the_field_named(db: TestDb) {
    let app = spawn_on(&db).await;
    let browser = app.browser().await;
    let (s, err) = browser
        .call(
            "start_link",
            &[("name", ""), ("email", "not-an-email"), ("permissions", ALL_PERMISSIONS)],
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err["InvalidInput"]["field"], "email");
    let long = "x".repeat(101);
    let (s, err) = browser
        .call(
            "start_link",
            &[("name", &long), ("email", ""), ("permissions", ALL_PERMISSIONS)],
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(err["InvalidInput"]["field"], "name");
    let (s, _) = browser.call("start_link", &[("email", "")]).await;
    assert!(s.is_client_error() || s.is_server_error(), "missing argument accepted: {s}");
    assert_eq!(app.sandbox.customer_count(), 0, "nothing was created for bad input");

    let huge = "x".repeat(200 * 1024);
    let (s, _) = browser
        .call(
            "start_link",
            &[("name", &huge), ("email", ""), ("permissions", ALL_PERMISSIONS)],
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
}

async fn one_customer_per_browser_even_under_concurrent_clicks(db: TestDb) {
    let app = spawn_on(&db).await;
    let browser = app.browser().await;
    let calls = (0..6).map(|_| browser.call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)]));
    for (s, v) in futures::future::join_all(calls).await {
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    assert_eq!(app.sandbox.customer_count(), 1);
    // Reused on the next link, and a second browser gets its own.
    browser.link().await;
    app.browser().await.link().await;
    assert_eq!(app.sandbox.customer_count(), 2);
}

/// The Customer's idempotency key depends on the user alone, not on the name
/// typed: a retry with other details after a failure (on PostgreSQL the
/// failed attempt's write is rolled back, so the retry creates again) gets
/// the same Customer back.
async fn a_link_start_that_failed_after_stripe_made_the_customer_reuses_it(db: TestDb) {
    let sandbox = std::sync::Arc::new(server::sandbox::Sandbox::with_timing(common::fast_timing()));
    let key = "sk_test_retry";
    let app = spawn_stripe_mode_on(&db, server::sandbox::router(sandbox.clone()), key, "whsec_retry").await;
    let cookie = app.cookie().await;
    let start = async |name: &str| {
        let form = [("name", name), ("email", ""), ("permissions", ALL_PERMISSIONS)];
        app.call(&cookie, "start_link", &form).await.0
    };
    // Naming the new Customer fails, every retry of it: the click fails.
    app.fail_next("/v1/customers/", 3).await;
    assert_eq!(start("Jenny Rosen").await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(start("Jane Smith").await, StatusCode::OK);
    let customers = sandbox.with_space(key, |s| s.customers.values().map(|c| c.name.clone()).collect::<Vec<_>>());
    assert_eq!(customers, vec![Some("Jane Smith".to_owned())]);
}

async fn linked_accounts_survive_a_restart(db: TestDb) {
    let first = spawn_on(&db).await;
    let browser = first.browser().await;
    let accounts = browser.link().await;
    let cookie = browser.cookie.clone();

    let second = spawn_on(&db).await;
    let same_browser = Browser { app: &second, cookie };
    let (s, listed) = same_browser.call("linked_accounts", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(listed, accounts);
}

async fn another_users_account_is_not_found_and_untouched(db: TestDb) {
    let app = spawn_on(&db).await;
    let alice = app.browser().await;
    let accounts = alice.link().await;
    let id = accounts[0]["id"].as_str().unwrap();
    let mallory = app.browser().await;
    for f in ["load_account", "refresh_account", "disconnect_account"] {
        let (s, err) = mallory.call(f, &[("id", id), ("feature", "balance")]).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{f}: {err}");
        assert_eq!(err, json!("NotFound"));
    }
    // Nothing happened to Alice's account at Stripe.
    let (s, mine) = alice.call("load_account", &[("id", id)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(mine["account"]["status"], "active");
    assert_eq!(mine["balance_refresh"], json!(null));
    let (s, _) = alice.call("load_account", &[("id", "not-an-id")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn refresh_then_disconnect_an_account(db: TestDb) {
    let app = spawn_on(&db).await;
    let alice = app.browser().await;
    let id = alice.link().await[0]["id"].as_str().unwrap().to_owned();
    let (s, started) = alice.call("refresh_account", &[("id", &id), ("feature", "balance")]).await;
    assert_eq!(s, StatusCode::OK, "{started}");
    assert_eq!(started["balance_refresh"]["status"], "pending");
    let (s, gone) = alice.call("disconnect_account", &[("id", &id)]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(gone["account"]["status"], "disconnected");
    let (_, listed) = alice.call("linked_accounts", &[]).await;
    assert_eq!(listed[0]["status"], "disconnected", "the stored copy is reconciled");
    let (s, err) = alice.call("refresh_account", &[("id", &id), ("feature", "balance")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["Stripe"]["code"], "financial_connections_account_inactive");
    let (s, _) = alice.call("refresh_account", &[("id", &id), ("feature", "everything")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn ownership_is_compared_with_the_name_given(db: TestDb) {
    let app = spawn_on(&db).await;
    let alice = app.browser().await; // links as "Jenny Rosen" (see Browser::link)
    let id = alice.link().await[0]["id"].as_str().unwrap().to_owned();
    let (_, d) = alice.call("load_account", &[("id", &id)]).await;
    assert_eq!(
        (d["owners"].clone(), d["name_match"].clone()),
        (json!(null), json!("NoOwnerData"))
    );
    let (s, started) = alice.call("refresh_account", &[("id", &id), ("feature", "ownership")]).await;
    assert_eq!(
        (s, &started["ownership_refresh"]["status"]),
        (StatusCode::OK, &json!("pending"))
    );
    let mut detail = started;
    for _ in 0..100 {
        if detail["ownership_refresh"]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        detail = alice.call("load_account", &[("id", &id)]).await.1;
    }
    assert_eq!(detail["owners"][0]["name"], "Jenny Rosen");
    assert_eq!(detail["name_match"], "Matches");
}

async fn link_options_are_validated_and_applied(db: TestDb) {
    let app = spawn_on(&db).await;
    let b = app.browser().await;
    for (perms, pre, types, field) in [
        ("", "", "", "permissions"),
        ("telepathy", "", "", "permissions"),
        ("balances", "transactions", "", "prefetch"),
        ("balances", "", "yacht", "account_types"),
    ] {
        let (s, err) = b
            .call(
                "start_link",
                &[
                    ("name", ""),
                    ("email", ""),
                    ("permissions", perms),
                    ("prefetch", pre),
                    ("account_types", types),
                ],
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{perms}/{pre}/{types}");
        assert_eq!(err["InvalidInput"]["field"], field);
    }
    let (s, session) = b
        .call(
            "start_link",
            &[
                ("name", ""),
                ("email", ""),
                ("permissions", "balances"),
                ("prefetch", "balance"),
                ("account_types", "savings"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{session}");
    b.complete_modal_with(session["client_secret"].as_str().unwrap(), &["savings"])
        .await;
    let (_, accounts) = b
        .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
        .await;
    assert_eq!(accounts[0]["permissions"], json!(["balances"]));
}

async fn details_are_saved_on_the_customer_and_used_for_the_owner_check(db: TestDb) {
    let app = spawn_on(&db).await;
    let alice = app.browser().await;
    let (s, d) = alice.call("load_details", &[]).await;
    assert_eq!((s, d), (StatusCode::OK, json!({"name": null, "email": null})));
    // Before any Customer exists they are kept for the first link, even
    // one started with blank fields (a bank token, or a form not prefilled yet).
    let (s, d) = alice
        .call("save_details", &[("name", "Jenny Rosen"), ("email", "jenny@example.com")])
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let (s, session) = alice
        .call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .await;
    assert_eq!(s, StatusCode::OK, "{session}");
    let key = app.built_sandbox_key.clone().unwrap();
    let customers = || {
        app.sandbox.with_space(&key, |s| {
            s.customers
                .values()
                .map(|c| (c.name.clone(), c.email.clone()))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        customers(),
        vec![(Some("Jenny Rosen".to_owned()), Some("jenny@example.com".to_owned()))]
    );
    alice.complete_modal(session["client_secret"].as_str().unwrap()).await;
    let (_, linked) = alice
        .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
        .await;
    let id = linked[0]["id"].as_str().unwrap().to_owned();
    let (_, d) = alice.call("load_details", &[]).await;
    assert_eq!(d["name"], "Jenny Rosen", "a blank link form cleared nothing");

    let (s, d) = alice.call("save_details", &[("name", "  Jane Smith "), ("email", "")]).await;
    assert_eq!((s, d), (StatusCode::OK, json!({"name": "Jane Smith", "email": null})));
    assert_eq!(
        customers(),
        vec![(Some("Jane Smith".to_owned()), None)],
        "one Customer, updated, email cleared"
    );

    // The owner check now compares with the new name.
    alice.call("refresh_account", &[("id", &id), ("feature", "ownership")]).await;
    let mut detail = json!(null);
    for _ in 0..100 {
        detail = alice.call("load_account", &[("id", &id)]).await.1;
        if detail["ownership_refresh"]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(detail["name_match"], "DoesNotMatch");

    // Bad input is refused with its field, and what was saved stays.
    for (field, form) in [
        ("email", [("name", "x"), ("email", "not-an-email")]),
        ("name", [("name", "a\u{7}b"), ("email", "")]),
    ] {
        let (s, err) = alice.call("save_details", &form).await;
        assert_eq!((s, &err["InvalidInput"]["field"]), (StatusCode::BAD_REQUEST, &json!(field)));
    }
    let long = "n".repeat(101);
    let (s, _) = alice.call("save_details", &[("name", &long), ("email", "")]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, d) = alice.call("load_details", &[]).await;
    assert_eq!(d["name"], "Jane Smith");
    // Another browser has its own (empty) details.
    let bob = app.browser().await;
    let (_, theirs) = bob.call("load_details", &[]).await;
    assert_eq!(theirs["name"], json!(null));

    // The link page's form comes with them, escaped: the browser needs no call.
    let html = alice.page("/").await;
    assert!(
        html.contains(r#"name="name" autocomplete="name" maxlength="100" value="Jane Smith""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="email" autocomplete="email" maxlength="254" value="""#),
        "{html}"
    );
    assert!(!bob.page("/").await.contains("Jane Smith"));
    let (s, _) = alice
        .call("save_details", &[("name", r#"Jo "J" <b>O'Neil</b>"#), ("email", "")])
        .await;
    assert_eq!(s, StatusCode::OK);
    let html = alice.page("/").await;
    assert!(
        html.contains(r#"value="Jo &quot;J&quot; &lt;b&gt;O'Neil&lt;/b&gt;""#),
        "{html}"
    );
    assert!(!html.contains("<b>O'Neil"));
}

async fn when_stripe_is_down_an_account_shows_its_stored_copy(db: TestDb) {
    let app = spawn_stripe_mode_on(&db, common::fast_sandbox(), "sk_test_outage", "whsec_outage").await;
    let (cookie, id) = app.link().await;
    let (s, fresh) = app.call(&cookie, "load_account", &[("id", &id)]).await;
    assert_eq!((s, &fresh["stored_at"]), (StatusCode::OK, &json!(null)));

    // Every try fails (the client retries a 500 twice).
    app.fail_next(&format!("/v1/financial_connections/accounts/{id}"), 3).await;
    let (s, stored) = app.call(&cookie, "load_account", &[("id", &id)]).await;
    assert_eq!(s, StatusCode::OK, "{stored}");
    assert!(stored["stored_at"].is_i64(), "{stored}");
    assert_eq!(stored["account"], fresh["account"]);
    assert_eq!(stored["balance_refresh"], fresh["balance_refresh"]);

    // Someone else still gets nothing, and Stripe back means fresh data again.
    let stranger = app.cookie().await;
    let (s, _) = app.call(&stranger, "load_account", &[("id", &id)]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, again) = app.call(&cookie, "load_account", &[("id", &id)]).await;
    assert_eq!((s, &again["stored_at"]), (StatusCode::OK, &json!(null)));
}
