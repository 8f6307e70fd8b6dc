//! The server: builds the axum app that serves the Leptos page, its server
//! functions and (in sandbox mode) the built-in sandbox.
//!
//! - [`config`]: environment → [`config::Config`].
//! - [`assets`]: static files (precompressed, cached by content hash) and
//!   on-the-fly compression.
//! - [`stripe`]: the Stripe API client.
//! - [`service`]: `app::service::LinkService` and `PaymentService` on Stripe + storage.
//! - [`export`]: `GET /api/transactions.csv`, an account's filtered transactions as CSV.
//! - [`storage`]: what the app remembers per user, on SQLite or PostgreSQL.
//! - [`locks`]: work that must not run twice at once for one user or account.
//! - [`session`]: the browser-session cookie → `UserId` (the login seam).
//! - [`prefill`]: what a page renders with that its render cannot await.
//! - [`live`]: server-sent events that tell open pages an account changed
//!   (relayed between instances on PostgreSQL).
//! - [`sandbox`]: the offline Stripe stand-in.
//! - [`web`]: HTTP hardening: headers, CSP, cross-site checks, deadlines.
//! - [`limits`]: per-IP and per-user rate limits.
//! - [`serve`]: the accept loop (TCP_NODELAY, header timeout, connection cap, drain).
//! - [`health`]: `/healthz`, `/readyz`, and pages while the database is down.
//! - [`logging`]: text or JSON logs, one access line per request.
//! - [`webhooks`]: Stripe-Signature verification and the webhook receiver.
//! - [`developer`]: the developer panel's log of Stripe requests, webhooks
//!   and Stripe.js results per user.
//! - [`wire`]: Stripe's wire format shared by the client, the receiver and
//!   the sandbox (signing, the pinned API version).

pub mod assets;
pub mod clock;
pub mod config;
pub mod developer;
pub mod export;
pub mod health;
pub mod housekeeping;
pub mod limits;
pub mod live;
pub mod locks;
pub mod logging;
pub mod prefill;
pub mod sandbox;
pub mod serve;
pub mod service;
pub mod session;
pub mod storage;
pub mod stripe;
pub mod web;
pub mod webhooks;
pub mod wire;

use app::model::{ClientConfig, Mode};
use app::service::{SharedPayments, SharedService};
use app::{shell, App};
use axum::extract::FromRef;
use axum::handler::Handler;
use axum::routing::get;
use axum::Router;
use config::{Config, StripeMode, DEFAULT_API_BASE, DEFAULT_STRIPE_JS_URL};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Where the sandbox lives on this server.
pub const SANDBOX_PATH: &str = "/sandbox";
/// The publishable key the sandbox mode hands to the browser.
pub const SANDBOX_PUBLISHABLE_KEY: &str = "pk_test_sandbox";

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub service: SharedService,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

/// The running app's parts, for `main` and for tests.
pub struct Built {
    pub router: Router,
    pub sandbox: Option<Arc<sandbox::Sandbox>>,
    /// The embedded sandbox's secret key (tests drive the sandbox with it).
    pub sandbox_key: Option<SecretString>,
    pub webhooks: Arc<webhooks::Receiver>,
    pub mode: Mode,
    /// Open pages' event streams.
    pub live: Arc<live::Live>,
    /// Cancelled when the server shuts down: event streams end with it.
    pub shutdown: CancellationToken,
    /// The developer panel's log (tests hold its writer).
    pub developer: Arc<developer::DevLog>,
}

/// Leptos options from cargo-leptos's `LEPTOS_*` variables, or, when the
/// binary runs on its own, the same defaults as `Cargo.toml`'s metadata.
///
/// Whether pages link content-hashed file names is decided by the build, not
/// by a variable: when cargo-leptos's `hash-files` left its hash file beside
/// this binary and the site has the files it names, they are used
/// ([`assets::hashed_build`]).
pub fn leptos_options() -> Result<LeptosOptions, String> {
    let mut options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(_) => leptos::config::get_config_from_str(
            "[package.metadata.leptos]\noutput-name = \"fc_app\"\nsite-root = \"target/site\"\nsite-pkg-dir = \"pkg\"\n",
        )
        .map_err(|e| format!("leptos configuration: {e}"))?,
    };
    let pkg_dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    options.hash_files = assets::hash_file_beside_exe(&options.hash_file)
        .is_some_and(|file| assets::hashed_build(&file, &pkg_dir, &options.output_name));
    Ok(options)
}

/// A fresh random `sk_test_…` key for the embedded sandbox: never printed,
/// never sent to the browser.
fn sandbox_secret_key() -> SecretString {
    SecretString::from(format!("sk_test_sandbox_{}", session::new_token()))
}

/// Builds the app for a server listening on `addr` (the embedded sandbox is
/// reached over HTTP at that address, exactly as real Stripe would be):
/// opens and migrates the database, then assembles the router.
pub async fn build(config: &Config, leptos_options: LeptosOptions, addr: SocketAddr) -> Result<Built, String> {
    let host = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    let (mode, secret, publishable, default_base, default_js, sandbox) = match &config.mode {
        StripeMode::Sandbox => {
            // An external sandbox (STRIPE_API_BASE set) replaces the embedded one.
            let embedded = match config.api_base {
                None => Some(Arc::new(embedded_sandbox(config).await?)),
                Some(_) => None,
            };
            // The embedded sandbox's key is kept in its state file, so the
            // app finds what it made there after a restart.
            let secret = match &embedded {
                Some(sb) => SecretString::from(
                    sb.setting("embedded_app_key", || sandbox_secret_key().expose_secret().to_owned())
                        .await?,
                ),
                None => sandbox_secret_key(),
            };
            (
                Mode::Sandbox,
                secret,
                SANDBOX_PUBLISHABLE_KEY.to_owned(),
                format!("http://{host}{SANDBOX_PATH}"),
                // An external sandbox serves its own Stripe.js stand-in.
                match &config.api_base {
                    Some(base) => format!("{base}/js/stripe.js"),
                    None => format!("{SANDBOX_PATH}/js/stripe.js"),
                },
                embedded,
            )
        }
        StripeMode::Stripe(keys) => (
            if keys.live { Mode::Live } else { Mode::Test },
            keys.secret_key.clone(),
            keys.publishable_key.clone(),
            DEFAULT_API_BASE.to_owned(),
            DEFAULT_STRIPE_JS_URL.to_owned(),
            None,
        ),
    };
    let base = config.api_base.clone().unwrap_or(default_base);
    let client = ClientConfig {
        mode,
        publishable_key: publishable,
        stripe_js_url: config.stripe_js_url.clone().unwrap_or(default_js),
    };
    let reload_port = std::env::var_os("LEPTOS_WATCH").map(|_| leptos_options.reload_port as u16);
    let csp = app::service::CspTemplate(web::content_security_policy(&client, reload_port).into());
    let sandbox_key = sandbox.as_ref().map(|_| secret.clone());
    if let Some(sb) = &sandbox {
        // The app's own key is never forgotten to make room for others.
        sb.pin_key(secret.expose_secret());
    }
    let probe = health::StripeProbe::new(&base, secret.clone()).map_err(|e| e.to_string())?;
    let stripe = stripe::StripeClient::new(&base, secret, stripe::ClientOptions::default()).map_err(|e| e.to_string())?;
    let storage = Arc::new(
        storage::Storage::open(&config.database)
            .await
            .map_err(|e| format!("database {}: {e}", config.database.redacted_url()))?,
    );
    tracing::info!(database = %config.database.redacted_url(), "database ready");
    let shutdown = CancellationToken::new();
    let live = live::Live::new(
        config.edge.events_per_user,
        config.edge.events_total,
        shutdown.clone(),
        &storage,
    );
    let readiness = Arc::new(health::Readiness::new(storage.clone(), probe));
    housekeeping::spawn(
        storage.clone(),
        config.sessions.clone(),
        config.retention.clone(),
        shutdown.clone(),
    );
    let sessions = session::SessionPolicy {
        https: config.edge.https,
        limits: limits::Limits::new(&config.edge),
        storage: storage.clone(),
        rules: config.sessions.clone(),
    };
    let dev_log = developer::DevLog::start(
        storage.clone(),
        live.clone(),
        config.developer_log_queue,
        config.retention.developer_log_per_user,
        shutdown.clone(),
    );
    let stripe_service = Arc::new(
        service::StripeService::new(stripe.clone(), storage.clone(), client, live.clone())
            .with_business_name(config.business_name.clone()),
    );
    // Every Stripe request a page's call makes is recorded as its user's.
    let attributed = Arc::new(developer::Attributed::new(stripe_service.clone(), dev_log.clone()));
    let service: SharedService = attributed.clone();
    let payments: SharedPayments = attributed;
    let panel: app::service::developer::SharedDeveloperLog =
        Arc::new(developer::Panel::new(storage.clone(), dev_log.clone(), mode));
    let receiver = Arc::new(webhooks::Receiver::new(
        config.webhook_secrets.clone(),
        stripe_service,
        dev_log.clone(),
    ));
    if let (Some(sb), Some(key)) = (&sandbox, &sandbox_key) {
        // The sandbox delivers events here, as Stripe would to a registered
        // endpoint: the one an earlier start registered, found by its URL.
        let url = format!("http://{host}/webhooks/stripe");
        let secret = sandbox::resources::events::app_endpoint(sb, key.expose_secret(), &url)
            .map_err(|e| format!("the sandbox's webhook endpoint for the app: {}", e.message))?;
        sb.flush().await;
        receiver.set_secrets(vec![SecretString::from(secret)]);
        tracing::info!("sandbox webhooks are delivered to /webhooks/stripe");
    }

    let state = AppState {
        leptos_options: leptos_options.clone(),
        service: service.clone(),
    };
    let routes = route_list();
    let ctx = {
        let service = service.clone();
        move || {
            provide_context(service.clone());
            provide_context(panel.clone());
            provide_context(payments.clone());
            provide_context(csp.clone());
        }
    };
    let edge = &config.edge;
    let limits = sessions.limits.clone();
    limits::Limits::spawn_cleanup(&limits);
    let origins = Arc::new(web::Origins {
        public: edge.public_origin.clone(),
    });
    // Layers run outside-in from the last one added: compression → deadline
    // → cross-site check → private responses → session → per-user limit →
    // (pages: the database must answer; the link page's saved details are
    // loaded) → handler; `/pkg` skips the session
    // and the per-user limit.
    let site = std::path::Path::new(&*leptos_options.site_root);
    let pkg_dir = leptos_options.site_pkg_dir.trim_matches('/');
    let not_found = leptos_axum::file_and_error_handler_with_context::<AppState, _>(ctx.clone(), shell);
    // Files: the site's pkg dir, then the public files at the root; anything
    // else is the app's not-found page.
    let files = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(assets::cache_headers))
        .service(assets::files(site).fallback(not_found.with_state(state.clone())));
    let pkg = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn(assets::cache_headers))
        .service(assets::files(site.join(pkg_dir)));
    let router = Router::new()
        .leptos_routes_with_context(&state, routes, ctx, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .layer(axum::middleware::from_fn_with_state(
            service.clone(),
            prefill::link_page_details,
        ))
        .layer(axum::middleware::from_fn_with_state(storage, health::pages_need_database))
        .route("/events", get(live::events))
        .route("/api/transactions.csv", get(export::transactions_csv))
        .layer(axum::Extension(live.clone()))
        .layer(axum::middleware::from_fn_with_state(limits.clone(), limits::per_user))
        .layer(axum::middleware::from_fn_with_state(sessions, session::attach_user))
        .fallback_service(files)
        .with_state(state)
        // The wasm, JS and CSS are the same for everyone: no session, no
        // per-user limit, so a cookie-carrying asset request never reads the
        // database.
        .nest_service(&format!("/{pkg_dir}"), pkg)
        .layer(axum::middleware::from_fn(web::private_responses))
        .layer(axum::middleware::from_fn_with_state(origins, web::same_origin_only))
        .layer(axum::middleware::from_fn_with_state(edge.request_timeout, web::deadline))
        .layer(assets::compression())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(move || health::readyz(readiness.clone())));
    let mut router = web::limit_body(router.merge(webhooks::router(receiver.clone())), edge.body_timeout);
    if let Some(sb) = &sandbox {
        router = router.nest(SANDBOX_PATH, sandbox::router(sb.clone()));
    }
    let router = router.layer(axum::middleware::from_fn_with_state(limits, limits::per_ip));
    Ok(Built {
        router: web::harden(router, edge.https),
        sandbox,
        sandbox_key,
        webhooks: receiver,
        mode,
        live,
        shutdown,
        developer: dev_log,
    })
}

/// The app's routes, listed once per process. Listing them runs the app with
/// resource loading switched off by a process-wide flag (leptos_server's
/// `SuppressResourceLoad`): a resource that first polls while it is set, in
/// any other render of this process, never loads, and its page never
/// finishes (leptos#4773). So no render may overlap a listing: the first
/// build lists the routes before anything can serve, and every later build
/// (tests build many apps in one process) reuses that list.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The embedded sandbox, keeping its state where `SANDBOX_DATABASE_URL`
/// says: by default in its own file beside the app's SQLite file
/// (`fc_app.db` → `fc_app.sandbox.db`), in memory beside an in-memory
/// database, and in `sandbox.db` in the working directory beside PostgreSQL.
async fn embedded_sandbox(config: &Config) -> Result<sandbox::Sandbox, String> {
    use sandbox::StateFile;
    let default = match StateFile::from_sqlite_url(config.database.url.expose_secret()) {
        Some(StateFile::Sqlite(path)) => StateFile::beside(&path),
        Some(StateFile::Memory) => StateFile::Memory,
        None => StateFile::Sqlite("sandbox.db".into()),
    };
    let file = StateFile::parse(config.sandbox_database_url.as_deref(), default)?;
    let sb = sandbox::Sandbox::from_env()?.with_state_file(&file).await?;
    if let Some(path) = sb.state_file() {
        tracing::info!(file = %path.display(), "the sandbox keeps its state in its own file (delete it to start empty)");
    }
    Ok(sb)
}
