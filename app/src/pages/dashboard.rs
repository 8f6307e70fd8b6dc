//! `/accounts`: every linked account with its last known balance, when it
//! last synced and where its refreshes stand (live: the list updates as
//! they settle), **Refresh all**, the total cash across them, and the
//! user's name and email (which live on their Stripe Customer and are what
//! ownership is compared with).

use crate::api::{linked_accounts, load_details, resource, RefreshAll, SaveDetails};
use crate::components::{AccountList, ErrorNotice};
use crate::model::{count_of, total_cash};
use leptos::form::ActionForm;
use leptos::prelude::*;

#[component]
pub fn Dashboard() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let accounts = resource(move || reload.get(), |_| linked_accounts());
    // Live: any of the user's accounts changed (a refresh settled).
    #[cfg(feature = "hydrate")]
    crate::live::on_account_changes(|_| true, move || reload.update(|n| *n += 1));
    let refresh_all = ServerAction::<RefreshAll>::new();
    let pending = refresh_all.pending();
    // Its answer has every account's refreshes as they now stand.
    Effect::new(move |_| {
        if let Some(Ok(_)) = refresh_all.value().get() {
            reload.update(|n| *n += 1);
        }
    });
    view! {
        <section class="card">
            <div class="heading-row">
                <h1>"Your accounts"</h1>
                <div class="actions-row">
                    <button
                        type="button"
                        class="secondary-button"
                        data-testid="refresh-all"
                        disabled=move || pending.get()
                        on:click=move |_| { refresh_all.dispatch(RefreshAll {}); }
                    >
                        {move || if pending.get() { "Starting refreshes…" } else { "Refresh all" }}
                    </button>
                    <a class="button-link" href="/" data-testid="link-another">"Link another account"</a>
                </div>
            </div>
            <div aria-live="polite">
                {move || refresh_all.value().get().map(|r| match r {
                    Ok(list) => {
                        let running = list.iter().filter(|a| a.refreshes.any_pending()).count();
                        view! {
                            <p class="status neutral" role="status" data-testid="refresh-all-result">
                                {if running == 0 {
                                    "Nothing to refresh right now: each account is up to date or waiting for its next refresh.".to_owned()
                                } else {
                                    format!("Refreshing {}. This list updates as each finishes.", count_of(running, "account", "accounts"))
                                }}
                            </p>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e.into() testid="refresh-all-error"/> }.into_any(),
                })}
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
                {move || accounts.get().map(|r| match r {
                    Ok(list) => {
                        let total = total_cash(&list, "usd");
                        let unknown = list.iter().filter(|a| a.balance.is_none()).count();
                        view! {
                            <div class="total" data-testid="total-cash">
                                <span class="muted">"Total cash"</span>
                                <span class="amount">{total.map(|m| m.format()).unwrap_or_else(|| "—".to_owned())}</span>
                                {(unknown > 0 && !list.is_empty()).then(|| view! {
                                    <span class="muted" data-testid="balances-unknown">
                                        {format!("{} no balance yet.", count_of(unknown, "account has", "accounts have"))}
                                    </span>
                                })}
                            </div>
                            <AccountList accounts=list/>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e.into()/> }.into_any(),
                })}
            </Transition>
        </section>
        <YourDetails/>
    }
}

/// Name and email: shown as saved, changed with one form (a plain POST
/// without the wasm, a server-function call with it).
#[component]
fn YourDetails() -> impl IntoView {
    let saved = resource(|| (), |_| load_details());
    let save = ServerAction::<SaveDetails>::new();
    let pending = save.pending();
    view! {
        <section class="card" data-testid="your-details">
            <h2>"Your details"</h2>
            <p class="muted">"Kept on your Stripe Customer. Account owners are compared with this name."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || saved.get().map(|r| {
                    // Not an empty form on a failed load: saving it would clear them.
                    let d = match r {
                        Ok(d) => d,
                        Err(e) => return view! { <ErrorNotice error=e.into() testid="details-load-error"/> }.into_any(),
                    };
                    view! {
                        <div class="details-form">
                            <ActionForm action=save>
                                <label>
                                    <span>"Name"</span>
                                    <input type="text" name="name" autocomplete="name" maxlength="100"
                                        value=d.name.unwrap_or_default() data-testid="details-name"/>
                                </label>
                                <label>
                                    <span>"Email"</span>
                                    <input type="email" name="email" autocomplete="email" maxlength="254"
                                        value=d.email.unwrap_or_default() data-testid="details-email"/>
                                </label>
                                <button type="submit" class="secondary-button" data-testid="details-save" disabled=move || pending.get()>
                                    {move || if pending.get() { "Saving…" } else { "Save details" }}
                                </button>
                            </ActionForm>
                        </div>
                    }
                    .into_any()
                })}
            </Suspense>
            <div aria-live="polite">
                {move || save.value().get().map(|r| match r {
                    Ok(_) => view! { <p class="status success" role="status" data-testid="details-saved">"Saved."</p> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e.into() testid="details-error"/> }.into_any(),
                })}
            </div>
        </section>
    }
}
