//! The server: builds the axum app that serves the Leptos page, its server
//! functions and (in sandbox mode) the built-in sandbox.
//!
//! - [`config`]: environment → [`config::Config`].
//! - [`stripe`]: the Stripe API client.
//! - [`service`]: `app::service::LinkService` on Stripe + storage.
//! - [`storage`]: what the app remembers per user, on SQLite or PostgreSQL.
//! - [`locks`]: work that must not run twice at once for one user or account.
//! - [`session`]: the browser-session cookie → `UserId` (the login seam).
//! - [`live`]: server-sent events that tell open pages an account changed
//!   (relayed between instances on PostgreSQL).
//! - [`sandbox`]: the offline Stripe stand-in.
//! - [`web`]: HTTP hardening: headers, CSP, cross-site checks, deadlines.
//! - [`limits`]: per-IP and per-user rate limits.
//! - [`serve`]: the accept loop (TCP_NODELAY, header timeout, connection cap, drain).
//! - [`webhooks`]: Stripe-Signature verification and the webhook receiver.
//! - [`wire`]: Stripe's wire format shared by the client, the receiver and
//!   the sandbox (signing, the pinned API version).

pub mod clock;
pub mod config;
pub mod limits;
pub mod live;
pub mod locks;
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
use app::service::SharedService;
use app::{shell, App};
use axum::extract::FromRef;
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
}

/// Leptos options from cargo-leptos's `LEPTOS_*` variables, or, when the
/// binary runs on its own, the same defaults as `Cargo.toml`'s metadata.
pub fn leptos_options() -> Result<LeptosOptions, String> {
    match leptos::config::get_configuration(None) {
        Ok(conf) => Ok(conf.leptos_options),
        Err(_) => leptos::config::get_config_from_str(
            "[package.metadata.leptos]\noutput-name = \"fc_app\"\nsite-root = \"target/site\"\nsite-pkg-dir = \"pkg\"\n",
        )
        .map_err(|e| format!("leptos configuration: {e}")),
    }
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
                None => Some(Arc::new(sandbox::Sandbox::from_env()?)),
                Some(_) => None,
            };
            (
                Mode::Sandbox,
                sandbox_secret_key(),
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
    let stripe_service = Arc::new(service::StripeService::new(stripe.clone(), storage, client, live.clone()));
    let service: SharedService = stripe_service.clone();
    let receiver = Arc::new(webhooks::Receiver::new(config.webhook_secrets.clone(), stripe_service));
    if sandbox.is_some() {
        // The sandbox delivers events here, as Stripe would to a registered endpoint.
        register_sandbox_webhook(stripe, receiver.clone(), format!("http://{host}/webhooks/stripe"));
    }

    let state = AppState {
        leptos_options: leptos_options.clone(),
        service: service.clone(),
    };
    let routes = generate_route_list(App);
    let ctx = {
        let service = service.clone();
        move || {
            provide_context(service.clone());
            provide_context(csp.clone());
        }
    };
    let edge = &config.edge;
    let limits = limits::Limits::new(edge);
    limits::Limits::spawn_cleanup(&limits);
    let origins = Arc::new(web::Origins {
        public: edge.public_origin.clone(),
    });
    // Layers run outside-in from the last one added: deadline → cross-site
    // check → private responses → session → per-user limit → handler.
    let router = Router::new()
        .leptos_routes_with_context(&state, routes, ctx.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .route("/events", get(live::events))
        .layer(axum::Extension(live.clone()))
        .layer(axum::middleware::from_fn_with_state(limits.clone(), limits::per_user))
        .layer(axum::middleware::from_fn_with_state(
            session::SessionPolicy {
                https: edge.https,
                limits: limits.clone(),
            },
            session::attach_user,
        ))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(ctx, shell))
        .with_state(state)
        .layer(axum::middleware::from_fn(web::private_responses))
        .layer(axum::middleware::from_fn_with_state(origins, web::same_origin_only))
        .layer(axum::middleware::from_fn_with_state(edge.request_timeout, web::deadline))
        .route("/healthz", get(|| async { "ok" }));
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
    })
}

/// Registers this server's webhook endpoint with the embedded sandbox once
/// the server answers, and starts accepting the secret it returns.
fn register_sandbox_webhook(stripe: stripe::StripeClient, receiver: Arc<webhooks::Receiver>, url: String) {
    #[derive(serde::Deserialize)]
    struct Endpoint {
        secret: String,
    }
    tokio::spawn(async move {
        let form = stripe::Form::new().field("url", url).list("enabled_events", ["*"]);
        match stripe.post::<Endpoint>("/v1/webhook_endpoints", &form, None).await {
            Ok(ep) => {
                receiver.set_secrets(vec![SecretString::from(ep.secret)]);
                tracing::info!("sandbox webhooks are delivered to /webhooks/stripe");
            }
            Err(e) => tracing::error!("could not register the sandbox webhook endpoint: {e}"),
        }
    });
}
