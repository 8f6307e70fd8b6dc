//! Payments through the app (server functions → Stripe client → sandbox →
//! webhooks): the PaymentIntent parameters sent (read back from the
//! sandbox's request log), ownership (another user's account or payment is a
//! 404 and Stripe is never asked), one payment per attempt, refusal of an
//! account linked without `payment_method`, webhook-driven status in any
//! order, failure with the bank's reason, cancel, pay by bank, and hostile
//! input. Each test runs on SQLite and on PostgreSQL.

mod common;
use server::clock::unix_now;

use common::app::*;
use common::until;
use reqwest::StatusCode;
use serde_json::{json, Value};

server::backend_tests!(
    paying_from_a_linked_account_sends_stripes_parameters_and_settles_live,
    a_retried_attempt_pays_once,
    another_users_account_or_payment_is_not_found_and_stripe_is_not_asked,
    an_account_linked_without_payment_method_is_refused,
    the_insufficient_funds_account_fails_with_the_reason,
    webhook_events_apply_in_any_order,
    pay_by_bank_hands_the_client_secret_to_the_page_only_and_can_be_canceled,
    malformed_and_hostile_input_is_refused_before_stripe,
);

/// A sandbox's request log (newest first), as `key` sees it.
async fn request_log(http: &reqwest::Client, sandbox: &str, key: &str) -> Vec<Value> {
    let v: Value = http
        .get(format!("{sandbox}/_sandbox/requests"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = if v["data"].is_array() { &v["data"] } else { &v };
    list.as_array().cloned().unwrap_or_default()
}

/// The embedded sandbox's request log, as the app's key sees it.
async fn sandbox_requests(app: &TestApp) -> Vec<Value> {
    let key = app.built_sandbox_key.clone().unwrap();
    request_log(&app.http, &format!("{}/sandbox", app.base), &key).await
}

/// Stripe mode against a standalone sandbox that delivers no webhooks, so
/// every request in its log is one the test caused.
async fn quiet(db: &TestDb) -> StripeModeApp {
    let sandbox = server::sandbox::router(std::sync::Arc::new(server::sandbox::Sandbox::new()));
    spawn_stripe_mode_on(db, sandbox, "sk_test_payments_quiet", "whsec_payments").await
}

async fn quiet_log(app: &StripeModeApp) -> Vec<Value> {
    request_log(&app.http, &app.sandbox, &app.secret_key).await
}

fn creates(log: &[Value]) -> Vec<Value> {
    log.iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/v1/payment_intents")
        .cloned()
        .collect()
}

/// A browser with one linked account (Test Institution's `account`), all
/// permissions; returns it and the account id.
async fn linked<'a>(app: &'a TestApp, account: &str, permissions: &str) -> (Browser<'a>, String) {
    let b = app.browser().await;
    let (s, session) = b
        .call(
            "start_link",
            &[
                ("name", "Jenny Rosen"),
                ("email", "jenny@example.com"),
                ("permissions", permissions),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{session}");
    b.complete_modal_with(session["client_secret"].as_str().unwrap(), &[account])
        .await;
    let (s, accounts) = b
        .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
        .await;
    assert_eq!(s, StatusCode::OK, "{accounts}");
    let id = accounts[0]["id"].as_str().unwrap().to_owned();
    (b, id)
}

async fn pay(b: &Browser<'_>, id: &str, amount: &str, attempt: &str) -> (StatusCode, Value) {
    b.call(
        "pay_from_account",
        &[
            ("id", id),
            ("amount", amount),
            ("description", "Invoice 42"),
            ("name", "Jenny Rosen"),
            ("attempt", attempt),
        ],
    )
    .await
}

async fn payments(b: &Browser<'_>, account: &str) -> Vec<Value> {
    let (s, v) = b.call("payments", &[("account", account)]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().cloned().unwrap()
}

async fn settled(b: &Browser<'_>, id: &str) -> Value {
    until(async || {
        let list = payments(b, "").await;
        let p = list.into_iter().find(|p| p["id"] == id)?;
        (p["status"] != "processing").then_some(p)
    })
    .await
}

async fn paying_from_a_linked_account_sends_stripes_parameters_and_settles_live(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let (alice, id) = linked(&app, "success", ALL_PERMISSIONS).await;
    let (s, account) = alice.call("load_account", &[("id", &id)]).await;
    assert_eq!((s, account["payable"].clone()), (StatusCode::OK, json!(true)), "{account}");

    let (s, p) = pay(&alice, &id, "12.50", "attempt-0001").await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["status"], "processing");
    assert_eq!(p["amount"], json!({"minor": 1250, "currency": "usd"}));
    assert_eq!(p["account"], id.as_str());
    assert_eq!(p["description"], "Invoice 42");
    assert!(p["id"].as_str().unwrap().starts_with("pi_"));

    // What the app said to Stripe, as the sandbox recorded it.
    let log = sandbox_requests(&app).await;
    let sent = creates(&log);
    assert_eq!(sent.len(), 1, "{log:?}");
    let params = &sent[0]["params"];
    assert_eq!(params["amount"], "1250");
    assert_eq!(params["currency"], "usd");
    assert!(params["customer"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(params["payment_method_types"], json!(["us_bank_account"]));
    assert_eq!(params["payment_method_data"]["type"], "us_bank_account");
    assert_eq!(
        params["payment_method_data"]["us_bank_account"]["financial_connections_account"],
        id.as_str()
    );
    assert_eq!(params["payment_method_data"]["billing_details"]["name"], "Jenny Rosen");
    let acceptance = &params["mandate_data"]["customer_acceptance"];
    assert_eq!(acceptance["type"], "online");
    assert_eq!(acceptance["online"]["ip_address"], "127.0.0.1");
    assert_eq!(acceptance["online"]["user_agent"], "Mozilla/5.0 (bank-link tests)");
    assert_eq!(params["confirm"], "true");
    assert!(sent[0]["idempotency_key"].as_str().unwrap().starts_with("payment-"));

    // Settled by the sandbox's webhook: no page load asks Stripe.
    let done = settled(&alice, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["failure"], Value::Null);
    // Listed on the account and on /payments.
    assert_eq!(payments(&alice, &id).await.len(), 1);
}

async fn a_retried_attempt_pays_once(db: TestDb) {
    let app = spawn_on(&db).await;
    let (alice, id) = linked(&app, "success", ALL_PERMISSIONS).await;
    let (s1, first) = pay(&alice, &id, "20", "attempt-retry-1").await;
    let (s2, again) = pay(&alice, &id, "20", "attempt-retry-1").await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{first} {again}");
    assert_eq!(first["id"], again["id"], "the same PaymentIntent");
    assert_eq!(payments(&alice, "").await.len(), 1);
    let keys: Vec<Value> = creates(&sandbox_requests(&app).await)
        .iter()
        .map(|r| r["idempotency_key"].clone())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "one idempotency key for one attempt");
    // A new attempt is a new payment.
    let (_, other) = pay(&alice, &id, "20", "attempt-retry-2").await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(payments(&alice, "").await.len(), 2);
}

async fn another_users_account_or_payment_is_not_found_and_stripe_is_not_asked(db: TestDb) {
    let app = quiet(&db).await;
    let (alice, id) = app.link().await;
    let (s, p) = app
        .call(
            &alice,
            "pay_from_account",
            &[
                ("id", &id),
                ("amount", "5"),
                ("name", "Jenny Rosen"),
                ("attempt", "attempt-alice-1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let pi = p["id"].as_str().unwrap().to_owned();
    let before = quiet_log(&app).await.len();

    let mallory = app.cookie().await;
    let form = [
        ("id", id.as_str()),
        ("amount", "5"),
        ("name", "Mallory"),
        ("attempt", "attempt-mallory"),
    ];
    let (s, v) = app.call(&mallory, "pay_from_account", &form).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    for (func, form) in [
        ("payments", vec![("account", id.as_str())]),
        ("cancel_payment", vec![("id", pi.as_str())]),
        ("sync_payment", vec![("id", pi.as_str())]),
    ] {
        let (s, v) = app.call(&mallory, func, &form).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{func}: {v}");
    }
    let (_, all) = app.call(&mallory, "payments", &[]).await;
    assert_eq!(all, json!([]));
    assert_eq!(quiet_log(&app).await.len(), before, "no Stripe call for another user's ids");
}

async fn an_account_linked_without_payment_method_is_refused(db: TestDb) {
    let app = spawn_on(&db).await;
    let (alice, id) = linked(&app, "success", "balances,ownership").await;
    let (_, account) = alice.call("load_account", &[("id", &id)]).await;
    assert_eq!(account["payable"], false);
    let (s, v) = pay(&alice, &id, "5", "attempt-no-pm-1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["InvalidInput"]["field"], "account", "{v}");
    assert!(
        creates(&sandbox_requests(&app).await).is_empty(),
        "no PaymentIntent was attempted"
    );
    assert!(payments(&alice, "").await.is_empty());
}

async fn the_insufficient_funds_account_fails_with_the_reason(db: TestDb) {
    let app = spawn_on(&db).await;
    until(async || app.webhooks.is_configured().then_some(())).await;
    let (alice, id) = linked(&app, "insufficient_funds", ALL_PERMISSIONS).await;
    let (s, p) = pay(&alice, &id, "100", "attempt-nsf-1").await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let done = settled(&alice, p["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "requires_payment_method", "{done}");
    assert_eq!(done["failure"]["code"], "insufficient_funds", "{done}");
    // Stripe allows canceling a PaymentIntent back at `requires_payment_method`.
    let (s, c) = alice.call("cancel_payment", &[("id", p["id"].as_str().unwrap())]).await;
    assert_eq!((s, c["status"].clone()), (StatusCode::OK, json!("canceled")), "{c}");
}

/// Signed `payment_intent.*` events for `pi`, as Stripe sends them.
fn payment_event(event: &str, kind: &str, created: i64, pi: &str, status: &str, error: Option<&str>) -> String {
    json!({
        "id": event, "object": "event", "type": kind, "created": created,
        "data": {"object": {
            "id": pi, "object": "payment_intent", "amount": 500, "currency": "usd", "status": status,
            "last_payment_error": error.map(|code| json!({"type": "card_error", "code": code, "message": "Stripe's words."})),
        }}
    })
    .to_string()
}

async fn webhook_events_apply_in_any_order(db: TestDb) {
    // Only the events this test signs reach the app.
    let app = quiet(&db).await;
    let (cookie, id) = app.link().await;
    let pay = async |attempt: &str| {
        let (s, p) = app
            .call(
                &cookie,
                "pay_from_account",
                &[("id", &id), ("amount", "5"), ("name", "Jenny Rosen"), ("attempt", attempt)],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{p}");
        p["id"].as_str().unwrap().to_owned()
    };
    let deliver = async |body: String| {
        let sig = server::webhooks::header("whsec_payments", unix_now(), body.as_bytes());
        let r = app
            .http
            .post(format!("{}/webhooks/stripe", app.app))
            .header("Stripe-Signature", sig)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    };
    let status_of = async |pi: &str| {
        let (_, list) = app.call(&cookie, "payments", &[]).await;
        list.as_array().unwrap().iter().find(|p| p["id"] == pi).cloned().unwrap()
    };
    let t = unix_now() + 10;

    // Succeeded arrives before processing: the late processing is ignored.
    let a = pay("attempt-order-a").await;
    deliver(payment_event(
        "evt_a2",
        "payment_intent.succeeded",
        t + 2,
        &a,
        "succeeded",
        None,
    ))
    .await;
    deliver(payment_event(
        "evt_a1",
        "payment_intent.processing",
        t + 1,
        &a,
        "processing",
        None,
    ))
    .await;
    assert_eq!(status_of(&a).await["status"], "succeeded");
    // Nothing replaces a final status, not even a later cancel.
    deliver(payment_event(
        "evt_a3",
        "payment_intent.canceled",
        t + 3,
        &a,
        "canceled",
        None,
    ))
    .await;
    assert_eq!(status_of(&a).await["status"], "succeeded");

    // Failure and processing stamped the same second, failure first: failed stays.
    let b = pay("attempt-order-b").await;
    deliver(payment_event(
        "evt_b2",
        "payment_intent.payment_failed",
        t,
        &b,
        "requires_payment_method",
        Some("insufficient_funds"),
    ))
    .await;
    deliver(payment_event(
        "evt_b1",
        "payment_intent.processing",
        t,
        &b,
        "processing",
        None,
    ))
    .await;
    let failed = status_of(&b).await;
    assert_eq!(failed["failure"]["code"], "insufficient_funds", "{failed}");

    // A redelivered event is a no-op, even with other content.
    let c = pay("attempt-order-c").await;
    deliver(payment_event(
        "evt_c1",
        "payment_intent.processing",
        t + 1,
        &c,
        "processing",
        None,
    ))
    .await;
    deliver(payment_event(
        "evt_c1",
        "payment_intent.succeeded",
        t + 5,
        &c,
        "succeeded",
        None,
    ))
    .await;
    assert_eq!(status_of(&c).await["status"], "processing");
    // An event about a PaymentIntent of another app changes nothing here.
    deliver(payment_event(
        "evt_x",
        "payment_intent.succeeded",
        t,
        "pi_someone_else",
        "succeeded",
        None,
    ))
    .await;
    let (_, list) = app.call(&cookie, "payments", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 3);
}

async fn pay_by_bank_hands_the_client_secret_to_the_page_only_and_can_be_canceled(db: TestDb) {
    let app = spawn_on(&db).await;
    let b = app.browser().await;
    let (s, start) = b
        .call(
            "start_bank_payment",
            &[
                ("amount", "42.00"),
                ("description", "Order 7"),
                ("name", "Jenny Rosen"),
                ("attempt", "attempt-bank-1"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{start}");
    let secret = start["client_secret"].as_str().unwrap().to_owned();
    let pi = start["payment"]["id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(&format!("{pi}_secret_")), "{secret}");
    assert_eq!(start["payment"]["status"], "requires_payment_method");
    assert_eq!(start["payment"]["account"], Value::Null);
    assert_eq!(start["business_name"], "Bank Link");
    // Not linked: no mandate or payment method yet, and nothing was confirmed.
    let sent = creates(&sandbox_requests(&app).await);
    assert_eq!(sent[0]["params"]["confirm"], Value::Null);
    assert_eq!(sent[0]["params"]["payment_method_types"], json!(["us_bank_account"]));

    // The list never carries the client secret.
    let (_, listed) = b.call("payments", &[]).await;
    assert!(!listed.to_string().contains(&secret));
    // Cancel is allowed before confirmation; then never again.
    let (s, c) = b.call("cancel_payment", &[("id", &pi)]).await;
    assert_eq!((s, c["status"].clone()), (StatusCode::OK, json!("canceled")), "{c}");
    let (s, again) = b.call("cancel_payment", &[("id", &pi)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{again}");
    let (s, synced) = b.call("sync_payment", &[("id", &pi)]).await;
    assert_eq!((s, synced["status"].clone()), (StatusCode::OK, json!("canceled")));
}

async fn malformed_and_hostile_input_is_refused_before_stripe(db: TestDb) {
    let app = quiet(&db).await;
    let (alice, id) = app.link().await;
    let before = quiet_log(&app).await.len();
    let long = "x".repeat(5_000);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("id", id.as_str()),
                ("amount", "0.49"),
                ("name", "J"),
                ("attempt", "attempt-1234"),
            ],
            "amount",
        ),
        (
            vec![
                ("id", id.as_str()),
                ("amount", "10000.01"),
                ("name", "J"),
                ("attempt", "attempt-1234"),
            ],
            "amount",
        ),
        (
            vec![
                ("id", id.as_str()),
                ("amount", "-5"),
                ("name", "J"),
                ("attempt", "attempt-1234"),
            ],
            "amount",
        ),
        (
            vec![
                ("id", id.as_str()),
                ("amount", "1e9"),
                ("name", "J"),
                ("attempt", "attempt-1234"),
            ],
            "amount",
        ),
        (
            vec![
                ("id", id.as_str()),
                ("amount", "5"),
                ("description", long.as_str()),
                ("name", "J"),
                ("attempt", "attempt-1234"),
            ],
            "description",
        ),
        (
            vec![
                ("id", id.as_str()),
                ("amount", "5"),
                ("name", ""),
                ("attempt", "attempt-1234"),
            ],
            "name",
        ),
        (
            vec![("id", id.as_str()), ("amount", "5"), ("name", "J"), ("attempt", "../../x")],
            "attempt",
        ),
        (
            vec![
                ("id", "fca_1?expand[]=x"),
                ("amount", "5"),
                ("name", "J"),
                ("attempt", "attempt-1234"),
            ],
            "account",
        ),
    ];
    for (form, field) in cases {
        let (s, v) = app.call(&alice, "pay_from_account", &form).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{field}: {v}");
        assert_eq!(v["InvalidInput"]["field"], field, "{v}");
    }
    let (s, _) = app.call(&alice, "pay_from_account", &[("id", &id)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "missing fields");
    for bad in ["pi_", "fca_1", "pi_1/../../v1/customers"] {
        let (s, v) = app.call(&alice, "cancel_payment", &[("id", bad)]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    assert_eq!(quiet_log(&app).await.len(), before, "nothing reached Stripe");
}
