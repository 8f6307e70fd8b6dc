//! HTTP hardening shared by every route: security headers that still allow
//! Stripe's OAuth popups, the access log, body size and time limits, and —
//! for the app's own routes — the cross-site check on state-changing calls,
//! `no-store` on personal pages and server-function answers, the pages'
//! Content-Security-Policy (the shell sets it per response with its nonce;
//! any other HTML gets a policy that runs nothing), a deadline for every response, and server-function errors with the status their error
//! names (400 for arguments that do not decode, never 500).

use app::error::AppError;
use app::model::{ClientConfig, Mode};
use app::service::CspTemplate;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Largest request body any route accepts.
pub const MAX_BODY: usize = 64 * 1024;

/// Headers for every response; HSTS only when the public URL is https.
pub fn harden(router: Router, https: bool) -> Router {
    let header = |name: header::HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        // Stripe's OAuth institutions open a popup: same-origin-allow-popups, never same-origin.
        .layer(header(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin-allow-popups",
        ));
    let router = if https {
        router.layer(header(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        ))
    } else {
        router
    };
    router.layer(axum::middleware::from_fn(crate::logging::access))
}

/// Refuses request bodies over [`MAX_BODY`] with 413, and bodies that stall
/// longer than `body_timeout` between frames with 408.
pub fn limit_body(router: Router, body_timeout: Duration) -> Router {
    router
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
}

/// A server-function error as the page's client decodes it: its status and
/// the JSON of [`AppError`].
pub fn app_error_response(error: &AppError) -> Response {
    let body = serde_json::to_vec(error).unwrap_or_else(|_| b"\"Internal\"".to_vec());
    (
        error.status(),
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}

/// Where state-changing requests may come from.
#[derive(Clone, Debug)]
pub struct Origins {
    /// `PUBLIC_URL`'s origin; without it, the request's own `Host` over http.
    pub public: Option<String>,
}

impl Origins {
    /// Whether an unsafe request to a server function came from our own
    /// pages: `Sec-Fetch-Site: same-origin`, or, from a browser too old to
    /// send it, an `Origin` equal to ours. Neither header: refused.
    pub fn allows(&self, req: &Request) -> bool {
        let h = req.headers();
        if let Some(site) = h.get("sec-fetch-site") {
            return site.as_bytes() == b"same-origin";
        }
        let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        match &self.public {
            Some(public) => origin.eq_ignore_ascii_case(public),
            None => h
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|host| origin.eq_ignore_ascii_case(&format!("http://{host}"))),
        }
    }
}

/// Middleware for the app's routes: refuses cross-site state changes to
/// `/api/*` with 403 before anything runs.
pub async fn same_origin_only(State(origins): State<Arc<Origins>>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && req.uri().path().starts_with("/api/") && !origins.allows(&req) {
        tracing::info!(path = req.uri().path(), "refused a cross-site server-function call");
        return app_error_response(&AppError::CrossSite);
    }
    next.run(req).await
}

/// Middleware for the app's routes: a response must start within `limit`
/// (server functions then get `AppError::TimedOut`). Server-sent events are
/// unaffected: their response starts at once and streams afterwards.
pub async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) if api => app_error_response(&AppError::TimedOut),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, AppError::TimedOut.to_string()).into_response(),
    }
}

/// The pages' Content-Security-Policy (with `{nonce}` for each response's
/// nonce): scripts only with the nonce, plus what they load
/// (`'strict-dynamic'`: the wasm glue, then Stripe.js or its stand-in);
/// frames, connections and images only from this origin and, with real keys,
/// Stripe's hosts (Stripe.js's documented list); no plugins, no `<base>`, no
/// framing by others. `reload_port` adds `cargo leptos watch`'s live-reload socket.
pub fn content_security_policy(client: &ClientConfig, reload_port: Option<u16>) -> String {
    let nonce = CspTemplate::NONCE;
    let mut scripts = format!("'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'");
    let mut frames = "'self'".to_owned();
    let mut connect = "'self'".to_owned();
    let mut images = "'self' data:".to_owned();
    if let Some(origin) = crate::config::origin_of(&client.stripe_js_url) {
        // An external sandbox serves its own Stripe.js stand-in and modal.
        scripts.push_str(&format!(" {origin}"));
        frames.push_str(&format!(" {origin}"));
        connect.push_str(&format!(" {origin}"));
    }
    if client.mode != Mode::Sandbox {
        scripts.push_str(" https://js.stripe.com https://*.js.stripe.com");
        frames.push_str(" https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com");
        connect.push_str(" https://api.stripe.com");
        images.push_str(" https://*.stripe.com");
    }
    if let Some(port) = reload_port {
        connect.push_str(&format!(" ws://*:{port} wss://*:{port}"));
    }
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; img-src {images}; font-src 'self'; \
         connect-src {connect}; frame-src {frames}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// For an HTML answer that did not get the page policy (an error page
/// rendered without the shell): nothing may run or frame it.
const FALLBACK_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Longest server-function error body read to find its status.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Middleware for the app's routes: pages and server-function answers carry
/// personal data (and client secrets): `Cache-Control: no-store` unless the
/// handler chose otherwise. A server-function error the framework answered
/// with its default 500 gets the status its [`AppError`] names (a call whose
/// arguments do not decode is the caller's fault: 400).
pub async fn private_responses(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if api || is_page {
        resp.headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    if is_page {
        resp.headers_mut()
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(FALLBACK_CSP));
    }
    if api && resp.status() == StatusCode::INTERNAL_SERVER_ERROR && resp.headers().contains_key("serverfnerror") {
        let (mut parts, body) = resp.into_parts();
        let bytes = match http_body_util::Limited::new(body, MAX_ERROR_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return app_error_response(&AppError::Internal),
        };
        if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
            parts.status = error.status();
        }
        return Response::from_parts(parts, Body::from(bytes));
    }
    resp
}
