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
                    <App/>
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
        leptos::mount::hydrate_from_async(main_element(), App).await.forget();
        let _ = js_sys::Reflect::set(
            &js_sys::global(),
            &wasm_bindgen::JsValue::from_str("__hydrated"),
            &wasm_bindgen::JsValue::TRUE,
        );
    });
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
