//! `/`: "Link your bank account". Explains what is shared, takes an optional
//! name and email, runs the Financial Connections modal and lists what was linked.

use crate::api::{confirm_link, linked_accounts, start_link};
use crate::components::{AccountList, ErrorView, LinkState, StatusPanel};
use crate::model::Permission;
use crate::stripe_js::{self, CollectOutcome};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn LinkPage() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let (state, set_state) = signal(LinkState::Idle);
    let accounts = Resource::new(|| (), |_| linked_accounts());
    let busy = move || matches!(state.get(), LinkState::Working(_));

    let on_link = move |_| {
        if busy() {
            return; // no double launch
        }
        set_state.set(LinkState::Working("Starting a secure session…"));
        let (n, e) = (name.get_untracked(), email.get_untracked());
        spawn_local(async move {
            let outcome = run_link(n, e, set_state).await;
            if matches!(outcome, LinkState::Linked(_)) {
                accounts.refetch();
            }
            set_state.set(outcome);
        });
    };

    let button_label = move || match state.get() {
        LinkState::Working(_) => "Linking…",
        LinkState::Failed(_) | LinkState::Cancelled | LinkState::ScriptFailed(_) => "Try again",
        LinkState::Linked(_) => "Link another account",
        LinkState::Idle => "Link your bank account",
    };

    view! {
        <section class="card link-card">
            <h1>"Link your bank account"</h1>
            <p class="lead">
                "Connect an account through Stripe in a few clicks. You pick the bank and the accounts; "
                "we never see your bank login."
            </p>
            <h2 class="small-heading">"What you share"</h2>
            <ul class="permissions" data-testid="permissions">
                {Permission::ALL
                    .into_iter()
                    .map(|p| view! { <li><strong>{p.label()}</strong>": "{p.purpose()}</li> })
                    .collect_view()}
            </ul>
            <form class="details" on:submit=|ev| ev.prevent_default()>
                <label>
                    <span>"Name " <span class="muted">"(optional)"</span></span>
                    <input type="text" name="name" autocomplete="name" maxlength="100" bind:value=name/>
                </label>
                <label>
                    <span>"Email " <span class="muted">"(optional)"</span></span>
                    <input type="email" name="email" autocomplete="email" maxlength="254" bind:value=email/>
                </label>
                <button
                    type="button"
                    class="primary"
                    data-testid="link-button"
                    on:click=on_link
                    disabled=busy
                    aria-busy=move || busy().to_string()
                >
                    {button_label}
                </button>
            </form>
            <div aria-live="polite">
                <StatusPanel state=state/>
            </div>
        </section>
        <section class="card">
            <h2>"Linked accounts"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
                {move || {
                    accounts.get().map(|result| match result {
                        Ok(list) => view! { <AccountList accounts=list/> }.into_any(),
                        Err(e) => {
                            let e = ErrorView::from(e);
                            view! { <p class="status error" role="alert">{e.message}</p> }.into_any()
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// One click's whole flow; returns the state to show at the end.
async fn run_link(name: String, email: String, set_state: WriteSignal<LinkState>) -> LinkState {
    let session = match start_link(name, email).await {
        Ok(s) => s,
        Err(e) => return LinkState::Failed(e.into()),
    };
    set_state.set(LinkState::Working("Opening Stripe…"));
    let stripe = match stripe_js::load(&session.client.stripe_js_url, &session.client.publishable_key).await {
        Ok(s) => s,
        Err(e) => return LinkState::ScriptFailed(e.0),
    };
    set_state.set(LinkState::Working("Waiting for you to finish in the Stripe window…"));
    let session_id = match stripe_js::collect_accounts(&stripe, &session.client_secret).await {
        Ok(CollectOutcome::Session { id, .. }) => id,
        Ok(CollectOutcome::Error(e)) => return LinkState::Failed(e.into()),
        Err(e) => return LinkState::Failed(ErrorView { message: e.0, code: None }),
    };
    set_state.set(LinkState::Working("Confirming with Stripe…"));
    match confirm_link(session_id).await {
        Ok(linked) if linked.is_empty() => LinkState::Cancelled,
        Ok(linked) => LinkState::Linked(linked.len()),
        Err(e) => LinkState::Failed(e.into()),
    }
}
