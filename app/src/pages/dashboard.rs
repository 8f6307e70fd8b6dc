//! `/accounts`: every linked account with its last known balance, the
//! total cash across them, and the user's name and email (which live on
//! their Stripe Customer and are what ownership is compared with).

use crate::api::{linked_accounts, load_details, SaveDetails};
use crate::components::{AccountList, ErrorNotice};
use crate::model::total_cash;
use leptos::form::ActionForm;
use leptos::prelude::*;

#[component]
pub fn Dashboard() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| linked_accounts());
    view! {
        <section class="card">
            <div class="heading-row">
                <h1>"Your accounts"</h1>
                <a class="button-link" href="/" data-testid="link-another">"Link another account"</a>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
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
                                        {format!("{unknown} account(s) have no balance yet: open one and refresh.")}
                                    </span>
                                })}
                            </div>
                            <AccountList accounts=list/>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <ErrorNotice error=e.into()/> }.into_any(),
                })}
            </Suspense>
        </section>
        <YourDetails/>
    }
}

/// Name and email: shown as saved, changed with one form (a plain POST
/// without the wasm, a server-function call with it).
#[component]
fn YourDetails() -> impl IntoView {
    let saved = Resource::new(|| (), |_| load_details());
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
