//! What a page shows from the start that its synchronous render cannot
//! await: loaded here, before the render, into the request's extensions,
//! where the page reads it (`app::service::SavedDetails`). The browser then
//! needs no call (and no code) to fetch it after the page arrives.

use app::service::{SavedDetails, SharedService, UserId};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// For the link page (`GET /`): the name and email the user saved before,
/// which its form starts with. When they cannot be read the form starts
/// empty, as for a new user; the page itself still renders.
pub async fn link_page_details(State(service): State<SharedService>, mut req: Request, next: Next) -> Response {
    let link_page = matches!(*req.method(), Method::GET | Method::HEAD) && app::is_link_page(req.uri().path());
    if let Some(user) = req.extensions().get::<UserId>().filter(|_| link_page).cloned() {
        match service.details(&user).await {
            Ok(details) => {
                req.extensions_mut().insert(SavedDetails(details));
            }
            Err(e) => tracing::warn!(error = %e, "saved details for the link page"),
        }
    }
    next.run(req).await
}
