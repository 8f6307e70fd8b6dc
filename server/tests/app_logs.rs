//! `LOG_FORMAT=json`: every line the server logs (at debug, every crate) is
//! one JSON object; each request has one access line (method, path without
//! its query string, status, latency, request id, user id); and no line
//! carries a secret: not the session cookie, a client secret, the Stripe
//! key, a webhook secret or anything a client put in a query string.
//! Alone in its binary: it installs the process-wide logger.

mod common;

use common::app::*;
use reqwest::StatusCode;
use serde_json::Value;
use server::logging::LogFormat;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Where the logger writes, for the test to read.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("logs are UTF-8")
    }
}

#[tokio::test]
async fn json_logs_have_an_access_line_per_request_and_no_secrets() {
    let logs = Buffer::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("debug"))
        .with(server::logging::layer(LogFormat::Json, logs.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = spawn().await;
    let browser = app.browser().await;
    let token = browser.cookie.split_once('=').unwrap().1.to_owned();
    let (s, session) = browser
        .call(
            "start_link",
            &[
                ("name", "Jenny Rosen"),
                ("email", "jenny@example.com"),
                ("permissions", ALL_PERMISSIONS),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{session}");
    let client_secret = session["client_secret"].as_str().unwrap().to_owned();
    browser.complete_modal(&client_secret).await;
    let (s, _) = browser
        .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
        .await;
    assert_eq!(s, StatusCode::OK);
    // The sandbox's webhooks (signed with a whsec_ secret) reach the app.
    let key = app.built_sandbox_key.clone().unwrap();
    common::until(async || {
        let log: Value = app
            .http
            .get(format!("{}/sandbox/_sandbox/webhook_deliveries", app.base))
            .bearer_auth(&key)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        let delivered = log["data"].as_array()?.iter().any(|d| d["status"] == "succeeded");
        delivered.then_some(())
    })
    .await;
    let page = app
        .http
        .get(format!("{}/accounts?token=sk_test_in_query", app.base))
        .header("Cookie", &browser.cookie)
        .header("x-request-id", "lb-req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["x-request-id"], "lb-req-42", "the id is echoed");
    page.text().await.unwrap();
    let ready = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);

    let text = logs.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object ({e}): {l}")))
        .collect();
    let access: Vec<&Value> = lines.iter().filter(|l| l["target"] == "server::access").collect();
    let page_line = access
        .iter()
        .find(|l| l["path"] == "/accounts")
        .unwrap_or_else(|| panic!("no access line for /accounts in {text}"));
    assert_eq!(page_line["level"], "INFO");
    assert_eq!(page_line["method"], "GET");
    assert_eq!(page_line["status"], 200);
    assert_eq!(page_line["request_id"], "lb-req-42");
    assert!(page_line["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{page_line}");
    // The user's id (kept server-side with the session), the same on every
    // request of this browser, and not its token.
    let user = page_line["user_id"].as_str().unwrap_or_default();
    assert!(user.len() >= 16 && !token.contains(user), "{page_line}");
    let calls: Vec<&&Value> = access.iter().filter(|l| l["path"] == "/api/start_link").collect();
    assert_eq!(calls.len(), 1, "one line per request");
    assert_eq!(calls[0]["user_id"], user);
    let probe = access.iter().find(|l| l["path"] == "/readyz").expect("the probe's line");
    assert_eq!(probe["level"], "DEBUG", "health checks stay out of the info log");

    for (what, secret) in [
        ("the session cookie", token.as_str()),
        ("the client secret", client_secret.as_str()),
        ("a client secret", "_secret_"),
        ("the Stripe key", key.as_str()),
        ("a webhook secret", "whsec_"),
        ("the query string", "sk_test_in_query"),
        ("an Authorization header", "Bearer "),
    ] {
        if let Some(line) = text.lines().find(|l| l.contains(secret)) {
            panic!("{what} is in a log line: {line}");
        }
    }
}
