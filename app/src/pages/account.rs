//! `/accounts/{id}`: one linked account — its balance, its owners (with
//! whether they match the name the user gave) and its transactions (daily
//! updates on or off, chart, filtered pages), each with an honest,
//! asynchronous Refresh (pending → succeeded/failed, and when the next one
//! may run), Pay (ACH Direct Debit, see `components::pay`) and its
//! payments, and Disconnect with confirmation. Inactive and disconnected
//! accounts keep their last data and offer a relink. A live update redraws
//! only the parts whose data changed: no flicker, focus and scroll kept.

use crate::api::{disconnect_account, load_account, refresh_account, resource, set_subscription};
use crate::components::{
    BalanceView, ErrorNotice, ErrorView, LinkState, OwnersView, PaySection, RefreshControl, StatusPanel, TransactionsPanel,
};
use crate::model::{utc, AccountDetail, AccountStatus, AccountSubcategory, DataFeature, LinkOptions, Permission};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let reload = RwSignal::new(0u32);
    let detail = resource(move || (id.get(), reload.get()), |(id, _)| load_account(id));
    // The newest answer from any action, shown in place of the loaded one
    // (only for the account in the URL: a relink moves to another).
    let latest = RwSignal::new(None::<AccountDetail>);
    let action_answer = move || latest.get().filter(|d| d.account.id.as_str() == id.get());
    let error = RwSignal::new(None::<ErrorView>);
    Effect::new(move |prev: Option<String>| {
        let now = id.get();
        if prev.is_some_and(|p| p != now) {
            error.set(None);
        }
        now
    });
    let refresh = Action::new(|(id, feature): &(String, DataFeature)| refresh_account(id.clone(), feature.as_str().to_owned()));
    let disconnect = Action::new(|id: &String| disconnect_account(id.clone()));
    let subscribe = Action::new(|(id, on): &(String, bool)| set_subscription(id.clone(), on.to_string()));
    Effect::new(move |_| {
        for result in [refresh.value().get(), disconnect.value().get(), subscribe.value().get()]
            .into_iter()
            .flatten()
        {
            match result {
                Ok(d) => {
                    error.set(None);
                    latest.set(Some(d));
                }
                Err(e) => error.set(Some(e.into())),
            }
        }
    });

    // Live: the server says when a webhook changed this account (SSE). The
    // reload's answer is newer than any action's, so it is the one shown.
    #[cfg(feature = "hydrate")]
    crate::live::on_account_changes(
        move |changed| changed == id.get_untracked(),
        move || reload.update(|n| *n += 1),
    );

    // Relink: a new session with the same permissions and account type; on
    // success, the new account's page.
    let (relink_state, set_relink_state) = signal(LinkState::Idle);
    let navigate = use_navigate();
    let on_relink = move |(permissions, subcategory): (Vec<Permission>, AccountSubcategory)| {
        if matches!(relink_state.get_untracked(), LinkState::Working(_)) {
            return;
        }
        set_relink_state.set(LinkState::Working("Starting a secure session…"));
        let permissions = permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",");
        let types = if LinkOptions::ACCOUNT_TYPES.contains(&subcategory) {
            subcategory.wire()
        } else {
            ""
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let options = (permissions, String::new(), types.to_owned());
            match crate::pages::link::run_link(String::new(), String::new(), options, set_relink_state).await {
                Ok(linked) => {
                    set_relink_state.set(LinkState::Idle);
                    navigate(&format!("/accounts/{}", linked[0].id), Default::default());
                }
                Err(state) => set_relink_state.set(state),
            }
        });
    };

    let on_disconnect = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let ok = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(
                        "Disconnect this account? The app keeps the data it already has, but cannot refresh it.",
                    )
                    .ok()
                })
                .unwrap_or(false);
            if ok {
                disconnect.dispatch(id.get_untracked());
            }
        }
    };

    view! {
        <p><a href="/accounts" class="back">"← All accounts"</a></p>
        <Transition fallback=|| view! { <section class="card"><p class="muted">"Loading account…"</p></section> }>
            {
                // Made inside the transition, so that reading the resource
                // through these memos is what it waits for (on the server
                // and while hydrating). What the page shows: the newest of
                // the loaded and the action answers (a reload keeps showing
                // the previous answer until it arrives).
                let shown = Memo::new(move |_| {
                    let loaded = detail.get()?;
                    Some(match (action_answer(), loaded) {
                        (Some(action), Ok(reloaded)) => Ok(action.newer(reloaded)),
                        (Some(action), Err(_)) => Ok(action),
                        (None, Ok(loaded)) => Ok(loaded),
                        (None, Err(e)) => Err(ErrorView::from(e)),
                    })
                });
                // Which view: only another account, or an error instead of data, builds
                // a new one; any other change updates the parts whose data changed.
                let which = Memo::new(move |_| {
                    shown.with(|s| {
                        s.as_ref()
                            .map(|r| r.as_ref().map(|d| d.account.id.clone()).map_err(Clone::clone))
                    })
                });

                // Without webhooks (real Stripe and no `stripe listen`) nothing would say
                // a refresh finished: look again, slowly, while one is pending.
                #[cfg(feature = "hydrate")]
                Effect::new(move |_| {
                    if shown.with(|s| matches!(s, Some(Ok(d)) if d.refreshing())) {
                        set_timeout(move || reload.update(|n| *n += 1), std::time::Duration::from_secs(10));
                    }
                });

                view! {
                    {move || detail.with(|_| ())}
                    {move || which.get().map(|w| match w {
                        Err(e) => view! {
                            <section class="card" data-testid="account-missing">
                                <h1>"Account not available"</h1>
                                <ErrorNotice error=e/>
                            </section>
                        }
                        .into_any(),
                        Ok(_) => {
                            let Some(Ok(first)) = shown.get_untracked() else {
                                return ().into_any();
                            };
                            // This view's account, kept through a moment without one.
                            let current = Memo::new(move |prev: Option<&AccountDetail>| match shown.get() {
                                Some(Ok(d)) => d,
                                _ => prev.cloned().unwrap_or_else(|| first.clone()),
                            });
                            view! {
                                <AccountView
                                    detail=current
                                    refreshing=refresh.pending()
                                    on_refresh=Callback::new(move |f: DataFeature| { refresh.dispatch((id.get_untracked(), f)); })
                                    on_disconnect=Callback::new(on_disconnect)
                                    disconnecting=disconnect.pending()
                                    on_subscribe=Callback::new(move |on: bool| { subscribe.dispatch((id.get_untracked(), on)); })
                                    subscribing=subscribe.pending()
                                    on_relink=Callback::new(on_relink.clone())
                                    relink_state=relink_state
                                />
                                // Pay: part of this account's view, so it hydrates with it.
                                <PaySection id=Signal::derive(move || id.get()) account=Signal::derive(move || Some(current.get()))/>
                            }
                            .into_any()
                        }
                    })}
                }
            }
        </Transition>
        {move || error.get().map(|e| view! { <ErrorNotice error=e testid="account-error"/> })}
    }
}

/// The account's sections, built once per account: every part reads only
/// its slice of `detail`, so an update redraws just what changed.
#[component]
fn AccountView(
    detail: Memo<AccountDetail>,
    refreshing: Memo<bool>,
    on_refresh: Callback<DataFeature>,
    on_disconnect: Callback<()>,
    disconnecting: Memo<bool>,
    on_subscribe: Callback<bool>,
    subscribing: Memo<bool>,
    on_relink: Callback<(Vec<Permission>, AccountSubcategory)>,
    relink_state: ReadSignal<LinkState>,
) -> impl IntoView {
    let account = Memo::new(move |_| detail.with(|d| d.account.clone()));
    let status = Memo::new(move |_| account.with(|a| a.status));
    let active = Memo::new(move |_| status.get() == AccountStatus::Active);
    let can = move |p: Permission| Memo::new(move |_| active.get() && account.with(|a| a.permissions.contains(&p)));
    let (balance_ok, ownership_ok, transactions_ok) = (
        can(Permission::Balances),
        can(Permission::Ownership),
        can(Permission::Transactions),
    );
    let shares_transactions = Memo::new(move |_| account.with(|a| a.permissions.contains(&Permission::Transactions)));
    let subscribed = Memo::new(move |_| detail.with(|d| d.subscribed));
    let stored_at = Memo::new(move |_| detail.with(|d| d.stored_at));
    let balance = Memo::new(move |_| detail.with(|d| d.balance.clone()));
    let balance_refresh = Memo::new(move |_| detail.with(|d| d.balance_refresh.clone()));
    let owners = Memo::new(move |_| detail.with(|d| d.owners.clone()));
    let name_match = Memo::new(move |_| detail.with(|d| d.name_match));
    let ownership_refresh = Memo::new(move |_| detail.with(|d| d.ownership_refresh.clone()));
    let transaction_refresh = Memo::new(move |_| detail.with(|d| d.transaction_refresh.clone()));
    let id = detail.with_untracked(|d| d.account.id.to_string());
    let name = move || account.with(|a| a.display_name.clone().unwrap_or_else(|| a.subcategory.label().to_owned()));
    let status_label = move || match status.get() {
        AccountStatus::Active => "Active",
        AccountStatus::Inactive => "Inactive",
        AccountStatus::Disconnected => "Disconnected",
        AccountStatus::Unknown => "Unknown",
    };
    view! {
        <section class="card" data-testid="account-card">
            <p class="institution">{move || account.with(|a| a.institution_name.clone())}</p>
            <h1 data-testid="account-name">{name}</h1>
            <p class="account-meta">
                <span class="last4">{move || account.with(|a| a.last4.clone().map(|l| format!("•••• {l}")))}</span>
                <span class="kind">{move || account.with(|a| format!("{} · {}", a.category.label(), a.subcategory.label()))}</span>
                <span class=move || format!("badge status-{}", status.get().as_str()) data-testid="account-status">{status_label}</span>
            </p>
            {move || stored_at.get().map(|t| view! {
                <div class="status neutral" role="status" data-testid="stored-copy">
                    "Stripe cannot be reached right now, so this is what the app stored at "{utc(t)}
                    ". Refreshes and other actions may fail until it is back."
                </div>
            })}
            {move || (!active.get()).then(|| {
                view! {
                    <div class="status neutral" data-testid="relink-needed">
                        <span>"Relink needed: Stripe can no longer read this account, so its data below may be out of date."</span>
                        <button
                            type="button"
                            class="secondary-button"
                            data-testid="relink"
                            disabled=move || matches!(relink_state.get(), LinkState::Working(_))
                            on:click=move |_| on_relink.run(account.with_untracked(|a| (a.permissions.clone(), a.subcategory)))
                        >
                            "Relink"
                        </button>
                    </div>
                    <div aria-live="polite"><StatusPanel state=relink_state/></div>
                }
            })}
        </section>
        <section class="card" data-testid="balance-card">
            <h2>"Balance"</h2>
            <BalanceView balance=balance/>
            <RefreshControl
                feature=DataFeature::Balance
                state=balance_refresh
                allowed=balance_ok
                refreshing=refreshing
                on_refresh=on_refresh
            />
        </section>
        <section class="card" data-testid="ownership-card">
            <h2>"Ownership"</h2>
            <OwnersView owners=owners name_match=name_match/>
            <RefreshControl
                feature=DataFeature::Ownership
                state=ownership_refresh
                allowed=ownership_ok
                refreshing=refreshing
                on_refresh=on_refresh
            />
        </section>
        <section class="card" id="transactions" data-testid="transactions-card">
            <h2>"Transactions"</h2>
            <div class="actions-row subscription">
                <span data-testid="subscription-state">
                    {move || if subscribed.get() { "Daily updates are on: Stripe refreshes these every day." } else { "Daily updates are off." }}
                </span>
                <button
                    type="button"
                    class="secondary-button"
                    data-testid="subscription-toggle"
                    disabled=move || subscribing.get() || !transactions_ok.get()
                    on:click=move |_| on_subscribe.run(!subscribed.get_untracked())
                >
                    {move || match (subscribing.get(), subscribed.get()) {
                        (true, _) => "Saving…",
                        (false, true) => "Turn off daily updates",
                        (false, false) => "Turn on daily updates",
                    }}
                </button>
            </div>
            <RefreshControl
                feature=DataFeature::Transactions
                state=transaction_refresh
                allowed=transactions_ok
                refreshing=refreshing
                on_refresh=on_refresh
            />
            {move || if shares_transactions.get() {
                view! { <TransactionsPanel id=id.clone() refreshed=transaction_refresh/> }.into_any()
            } else {
                view! {
                    <p class="muted" data-testid="transactions-not-shared">
                        "Transactions were not shared when this account was linked. "<a href="/">"Link it again"</a>
                        " with the transactions permission to see them."
                    </p>
                }
                .into_any()
            }}
        </section>
        {move || (status.get() != AccountStatus::Disconnected).then(|| view! {
            <section class="card">
                <h2>"Disconnect"</h2>
                <p class="muted">"Stop sharing this account's data. Linked data already here stays visible."</p>
                <button
                    type="button"
                    class="danger"
                    data-testid="disconnect"
                    disabled=move || disconnecting.get()
                    on:click=move |_| on_disconnect.run(())
                >
                    "Disconnect account"
                </button>
            </section>
        })}
    }
}
