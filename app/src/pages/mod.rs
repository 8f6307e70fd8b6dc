//! Routed pages. Each page owns its state and calls server functions.
//!
//! With the `split` feature (what `make build` and `make release` build:
//! `cargo leptos build --split --features split`) only the link page (`/`)
//! is in the first load's wasm (it is hydrated without the router: see
//! `crate::hydrate`; its own flows load on first use: `link.rs`): every
//! other page is a lazy route whose code is a
//! separate wasm chunk, fetched when that page is first shown (the server adds
//! a preload of it when it renders that page itself). Without it (`cargo leptos watch`, `cargo test`) the same pages are
//! ordinary routes in one wasm: cargo-leptos only wires up lazy routes in a
//! `--split` build.

mod account;
mod dashboard;
mod developer;
mod link;
mod not_found;
mod payments;

pub use link::LinkPage;
pub use not_found::NotFound;

use leptos_router::ChooseView;

/// Declares `$fn`, the view of a route that renders `$page`: lazily loaded
/// with the `split` feature, and the component itself without it.
macro_rules! routed_page {
    ($(#[$doc:meta])* $fn:ident, $route:ident => $page:path) => {
        #[cfg(feature = "split")]
        #[doc(hidden)]
        pub struct $route;

        #[cfg(feature = "split")]
        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> leptos::prelude::AnyView {
                use leptos::prelude::IntoAny;
                leptos::prelude::untrack($page).into_any()
            }
        }

        $(#[$doc])*
        pub fn $fn() -> impl ChooseView {
            #[cfg(feature = "split")]
            return leptos_router::Lazy::<$route>::new();
            #[cfg(not(feature = "split"))]
            return $page;
        }
    };
}

routed_page!(
    /// `/accounts`: the dashboard.
    dashboard, DashboardRoute => dashboard::Dashboard
);
routed_page!(
    /// `/accounts/{id}`: one account.
    account, AccountRoute => account::AccountPage
);
routed_page!(
    /// `/payments`: the payment list.
    payments, PaymentsRoute => payments::PaymentsPage
);
routed_page!(
    /// `/payments/new`: pay by bank.
    pay_by_bank, PayByBankRoute => payments::PayByBankPage
);
routed_page!(
    /// `/developer`: the developer panel.
    developer, DeveloperRoute => developer::DeveloperPage
);
