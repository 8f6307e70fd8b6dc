//! The whole app on a real port, and a browser-like client for it.

use reqwest::StatusCode;
use serde_json::{json, Value};
use server::config::Config;
use std::sync::Arc;

/// Every permission, as the page sends them by default.
pub const ALL_PERMISSIONS: &str = "balances,ownership,payment_method,transactions";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub sandbox: Arc<server::sandbox::Sandbox>,
    pub built_sandbox_key: Option<String>,
    pub webhooks: Arc<server::webhooks::Receiver>,
}

/// A fresh database file per test.
pub fn temp_db() -> String {
    let path = std::env::temp_dir().join(format!("fc-app-flow-{}.db", server::session::new_token()));
    format!("sqlite://{}", path.display())
}

pub async fn spawn() -> TestApp {
    spawn_with(&temp_db()).await
}

pub async fn spawn_with(database_url: &str) -> TestApp {
    let url = database_url.to_owned();
    let config = Config::from_lookup(|k| (k == "DATABASE_URL").then(|| url.clone())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = server::leptos_options().unwrap();
    let built = server::build(&config, options, addr).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, built.router).await.unwrap() });
    TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        sandbox: built.sandbox.expect("sandbox mode embeds the sandbox"),
        built_sandbox_key: built.sandbox_key.map(|k| secrecy::ExposeSecret::expose_secret(&k).to_owned()),
        webhooks: built.webhooks,
    }
}

/// A browser: a session cookie from its first page view.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
}

impl TestApp {
    pub async fn browser(&self) -> Browser<'_> {
        let resp = self.http.get(format!("{}/", self.base)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        let cookie = set.split(';').next().unwrap().to_owned();
        Browser { app: self, cookie }
    }
}

impl Browser<'_> {
    pub async fn call(&self, func: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let resp = self
            .app
            .http
            .post(format!("{}/api/{func}", self.app.base))
            .header("Cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn complete_modal(&self, client_secret: &str) {
        let resp = self
            .app
            .http
            .post(format!("{}/sandbox/connect/api/complete", self.app.base))
            .json(&json!({
                "client_secret": client_secret,
                "publishable_key": "pk_test_sandbox",
                "institution": "test_institution",
                "accounts": ["success"],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }

    pub async fn link(&self) -> Value {
        let (s, session) = self.call("start_link", &[("name", "Jenny Rosen"), ("email", "jenny@example.com"), ("permissions", ALL_PERMISSIONS)]).await;
        assert_eq!(s, StatusCode::OK, "{session}");
        self.complete_modal(session["client_secret"].as_str().unwrap()).await;
        let (s, accounts) = self.call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())]).await;
        assert_eq!(s, StatusCode::OK, "{accounts}");
        accounts
    }
}

