//! HTTP hardening: security headers that still allow Stripe's OAuth popups
//! and request tracing for every response, and the body limit for the app's
//! own routes (the sandbox sets its own, Stripe-shaped).

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Largest request body any route accepts.
pub const MAX_BODY: usize = 64 * 1024;

pub fn harden(router: Router) -> Router {
    let header = |name: header::HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        // Stripe's OAuth institutions open a popup: same-origin-allow-popups, never same-origin.
        .layer(header(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin-allow-popups",
        ))
        .layer(TraceLayer::new_for_http())
}

/// Refuses request bodies over [`MAX_BODY`] with 413.
pub fn limit_body(router: Router) -> Router {
    router.layer(RequestBodyLimitLayer::new(MAX_BODY))
}
