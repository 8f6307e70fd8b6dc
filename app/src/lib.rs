//! The app: UI and server-function contract, compiled twice — with `ssr` into
//! the server, with `hydrate` into the browser's wasm.
//!
//! - [`pages`]: routed pages; [`components`]: view pieces.
//! - [`api`]: server functions; [`model`]: shared types; [`error`]: the error enum.
//! - [`stripe_js`]: Stripe.js bindings (browser); `live`: SSE account updates (browser).
//! - [`service`] (SSR only): the trait the server implements.

// The account page's view type is deep enough that computing the layout of its
// async hydration needs more than the default 128 levels (release wasm).
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
#[cfg(feature = "hydrate")]
pub mod live;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod service;
pub mod stripe_js;

use crate::api::{load_client_config, once_resource};
use crate::components::ModeBadge;
use crate::pages::{LinkPage, NotFound};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, Meta, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app (SSR only renders it). Its
/// Content-Security-Policy allows only scripts carrying this response's nonce
/// (and what they load), so it is set here, beside the nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                // The CSS, the JS glue and the wasm under the content-hashed
                // names of the build (see server::assets), when it has them.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Sets the page's `Content-Security-Policy` header from the server's
/// template and the nonce Leptos gave this response's scripts.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let (Some(nonce), Some(template), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<service::CspTemplate>(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return; // the server's fallback policy (no scripts at all) applies
    };
    if let Ok(value) = http::HeaderValue::from_str(&template.render(&nonce.to_string())) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let config = once_resource(load_client_config());
    view! {
        <Title text="Link your bank account"/>
        <Meta name="description" content="Link a bank account with Stripe Financial Connections."/>
        <leptos_meta::Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <header class="topbar">
            <a class="brand" href="/">"Bank Link"</a>
            <nav class="nav">
                <a href="/">"Link"</a>
                <a href="/accounts" data-testid="nav-accounts">"Accounts"</a>
                <a href="/payments" data-testid="nav-payments">"Payments"</a>
            </nav>
            <Suspense fallback=|| ()>
                {move || config.get().and_then(Result::ok).map(|c| view! { <ModeBadge mode=c.mode/> })}
            </Suspense>
        </header>
        <Router>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=LinkPage/>
                    <Route path=path!("/accounts") view={pages::dashboard()}/>
                    <Route path=path!("/accounts/:id") view={pages::account()}/>
                    <Route path=path!("/payments") view={pages::payments()}/>
                    <Route path=path!("/payments/new") view={pages::pay_by_bank()}/>
                    <Route path=path!("/developer") view={pages::developer()}/>
                </Routes>
            </main>
            <footer class="footer">
                <a href="/developer" data-testid="footer-developer">"Developer panel"</a>
                <span class="muted">" · every Stripe call made for you, live"</span>
            </footer>
        </Router>
    }
}

/// The wasm entry point: hydrates the server-rendered page (after fetching
/// the wasm chunk of its route, when that route is lazy), then sets
/// `window.__hydrated = true` so tests know clicks will be handled.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Debug builds name a panic in the console. The release wasm's panics
    // abort at once (scripts/release.sh), so the hook would be dead weight.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), App)
            .await
            .forget();
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &wasm_bindgen::JsValue::from_str("__hydrated"),
            &wasm_bindgen::JsValue::TRUE,
        );
    });
}
