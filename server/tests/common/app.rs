//! The whole app on a real port, and a browser-like client for it.

use reqwest::StatusCode;
use serde_json::{json, Value};
use server::config::Config;
use std::sync::Arc;

/// Every permission, as the page sends them by default.
pub const ALL_PERMISSIONS: &str = "balances,ownership,payment_method,transactions";

pub use server::storage::testing::TestDb;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub sandbox: Arc<server::sandbox::Sandbox>,
    pub built_sandbox_key: Option<String>,
    pub webhooks: Arc<server::webhooks::Receiver>,
    pub live: Arc<server::live::Live>,
    pub developer: Arc<server::developer::DevLog>,
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The serving task; ends after `shutdown` is cancelled.
    pub server: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// A fresh SQLite database file per test.
pub fn temp_db() -> String {
    let path = std::env::temp_dir().join(format!("fc-app-flow-{}.db", server::session::new_token()));
    format!("sqlite://{}", path.display())
}

/// The app, in sandbox mode, on a new SQLite file.
pub async fn spawn() -> TestApp {
    spawn_with(&temp_db()).await
}

/// The app, in sandbox mode, on `db` (either backend).
pub async fn spawn_on(db: &TestDb) -> TestApp {
    spawn_with(&db.url).await
}

/// Rate limits high enough for tests that fire many calls from 127.0.0.1;
/// the limit tests set their own.
pub const GENEROUS_LIMITS: [(&str, &str); 6] = [
    ("RATE_LIMIT_IP_PER_SECOND", "10000"),
    ("RATE_LIMIT_IP_BURST", "10000"),
    ("RATE_LIMIT_USER_PER_SECOND", "10000"),
    ("RATE_LIMIT_USER_BURST", "10000"),
    ("RATE_LIMIT_NEW_SESSIONS_PER_HOUR", "100000"),
    ("RATE_LIMIT_LINKS_PER_HOUR", "100000"),
];

pub async fn spawn_with(database_url: &str) -> TestApp {
    spawn_with_env(&[("DATABASE_URL", database_url)]).await
}

/// The app in sandbox mode with `env` (over [`GENEROUS_LIMITS`] and a fresh database).
pub async fn spawn_with_env(env: &[(&str, &str)]) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    spawn_on_listener(listener, env).await
}

/// [`spawn_with_env`] on `listener` (e.g. the address an earlier app had).
pub async fn spawn_on_listener(listener: tokio::net::TcpListener, env: &[(&str, &str)]) -> TestApp {
    let mut all: Vec<(&str, String)> = vec![("DATABASE_URL", temp_db())];
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    let served = serve_app(listener, &all).await;
    TestApp {
        base: served.base,
        http: test_client(),
        sandbox: served.sandbox.expect("sandbox mode embeds the sandbox"),
        built_sandbox_key: served.sandbox_key,
        webhooks: served.webhooks,
        live: served.live,
        developer: served.developer,
        shutdown: served.shutdown,
        server: std::sync::Mutex::new(Some(served.server)),
    }
}

/// A running app and the parts of it tests reach into.
pub struct Served {
    pub base: String,
    pub sandbox: Option<Arc<server::sandbox::Sandbox>>,
    pub sandbox_key: Option<String>,
    pub webhooks: Arc<server::webhooks::Receiver>,
    pub live: Arc<server::live::Live>,
    pub developer: Arc<server::developer::DevLog>,
    pub shutdown: tokio_util::sync::CancellationToken,
    pub server: tokio::task::JoinHandle<()>,
}

/// Builds the app from `env` (what the process environment would hold, over
/// [`GENEROUS_LIMITS`] and a small database pool, as tests run in parallel)
/// and serves it on `listener`.
pub async fn serve_app(listener: tokio::net::TcpListener, env: &[(&str, String)]) -> Served {
    serve_app_with_options(listener, env, server::leptos_options().unwrap()).await
}

/// [`serve_app`] with these Leptos options (e.g. another site root).
pub async fn serve_app_with_options(
    listener: tokio::net::TcpListener,
    env: &[(&str, String)],
    options: leptos::prelude::LeptosOptions,
) -> Served {
    // The embedded sandbox in memory unless a test gives it a file (tests on
    // PostgreSQL would otherwise share ./sandbox.db).
    let mut all: Vec<(&str, String)> = vec![
        ("DATABASE_MAX_CONNECTIONS", "5".to_owned()),
        ("SANDBOX_DATABASE_URL", "memory".to_owned()),
    ];
    all.extend(GENEROUS_LIMITS.iter().map(|(k, v)| (*k, v.to_string())));
    all.extend(env.iter().cloned());
    let config = Config::from_lookup(|k| all.iter().rev().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    let addr = listener.local_addr().unwrap();
    let built = server::build(&config, options, addr).await.unwrap();
    let server = tokio::spawn(server::serve::serve(
        listener,
        built.router,
        config.edge.serve,
        built.shutdown.clone(),
    ));
    Served {
        base: format!("http://{addr}"),
        sandbox: built.sandbox,
        sandbox_key: built.sandbox_key.map(|k| secrecy::ExposeSecret::expose_secret(&k).to_owned()),
        webhooks: built.webhooks,
        live: built.live,
        developer: built.developer,
        shutdown: built.shutdown,
        server,
    }
}

impl TestApp {
    /// Stops the server as a restart would: it stops serving, and its
    /// sandbox writes what is left and closes its state file.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        let server = self.server.lock().unwrap().take();
        if let Some(server) = server {
            let _ = server.await;
        }
        self.sandbox.close().await;
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
        // The whole page, as a browser reads it: its server-side calls are over.
        resp.text().await.unwrap();
        Browser { app: self, cookie }
    }
}

/// Completes the sandbox's modal at `sandbox` for a session, as the browser
/// would after the user picked `accounts` at the Test Institution.
pub async fn complete_modal(
    http: &reqwest::Client,
    sandbox: &str,
    publishable_key: &str,
    client_secret: &str,
    accounts: &[&str],
) {
    let resp = http
        .post(format!("{sandbox}/connect/api/complete"))
        .json(&json!({
            "client_secret": client_secret,
            "publishable_key": publishable_key,
            "institution": "test_institution",
            "accounts": accounts,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Calls server function `func` at `base` as the browser with `cookie`.
pub async fn call_server_fn(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    func: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let resp = http
        .post(format!("{base}/api/{func}"))
        .header("Cookie", cookie)
        // What a browser sends with a call from our own page.
        .header("Sec-Fetch-Site", "same-origin")
        .header("User-Agent", "Mozilla/5.0 (bank-link tests)")
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

impl Browser<'_> {
    pub async fn call(&self, func: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        call_server_fn(&self.app.http, &self.app.base, &self.cookie, func, form).await
    }

    /// The page at `path` as this browser gets it: its whole HTML.
    pub async fn page(&self, path: &str) -> String {
        let resp = self
            .app
            .http
            .get(format!("{}{path}", self.app.base))
            .header("Cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        resp.text().await.unwrap()
    }

    /// Completes the modal for a session, linking the "Success" account.
    pub async fn complete_modal(&self, client_secret: &str) {
        self.complete_modal_with(client_secret, &["success"]).await;
    }

    /// Completes the modal for a session, linking the given test accounts.
    pub async fn complete_modal_with(&self, client_secret: &str, accounts: &[&str]) {
        let sandbox = format!("{}/sandbox", self.app.base);
        complete_modal(&self.app.http, &sandbox, "pk_test_sandbox", client_secret, accounts).await;
    }

    /// Links the "Success" account as Jenny Rosen with every permission.
    pub async fn link(&self) -> Value {
        self.link_with(&[
            ("name", "Jenny Rosen"),
            ("email", "jenny@example.com"),
            ("permissions", ALL_PERMISSIONS),
        ])
        .await
    }

    /// Links the "Success" account through a session made by `start_link`
    /// with `form`; answers `confirm_link`'s accounts.
    pub async fn link_with(&self, form: &[(&str, &str)]) -> Value {
        let (s, session) = self.call("start_link", form).await;
        assert_eq!(s, StatusCode::OK, "{session}");
        self.complete_modal(session["client_secret"].as_str().unwrap()).await;
        let (s, accounts) = self
            .call("confirm_link", &[("session_id", session["session_id"].as_str().unwrap())])
            .await;
        assert_eq!(s, StatusCode::OK, "{accounts}");
        accounts
    }
}

/// The app in Stripe mode (keys set, as against api.stripe.com) talking to
/// `sandbox` on its own port, with our own webhook secrets.
pub struct StripeModeApp {
    pub app: String,
    pub sandbox: String,
    pub http: reqwest::Client,
    pub secret_key: String,
}

/// A standalone sandbox serving `router` on a port of its own; its base URL.
pub async fn serve_sandbox(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

/// The environment of an app in Stripe mode against the sandbox at `sandbox_base`.
pub fn stripe_mode_env(
    sandbox_base: &str,
    secret_key: &str,
    webhook_secrets: &str,
    database_url: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("STRIPE_SECRET_KEY", secret_key.to_owned()),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_stripe_mode".to_owned()),
        ("STRIPE_API_BASE", sandbox_base.to_owned()),
        ("STRIPE_WEBHOOK_SECRET", webhook_secrets.to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
    ]
}

pub async fn spawn_stripe_mode(sandbox: axum::Router, secret_key: &str, webhook_secrets: &str) -> StripeModeApp {
    stripe_mode_with(&temp_db(), sandbox, secret_key, webhook_secrets).await
}

/// [`spawn_stripe_mode`] on `db` (either backend).
pub async fn spawn_stripe_mode_on(db: &TestDb, sandbox: axum::Router, secret_key: &str, webhook_secrets: &str) -> StripeModeApp {
    stripe_mode_with(&db.url, sandbox, secret_key, webhook_secrets).await
}

async fn stripe_mode_with(database_url: &str, sandbox: axum::Router, secret_key: &str, webhook_secrets: &str) -> StripeModeApp {
    let sandbox_base = serve_sandbox(sandbox).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let env = stripe_mode_env(&sandbox_base, secret_key, webhook_secrets, database_url);
    let served = serve_app(listener, &env).await;
    StripeModeApp {
        app: served.base,
        sandbox: sandbox_base,
        http: test_client(),
        secret_key: secret_key.to_owned(),
    }
}

impl StripeModeApp {
    /// A new browser's session cookie.
    pub async fn cookie(&self) -> String {
        let page = self.http.get(format!("{}/", self.app)).send().await.unwrap();
        let cookie = page.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        // The whole page, as a browser reads it: the page's own server-side
        // calls (the accounts list) are over before the test clicks on.
        page.text().await.unwrap();
        cookie
    }

    /// Calls a server function as the browser with `cookie`.
    pub async fn call(&self, cookie: &str, func: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        call_server_fn(&self.http, &self.app, cookie, func, form).await
    }

    /// Makes the sandbox fail the next `count` requests whose path starts
    /// with `path` with a 500 (the Stripe client retries a 500 twice).
    pub async fn fail_next(&self, path: &str, count: u32) {
        let fault = self
            .http
            .post(format!("{}/_sandbox/faults", self.sandbox))
            .bearer_auth(&self.secret_key)
            .form(&[("path", path), ("kind", "server_error"), ("count", &count.to_string())])
            .send()
            .await
            .unwrap();
        assert!(fault.status().is_success());
    }

    /// Completes the sandbox's modal for a session, linking `accounts`.
    pub async fn complete_modal(&self, client_secret: &str, accounts: &[&str]) {
        complete_modal(&self.http, &self.sandbox, "pk_test_stripe_mode", client_secret, accounts).await;
    }

    /// Links one account through the app (server fns) and the sandbox's
    /// modal API; returns the browser's cookie and the account id.
    pub async fn link(&self) -> (String, String) {
        let cookie = self.cookie().await;
        let (_, session) = self
            .call(
                &cookie,
                "start_link",
                &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)],
            )
            .await;
        self.complete_modal(session["client_secret"].as_str().unwrap(), &["success"])
            .await;
        let (_, accounts) = self
            .call(
                &cookie,
                "confirm_link",
                &[("session_id", session["session_id"].as_str().unwrap())],
            )
            .await;
        (cookie, accounts[0]["id"].as_str().unwrap().to_owned())
    }
}

/// The tests' HTTP client: a call that never finishes (a page whose body
/// stalls, say) fails the test, naming the URL, instead of hanging the run.
pub fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("a reqwest client")
}

/// Reads a server-sent-events response until `needle` appears or `wait`
/// passes.
pub async fn sse_contains(resp: &mut reqwest::Response, needle: &str, wait: std::time::Duration) -> bool {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, resp.chunk()).await {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains(needle) {
            return true;
        }
    }
    false
}
