//! The app in sandbox mode across a restart, as a new user meets it: link
//! an account, restart the server, Refresh balance. The embedded sandbox
//! keeps its state in its own file (by default beside the app's SQLite
//! file), its key and the app's webhook endpoint stay the same, and the
//! refresh that settles after the restart reaches the app as a webhook.
//! Each test runs on SQLite and on PostgreSQL.

mod common;

use common::app::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

server::backend_tests!(link_restart_then_refresh_balance);

fn temp_state_file() -> String {
    let path = std::env::temp_dir().join(format!("fc-app-sandbox-{}.db", server::session::new_token()));
    format!("sqlite://{}", path.display())
}

/// (id, secret) of the app's webhook endpoints at its own sandbox.
fn app_endpoints(app: &TestApp) -> Vec<(String, String)> {
    let key = app.built_sandbox_key.clone().unwrap();
    app.sandbox.read(&key, |s| {
        s.webhook_endpoints.iter().map(|e| (e.id.clone(), e.secret.clone())).collect()
    })
}

async fn link_restart_then_refresh_balance(db: TestDb) {
    let state = temp_state_file();
    let env = [("DATABASE_URL", db.url.as_str()), ("SANDBOX_DATABASE_URL", state.as_str())];
    let first = spawn_with_env(&env).await;
    let browser = first.browser().await;
    let accounts = browser.link().await;
    let id = accounts[0]["id"].as_str().unwrap().to_owned();
    let cookie = browser.cookie.clone();
    let key = first.built_sandbox_key.clone();
    let endpoints = app_endpoints(&first);
    assert_eq!(endpoints.len(), 1);
    let addr = first.base.trim_start_matches("http://").to_owned();
    first.stop().await;

    // The same address, as `make run` restarts on its port.
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    let second = spawn_on_listener(listener, &env).await;
    assert_eq!(second.built_sandbox_key, key, "the app's sandbox key is kept");
    assert_eq!(app_endpoints(&second), endpoints, "the app's webhook endpoint is reused");
    let same_browser = Browser { app: &second, cookie };
    let (s, started) = same_browser
        .call("refresh_account", &[("id", &id), ("feature", "balance")])
        .await;
    assert_eq!(s, StatusCode::OK, "no 'No such financial_connections.account': {started}");
    assert_eq!(started["balance_refresh"]["status"], "pending");
    // The refresh settles, and its webhook (signed with the kept secret)
    // brings the balance to the app's stored copy.
    let delivered = |app: &TestApp| {
        app.sandbox
            .deliveries()
            .into_iter()
            .filter(|d| d.event_type == "financial_connections.account.refreshed_balance")
            .map(|d| d.status)
            .collect::<Vec<_>>()
    };
    let mut listed = Value::Null;
    for _ in 0..500 {
        listed = same_browser.call("linked_accounts", &[]).await.1;
        if !listed[0]["balance"].is_null() && delivered(&second) == ["succeeded"] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!listed[0]["balance"].is_null(), "{listed}");
    assert_eq!(delivered(&second), ["succeeded"], "delivered to the reused endpoint");
    let key = second.built_sandbox_key.clone().unwrap();
    assert!(second.sandbox.read(&key, |s| s.account(&id).is_some()));
    second.stop().await;
}

#[tokio::test]
async fn by_default_the_state_file_is_beside_the_apps_sqlite_file() {
    let db = temp_db();
    let beside = format!("{}.sandbox.db", db.trim_start_matches("sqlite://").trim_end_matches(".db"));
    // An empty SANDBOX_DATABASE_URL is unset: the default applies.
    let app = spawn_with_env(&[("DATABASE_URL", db.as_str()), ("SANDBOX_DATABASE_URL", "")]).await;
    assert_eq!(
        app.sandbox.state_file().map(|p| p.display().to_string()),
        Some(beside.clone())
    );
    app.stop().await;
    assert!(std::path::Path::new(&beside).exists());
    let again = spawn_with_env(&[("DATABASE_URL", db.as_str()), ("SANDBOX_DATABASE_URL", "")]).await;
    assert_eq!(
        app_endpoints(&again).len(),
        1,
        "two starts on two ports, one endpoint: the earlier address's is deleted"
    );
    again.stop().await;
}

#[tokio::test]
async fn memory_keeps_nothing() {
    let app = spawn_with_env(&[("SANDBOX_DATABASE_URL", "memory")]).await;
    assert_eq!(app.sandbox.state_file(), None);
    app.stop().await;
}
