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

use crate::components::ModeBadge;
use crate::pages::{LinkPage, NotFound};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::HashedStylesheet;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app (SSR only renders it). Its
/// Content-Security-Policy allows only scripts carrying this response's nonce
/// (and what they load), so it is set here, beside the nonce.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    #[cfg(feature = "ssr")]
    let mode = api::current_mode();
    #[cfg(not(feature = "ssr"))]
    let mode = None::<model::Mode>;
    // `/` is rendered (and hydrated) without the router; see `hydrate`.
    #[cfg(feature = "ssr")]
    let routed = !is_link_page(
        use_context::<http::request::Parts>()
            .as_ref()
            .map_or("/", |parts| parts.uri.path()),
    );
    #[cfg(not(feature = "ssr"))]
    let routed = true;
    #[cfg(feature = "ssr")]
    if routed {
        preload_routed_chunk();
    }
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
                <title>"Link your bank account"</title>
                <meta name="description" content="Link a bank account with Stripe Financial Connections."/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
            </head>
            <body>
                <header class="topbar">
                    <a class="brand" href="/">"Bank Link"</a>
                    <nav class="nav">
                        <a href="/">"Link"</a>
                        <a href="/accounts" data-testid="nav-accounts">"Accounts"</a>
                        <a href="/payments" data-testid="nav-payments">"Payments"</a>
                    </nav>
                    {mode.map(|mode| view! { <ModeBadge mode/> })}
                </header>
                <main>
                    {if routed { Either::Left(view! { <App/> }) } else { Either::Right(view! { <LinkPage/> }) }}
                </main>
                <footer class="footer">
                    <a href="/developer" data-testid="footer-developer">"Developer panel"</a>
                    <span class="muted">" · every Stripe call made for you, live"</span>
                </footer>
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

/// The routed pages, hydrated in the browser inside the document's `<main>`
/// (the header, footer and head around it are static: server-rendered only).
/// A first load of `/` renders the bare [`LinkPage`] instead (see `hydrate`);
/// the router still shows it when someone navigates back to `/` in place.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=LinkPage/>
                <Route path=path!("/accounts") view={pages::dashboard()}/>
                <Route path=path!("/accounts/:id") view={pages::account()}/>
                <Route path=path!("/payments") view={pages::payments()}/>
                <Route path=path!("/payments/new") view={pages::pay_by_bank()}/>
                <Route path=path!("/developer") view={pages::developer()}/>
            </Routes>
        </Router>
    }
}

/// Whether `path` is the link page's, the one page hydrated without the
/// router (the server and the browser decide it the same way, and the
/// server loads that page's saved details by it: `server::prefill`).
pub fn is_link_page(path: &str) -> bool {
    path == "/"
}

/// The wasm entry point: hydrates the server-rendered `<main>`, then sets
/// `window.__hydrated = true` so tests know clicks will be handled.
///
/// `/`, the page most visits start on, is hydrated as the bare [`LinkPage`]
/// (the server renders it without the router too), so the first load's wasm
/// carries neither the router nor the other pages. Every other path is
/// hydrated as [`App`] by `hydrate_routed`, whose code is a wasm chunk of its
/// own in a `split` build. Links from `/` are ordinary page loads; between
/// the other pages the router navigates in place.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Debug builds name a panic in the console. The release wasm's panics
    // abort at once (scripts/release.sh), so the hook would be dead weight.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    let path = leptos::prelude::window().location().pathname().unwrap_or_default();
    wasm_bindgen_futures::spawn_local(async move {
        if is_link_page(&path) {
            leptos::mount::hydrate_from(main_element(), LinkPage).forget();
        } else {
            hydrate_routed().await;
        }
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &wasm_bindgen::JsValue::from_str("__hydrated"),
            &wasm_bindgen::JsValue::TRUE,
        );
    });
}

/// Hydrates the routed pages on `<main>` (after fetching the wasm chunk of
/// the route, when that route is lazy). With `split`, this function's code
/// (the router, the not-found page, the lazy routes' loaders) is a wasm chunk
/// of its own; on the server, calling it adds a preload of that chunk to the
/// page (`preload_routed_chunk`).
#[cfg_attr(feature = "split", leptos::lazy)]
async fn hydrate_routed() {
    #[cfg(feature = "hydrate")]
    leptos::mount::hydrate_from_async(main_element(), App).await.forget();
}

/// Adds the preload of `hydrate_routed`'s wasm chunk to the page being
/// rendered: the lazy function registers it when called on the server, and
/// does nothing else there, so one poll runs it to the end.
#[cfg(feature = "ssr")]
fn preload_routed_chunk() {
    use std::future::Future;
    let mut call = std::pin::pin!(hydrate_routed());
    let _ = call
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
}

/// The document's `<main>`, where the app is hydrated (the body itself when
/// there is none).
#[cfg(feature = "hydrate")]
fn main_element() -> leptos::web_sys::HtmlElement {
    use wasm_bindgen::JsCast;
    leptos::tachys::dom::document()
        .query_selector("body > main")
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into().ok())
        .unwrap_or_else(leptos::tachys::dom::body)
}
