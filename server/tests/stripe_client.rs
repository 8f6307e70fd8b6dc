//! The Stripe client against the standalone sandbox on a real port, with
//! injected faults: it retries what Stripe's libraries retry (with the same
//! idempotency key), and stops on what they stop on.

use secrecy::SecretString;
use server::sandbox::Sandbox;
use server::stripe::types::Customer;
use server::stripe::{ClientOptions, Form, StripeClient, StripeError};
use std::sync::Arc;
use std::time::Duration;

struct Harness {
    base: String,
    sandbox: Arc<Sandbox>,
    client: StripeClient,
}

async fn harness() -> Harness {
    let sandbox = Arc::new(Sandbox::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = server::sandbox::router(sandbox.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let opts = ClientOptions {
        timeout: Duration::from_millis(500),
        max_retries: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
    };
    let client = StripeClient::new(&base, SecretString::from("sk_test_client".to_owned()), opts).unwrap();
    Harness { base, sandbox, client }
}

impl Harness {
    async fn fault(&self, kind: &str, count: u32, extra: &str) {
        let resp = reqwest::Client::new()
            .post(format!("{}/_sandbox/faults", self.base))
            .bearer_auth("sk_test_client")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("path=/v1/customers&kind={kind}&count={count}{extra}"))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    }

    async fn create(&self) -> Result<Customer, StripeError> {
        self.client
            .post("/v1/customers", &Form::new().field("name", "Jenny Rosen"), None)
            .await
    }
}

#[tokio::test]
async fn server_errors_are_retried_with_one_idempotency_key() {
    let h = harness().await;
    h.fault("server_error", 2, "").await;
    let c = h.create().await.expect("third attempt succeeds");
    assert!(c.id.as_str().starts_with("cus_"));
    assert_eq!(h.sandbox.customer_count(), 1);
}

#[tokio::test]
async fn retries_stop_after_the_limit() {
    let h = harness().await;
    h.fault("server_error", 3, "").await;
    match h.create().await {
        Err(StripeError::Api {
            status: 500, request_id, ..
        }) => assert!(request_id.is_some_and(|r| r.starts_with("req_"))),
        other => panic!("expected a 500, got {other:?}"),
    }
    assert_eq!(h.sandbox.customer_count(), 0);
}

#[tokio::test]
async fn a_plain_429_is_not_retried_but_should_retry_true_is() {
    let h = harness().await;
    h.fault("rate_limit", 1, "").await;
    assert!(matches!(h.create().await, Err(StripeError::Api { status: 429, .. })));
    h.fault("rate_limit_retry", 1, "").await;
    assert!(h.create().await.is_ok());
}

#[tokio::test]
async fn a_retry_after_a_timeout_reuses_the_idempotency_key() {
    let h = harness().await;
    // The first attempt is held past the client's timeout, then still runs:
    // with one key for both attempts, Stripe (here the sandbox) creates one customer.
    h.fault("delay", 1, "&delay_ms=1500").await;
    assert!(h.create().await.is_ok(), "retried after the 500 ms timeout");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(h.sandbox.customer_count(), 1);
}

#[tokio::test]
async fn timeouts_and_dropped_connections_are_retried() {
    let h = harness().await;
    h.fault("delay", 1, "&delay_ms=2000").await;
    assert!(h.create().await.is_ok(), "retried after the 500 ms timeout");
    h.fault("drop", 1, "").await;
    assert!(h.create().await.is_ok(), "retried after the dropped connection");
    h.fault("drop", 3, "").await;
    assert!(matches!(h.create().await, Err(StripeError::Network(_))));
}

#[tokio::test]
async fn stripe_errors_are_typed() {
    let h = harness().await;
    let err = h
        .client
        .get::<Customer>("/v1/customers/cus_missing", &Form::new())
        .await
        .unwrap_err();
    match err {
        StripeError::Api {
            status,
            kind,
            code,
            param,
            request_id,
            ..
        } => {
            assert_eq!(status, 404);
            assert_eq!(kind, "invalid_request_error");
            assert_eq!(code.as_deref(), Some("resource_missing"));
            assert_eq!(param.as_deref(), Some("id"));
            assert!(request_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    let bad = StripeClient::new(
        &h.base,
        SecretString::from("sk_live_nope".to_owned()),
        ClientOptions::default(),
    )
    .unwrap();
    let err = bad.get::<Customer>("/v1/customers/cus_1", &Form::new()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
}
