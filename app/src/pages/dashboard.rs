//! `/accounts`: every linked account with its last known balance, and the
//! total cash across them.

use crate::api::linked_accounts;
use crate::components::{AccountList, ErrorView};
use crate::model::total_cash;
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
                    Err(e) => view! { <p class="status error" role="alert">{ErrorView::from(e).message}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
