//! Operations: `GET /readyz` for a load balancer (the database and Stripe
//! checked, Stripe's answer remembered so polling never hammers it), and the
//! database going away and coming back: pages and server functions answer
//! 503 with a sentence, nothing is half-written, and the app serves again
//! without a restart. On PostgreSQL the database is cut off by a loopback
//! TCP proxy in the test; on SQLite another process holds the file locked.
//! And more apps built in a process that serves one never stall its pages.

mod common;

use common::app::*;
use common::until;
use reqwest::StatusCode;
use serde_json::{json, Value};
use server::storage::Backend;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};

server::backend_tests!(ready_when_the_database_and_the_sandbox_answer);

async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut req = app.http.get(format!("{}{path}", app.base));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

async fn readyz(http: &reqwest::Client, base: &str) -> (StatusCode, Value) {
    let resp = http.get(format!("{base}/readyz")).send().await.unwrap();
    let status = resp.status();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    (status, resp.json().await.unwrap())
}

async fn ready_when_the_database_and_the_sandbox_answer(db: TestDb) {
    let app = spawn_on(&db).await;
    let (s, body) = readyz(&app.http, &app.base).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "ready", "checks": {"database": "ok", "stripe": "ok"}}));
    assert_eq!(get(&app, "/healthz", None).await, (StatusCode::OK, "ok".to_owned()));
}

/// A standalone sandbox that counts the reads `/readyz` makes.
async fn counting_sandbox() -> (String, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let counting = reads.clone();
    let router = common::sandbox().layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let counting = counting.clone();
            async move {
                if req.method() == axum::http::Method::GET && req.uri().path() == "/v1/customers" {
                    counting.fetch_add(1, Ordering::SeqCst);
                }
                next.run(req).await
            }
        },
    ));
    (serve_sandbox(router).await, reads)
}

async fn stripe_mode_app(api_base: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let env = stripe_mode_env(api_base, "sk_test_ops", "whsec_ops", &temp_db());
    serve_app(listener, &env).await.base
}

#[tokio::test]
async fn readiness_reads_stripe_once_while_its_answer_is_fresh() {
    let (sandbox, reads) = counting_sandbox().await;
    let app = stripe_mode_app(&sandbox).await;
    let http = reqwest::Client::new();
    let polls = (0..8).map(|_| readyz(&http, &app));
    for (s, body) in futures::future::join_all(polls).await {
        assert_eq!(s, StatusCode::OK, "{body}");
    }
    for _ in 0..8 {
        assert_eq!(readyz(&http, &app).await.0, StatusCode::OK);
    }
    assert_eq!(reads.load(Ordering::SeqCst), 1, "16 polls, one read of Stripe");
}

#[tokio::test]
async fn readiness_names_an_unreachable_stripe() {
    // A loopback port nobody listens on: connections are refused.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = stripe_mode_app(&base).await;
    let http = reqwest::Client::new();
    let (s, body) = readyz(&http, &app).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["failed"], json!(["stripe"]));
    assert_eq!(body["checks"]["database"], "ok");
    assert!(body["checks"]["stripe"].as_str().unwrap().contains("unreachable"), "{body}");
    assert!(!body.to_string().contains("sk_test_ops"), "no key in the answer");
    // Still up as a process.
    let health = http.get(format!("{app}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// A loopback TCP proxy in front of the database: `cut` drops every open
/// connection and closes new ones at once; `restore` forwards again.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the connection close
                }
                let target = target.clone();
                let forwarding = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                open2.lock().unwrap().push(forwarding);
            }
        });
        Proxy { addr, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for forwarding in self.open.lock().unwrap().drain(..) {
            forwarding.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `postgres://user@host:port/db?…` → (`host:port`, the URL with `with` there instead).
fn through(url: &str, with: SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let target = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    (target, format!("{scheme}://{userinfo}{with}{tail}"))
}

fn is_database_unavailable(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::SERVICE_UNAVAILABLE && *body == json!("DatabaseUnavailable")
}

#[tokio::test]
async fn postgres_going_away_is_a_503_and_the_app_recovers_by_itself() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let (target, _) = through(&db.url, SocketAddr::from(([127, 0, 0, 1], 9)));
    let proxy = Proxy::start(target).await;
    let (_, url) = through(&db.url, proxy.addr);
    let app = spawn_with_env(&[("DATABASE_URL", &url), ("DATABASE_ACQUIRE_TIMEOUT_MS", "500")]).await;
    let browser = app.browser().await;
    browser.link().await;
    assert_eq!(readyz(&app.http, &app.base).await.0, StatusCode::OK);
    let (s, _) = browser
        .call("save_details", &[("name", "Before Outage"), ("email", "")])
        .await;
    assert_eq!(s, StatusCode::OK);

    proxy.cut();
    let (s, body) = readyz(&app.http, &app.base).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["failed"], json!(["database"]), "{body}");
    assert_eq!(body["checks"]["stripe"], "ok");
    assert!(!body.to_string().contains("root@"), "no URL in the answer: {body}");
    // Server functions: 503 with the error the page shows.
    let (s, body) = browser.call("linked_accounts", &[]).await;
    assert!(is_database_unavailable(s, &body), "{s} {body}");
    let (s, body) = browser
        .call("save_details", &[("name", "During Outage"), ("email", "")])
        .await;
    assert!(is_database_unavailable(s, &body), "{s} {body}");
    let (s, body) = browser
        .call("start_link", &[("name", ""), ("email", ""), ("permissions", ALL_PERMISSIONS)])
        .await;
    assert!(is_database_unavailable(s, &body), "{s} {body}");
    // Pages: 503 with the same sentence.
    let (s, html) = get(&app, "/accounts", Some(&browser.cookie)).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(html.contains("data-testid=\"database-unavailable\""), "{html}");
    assert!(html.contains("Our database cannot be reached right now"), "{html}");
    // The process is up all along, and the static files need no database
    // even for a browser that sends its cookie (found or not, never a 503).
    assert_eq!(get(&app, "/healthz", None).await.0, StatusCode::OK);
    let (s, _) = get(&app, "/pkg/fc_app.css", Some(&browser.cookie)).await;
    assert!(matches!(s, StatusCode::OK | StatusCode::NOT_FOUND), "{s}");

    proxy.restore();
    until(async || (readyz(&app.http, &app.base).await.0 == StatusCode::OK).then_some(())).await;
    let (s, html) = get(&app, "/accounts", Some(&browser.cookie)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Success"), "the linked account is listed again");
    let (s, accounts) = browser.call("linked_accounts", &[]).await;
    assert_eq!(
        (s, accounts.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1)),
        "{accounts}"
    );
    // What failed during the outage was not written; what was saved before stays.
    let (s, details) = browser.call("load_details", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(details["name"], "Before Outage", "{details}");
    let (s, _) = browser.call("save_details", &[("name", "After Outage"), ("email", "")]).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_sqlite_file_locked_by_another_process_is_a_503_for_writes_until_released() {
    use sqlx::{Connection, Executor};
    let db = TestDb::new(Backend::Sqlite).await.unwrap();
    let app = spawn_with_env(&[("DATABASE_URL", &db.url), ("DATABASE_STATEMENT_TIMEOUT_MS", "200")]).await;
    let browser = app.browser().await;
    let (s, _) = browser.call("save_details", &[("name", "Before Lock"), ("email", "")]).await;
    assert_eq!(s, StatusCode::OK);

    let mut other = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    other.execute("BEGIN EXCLUSIVE").await.unwrap();
    let (s, body) = browser.call("save_details", &[("name", "During Lock"), ("email", "")]).await;
    assert!(is_database_unavailable(s, &body), "{s} {body}");
    // Reads still work, and the database answers: still ready.
    assert_eq!(readyz(&app.http, &app.base).await.0, StatusCode::OK);
    let (s, details) = browser.call("load_details", &[]).await;
    assert_eq!((s, &details["name"]), (StatusCode::OK, &json!("Before Lock")));

    other.execute("COMMIT").await.unwrap();
    other.close().await.unwrap();
    let (s, _) = browser.call("save_details", &[("name", "After Lock"), ("email", "")]).await;
    assert_eq!(s, StatusCode::OK);
    let (_, details) = browser.call("load_details", &[]).await;
    assert_eq!(details["name"], "After Lock");
}

/// Building apps in a process that already serves one (as this test suite
/// does, and an embedder might) never stalls the served one's pages. Each
/// build lists the app's routes, and listing them switches resource loading
/// off process-wide while it runs (leptos#4773): a page whose data first
/// loaded in that moment never finished. Now only the first build lists
/// them. A stalled page shows here as the client's 60 s timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn building_more_apps_never_stalls_a_served_page() {
    let app = spawn().await;
    let building = Arc::new(AtomicBool::new(true));
    let mut pages = Vec::new();
    for _ in 0..8 {
        let (http, url, building) = (app.http.clone(), format!("{}/", app.base), building.clone());
        pages.push(tokio::spawn(async move {
            let mut served = 0;
            while building.load(Ordering::Relaxed) || served < 5 {
                let resp = http.get(&url).send().await.expect("the page starts");
                assert_eq!(resp.status(), StatusCode::OK);
                let body = resp.text().await.expect("the page finishes");
                assert!(body.contains("Linked accounts"), "{body}");
                served += 1;
            }
            served
        }));
    }
    for _ in 0..30 {
        let other = spawn().await;
        other.stop().await;
    }
    building.store(false, Ordering::Relaxed);
    for p in pages {
        assert!(p.await.unwrap() >= 5);
    }
    app.stop().await;
}
