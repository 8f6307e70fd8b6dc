//! Says which Stripe the app is talking to: the offline sandbox, test or live.

use crate::model::Mode;
use leptos::prelude::*;

#[component]
pub fn ModeBadge(mode: Mode) -> impl IntoView {
    let (class, label, title) = match mode {
        Mode::Sandbox => (
            "badge mode-sandbox",
            "Sandbox",
            "Offline sandbox: no real bank or Stripe account is used.",
        ),
        Mode::Test => ("badge mode-test", "Test mode", "Stripe test mode: test institutions only."),
        Mode::Live => ("badge mode-live", "Live", "Live mode: real bank accounts."),
    };
    view! { <span class=class title=title data-testid="mode-badge">{label}</span> }
}
