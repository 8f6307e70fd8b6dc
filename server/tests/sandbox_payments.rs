//! The sandbox's ACH Direct Debit payments: PaymentIntents paid from a
//! linked account (create, confirm, retrieve, update, list, cancel), their
//! asynchronous outcomes by account, PaymentMethods, Mandates, the
//! publishable-key calls Stripe.js makes, the modal's collect-for-payment
//! flow, microdeposits, webhook events and the request log.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::*;
use secrecy::SecretString;
use serde_json::{json, Value};

const MANDATE: &str = "&mandate_data[customer_acceptance][type]=online\
    &mandate_data[customer_acceptance][online][ip_address]=203.0.113.7\
    &mandate_data[customer_acceptance][online][user_agent]=Mozilla%2F5.0";

/// A customer with one linked account of `template` (session permissions `permissions`).
async fn linked(app: &Router, key: &str, permissions: &str, template: &str) -> (String, String) {
    let (_, _, c) = send(app, post("/v1/customers", key, "name=Jenny+Rosen")).await;
    let cus = c["id"].as_str().unwrap().to_owned();
    let form = format!("account_holder[type]=customer&account_holder[customer]={cus}{permissions}");
    let (s, _, session) = send(app, post("/v1/financial_connections/sessions", key, &form)).await;
    assert_eq!(s, StatusCode::OK, "{session}");
    let institution = if template.starts_with("no_ach") {
        "invalid_payment_accounts"
    } else {
        "test_institution"
    };
    let (s, _, done) = send(
        app,
        post(
            &format!("/_sandbox/sessions/{}/complete", session["id"].as_str().unwrap()),
            key,
            &format!("institution={institution}&accounts[]={template}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let fca = done["financialConnectionsSession"]["accounts"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (cus, fca)
}

/// The form the app sends: create and confirm a payment from `fca`.
fn pay_form(cus: &str, fca: &str, amount: i64) -> String {
    format!(
        "amount={amount}&currency=usd&customer={cus}&description=Invoice+42&payment_method_types[]=us_bank_account\
         &payment_method_data[type]=us_bank_account\
         &payment_method_data[us_bank_account][financial_connections_account]={fca}\
         &payment_method_data[billing_details][name]=Jenny+Rosen&confirm=true&metadata[order]=42{MANDATE}"
    )
}

/// Polls the intent until it is no longer processing.
async fn settled(app: &Router, key: &str, id: &str) -> Value {
    until(async || {
        let (_, _, pi) = send(app, get(&format!("/v1/payment_intents/{id}"), key)).await;
        (pi["status"] != "processing").then_some(pi)
    })
    .await
}

fn with_header(mut req: Request<Body>, name: &'static str, value: &str) -> Request<Body> {
    req.headers_mut().insert(name, value.parse().unwrap());
    req
}

#[tokio::test]
async fn a_payment_from_a_linked_account_processes_then_succeeds() {
    let app = fast_sandbox();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "success").await;
    let (s, _, pi) = send(&app, post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 1250))).await;
    assert_eq!(s, StatusCode::OK, "{pi}");
    let id = pi["id"].as_str().unwrap();
    assert!(id.starts_with("pi_") && pi["client_secret"].as_str().unwrap().starts_with(&format!("{id}_secret_")));
    assert_eq!(pi["object"], "payment_intent");
    assert_eq!((pi["amount"].as_i64(), pi["currency"].as_str()), (Some(1250), Some("usd")));
    assert_eq!(pi["status"], "processing");
    assert_eq!(pi["customer"], cus.as_str());
    assert_eq!(pi["description"], "Invoice 42");
    assert_eq!(pi["metadata"], json!({ "order": "42" }));
    assert_eq!(pi["payment_method_types"], json!(["us_bank_account"]));
    assert_eq!(pi["amount_received"], 0);

    let pm = pi["payment_method"].as_str().unwrap();
    let (s, _, method) = send(&app, get(&format!("/v1/payment_methods/{pm}"), KEY)).await;
    assert_eq!(s, StatusCode::OK, "{method}");
    assert_eq!(method["type"], "us_bank_account");
    assert_eq!(method["billing_details"]["name"], "Jenny Rosen");
    let bank = &method["us_bank_account"];
    assert_eq!(bank["financial_connections_account"], fca.as_str());
    assert_eq!(
        (bank["last4"].as_str(), bank["routing_number"].as_str()),
        (Some("6789"), Some("110000000"))
    );
    assert_eq!(bank["account_type"], "checking");
    assert_eq!(bank["networks"], json!({ "preferred": "ach", "supported": ["ach"] }));

    let done = settled(&app, KEY, id).await;
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["amount_received"], 1250);
    assert_eq!(done["last_payment_error"], Value::Null);

    let (_, _, events) = send(&app, get("/v1/events?type=payment_intent.*", KEY)).await;
    let types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "payment_intent.succeeded",
            "payment_intent.processing",
            "payment_intent.created"
        ]
    );

    let (_, _, mandates) = send(&app, get("/_sandbox/mandates", KEY)).await;
    let m = &mandates["data"][0];
    let (s, _, mandate) = send(&app, get(&format!("/v1/mandates/{}", m["id"].as_str().unwrap()), KEY)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(mandate["object"], "mandate");
    assert_eq!(mandate["payment_method"], pm);
    assert_eq!(mandate["status"], "active");
    assert_eq!(mandate["type"], "single_use");
    assert_eq!(mandate["single_use"], json!({ "amount": 1250, "currency": "usd" }));
    assert_eq!(
        mandate["customer_acceptance"]["online"],
        json!({ "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0" })
    );
}

#[tokio::test]
async fn the_insufficient_funds_account_fails_with_stripes_reason() {
    let app = fast_sandbox();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "insufficient_funds").await;
    let (s, _, pi) = send(&app, post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 5000))).await;
    assert_eq!(s, StatusCode::OK, "{pi}");
    assert_eq!(pi["status"], "processing");
    let failed = settled(&app, KEY, pi["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "requires_payment_method");
    assert_eq!(failed["payment_method"], Value::Null);
    let e = &failed["last_payment_error"];
    assert_eq!(e["code"], "insufficient_funds");
    assert_eq!(
        e["message"],
        "The customer's account has insufficient funds to cover this payment."
    );
    assert_eq!(
        e["payment_method"]["us_bank_account"]["financial_connections_account"],
        fca.as_str()
    );
    let (_, _, events) = send(&app, get("/v1/events?type=payment_intent.payment_failed", KEY)).await;
    assert_eq!(
        events["data"][0]["data"]["object"]["last_payment_error"]["code"],
        "insufficient_funds"
    );
}

#[tokio::test]
async fn an_account_linked_without_payment_method_or_ach_is_refused() {
    let app = fast_sandbox();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=balances", "success").await;
    let (s, _, e) = send(&app, post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 1000))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["type"], "invalid_request_error");
    assert_eq!(
        e["error"]["param"],
        "payment_method_data[us_bank_account][financial_connections_account]"
    );
    assert_eq!(
        e["error"]["code"],
        "financial_connections_account_unavailable_account_numbers"
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("payment_method"), "{e}");
    // Before 2025-09-30 Stripe gave the refusal no code.
    let old = with_header(
        post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 1000)),
        "Stripe-Version",
        "2023-08-16",
    );
    let (s, _, e) = send(&app, old).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["error"].get("code").is_none(), "{e}");

    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "no_ach_checking").await;
    let (s, _, e) = send(&app, post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 1000))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("us_bank_account"), "{e}");
    let (_, _, list) = send(&app, get("/v1/payment_intents", KEY)).await;
    assert_eq!(list["data"], json!([]), "a refused payment makes nothing");

    // Another key's account does not exist for this key.
    let (cus_b, _) = linked(&app, "sk_test_bob", "&permissions[]=payment_method", "success").await;
    let (s, _, e) = send(
        &app,
        post("/v1/payment_intents", "sk_test_bob", &pay_form(&cus_b, &fca, 1000)),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["error"]["code"], "resource_missing");
}

#[tokio::test]
async fn parameters_are_checked_like_stripe() {
    let app = fast_sandbox();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "success").await;
    let ok = pay_form(&cus, &fca, 1000);
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("currency=usd".into(), 400, "amount", Some("parameter_missing")),
        ("amount=100".into(), 400, "currency", Some("parameter_missing")),
        ("amount=49&currency=usd".into(), 400, "amount", Some("amount_too_small")),
        (
            "amount=100000000&currency=usd".into(),
            400,
            "amount",
            Some("amount_too_large"),
        ),
        ("amount=1e5&currency=usd".into(), 400, "amount", Some("parameter_invalid")),
        (
            format!("amount={}&currency=usd", "9".repeat(400)),
            400,
            "amount",
            Some("parameter_invalid"),
        ),
        ("amount=100&currency=eur".into(), 400, "currency", Some("parameter_invalid")),
        (
            "amount=100&currency=usd&payment_method_types[]=card".into(),
            400,
            "payment_method_types",
            Some("parameter_invalid"),
        ),
        (
            "amount=100&currency=usd&customer=cus_nobody".into(),
            404,
            "customer",
            Some("resource_missing"),
        ),
        (
            "amount=100&currency=usd&surprise=1".into(),
            400,
            "surprise",
            Some("parameter_unknown"),
        ),
        (ok.replace(MANDATE, ""), 400, "mandate_data", Some("parameter_missing")),
        (
            ok.replace("&payment_method_data[billing_details][name]=Jenny+Rosen", ""),
            400,
            "payment_method_data[billing_details][name]",
            Some("parameter_missing"),
        ),
        (
            ok.replace("[online][user_agent]=Mozilla%2F5.0", "[online][user_agent]="),
            400,
            "mandate_data[customer_acceptance][online][user_agent]",
            Some("parameter_missing"),
        ),
        (
            ok.replace("confirm=true", "confirm=false"),
            400,
            "mandate_data",
            Some("parameter_invalid"),
        ),
        (
            ok.replace("payment_method_data[type]=us_bank_account", "payment_method_data[type]=card"),
            400,
            "payment_method_data[type]",
            Some("parameter_invalid"),
        ),
    ];
    for (form, status, param, code) in cases {
        let (s, _, v) = send(&app, post("/v1/payment_intents", KEY, &form)).await;
        assert_eq!(s.as_u16(), status, "{form}: {v}");
        assert_eq!(v["error"]["param"], param, "{form}: {v}");
        assert_eq!(v["error"]["code"].as_str(), code, "{form}: {v}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }
    let many: String = (0..51).map(|i| format!("&metadata[k{i}]=v")).collect();
    let (s, _, v) = send(
        &app,
        post("/v1/payment_intents", KEY, &format!("amount=100&currency=usd{many}")),
    )
    .await;
    assert_eq!((s, v["error"]["param"].as_str()), (StatusCode::BAD_REQUEST, Some("metadata")));
    let (_, _, list) = send(&app, get("/v1/payment_intents", KEY)).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn a_retried_create_with_its_idempotency_key_makes_one_payment() {
    let app = fast_sandbox();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "success").await;
    let req = || {
        with_header(
            post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 2000)),
            "Idempotency-Key",
            "pay-attempt-1",
        )
    };
    let (s1, r1, first) = send(&app, req()).await;
    let (s2, r2, again) = send(&app, req()).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(first["id"], again["id"]);
    assert!(r1.headers().get("Idempotent-Replayed").is_none());
    assert_eq!(r2.headers()["Idempotent-Replayed"], "true");
    let (_, _, list) = send(&app, get(&format!("/v1/payment_intents?customer={cus}"), KEY)).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (_, _, methods) = send(
        &app,
        get(&format!("/v1/payment_methods?customer={cus}&type=us_bank_account"), KEY),
    )
    .await;
    assert_eq!(methods["object"], "list");
}

#[tokio::test]
async fn intents_update_list_and_cancel_where_stripe_allows() {
    let app = fast_sandbox();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "success").await;
    let (_, _, other) = send(&app, post("/v1/customers", KEY, "")).await;
    let (s, _, a) = send(
        &app,
        post("/v1/payment_intents", KEY, &format!("amount=500&currency=usd&customer={cus}")),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["status"], "requires_payment_method");
    let a_id = a["id"].as_str().unwrap();
    let (_, _, b) = send(&app, post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 700))).await;
    send(
        &app,
        post(
            "/v1/payment_intents",
            KEY,
            &format!("amount=900&currency=usd&customer={}", other["id"].as_str().unwrap()),
        ),
    )
    .await;
    let (_, _, list) = send(&app, get(&format!("/v1/payment_intents?customer={cus}&limit=10"), KEY)).await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [b["id"].as_str().unwrap(), a_id], "newest first, this customer's only");

    let (s, _, upd) = send(
        &app,
        post(
            &format!("/v1/payment_intents/{a_id}"),
            KEY,
            &format!(
                "amount=650&description=Updated&payment_method_data[type]=us_bank_account\
                 &payment_method_data[us_bank_account][financial_connections_account]={fca}\
                 &payment_method_data[billing_details][name]=Jenny"
            ),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{upd}");
    assert_eq!(
        (upd["amount"].as_i64(), upd["status"].as_str()),
        (Some(650), Some("requires_confirmation"))
    );
    let (s, _, conf) = send(&app, post(&format!("/v1/payment_intents/{a_id}/confirm"), KEY, &MANDATE[1..])).await;
    assert_eq!(s, StatusCode::OK, "{conf}");
    assert_eq!(conf["status"], "processing");

    let (s, _, e) = send(&app, post(&format!("/v1/payment_intents/{a_id}/cancel"), KEY, "")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a processing ACH payment cannot be canceled: {e}");
    assert_eq!(e["error"]["code"], "payment_intent_unexpected_state");
    let (s, _, e) = send(&app, post(&format!("/v1/payment_intents/{a_id}"), KEY, "amount=700")).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("payment_intent_unexpected_state"))
    );

    let (_, _, c) = send(&app, post("/v1/payment_intents", KEY, "amount=800&currency=usd")).await;
    let c_id = c["id"].as_str().unwrap();
    let (s, _, canceled) = send(
        &app,
        post(
            &format!("/v1/payment_intents/{c_id}/cancel"),
            KEY,
            "cancellation_reason=requested_by_customer",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["cancellation_reason"], "requested_by_customer");
    assert!(canceled["canceled_at"].is_i64());
    let (s, _, e) = send(&app, post(&format!("/v1/payment_intents/{c_id}/confirm"), KEY, &MANDATE[1..])).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("payment_intent_unexpected_state"))
    );
    let (_, _, events) = send(&app, get("/v1/events?type=payment_intent.canceled", KEY)).await;
    assert_eq!(events["data"][0]["data"]["object"]["id"], c_id);
    let (s, _, e) = send(&app, get("/v1/payment_intents/pi_nope", KEY)).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("resource_missing"))
    );
}

#[tokio::test]
async fn payment_events_reach_webhooks_signed() {
    let app = fast_sandbox();
    let rx = receiver(0).await;
    let form = format!(
        "url={}&enabled_events[]=payment_intent.processing&enabled_events[]=payment_intent.succeeded",
        rx.url
    );
    let (_, _, endpoint) = send(&app, post("/v1/webhook_endpoints", KEY, &form)).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "success").await;
    send(&app, post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 1000))).await;
    let got = until(async || {
        let r = rx.received.lock().unwrap();
        (r.len() >= 2).then(|| r.clone())
    })
    .await;
    let now = server::sandbox::clock::now();
    let mut types = Vec::new();
    for (sig, body) in &got {
        let secrets = [SecretString::from(secret.clone())];
        assert_eq!(server::webhooks::verify(sig, body.as_bytes(), &secrets, now, 300), Ok(()));
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["data"]["object"]["object"], "payment_intent");
        types.push(event["type"].as_str().unwrap().to_owned());
    }
    types.sort();
    assert_eq!(types, ["payment_intent.processing", "payment_intent.succeeded"]);
}

/// The publishable-key calls Stripe.js makes.
fn pk(req: Request<Body>) -> Request<Body> {
    let mut req = req;
    req.headers_mut()
        .insert("Authorization", "Bearer pk_test_sandbox".parse().unwrap());
    req
}

#[tokio::test]
async fn stripe_js_collects_a_bank_account_and_confirms_with_the_client_secret() {
    let app = fast_sandbox();
    let (_, _, c) = send(&app, post("/v1/customers", KEY, "")).await;
    let cus = c["id"].as_str().unwrap();
    let (_, _, pi) = send(
        &app,
        post(
            "/v1/payment_intents",
            KEY,
            &format!("amount=1500&currency=usd&customer={cus}&metadata[x]=1"),
        ),
    )
    .await;
    let (id, secret) = (pi["id"].as_str().unwrap(), pi["client_secret"].as_str().unwrap());

    let (s, _, seen) = send(&app, pk(get(&format!("/v1/payment_intents/{id}?client_secret={secret}"), ""))).await;
    assert_eq!(s, StatusCode::OK, "{seen}");
    assert_eq!(seen["status"], "requires_payment_method");
    assert!(seen.get("customer").is_none() && seen.get("metadata").is_none(), "{seen}");
    let (s, _, _) = send(
        &app,
        pk(get(&format!("/v1/payment_intents/{id}?client_secret={id}_secret_wrong"), "")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = send(&app, pk(post(&format!("/v1/payment_intents/{id}/cancel"), "", ""))).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "only retrieve and confirm take a publishable key"
    );

    // The modal, as collectBankAccountForPayment runs it.
    let base =
        json!({ "publishable_key": "pk_test_x", "payment_intent_secret": secret, "client_secret": secret, "flow": "payment" });
    let (s, _, view) = send(&app, json_post("/connect/api/payment_session", base.clone())).await;
    assert_eq!(s, StatusCode::OK, "{view}");
    assert_eq!(view["session"]["permissions"], json!(["payment_method"]));
    let mut done = base.clone();
    done["client_secret"] = view["session_secret"].clone();
    done["institution"] = json!("test_institution");
    done["accounts"] = json!(["success"]);
    done["billing_details"] = json!({ "name": "Jenny Rosen", "email": "jenny@example.com" });
    let (s, _, got) = send(&app, json_post("/connect/api/complete", done)).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["paymentIntent"]["status"], "requires_confirmation");
    let pm = got["paymentIntent"]["payment_method"].as_str().unwrap().to_owned();
    let (_, _, method) = send(&app, get(&format!("/v1/payment_methods/{pm}"), KEY)).await;
    assert_eq!(method["billing_details"]["email"], "jenny@example.com");

    let confirm = with_header(
        pk(post(
            &format!("/v1/payment_intents/{id}/confirm"),
            "",
            &format!("client_secret={secret}"),
        )),
        "User-Agent",
        "SandboxBrowser/1.0",
    );
    let (s, _, confirmed) = send(&app, confirm).await;
    assert_eq!(s, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["status"], "processing");
    let (_, _, mandates) = send(&app, get("/_sandbox/mandates", KEY)).await;
    assert_eq!(
        mandates["data"][0]["customer_acceptance"]["online"]["user_agent"],
        "SandboxBrowser/1.0"
    );
    assert_eq!(settled(&app, KEY, id).await["status"], "succeeded");

    // Closing the modal leaves a new intent as it was.
    let (_, _, other) = send(&app, post("/v1/payment_intents", KEY, "amount=900&currency=usd")).await;
    let other_secret = other["client_secret"].as_str().unwrap();
    let mut base = base;
    base["payment_intent_secret"] = json!(other_secret);
    let (_, _, view) = send(&app, json_post("/connect/api/payment_session", base.clone())).await;
    base["client_secret"] = view["session_secret"].clone();
    let (s, _, closed) = send(&app, json_post("/connect/api/cancel", base)).await;
    assert_eq!(s, StatusCode::OK, "{closed}");
    assert_eq!(closed["paymentIntent"]["status"], "requires_payment_method");
}

#[tokio::test]
async fn typed_in_numbers_wait_for_microdeposits() {
    let app = fast_sandbox();
    let form = format!(
        "amount=3000&currency=usd&payment_method_data[type]=us_bank_account\
         &payment_method_data[us_bank_account][account_number]=000123456789\
         &payment_method_data[us_bank_account][routing_number]=110000000\
         &payment_method_data[billing_details][name]=Jenny&confirm=true{MANDATE}"
    );
    let (s, _, pi) = send(&app, post("/v1/payment_intents", KEY, &form)).await;
    assert_eq!(s, StatusCode::OK, "{pi}");
    assert_eq!(pi["status"], "requires_action");
    let next = &pi["next_action"];
    assert_eq!(next["type"], "verify_with_microdeposits");
    assert!(next["verify_with_microdeposits"]["hosted_verification_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let id = pi["id"].as_str().unwrap();
    let verify = format!("/v1/payment_intents/{id}/verify_microdeposits");
    let (s, _, e) = send(&app, post(&verify, KEY, "amounts[]=1&amounts[]=2")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        e["error"]["code"],
        "payment_method_microdeposit_verification_amounts_mismatch"
    );
    let (s, _, ok) = send(&app, post(&verify, KEY, "amounts[]=32&amounts[]=45")).await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(ok["status"], "processing");
    assert_eq!(settled(&app, KEY, id).await["status"], "succeeded");

    let bad = form.replace("000123456789", "12ab");
    let (s, _, e) = send(&app, post("/v1/payment_intents", KEY, &bad)).await;
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("payment_method_data[us_bank_account][account_number]")
        )
    );
}

#[tokio::test]
async fn the_request_log_shows_what_was_sent_newest_first() {
    let app = fast_sandbox();
    let (cus, fca) = linked(&app, KEY, "&permissions[]=payment_method", "success").await;
    let req = with_header(
        with_header(
            post("/v1/payment_intents", KEY, &pay_form(&cus, &fca, 1000)),
            "Idempotency-Key",
            "k-1",
        ),
        "Stripe-Version",
        "2026-07-29.dahlia",
    );
    let (_, resp, pi) = send(&app, req).await;
    send(&app, get("/v1/payment_intents/pi_missing", KEY)).await;
    let (s, _, log) = send(&app, get("/_sandbox/requests", KEY)).await;
    assert_eq!(s, StatusCode::OK, "{log}");
    let data = log["data"].as_array().unwrap();
    assert_eq!(data[0]["path"], "/v1/payment_intents/pi_missing");
    assert_eq!(data[0]["status"], 404);
    let create = &data[1];
    assert_eq!(
        (create["method"].as_str(), create["path"].as_str()),
        (Some("POST"), Some("/v1/payment_intents"))
    );
    assert_eq!(create["status"], 200);
    assert_eq!(create["idempotency_key"], "k-1");
    assert_eq!(create["stripe_version"], "2026-07-29.dahlia");
    assert_eq!(create["id"], resp.headers()["Request-Id"].to_str().unwrap());
    let p = &create["params"];
    assert_eq!(p["payment_method_types"], json!(["us_bank_account"]));
    assert_eq!(
        p["payment_method_data"]["us_bank_account"]["financial_connections_account"],
        fca.as_str()
    );
    assert_eq!(
        p["mandate_data"]["customer_acceptance"]["online"]["ip_address"],
        "203.0.113.7"
    );
    assert_eq!(p["amount"], "1000");

    // Stripe.js's calls are logged under the intent's key, client secret redacted.
    let secret = pi["client_secret"].as_str().unwrap();
    send(
        &app,
        pk(get(
            &format!("/v1/payment_intents/{}?client_secret={secret}", pi["id"].as_str().unwrap()),
            "",
        )),
    )
    .await;
    let (_, _, log) = send(&app, get("/_sandbox/requests", KEY)).await;
    assert_eq!(log["data"][0]["params"]["client_secret"], "[redacted]");
    assert!(!log.to_string().contains(secret));
    let (_, _, other) = send(&app, get("/_sandbox/requests", "sk_test_bob")).await;
    assert_eq!(other["data"], json!([]), "each key sees its own requests");
}
