//! Serves the minimal page with axum, as the app is served: precompressed
//! files from the site root, TCP_NODELAY on every connection.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() {
    use axum::serve::ListenerExt;
    use axum::Router;
    use leptos::prelude::*;
    use leptos_axum::{generate_route_list, LeptosRoutes};
    use minimal_leptos::{shell, App};

    let options = get_configuration(None).expect("LEPTOS_* variables").leptos_options;
    let addr = options.site_addr;
    let routes = generate_route_list(App);
    let app = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await.expect("serve");
}

#[cfg(not(feature = "ssr"))]
fn main() {}
