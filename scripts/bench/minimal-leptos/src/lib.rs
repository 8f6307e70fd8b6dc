//! A hello page with one server action: what any Leptos 0.8 app ships at
//! least. `window.__hydrated` is set after hydration, as the app does.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The one server action: adds two numbers.
#[server]
pub async fn add(a: i32, b: i32) -> Result<i32, ServerFnError> {
    Ok(a + b)
}

/// The document around the page (SSR only renders it).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| "Not found">
                <Route path=path!("/") view=Hello/>
            </Routes>
        </Router>
    }
}

#[component]
fn Hello() -> impl IntoView {
    let add = ServerAction::<Add>::new();
    let clicks = RwSignal::new(0);
    view! {
        <h1>"Hello"</h1>
        <button
            data-testid="link-button"
            on:click=move |_| {
                clicks.update(|c| *c += 1);
                add.dispatch(Add { a: clicks.get_untracked(), b: 1 });
            }
        >
            "Clicked " {clicks} " times"
        </button>
        <p>{move || add.value().get().and_then(Result::ok).map(|n| format!("Server says {n}"))}</p>
    }
}

/// The wasm entry point.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
    let _ = js_sys::Reflect::set(
        &js_sys::global(),
        &wasm_bindgen::JsValue::from_str("__hydrated"),
        &wasm_bindgen::JsValue::TRUE,
    );
}
